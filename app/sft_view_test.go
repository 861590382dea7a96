package app

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/task"
)

// TestSFTExampleMatchesSFTTokens: for every built-in generate task the marks are core.SFTTokens'
// weights over task.Render's text, one a character: by default exactly the response and its
// line break count; with the prompt counted, everything but the first character.
func TestSFTExampleMatchesSFTTokens(t *testing.T) {
	n := 0
	for _, id := range task.Builtins() {
		tk, err := task.Builtin(id)
		require.NoError(t, err)
		if tk.Kind != task.KindGenerate {
			_, err := sftExample(id, false)
			require.Error(t, err, "%s: a classify task has no example to mark", id)
			continue
		}
		n++
		t.Run(id, func(t *testing.T) {
			p := tk.TrainPairs[0]
			text, start := task.Render(p)
			vocab, err := core.NewTokenizer(text)
			require.NoError(t, err)
			for _, withPrompt := range []bool{false, true} {
				chars, err := sftExample(id, withPrompt)
				require.NoError(t, err)
				_, weights := core.SFTTokens(vocab, p, withPrompt)
				require.Len(t, chars, len(weights))
				var all, counted strings.Builder
				for i, c := range chars {
					require.Equal(t, weights[i] > 0, c.Counted, "character %d %q", i, c.Text)
					all.WriteString(c.Text)
					if c.Counted {
						counted.WriteString(c.Text)
					}
				}
				require.Equal(t, text, all.String())
				if withPrompt {
					require.Equal(t, string([]rune(text)[1:]), counted.String())
				} else {
					require.Equal(t, p.Response+"\n", counted.String())
					require.Equal(t, string([]rune(text)[start:]), counted.String())
				}
			}
		})
	}
	require.GreaterOrEqual(t, n, 2, "the English and the Chinese facts")
	_, err := sftExample("no-such-task", false)
	require.Error(t, err)
}

// TestCompareRendersTheSFTExample: a generate task shows its example with the counted
// characters marked and a legend; a classify task shows none.
func TestCompareRendersTheSFTExample(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			c := &Compare{Lang: l, compareState: compareState{form: defaultCompareSetup(l)}}
			page := render(t, c)
			require.NotContains(t, page, "[")
			require.Contains(t, page, `id="sft-example"`)
			chars, err := sftExample(c.form.Task, false)
			require.NoError(t, err)
			want := 0
			for _, ch := range chars {
				if ch.Counted {
					want++
				}
			}
			box := page[strings.Index(page, `id="sft-example"`):strings.Index(page, `id="sft-legend"`)]
			require.Len(t, regexp.MustCompile(`<span[^>]*class="ch counted"`).FindAllString(box, -1), want)
			require.Len(t, regexp.MustCompile(`<span[^>]*class="ch ignored"`).FindAllString(box, -1), len(chars)-want)
			require.Contains(t, box, ">↵<", "the line break that ends the answer is marked too")
			require.Contains(t, page, l.T("sft.counted"))
			require.Contains(t, page, l.T("sft.ignored"))

			for _, id := range tasksFor(c.form.Lang(), false) {
				if tk, _ := task.Builtin(id); tk.Kind == task.KindClassify {
					c.form.SetTask(id)
					require.NotContains(t, render(t, c), `id="sft-example"`)
					return
				}
			}
			t.Fatal("no classify task to try")
		})
	}
}
