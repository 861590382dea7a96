package core

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/grammar"
	"pretune/core/ops"
)

// TestCorruptProportions draws many windows and checks the masking rate and BERT's 80/10/10.
func TestCorruptProportions(t *testing.T) {
	const V, T, n = 40, 64, 400
	window := make([]int32, T)
	for i := range window {
		window[i] = int32(numSpecial + i%(V-numSpecial))
	}
	for _, bert := range []bool{true, false} {
		r := NewRNG(1, StreamMask)
		o := MLMOptions{Rate: 0.15, BERT: bert}
		chosen, masked, kept, random := 0, 0, 0, 0
		in, tg, wt := make([]int32, T), make([]int32, T), make([]float32, T)
		for k := 0; k < n; k++ {
			corrupt(window, o, V, r, in, tg, wt)
			require.Equal(t, window, tg)
			for i := range in {
				if wt[i] == 0 {
					require.Equal(t, window[i], in[i], "an unchosen position is never corrupted")
					continue
				}
				chosen++
				switch {
				case in[i] == TokMask:
					masked++
				case in[i] == window[i]:
					kept++
				default:
					random++
					require.GreaterOrEqual(t, in[i], int32(numSpecial))
				}
			}
		}
		c := float64(chosen)
		require.InDelta(t, 0.15, c/(n*T), 0.01)
		if bert {
			require.InDelta(t, 0.8, float64(masked)/c, 0.03)
			require.InDelta(t, 0.1, float64(kept)/c, 0.03)
			require.InDelta(t, 0.1, float64(random)/c, 0.03)
		} else {
			require.Equal(t, chosen, masked)
		}
	}
	// A window too short to draw a position still gets one.
	in, tg, wt := make([]int32, 1), make([]int32, 1), make([]float32, 1)
	corrupt([]int32{5}, MLMOptions{Rate: 1e-9}, V, NewRNG(2, StreamMask), in, tg, wt)
	require.Equal(t, float32(1), wt[0])
}

// TestMaskedLMLearnsToFillBlanks: masked-LM pretraining lowers the held-out masked loss and makes
// the probe fill blanks far better than an untrained model; a causal model answers the same probe.
func TestMaskedLMLearnsToFillBlanks(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains two small models")
	}
	text, val := grammar.Text(5, 400), grammar.Text(6, 60)
	cfg := DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 32, 2, 2, 32
	// Only 15% of positions carry a loss, and bidirectional attention starts out averaging the
	// whole window: masked LM needs several times the steps of causal LM here (its loss sits near
	// the unigram entropy for about 800 steps, then falls).
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 8, 1500, 10, 1500, 2
	tr, err := NewMLMTrainer(ops.NewCPU(), cfg, text, val, DefaultMLM())
	require.NoError(t, err)
	require.Equal(t, ops.Bidirectional, tr.Model.Mask)
	untrained, err := FillBlankAccuracy(tr.Model, tr.Tok, val, 2, 0.15)
	require.NoError(t, err)
	first, err := tr.Evaluate()
	require.NoError(t, err)
	for !tr.Done() {
		_, err := tr.Step()
		require.NoError(t, err)
	}
	last, err := tr.Evaluate()
	require.NoError(t, err)
	require.Less(t, last, first*0.75)
	mlmAcc, err := FillBlankAccuracy(tr.Model, tr.Tok, val, 2, 0.15)
	require.NoError(t, err)
	require.Greater(t, mlmAcc, untrained+0.2)

	cfg.Steps, cfg.EvalEvery = 300, 300
	causal, err := NewTrainer(ops.NewCPU(), cfg, text, val)
	require.NoError(t, err)
	for !causal.Done() {
		_, err := causal.Step()
		require.NoError(t, err)
	}
	causalAcc, err := FillBlankAccuracy(causal.Model, causal.Tok, val, 2, 0.15)
	require.NoError(t, err)
	t.Logf("fill-in-the-blank accuracy: untrained %.3f, masked LM %.3f, causal LM %.3f", untrained, mlmAcc, causalAcc)
	require.Greater(t, causalAcc, untrained+0.2)
	_, err = tr.Model.Generate(tr.Tok, "the", SampleOptions{Tokens: 2})
	require.Error(t, err, "a masked-LM model cannot generate")
}

// TestMaskedTrainerResumesExactly: a masked-LM trainer restored from a snapshot continues with
// the same corruption and data as the trainer that took it (the snapshot keeps the mask stream).
func TestMaskedTrainerResumesExactly(t *testing.T) {
	text, val := grammar.Text(5, 60), grammar.Text(6, 20)
	cfg := DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 16, 1, 2, 16
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 4, 20, 2, 10, 1
	newTrainer := func() *Trainer {
		tr, err := NewMLMTrainer(ops.NewCPU(), cfg, text, val, DefaultMLM())
		require.NoError(t, err)
		return tr
	}
	steps := func(tr *Trainer, n int) []float64 {
		var out []float64
		for i := 0; i < n; i++ {
			l, err := tr.Step()
			require.NoError(t, err)
			out = append(out, l)
		}
		return out
	}
	first := newTrainer()
	require.NotNil(t, first.Masked())
	steps(first, 10)
	snap, err := first.Snapshot()
	require.NoError(t, err)
	want := steps(first, 10)

	second := newTrainer()
	require.NoError(t, second.Restore(snap))
	require.Equal(t, want, steps(second, 10))
}

// TestFillBlanks: the probe's one-text view blanks every k-th character, keeps the others, and
// an untrained and a trained masked model differ only at the blanks; a trained causal model
// restores most blanks of a text it knows.
func TestFillBlanks(t *testing.T) {
	text := grammar.Text(5, 40)
	cfg := DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 32, 1, 2, 32
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 8, 200, 10, 200, 1
	tr, err := NewTrainer(ops.NewCPU(), cfg, text, text)
	require.NoError(t, err)
	window := []rune(text)[:32]
	blanked, filled, err := FillBlanks(tr.Model, tr.Tok, text, 4)
	require.NoError(t, err)
	b, f := []rune(blanked), []rune(filled)
	require.Len(t, b, 32)
	require.Len(t, f, 32)
	for i := range window {
		if i%4 == 3 {
			require.Equal(t, '_', b[i], "position %d is a blank", i)
		} else {
			require.Equal(t, window[i], b[i])
			require.Equal(t, window[i], f[i], "only blanks are filled")
		}
	}
	for !tr.Done() {
		_, err := tr.Step()
		require.NoError(t, err)
	}
	_, filled, err = FillBlanks(tr.Model, tr.Tok, text, 4)
	require.NoError(t, err)
	right := 0
	for i, r := range []rune(filled) {
		if i%4 == 3 && r == window[i] {
			right++
		}
	}
	require.GreaterOrEqual(t, right, 5, "of 8 blanks after training: %q", filled)

	_, _, err = FillBlanks(tr.Model, tr.Tok, "ab", 4)
	require.ErrorContains(t, err, "at least 4 characters")
	_, _, err = FillBlanks(tr.Model, tr.Tok, text, 1)
	require.ErrorContains(t, err, "at least 2")
}
