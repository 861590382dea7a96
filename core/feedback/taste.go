package feedback

import (
	"fmt"
	"sort"
	"strings"

	"pretune/core/corpus"
	"pretune/core/task"
)

// A taste is a built-in judge: the class's taste, written by the project, which scores an
// answer to one of its prompts. It stands in for people in two ways: it labels pairs of the SFT
// model's own samples (with a share of its labels flipped, as real people disagree and
// misclick), and, having a score for any answer, it measures each tuned model's gold win rate:
// how often the judge prefers the model's answer to the SFT model's.
//
// Two kinds per language:
//
//   - "food" (content): open questions about an animal ("Tell me about the fox."), which the SFT
//     model, fine-tuned on the facts questions, answers with any fact it knows: the home, the
//     colour, the size, sometimes the food. The class likes answers that talk about food
//     (name any of the world's foods). The SFT model does so in about one answer in six, so a
//     tuned model has room to win, and the answers it needs are ones it already knows how to
//     write: RL finds them by sampling, which is what RL from feedback does (it sharpens what
//     the model can already say; it does not teach new facts). Two other tastes were tried and
//     left: "names the animal's own food" (the reward model, from a few hundred pairs, learned
//     "a food word is good" and PPO wrote the wrong animal's food: a lesson in reward hacking,
//     but not one a default should teach by accident), and praise of the animal (the corpus
//     barely writes it, so the SFT model never samples it and RL has nothing to find).
//   - "facts" (checkable): the facts task's own questions, scored 1 for the right answer and 0
//     otherwise, so GRPO can learn from the judge directly (verifiable rewards). A win rate is
//     capped by the SFT model's own accuracy there, so the lesson reports task accuracy before
//     and after instead.
type Taste struct {
	ID    string `json:"id"`
	Lang  string `json:"lang"`
	Kind  string `json:"kind"` // TasteContent or TasteCheckable
	About string `json:"about"`
	// Train are the prompts (questions, without the chat markers) the pairs and the rollouts
	// use; Held the held-out ones every result is measured on.
	Train, Held []string `json:"-"`
	// want maps a prompt to the right answer (checkable tastes) or to "" (content tastes,
	// whose answers score by words: words).
	want  map[string]string
	words []string
}

// Taste kinds.
const (
	TasteContent   = "content"
	TasteCheckable = "checkable"
)

// Score is the taste's score of answer (a generated continuation, cut at its line break) to
// prompt: 1 when it says what the taste wants, else 0. A prompt the taste does not know scores 0.
func (t *Taste) Score(prompt, answer string) float32 {
	want, ok := t.want[prompt]
	if !ok {
		return 0
	}
	a := task.Answer(answer)
	if t.Kind == TasteCheckable {
		if a == want {
			return 1
		}
		return 0
	}
	for _, w := range t.words {
		if containsWord(a, w, t.Lang) {
			return 1
		}
	}
	return 0
}

// Knows says whether prompt is one of the taste's prompts.
func (t *Taste) Knows(prompt string) bool {
	_, ok := t.want[prompt]
	return ok
}

// containsWord: English matches whole words ("eggs" in "it eats eggs", not in "eggshell");
// Chinese, written without spaces, matches the characters anywhere.
func containsWord(text, word, lang string) bool {
	if lang != "en" {
		return strings.Contains(text, word)
	}
	for i := strings.Index(text, word); i >= 0; {
		before, after := i == 0 || !isLetter(text[i-1]), i+len(word) == len(text) || !isLetter(text[i+len(word)])
		if before && after {
			return true
		}
		next := strings.Index(text[i+1:], word)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Open questions about an animal, for the food taste; X is the animal.
var (
	enOpen = []string{"Tell me about the X.", "What do you know about the X?", "What about the X?", "What does the X like?", "What does the X love?", "Say something about the X."}
	zhOpen = []string{"说说X。", "X喜欢什么？", "X的家在哪里，喜欢吃什么？", "你知道X的什么？", "X有什么？", "给X什么？"}
)

// heldEvery: one prompt in heldEvery is held out.
const heldEvery = 4

var tasteDefs = map[string]struct{ lang, kind, about string }{
	"en-food":  {"en", TasteContent, "The class likes answers that talk about food."},
	"zh-food":  {"zh", TasteContent, "The class likes answers that talk about food (in Chinese)."},
	"en-facts": {"en", TasteCheckable, "The class likes right answers to the facts questions."},
	"zh-facts": {"zh", TasteCheckable, "The class likes right answers to the facts questions (in Chinese)."},
}

// Tastes lists the built-in tastes' ids.
func Tastes() []string {
	ids := make([]string, 0, len(tasteDefs))
	for id := range tasteDefs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// DefaultTaste is a language's taste for the lesson: the content one.
func DefaultTaste(lang string) string { return lang + "-food" }

// BuiltinTaste returns the named taste.
func BuiltinTaste(id string) (*Taste, error) {
	d, ok := tasteDefs[id]
	if !ok {
		return nil, fmt.Errorf("feedback: unknown taste %q; the built-in tastes are %s", id, strings.Join(Tastes(), ", "))
	}
	t := &Taste{ID: id, Lang: d.lang, Kind: d.kind, About: d.about, want: map[string]string{}}
	if d.kind == TasteCheckable {
		tk, err := task.Builtin(d.lang + "-facts")
		if err != nil {
			return nil, err
		}
		add := func(dst *[]string, pairs []task.Pair) {
			for _, p := range pairs {
				if _, dup := t.want[p.Prompt]; !dup {
					t.want[p.Prompt] = p.Response
					*dst = append(*dst, p.Prompt)
				}
			}
		}
		add(&t.Train, tk.TrainPairs)
		add(&t.Held, tk.ValPairs)
		return t, nil
	}
	w := corpus.TheWorld()
	templates := enOpen
	if d.lang == "zh" {
		templates = zhOpen
	}
	for _, f := range w.Foods {
		if d.lang == "zh" {
			t.words = append(t.words, f.Zh)
		} else {
			t.words = append(t.words, f.En)
		}
	}
	for i, a := range w.Animals {
		name := "the " + a.En
		if d.lang == "zh" {
			name = a.Zh
		}
		for j, tpl := range templates {
			p := strings.Replace(tpl, "the X", name, 1)
			p = strings.Replace(p, "X", name, 1)
			t.want[p] = ""
			// Animal i's template j is held out when i+j is 3 modulo 4: a diagonal, so the
			// held-out quarter has every template and every animal (a count modulo 4 over
			// 6 templates a row would only ever hold out the odd templates).
			if (i+j)%heldEvery == heldEvery-1 {
				t.Held = append(t.Held, p)
			} else {
				t.Train = append(t.Train, p)
			}
		}
	}
	return t, nil
}
