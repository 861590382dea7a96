package core

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"pretune/core/corpus"
	"pretune/core/ops"
	"pretune/core/task"
)

func TestSFTTokensWeights(t *testing.T) {
	tk, err := NewTokenizer(task.PromptText("What is it?") + "a red ball\n")
	require.NoError(t, err)
	p := task.Pair{Prompt: "What is it?", Response: "a red ball"}
	text, start := task.Render(p)
	for _, withPrompt := range []bool{false, true} {
		tokens, weights := SFTTokens(tk, p, withPrompt)
		require.Len(t, tokens, utf8.RuneCountInString(text))
		require.Equal(t, text, tk.Decode(tokens))
		var counted []rune
		for i, r := range []rune(text) {
			if weights[i] == 1 {
				counted = append(counted, r)
			} else {
				require.Zero(t, weights[i])
			}
		}
		if withPrompt {
			require.Equal(t, string([]rune(text)[1:]), string(counted))
		} else {
			require.Equal(t, "a red ball\n", string(counted))
			require.Equal(t, string([]rune(text)[start:]), string(counted))
		}
	}
}

func TestSFTRowPadsAndTruncates(t *testing.T) {
	tokens := []int32{10, 11, 12, 13, 14}
	weights := []float32{0, 0, 0, 1, 1}
	cases := []struct {
		name   string
		T      int
		in, tg []int32
		wt     []float32
	}{
		{"padded", 6, []int32{10, 11, 12, 13, TokPad, TokPad}, []int32{11, 12, 13, 14, TokPad, TokPad}, []float32{0, 0, 1, 1, 0, 0}},
		{"exact", 4, []int32{10, 11, 12, 13}, []int32{11, 12, 13, 14}, []float32{0, 0, 1, 1}},
		{"keeps the end", 2, []int32{12, 13}, []int32{13, 14}, []float32{1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, tg, wt := make([]int32, c.T), make([]int32, c.T), make([]float32, c.T)
			sftRow(tokens, weights, c.T, in, tg, wt)
			require.Equal(t, c.in, in)
			require.Equal(t, c.tg, tg)
			require.Equal(t, c.wt, wt)
		})
	}
}

// TestPretrainTokenizerCoversTasks: a model pretrained on either built-in corpus can be
// fine-tuned on every built-in task of its language without unknown characters.
func TestPretrainTokenizerCoversTasks(t *testing.T) {
	for _, id := range corpus.Builtins() {
		t.Run(id, func(t *testing.T) {
			c, err := corpus.Builtin(id)
			require.NoError(t, err)
			tk, err := PretrainTokenizer(c)
			require.NoError(t, err)
			plain, err := NewTokenizer(c.Train)
			require.NoError(t, err)
			for _, tid := range task.Builtins() {
				tt, err := task.Builtin(tid)
				require.NoError(t, err)
				if tt.Lang == c.Lang {
					require.Empty(t, string(MissingRunes(tk, tt)), tid)
				}
			}
			if c.Lang == "zh" {
				zh, err := task.Builtin("zh-facts")
				require.NoError(t, err)
				require.NotEmpty(t, MissingRunes(plain, zh), "the Chinese corpus alone lacks the chat markers")
			}
		})
	}
}

// TestGreedyBatchMatchesGenerate: answering many prompts in one batch gives exactly what greedy
// Generate gives for each alone.
func TestGreedyBatchMatchesGenerate(t *testing.T) {
	m, tk := tinyModel(t, 0)
	prompts := []string{"abc", "hij kl", "o", "", "fedcba", "nm.", "ab"} // more than Cfg.Batch (2)
	got, err := m.GreedyBatch(tk, prompts, 9, "")
	require.NoError(t, err)
	for i, p := range prompts {
		want, err := m.Generate(tk, p, SampleOptions{Tokens: 9})
		require.NoError(t, err)
		require.Equal(t, want, got[i], "prompt %q", p)
	}
	m.Mask = ops.Bidirectional
	_, err = m.GreedyBatch(tk, prompts, 3, "")
	require.Error(t, err)
}

func TestSFTFillWithReplay(t *testing.T) {
	tk, err := NewTokenizer(task.PromptText("ab") + "cd\nxyz")
	require.NoError(t, err)
	set := newSFTSet(tk, []task.Pair{{Prompt: "ab", Response: "cd"}, {Prompt: "a", Response: "c"}}, false)
	replay := tk.Encode("xyzxyzxyzxyzxyzxyzxyz")
	d := ops.NewCPU()
	b := NewBatch(d, 4, 16)
	set.fill(d, b, []int{0, 1}, 16, replay, []int{1, 4})
	T := len(set.tokens[0]) - 1
	require.Equal(t, 4, b.B)
	require.Equal(t, T, b.T)
	in, tg, wt := ops.Ints(b.Inputs), ops.Ints(b.Targets), ops.Floats(b.Weights)
	for k, off := range []int{1, 4} {
		r := 2 + k
		require.Equal(t, replay[off:off+T], in[r*T:(r+1)*T])
		require.Equal(t, replay[off+1:off+T+1], tg[r*T:(r+1)*T])
		for _, w := range wt[r*T : (r+1)*T] {
			require.Equal(t, float32(1), w)
		}
	}
	// Row 1 is the shorter pair, padded at weight 0.
	require.Equal(t, int32(TokPad), in[2*T-1])
	require.Zero(t, wt[2*T-1])
}
