package compare

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/task"
)

// DoRA, IA3, BitFit and LayerNorm tuning in a comparison: each measured like the others, with
// the trainable parameters it should have, and DoRA's and IA3's adapters loading back.

// TestRunMeasuresPEFTMethods runs the four kinds for a few steps from one base: each trains
// (its curve and fingerprint), counts exactly the parameters it trains (DoRA: A, B and a
// magnitude per row; IA3: 6C per block; BitFit: the biases; LN tuning: the LayerNorms) with
// optimizer moments for those alone, and DoRA's and IA3's adapter files load back onto the base
// with the method's answers.
func TestRunMeasuresPEFTMethods(t *testing.T) {
	base, tk, c := quickBase(t)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 4, 2
	cfg.Methods = []Method{Defaults(DoRA), Defaults(IA3), Defaults(BitFit), Defaults(LNTuning)}
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, nil)
	require.NoError(t, err)
	require.Len(t, res, 5)
	C, L := base.Cfg.Dim, base.Cfg.Layers
	baseParams := base.ParamCount()
	want := map[string]int{
		DoRA:     L * 4 * (4*C + C*4 + C), // q, k, v, o: A r×C, B C×r, a magnitude per output row
		IA3:      L * (C + C + 4*C),
		BitFit:   L*(4*C+4*C+C+2*C) + C,
		LNTuning: 2 * C * (2*L + 1),
	}
	fingerprints := map[string]bool{}
	for _, r := range res[1:] {
		t.Run(r.Kind, func(t *testing.T) {
			require.Equal(t, want[r.Kind], r.TrainableParams)
			require.InDelta(t, float64(want[r.Kind])/float64(baseParams), r.TrainableShare, 1e-12)
			require.Equal(t, 2*4*want[r.Kind], r.OptimizerBytes, "two float32 moments per trainable parameter")
			require.Len(t, r.TrainCurve, cfg.Steps)
			require.Len(t, r.Answers, 4)
			require.Positive(t, r.MsPerStep)
			require.Contains(t, r.Fingerprint, "cpu:")
			require.False(t, fingerprints[r.Fingerprint])
			fingerprints[r.Fingerprint] = true
			require.Equal(t, res[1].ValCurve[0], r.ValCurve[0], "%s starts at the base: the same held-out loss before training as the others", r.Kind)
			if !HasAdapterFile(r.Kind) {
				require.Nil(t, r.AdapterFile)
				return
			}
			file, err := AdapterOf(res, r.Method)
			require.NoError(t, err)
			got, err := LoadAdapter(base, tk, tsk, cfg, file)
			require.NoError(t, err)
			require.Equal(t, r.Kind, got.Kind)
			require.Equal(t, r.Answers, got.Answers, "the loaded adapter answers as the method did")
			require.Equal(t, r.TrainableParams, got.TrainableParams)
			if r.Kind == DoRA {
				require.Equal(t, res[0].Answers, got.AnswersOff, "off: the base's")
				require.Equal(t, r.LoRAUpdates, got.LoRAUpdates)
				require.Equal(t, r.AnswersMerged, got.AnswersMerged)
				require.Len(t, r.LoRAUpdates, 4*L)
			}
		})
	}
	// Under a class head (a classify task) BitFit and LN tuning still train their tensors, beside
	// the head: the head's frozen body must not freeze them again.
	truth, err := task.Builtin("en-truth")
	require.NoError(t, err)
	for _, k := range []string{BitFit, LNTuning} {
		m, err := prepare(base, truth, cfg, Method{Kind: k}, nil)
		require.NoError(t, err)
		head := len(truth.Labels) * (C + 1)
		require.Equal(t, want[k]+head, m.TrainableCount(), k)
		m.Free()
	}
	_, err = AdapterOf(res, "bitfit")
	require.ErrorContains(t, err, "only a LoRA, DoRA or IA3 method has an adapter to save")
	_, attached := base.LoRA()
	require.False(t, attached, "the base is left alone")
	_, attached = base.IA3()
	require.False(t, attached)
}

// TestPEFTMethodSettings: the new kinds' defaults, what a link writes for them, and the
// settings they refuse.
func TestPEFTMethodSettings(t *testing.T) {
	d := Defaults(DoRA)
	require.Equal(t, 4, d.Rank)
	f := d.Filled()
	require.Equal(t, float32(8), f.Alpha)
	require.Equal(t, core.AttentionTargets(), f.Targets)
	require.Equal(t, Method{Kind: DoRA, Rank: 4, Alpha: 8}, d.Canonical(), "a link says DoRA's α, as LoRA's")
	require.True(t, d.LoRAConfig().UseDoRA)
	require.False(t, Defaults(LoRA).LoRAConfig().UseDoRA)
	for _, k := range []string{IA3, BitFit, LNTuning} {
		require.Equal(t, Method{Kind: k}, Defaults(k), "%s has no settings", k)
		require.Equal(t, Method{Kind: k}, Defaults(k).Canonical())
		require.NoError(t, Defaults(k).Validate(16, task.KindGenerate))
		require.ErrorContains(t, Method{Kind: k, Rank: 2}.Validate(16, task.KindGenerate), "has no rank")
		require.ErrorContains(t, Method{Kind: k, Size: 2}.Validate(16, task.KindGenerate), "has no size")
	}
	require.NoError(t, Defaults(DoRA).Validate(16, task.KindGenerate))
	require.Error(t, Method{Kind: DoRA, Rank: 99}.Validate(16, task.KindGenerate))
	require.ErrorContains(t, Method{Kind: DoRA, Rank: 2, Len: 3}.Validate(16, task.KindGenerate), "has no len")
	for _, k := range []string{DoRA, IA3, BitFit, LNTuning} {
		require.Contains(t, Kinds, k)
		require.Positive(t, DefaultLR(k))
	}
}
