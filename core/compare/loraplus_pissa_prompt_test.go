package compare

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/task"
)

// Tests of #17's kinds (peft-b): LoRA+, PiSSA and prompt tuning as methods of a comparison.

// TestNewKindsFilledAndCanonical: their defaults (rank 4; α 2r for LoRA+ and r for PiSSA; the
// ratio 16, always said in a link; 8 soft tokens), and that a link's form runs the same method.
func TestNewKindsFilledAndCanonical(t *testing.T) {
	attention := core.AttentionTargets()
	for _, tc := range []struct {
		name              string
		m, filled, linked Method
	}{
		{"loraplus", Defaults(LoRAPlus), Method{Kind: LoRAPlus, LR: 5e-3, Rank: 4, Alpha: 8, Targets: attention, Ratio: 16}, Method{Kind: LoRAPlus, Rank: 4, Alpha: 8, Ratio: 16}},
		{"loraplus, ratio unsaid", Method{Kind: LoRAPlus, Rank: 2}, Method{Kind: LoRAPlus, LR: 5e-3, Rank: 2, Alpha: 4, Targets: attention, Ratio: 16}, Method{Kind: LoRAPlus, Rank: 2, Alpha: 4, Ratio: 16}},
		{"loraplus, chosen", Method{Kind: LoRAPlus, Rank: 2, Alpha: 1, Ratio: 4, Targets: []string{"fc_in"}}, Method{Kind: LoRAPlus, LR: 5e-3, Rank: 2, Alpha: 1, Targets: []string{"fc_in"}, Ratio: 4}, Method{Kind: LoRAPlus, Rank: 2, Alpha: 1, Ratio: 4, Targets: []string{"fc_in"}}},
		{"pissa", Defaults(PiSSA), Method{Kind: PiSSA, LR: 1e-2, Rank: 4, Alpha: 4, Targets: attention}, Method{Kind: PiSSA, Rank: 4, Alpha: 4}},
		{"prompt", Defaults(Prompt), Method{Kind: Prompt, LR: 1e-1, Len: 8}, Method{Kind: Prompt, Len: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.filled, tc.m.Filled())
			require.Equal(t, tc.linked, tc.m.Canonical())
			require.Equal(t, tc.filled, tc.m.Canonical().Filled(), "the link's form runs the same method")
			require.NoError(t, tc.m.Validate(64, task.KindGenerate))
		})
	}
	js, err := json.Marshal(Defaults(LoRAPlus).Canonical())
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"loraplus","r":4,"alpha":8,"ratio":16}`, string(js), "the new field comes last and only for LoRA+")
	js, err = json.Marshal(Defaults(LoRA).Canonical())
	require.NoError(t, err)
	require.JSONEq(t, `{"kind":"lora","r":4,"alpha":8}`, string(js), "old kinds' links do not change")
}

func TestValidateNewKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Method
		err  string
	}{
		{"ratio on lora", Method{Kind: LoRA, Rank: 2, Ratio: 16}, "no ratio"},
		{"ratio on pissa", Method{Kind: PiSSA, Rank: 2, Ratio: 16}, "no ratio"},
		{"ratio too large", Method{Kind: LoRAPlus, Rank: 2, Ratio: core.MaxLoRAPlusRatio + 1}, "ratio"},
		{"negative ratio", Method{Kind: LoRAPlus, Rank: 2, Ratio: -1}, "ratio"},
		{"pissa rank above the width", Method{Kind: PiSSA, Rank: 65}, "rank 65"},
		{"loraplus no targets check", Method{Kind: LoRAPlus, Rank: 2, Targets: []string{"magic"}}, "unknown target"},
		{"len on pissa", Method{Kind: PiSSA, Rank: 2, Len: 3}, "no len"},
		{"rank on prompt", Method{Kind: Prompt, Len: 3, Rank: 2}, "no rank"},
		{"prompt len 0", Method{Kind: Prompt}, "prompt len 0"},
		{"prompt too long", Method{Kind: Prompt, Len: core.MaxPromptLen + 1}, "outside 1..256"},
		{"unknown kind names the new ones", Method{Kind: "magic"}, "loraplus, pissa, prompt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.m.Validate(64, task.KindGenerate), tc.err)
		})
	}
}

// TestRunNewMethods runs LoRA, LoRA+, PiSSA and prompt tuning for three steps on the facts and
// checks what a comparison measures of them: LoRA+ and PiSSA train LoRA's tensors (the same
// count and optimizer memory), LoRA+ gets LoRA's view extras and PiSSA none (its "off" is not the
// base), prompt tuning trains Len×C numbers; every one has its own fingerprint (that each
// reproduces is the golden runs' job: core/golden).
func TestRunNewMethods(t *testing.T) {
	if testing.Short() {
		t.Skip("four comparisons' worth of answers: natively only (under wasm the golden runs pin these methods' arithmetic)")
	}
	base, tk, c := quickBase(t)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 3, 3
	cfg.Methods = []Method{Defaults(LoRA), Defaults(LoRAPlus), Defaults(PiSSA), Defaults(Prompt)}
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, nil)
	require.NoError(t, err)
	require.Len(t, res, 5)
	lora, plus, pissa, prompt := res[1], res[2], res[3], res[4]
	require.Equal(t, lora.TrainableParams, plus.TrainableParams)
	require.Equal(t, lora.TrainableParams, pissa.TrainableParams)
	require.Equal(t, 8*base.Cfg.Dim, prompt.TrainableParams)
	fingerprints := map[string]bool{}
	for _, r := range res[1:] {
		require.Equal(t, 8*r.TrainableParams, r.OptimizerBytes, r.Method)
		require.Len(t, r.Answers, 4, r.Method)
		require.Len(t, r.TrainCurve, 3, r.Method)
		require.NotZero(t, r.Forgetting, r.Method)
		require.False(t, fingerprints[r.Fingerprint], r.Method)
		fingerprints[r.Fingerprint] = true
	}
	require.NotEmpty(t, plus.LoRAUpdates)
	require.NotEmpty(t, plus.AdapterFile)
	require.Empty(t, pissa.LoRAUpdates)
	require.Empty(t, pissa.AdapterFile)
	require.InDelta(t, lora.ValCurve[0].Loss, pissa.ValCurve[0].Loss, 1e-4, "PiSSA starts at the base, as LoRA does")
	// Prompt tuning reads 8 tokens fewer per window: its "before" is the base on windows of
	// that length, not the base's own full-context loss.
	short, err := pretrainLossWithin(base, tk.Encode(c.Val), base.Cfg.Context-8)
	require.NoError(t, err)
	require.NotEqual(t, res[0].PretrainLoss, short)
	require.Equal(t, short, prompt.PretrainLoss-prompt.Forgetting)
	require.Equal(t, res[0].PretrainLoss, lora.PretrainLoss-lora.Forgetting)

}

// TestPromptUnderAClassHead: prompt tuning on a classify task trains the soft tokens and the
// head, the body frozen.
func TestPromptUnderAClassHead(t *testing.T) {
	base, tk, c := quickBase(t)
	tsk, err := task.Builtin("en-truth")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 2, 2
	cfg.Methods = []Method{Defaults(Prompt)}
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, nil)
	require.NoError(t, err)
	require.Equal(t, 8*base.Cfg.Dim+(base.Cfg.Dim+1)*len(tsk.Labels), res[1].TrainableParams)
	for _, a := range res[1].Answers {
		require.Contains(t, tsk.Labels, a.Answer)
	}
}
