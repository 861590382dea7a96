package task

import (
	"fmt"
	"strings"

	"pretune/core/corpus"
)

// MinExamples is the fewest distinct prompts (or texts) a learner's task needs: one in ten is
// held out, so fewer would leave no held-out part.
const MinExamples = 10

// userValEvery: one distinct prompt (or text) in userValEvery is held out (10%).
const userValEvery = 10

// FromPairs makes a generate task from a learner's pairs (from ParsePairsTSV or
// ParsePairsJSONL). The held-out part is every tenth distinct prompt in file order, with every
// pair that has that prompt, so no held-out prompt is trained on; taking them through the whole
// file rather than from its end keeps a file sorted by topic from holding out one topic only.
func FromPairs(name string, pairs []Pair) (*Task, error) {
	var key []string
	for _, p := range pairs {
		key = append(key, p.Prompt)
	}
	val, distinct := heldOut(key)
	if distinct < MinExamples {
		return nil, tooFew(distinct, "prompts")
	}
	t := &Task{ID: "user", Kind: KindGenerate, Name: name}
	var all strings.Builder
	for i, p := range pairs {
		if val[i] {
			t.ValPairs = append(t.ValPairs, p)
		} else {
			t.TrainPairs = append(t.TrainPairs, p)
		}
		all.WriteString(p.Prompt + "\n" + p.Response + "\n")
	}
	t.Lang = corpus.GuessLang(all.String())
	return t, nil
}

// FromExamples makes a classify task from a learner's labelled lines and label names (from
// ParseLabelledTSV or ParseLabelledJSONL), holding out every tenth distinct text as FromPairs
// holds out prompts.
func FromExamples(name string, labels []string, examples []Example) (*Task, error) {
	if len(labels) < 2 {
		return nil, &ParseError{Code: CodeOneLabel, N: len(labels),
			msg: fmt.Sprintf("a classification needs at least two labels, not %d", len(labels))}
	}
	if len(labels) > MaxLabels {
		return nil, &ParseError{Code: CodeManyLabels, N: len(labels), Limit: MaxLabels,
			msg: fmt.Sprintf("a classification has at most %d labels, not %d", MaxLabels, len(labels))}
	}
	var key []string
	for i, e := range examples {
		if e.Label < 0 || e.Label >= len(labels) {
			return nil, fmt.Errorf("task: example %d has label %d, outside the %d labels", i, e.Label, len(labels))
		}
		key = append(key, e.Text)
	}
	val, distinct := heldOut(key)
	if distinct < MinExamples {
		return nil, tooFew(distinct, "texts")
	}
	t := &Task{ID: "user", Kind: KindClassify, Name: name, Labels: append([]string(nil), labels...)}
	var all strings.Builder
	for i, e := range examples {
		if val[i] {
			t.ValExamples = append(t.ValExamples, e)
		} else {
			t.TrainExamples = append(t.TrainExamples, e)
		}
		all.WriteString(e.Text + "\n")
	}
	t.Lang = corpus.GuessLang(all.String())
	return t, nil
}

// heldOut marks which entries go to the held-out part: those whose key is the userValEvery-th,
// 2*userValEvery-th, ... distinct key met. It also returns the number of distinct keys.
func heldOut(keys []string) ([]bool, int) {
	index := map[string]int{}
	val := make([]bool, len(keys))
	for i, k := range keys {
		j, ok := index[k]
		if !ok {
			j = len(index)
			index[k] = j
		}
		val[i] = j%userValEvery == userValEvery-1
	}
	return val, len(index)
}

func tooFew(n int, what string) error {
	return &ParseError{Code: CodeTooFew, N: n, Limit: MinExamples,
		msg: fmt.Sprintf("the file has %d different %s; at least %d are needed to keep a held-out part", n, what, MinExamples)}
}

// FromFile reads a learner's task file: prompt/response pairs for a generate task (kind
// KindGenerate) or labelled lines for a classify task (KindClassify), as JSON Lines when its
// first non-blank character is '{', else as TSV. Errors are ParseErrors with the line number
// where there is one.
func FromFile(name, kind string, data []byte) (*Task, error) {
	jsonl := strings.HasPrefix(strings.TrimLeft(string(data[:min(len(data), 4096)]), " \t\r\n\ufeff"), "{")
	switch kind {
	case KindGenerate:
		parse := ParsePairsTSV
		if jsonl {
			parse = ParsePairsJSONL
		}
		pairs, err := parse(data)
		if err != nil {
			return nil, err
		}
		return FromPairs(name, pairs)
	case KindClassify:
		parse := ParseLabelledTSV
		if jsonl {
			parse = ParseLabelledJSONL
		}
		examples, labels, err := parse(data)
		if err != nil {
			return nil, err
		}
		return FromExamples(name, labels, examples)
	}
	return nil, fmt.Errorf("task: kind %q is not %q or %q", kind, KindGenerate, KindClassify)
}
