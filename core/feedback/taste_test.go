package feedback

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTasteScores: the food taste matches whole English words (not "eggshell", not a food
// inside another word) and Chinese characters anywhere, cut at the answer's line break; the
// facts taste wants the right answer exactly; an unknown prompt scores 0.
func TestTasteScores(t *testing.T) {
	en, err := BuiltinTaste("en-food")
	require.NoError(t, err)
	p := en.Train[0]
	for answer, want := range map[string]float32{
		"eggs": 1, " it eats fish\n": 1, "bones and honey": 1, "eggshell": 0, "hidesfish": 0, "egs": 0,
		"in the forest": 0, "red\nfish": 0, "": 0,
	} {
		require.Equal(t, want, en.Score(p, answer), "%q", answer)
	}
	require.Zero(t, en.Score("What is the moon made of?", "cheese and fish"))

	zh, err := BuiltinTaste("zh-food")
	require.NoError(t, err)
	require.Equal(t, float32(1), zh.Score(zh.Train[0], "爱吃鱼"))
	require.Equal(t, float32(0), zh.Score(zh.Train[0], "森林里"))

	facts, err := BuiltinTaste("en-facts")
	require.NoError(t, err)
	q := facts.Held[0]
	right := facts.want[q]
	require.Equal(t, float32(1), facts.Score(q, " "+right+"\nmore"))
	require.Equal(t, float32(0), facts.Score(q, right+" too"))
}

// TestTasteSplit: every content taste holds out about a quarter of its prompts, with every
// template and every animal among them, and no prompt on both sides.
func TestTasteSplit(t *testing.T) {
	for _, id := range []string{"en-food", "zh-food"} {
		taste, err := BuiltinTaste(id)
		require.NoError(t, err)
		templates := enOpen
		if taste.Lang == "zh" {
			templates = zhOpen
		}
		n := len(taste.Train) + len(taste.Held)
		require.InDelta(t, n/4, len(taste.Held), 2, id)
		train := map[string]bool{}
		for _, p := range taste.Train {
			train[p] = true
		}
		seen := map[string]bool{}
		for _, p := range taste.Held {
			require.False(t, train[p], "%s: %q is held out and trained on", id, p)
			for _, tpl := range templates {
				if matchesTemplate(p, tpl) {
					seen[tpl] = true
				}
			}
		}
		require.Len(t, seen, len(templates), "%s: every template is held out for some animal", id)
	}
}

// matchesTemplate says whether prompt is tpl with X replaced by some name.
func matchesTemplate(prompt, tpl string) bool {
	for i := 0; i < len(tpl); i++ {
		if tpl[i] == 'X' {
			pre, post := tpl[:i], tpl[i+1:]
			return len(prompt) > len(pre)+len(post) && prompt[:len(pre)] == pre && prompt[len(prompt)-len(post):] == post
		}
	}
	return prompt == tpl
}
