package feedback

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
	"pretune/core/task"
)

// tinySFT is a small random causal model and its tokenizer (it has never learned anything:
// these tests check what Run refuses before training).
func tinySFT(t *testing.T) (*core.Model, *core.Tokenizer) {
	t.Helper()
	tk, err := core.TokenizerFromString("\n .<>?AQabcdefghijklmnopqrstuvwxyz")
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim, cfg.Batch, cfg.Vocab = 64, 1, 2, 16, 4, tk.VocabSize()
	m, err := core.NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	return m, tk
}

// foxPairs are n distinct pairs to one prompt, each rejected answer a little longer.
func foxPairs(n int) []Pair {
	var out []Pair
	for i := 0; i < n; i++ {
		out = append(out, Pair{Prompt: "what does the fox like?", Chosen: "eggs", Rejected: "red " + strings.Repeat("a", i+1)})
	}
	return out
}

func shortConfig() Config {
	cfg := DefaultConfig("")
	cfg.Pairs, cfg.RewardSteps, cfg.Steps, cfg.Batch, cfg.EvalEvery, cfg.EvalSamples, cfg.Tokens = 8, 2, 2, 8, 1, 1, 8
	return cfg
}

// TestRunRefusesYourPairs: a learner's pairs that the model cannot read, or whose answer does not
// fit its context, or that are too few, or whose judging taste's prompts it cannot read, are
// refused with what is wrong and which pair, before anything trains (no event at all).
func TestRunRefusesYourPairs(t *testing.T) {
	m, tk := tinySFT(t)
	defer m.Free()
	long := foxPairs(12)
	long[6].Rejected = strings.Repeat("b", 60)
	// One character over: the prompt with its markers, the answer and its line break are 65
	// tokens where the model reads 64 (the reward model reads all of them).
	edge := foxPairs(12)
	edge[9].Chosen = strings.Repeat("e", m.Cfg.Context-len([]rune(task.PromptText(edge[9].Prompt))))
	unseen := foxPairs(12)
	unseen[3].Chosen = "œufs"
	for name, tc := range map[string]struct {
		pairs []Pair
		want  string
	}{
		"too long": {long, "pair 7 of your file"},
		"one over": {edge, "pair 10 of your file"},
		"unseen":   {unseen, "never seen"},
		"too few":  {foxPairs(9), "too few"},
		// A taste that judges a learner's pairs measures on its own prompts: the model must
		// be able to read them.
		"judge unseen": {foxPairs(12), "never seen"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := shortConfig()
			if name == "judge unseen" {
				cfg.Taste = "en-food"
			}
			events := 0
			_, err := Run(context.Background(), Inputs{SFT: m, Tok: tk, Pairs: tc.pairs}, cfg, func(Event) { events++ })
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, events, "nothing trains")
		})
	}
}

// TestRunStopsWhenCancelled: a cancelled context stops the run with its error, before the
// reward model trains and, with a taste, before the taste labels a round of pairs.
func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m, tk := tinySFT(t)
	defer m.Free()
	_, err := Run(ctx, Inputs{SFT: m, Tok: tk, Pairs: foxPairs(12)}, shortConfig(), nil)
	require.ErrorIs(t, err, context.Canceled)

	m2, tk := tasteSFT(t)
	defer m2.Free()
	tasteCfg := shortConfig()
	tasteCfg.Taste = "en-food"
	_, err = Run(ctx, Inputs{SFT: m2, Tok: tk}, tasteCfg, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorContains(t, err, "labelled pairs")
}

// TestRunCallsBetweenSteps: the hook the browser worker pauses in runs after every step of the
// reward model and of every method, a run of a learner's pairs reports one result per model
// with the reward model as the judge, and a LoRA policy trains only its adapters and value head.
func TestRunCallsBetweenSteps(t *testing.T) {
	m, tk := tinySFT(t)
	defer m.Free()
	pairs := foxPairs(12)
	cfg := shortConfig()
	lora := Defaults(PPO)
	lora.Name, lora.Rank = "ppo-lora", 2
	cfg.Methods = append(cfg.Methods, lora)
	calls := 0
	res, err := Run(context.Background(), Inputs{SFT: m, Tok: tk, Pairs: pairs, BetweenSteps: func() { calls++ }}, cfg, nil)
	require.NoError(t, err)
	require.Equal(t, cfg.RewardSteps+len(cfg.Methods)*cfg.Steps, calls)
	require.Len(t, res, 2+len(cfg.Methods))
	for _, r := range res[2:] {
		require.Equal(t, JudgeRewardModel, r.WinJudge, r.Method)
	}
	// PPO through LoRA trains the adapters and the value head only: far fewer parameters and
	// less optimizer memory than PPO on the whole policy.
	full, viaLoRA := res[2], res[len(res)-1]
	require.Equal(t, "ppo-lora", viaLoRA.Method)
	require.Less(t, viaLoRA.TrainableParams, full.TrainableParams/4)
	require.Less(t, viaLoRA.OptimizerBytes, full.OptimizerBytes/4)
	require.NotEqual(t, full.Fingerprint, viaLoRA.Fingerprint)
}

// tasteSFT is a small random causal model whose vocabulary has every character of the en-food
// taste's prompts and the lower-case letters, and its tokenizer.
func tasteSFT(t *testing.T) (*core.Model, *core.Tokenizer) {
	t.Helper()
	taste, err := BuiltinTaste("en-food")
	require.NoError(t, err)
	seen := map[rune]bool{}
	for _, p := range append(append([]string(nil), taste.Train...), taste.Held...) {
		for _, r := range task.PromptText(p) + "abcdefghijklmnopqrstuvwxyz" {
			seen[r] = true
		}
	}
	var alphabet []rune
	for r := range seen {
		alphabet = append(alphabet, r)
	}
	slices.Sort(alphabet)
	tk, err := core.TokenizerFromString(string(alphabet))
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Layers, cfg.Heads, cfg.Dim, cfg.Vocab = 1, 2, 16, tk.VocabSize()
	m, err := core.NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	return m, tk
}
