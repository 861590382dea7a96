package task

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"pretune/core/corpus"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from the current generator")

const goldenPath = "testdata/golden.txt"

// dump is a plain, complete listing of a task, hashed for the golden file independently of
// Task.Hash's encoding.
func dump(t *Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %q\n", t.ID, t.Lang, t.Kind, t.Labels)
	for _, part := range []struct {
		name  string
		pairs []Pair
		ex    []Example
	}{{"train", t.TrainPairs, t.TrainExamples}, {"val", t.ValPairs, t.ValExamples}} {
		for _, p := range part.pairs {
			fmt.Fprintf(&b, "%s\t%s\t%s\n", part.name, p.Prompt, p.Response)
		}
		for _, e := range part.ex {
			fmt.Fprintf(&b, "%s\t%s\t%d\n", part.name, e.Text, e.Label)
		}
	}
	return b.String()
}

func goldenLine(t *Task) string {
	h := sha256.Sum256([]byte(dump(t)))
	return fmt.Sprintf("%s sha256=%s hash=%s", t.ID, hex.EncodeToString(h[:]), t.Hash())
}

func TestBuiltinDeterministic(t *testing.T) {
	for _, id := range Builtins() {
		t.Run(id, func(t *testing.T) {
			a, b := generate(id, builtins[id]), generate(id, builtins[id])
			require.Equal(t, dump(a), dump(b))
			require.Equal(t, a.Hash(), b.Hash())
			c, err := Builtin(id)
			require.NoError(t, err)
			require.Equal(t, a.Hash(), c.Hash())
		})
	}
}

// TestBuiltinGolden pins every built-in task. After an intended change, run:
// go test ./core/task/ -run TestBuiltinGolden -update
func TestBuiltinGolden(t *testing.T) {
	var lines []string
	for _, id := range Builtins() {
		tk, err := Builtin(id)
		require.NoError(t, err)
		lines = append(lines, goldenLine(tk))
	}
	if *update {
		require.NoError(t, os.WriteFile(goldenPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	want, err := os.ReadFile(goldenPath)
	require.NoError(t, err, "run with -update to create it")
	got := map[string]string{}
	for _, l := range lines {
		got[strings.Fields(l)[0]] = l
	}
	sc := bufio.NewScanner(strings.NewReader(string(want)))
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		n++
		t.Run(f[0], func(t *testing.T) {
			require.Equal(t, sc.Text(), got[f[0]], "built-in task changed; rerun with -update only if intended")
		})
	}
	require.Equal(t, len(lines), n, "golden file and Builtins() list different tasks")
}

func TestBuiltinGenerate(t *testing.T) {
	for _, id := range Builtins() {
		tk, err := Builtin(id)
		require.NoError(t, err)
		if tk.Kind != KindGenerate {
			continue
		}
		t.Run(id, func(t *testing.T) {
			require.Empty(t, tk.Labels)
			require.Empty(t, tk.TrainExamples)
			total := len(tk.TrainPairs) + len(tk.ValPairs)
			require.GreaterOrEqual(t, total, 150)
			require.InDelta(t, total/valEvery, len(tk.ValPairs), 1)
			train := map[string]bool{}
			for _, p := range tk.TrainPairs {
				require.False(t, train[p.Prompt], "duplicate prompt %q", p.Prompt)
				train[p.Prompt] = true
			}
			for _, p := range tk.ValPairs {
				require.False(t, train[p.Prompt], "held-out prompt %q is also trained on", p.Prompt)
			}
			for _, p := range append(tk.TrainPairs, tk.ValPairs...) {
				// Short answers make exact match meaningful.
				require.LessOrEqual(t, utf8.RuneCountInString(p.Response), 16, "response %q", p.Response)
				require.NotContains(t, p.Prompt+p.Response, "\n")
			}
		})
	}
}

func TestBuiltinClassify(t *testing.T) {
	for _, id := range Builtins() {
		tk, err := Builtin(id)
		require.NoError(t, err)
		if tk.Kind != KindClassify {
			continue
		}
		t.Run(id, func(t *testing.T) {
			require.Empty(t, tk.TrainPairs)
			require.GreaterOrEqual(t, len(tk.Labels), 2)
			require.LessOrEqual(t, len(tk.Labels), 4)
			require.GreaterOrEqual(t, len(tk.TrainExamples)+len(tk.ValExamples), 200)
			for _, part := range [][]Example{tk.TrainExamples, tk.ValExamples} {
				count := make([]int, len(tk.Labels))
				for _, e := range part {
					require.GreaterOrEqual(t, e.Label, 0)
					require.Less(t, e.Label, len(tk.Labels))
					count[e.Label]++
				}
				for _, c := range count {
					require.Equal(t, count[0], c, "labels are not balanced: %v", count)
				}
				require.Positive(t, count[0])
			}
			train := map[string]bool{}
			for _, e := range tk.TrainExamples {
				require.False(t, train[e.Text], "duplicate text %q", e.Text)
				train[e.Text] = true
			}
			for _, e := range tk.ValExamples {
				require.False(t, train[e.Text], "held-out text %q is also trained on", e.Text)
			}
		})
	}
}

// TestTasksAgreeWithCorpus checks the tasks against the pretraining corpus of their language,
// which is where a model learns the facts: the true statements are sentences of the corpus and
// the false ones never are, each question the corpus itself asks is answered there with the
// task's response, and every character a task shows a model is in the corpus or the markers.
func TestTasksAgreeWithCorpus(t *testing.T) {
	tests := []struct{ facts, truth, corpus string }{
		{"en-facts", "en-truth", "en-world"},
		{"zh-facts", "zh-truth", "zh-world"},
	}
	for _, tc := range tests {
		t.Run(tc.corpus, func(t *testing.T) {
			c, err := corpus.Builtin(tc.corpus)
			require.NoError(t, err)
			text := c.Train
			truth, err := Builtin(tc.truth)
			require.NoError(t, err)
			found, trueCount := 0, 0
			for _, e := range append(truth.TrainExamples, truth.ValExamples...) {
				in := strings.Contains(text, e.Text)
				if e.Label == 0 {
					trueCount++
					if in {
						found++
					}
				} else {
					require.False(t, in, "false statement %q is in the corpus", e.Text)
				}
			}
			require.Greater(t, found*100, trueCount*80, "only %d of %d true statements are in the corpus", found, trueCount)

			facts, err := Builtin(tc.facts)
			require.NoError(t, err)
			asked := 0
			for _, p := range append(facts.TrainPairs, facts.ValPairs...) {
				q := p.Prompt
				if tc.corpus == "en-world" {
					q = " " + q // a whole question, not the end of a longer one
				}
				for rest := text; ; {
					i := strings.Index(rest, q)
					if i < 0 {
						break
					}
					rest = rest[i+len(q):]
					end := strings.IndexAny(rest, ".。")
					require.Positive(t, end)
					require.Contains(t, rest[:end], strings.TrimPrefix(p.Response, "a "), "answer to %q", p.Prompt)
					asked++
				}
			}
			require.Greater(t, asked, 100, "the corpus asks too few of the task's questions")

			vocab := map[rune]bool{}
			for _, r := range text + QuestionMarker + AnswerMarker + "\n" {
				vocab[r] = true
			}
			for _, tk := range []*Task{facts, truth} {
				for _, r := range tk.Alphabet() {
					require.True(t, vocab[r], "%s uses %q, which the corpus's training part lacks", tk.ID, r)
				}
			}
		})
	}
}

func TestBuiltinUnknown(t *testing.T) {
	_, err := Builtin("en-poems")
	require.Error(t, err)
	require.Contains(t, err.Error(), "en-poems")
	for _, id := range Builtins() {
		require.Contains(t, err.Error(), id)
	}
}

func TestBuiltinReturnsCopy(t *testing.T) {
	a, err := Builtin("en-facts")
	require.NoError(t, err)
	want := a.Hash()
	a.TrainPairs[0].Response = "changed"
	b, err := Builtin("en-facts")
	require.NoError(t, err)
	require.Equal(t, want, b.Hash())
}

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		p    Pair
	}{
		{"english", Pair{"Where does the fox live?", "in the forest"}},
		{"chinese", Pair{"狐狸住在哪里？", "森林里"}},
		{"mixed", Pair{"reverse: abc", "cba"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, start := Render(tc.p)
			runes := []rune(text)
			require.Equal(t, tc.p.Response+"\n", string(runes[start:]))
			require.Equal(t, PromptText(tc.p.Prompt), string(runes[:start]))
			require.True(t, strings.HasPrefix(text, QuestionMarker+tc.p.Prompt+"\n"+AnswerMarker))
			require.True(t, ExactMatch(string(runes[start:])+"<Q> next", tc.p.Response))
		})
	}
}

