// Package task holds the fine-tuning data: built-in tasks written from the same world as the
// built-in corpora (package corpus), and a learner's own pairs or labelled lines, parsed and
// validated from TSV or JSONL files.
//
// A task is of one of two kinds. A "generate" task is a list of prompt/response pairs, trained
// with supervised fine-tuning in the chat format of Render and scored by exact match of the
// response. A "classify" task is a list of lines with a label each, trained with a class head
// and scored by accuracy. Every task has a held-out part disjoint from its training part.
package task

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Kinds of task.
const (
	KindGenerate = "generate"
	KindClassify = "classify"
)

// Pair is one example of a generate task. Neither field contains a line break.
type Pair struct {
	Prompt, Response string
}

// Example is one example of a classify task: Label indexes Task.Labels.
type Example struct {
	Text  string
	Label int
}

// Task is a fine-tuning task. A generate task fills TrainPairs and ValPairs; a classify task
// fills Labels, TrainExamples and ValExamples.
type Task struct {
	ID   string // a built-in id ("en-facts") or "user"
	Lang string // "en" or "zh" (a guess for a learner's data)
	Kind string // KindGenerate or KindClassify
	Name string // shown to the learner

	TrainPairs, ValPairs []Pair

	Labels                     []string
	TrainExamples, ValExamples []Example
}

// The chat format for supervised fine-tuning, the same in every language:
//
//	<Q> prompt
//	<A> response
//
// Each line ends with "\n"; the "\n" after the response is what tells a generating model the
// response is over, so it is part of the response for training. A model is asked a question
// by feeding PromptText(prompt) and reading until the first "\n".
//
// The markers use ASCII characters that the Chinese corpus does not contain: a character
// vocabulary built from a corpus alone must add the characters of the task text (Alphabet).
const (
	QuestionMarker = "<Q> "
	AnswerMarker   = "<A> "
)

// PromptText is what a model is given to answer prompt: everything of Render's text before the
// response.
func PromptText(prompt string) string {
	return QuestionMarker + prompt + "\n" + AnswerMarker
}

// Render writes a pair in the chat format and returns, with it, the index in runes (code
// points) at which the response starts. A trainer that weights response tokens only gives
// weight to runes responseStart and after, which include the final "\n".
func Render(p Pair) (text string, responseStart int) {
	prefix := PromptText(p.Prompt)
	return prefix + p.Response + "\n", utf8.RuneCountInString(prefix)
}

// Answer cuts a generated continuation of PromptText at its first line break and trims spaces:
// the model's answer, to compare with Pair.Response.
func Answer(generated string) string {
	if i := strings.IndexByte(generated, '\n'); i >= 0 {
		generated = generated[:i]
	}
	return strings.TrimSpace(generated)
}

// ExactMatch reports whether a generated continuation answers with exactly the response.
func ExactMatch(generated, response string) bool {
	return Answer(generated) == response
}

// Alphabet returns every distinct rune that training on or evaluating the task can show a
// model, in the order first met: the chat markers, prompts, responses and "\n" for a generate
// task; texts for a classify task.
func (t *Task) Alphabet() []rune {
	seen := map[rune]bool{}
	var out []rune
	add := func(s string) {
		for _, r := range s {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	for _, ps := range [][]Pair{t.TrainPairs, t.ValPairs} {
		for _, p := range ps {
			text, _ := Render(p)
			add(text)
		}
	}
	for _, es := range [][]Example{t.TrainExamples, t.ValExamples} {
		for _, e := range es {
			add(e.Text)
		}
	}
	return out
}

// Hash returns the first 16 hex digits of the SHA-256 of the task's canonical encoding: a
// version tag, Kind, Lang, the labels, then the four example lists, every string preceded by
// its length and every list by its count, as uvarints. ID and Name are left out: the hash names
// the content.
func (t *Task) Hash() string {
	h := sha256.New()
	h.Write([]byte("pretune/task/v1\x00"))
	var buf [binary.MaxVarintLen64]byte
	num := func(n int) { h.Write(buf[:binary.PutUvarint(buf[:], uint64(n))]) }
	str := func(s string) { num(len(s)); h.Write([]byte(s)) }
	str(t.Kind)
	str(t.Lang)
	num(len(t.Labels))
	for _, l := range t.Labels {
		str(l)
	}
	for _, ps := range [][]Pair{t.TrainPairs, t.ValPairs} {
		num(len(ps))
		for _, p := range ps {
			str(p.Prompt)
			str(p.Response)
		}
	}
	for _, es := range [][]Example{t.TrainExamples, t.ValExamples} {
		num(len(es))
		for _, e := range es {
			str(e.Text)
			num(e.Label)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Clone is a copy of t whose slices the caller may modify (caches hand these out).
func (t *Task) Clone() *Task {
	out := *t
	out.Labels = append([]string(nil), t.Labels...)
	out.TrainPairs = append([]Pair(nil), t.TrainPairs...)
	out.ValPairs = append([]Pair(nil), t.ValPairs...)
	out.TrainExamples = append([]Example(nil), t.TrainExamples...)
	out.ValExamples = append([]Example(nil), t.ValExamples...)
	return &out
}
