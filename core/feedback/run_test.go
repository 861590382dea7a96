package feedback

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// tinySFT is a small random causal model and its tokenizer (it has never learned anything:
// these tests check what Run refuses before training).
func tinySFT(t *testing.T) (*core.Model, *core.Tokenizer) {
	t.Helper()
	tk, err := core.TokenizerFromString("\n .<>?AQabcdefghijklmnopqrstuvwxyz")
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim, cfg.Batch, cfg.Vocab = 48, 1, 2, 16, 4, tk.VocabSize()
	m, err := core.NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	return m, tk
}

func shortConfig() Config {
	cfg := DefaultConfig("")
	cfg.Pairs, cfg.RewardSteps, cfg.Steps, cfg.Batch, cfg.EvalEvery, cfg.EvalSamples, cfg.Tokens = 8, 2, 2, 8, 1, 1, 8
	return cfg
}

// TestRunRefusesYourPairs: a learner's pairs that the model cannot read, or whose answer does not
// fit its context, or that are too few, are refused with what is wrong and which pair, before
// anything trains (no event at all).
func TestRunRefusesYourPairs(t *testing.T) {
	m, tk := tinySFT(t)
	defer m.Free()
	good := func(n int) []Pair {
		var out []Pair
		for i := 0; i < n; i++ {
			out = append(out, Pair{Prompt: "what does the fox like?", Chosen: "eggs", Rejected: "red " + strings.Repeat("a", i+1)})
		}
		return out
	}
	long := good(12)
	long[6].Rejected = strings.Repeat("b", 60)
	unseen := good(12)
	unseen[3].Chosen = "œufs"
	for name, tc := range map[string]struct {
		pairs []Pair
		want  string
	}{
		"too long": {long, "pair 7 of your file"},
		"unseen":   {unseen, "never seen"},
		"too few":  {good(9), "too few"},
		"not both": {good(12), "not both"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := shortConfig()
			if name == "not both" {
				cfg.Taste = "en-food"
			}
			events := 0
			_, err := Run(context.Background(), Inputs{SFT: m, Tok: tk, Pairs: tc.pairs}, cfg, func(Event) { events++ })
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, events, "nothing trains")
		})
	}
}

// TestRunStopsWhenCancelled: a cancelled context stops the run with its error.
func TestRunStopsWhenCancelled(t *testing.T) {
	m, tk := tinySFT(t)
	defer m.Free()
	var pairs []Pair
	for i := 0; i < 12; i++ {
		pairs = append(pairs, Pair{Prompt: "what does the fox like?", Chosen: "eggs", Rejected: "red " + strings.Repeat("a", i+1)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Inputs{SFT: m, Tok: tk, Pairs: pairs}, shortConfig(), nil)
	require.ErrorIs(t, err, context.Canceled)
}