func TestExactMatch(t *testing.T) {
	tests := []struct {
		generated, response string
		want                bool
	}{
		{"in the forest\n<Q>", "in the forest", true},
		{" in the forest \n", "in the forest", true},
		{"in the forest", "in the forest", true},
		{"in the forest.\n", "in the forest", false},
		{"in the\nforest", "in the forest", false},
		{"", "in the forest", false},
		{"森林里\n", "森林里", true},
	}
	for _, tc := range tests {
		t.Run(tc.generated, func(t *testing.T) {
			require.Equal(t, tc.want, ExactMatch(tc.generated, tc.response))
		})
	}
}

func TestHash(t *testing.T) {
	base := func() *Task {
		return &Task{ID: "user", Lang: "en", Kind: KindClassify, Name: "a", Labels: []string{"x", "y"},
			TrainExamples: []Example{{"a", 0}, {"b", 1}}, ValExamples: []Example{{"c", 1}}}
	}
	h := base().Hash()
	require.Regexp(t, `^[0-9a-f]{16}$`, h)
	tests := []struct {
		name string
		edit func(t *Task)
		same bool
	}{
		{"name", func(t *Task) { t.Name = "b" }, true},
		{"id", func(t *Task) { t.ID = "other" }, true},
		{"label name", func(t *Task) { t.Labels[1] = "z" }, false},
		{"label of an example", func(t *Task) { t.TrainExamples[0].Label = 1 }, false},
		{"split", func(t *Task) {
			t.TrainExamples, t.ValExamples = t.TrainExamples[:1], append(t.TrainExamples[1:], t.ValExamples...)
		}, false},
		{"kind", func(t *Task) { t.Kind = KindGenerate }, false},
		{"text boundary", func(t *Task) { t.TrainExamples[0].Text, t.TrainExamples[1].Text = "ab", "" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := base()
			tc.edit(tk)
			require.Equal(t, tc.same, tk.Hash() == h)
		})
	}
}
