package core

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// The whole-model finite-difference check: every trainable tensor's analytic gradient (the
// model's backward pass, methods included) against finite differences of the model's loss.
//
// The forward pass is float32, so the loss (accumulated in float64 from float32 per-position
// losses) carries rounding noise of about 1e-6, and a difference quotient carries that over its
// step. Measured on the tiny model: a plain central difference is off by about 1e-3 at h = 1e-3
// (noise) and, on the sharper LoRA cases, by up to 4% at h = 1e-2 (curvature). The five-point
// stencil at h = 1e-2 has both under its tolerance: noise about 1e-5 and an O(h⁴) truncation
// error; the worst entry over every case lands at about a quarter of its tolerance. For the
// check to see a tensor at all, its gradient must stand well above the absolute floor: the
// weights are drawn so that it does (N(0, 0.3) base entries, N(0, 0.1) for the methods' tensors,
// LayerNorm gains near 1: gains near 0 starve attention of signal, and a second layer's query
// and key gradients fell to 1e-5, which the old 2e-3 floor hid), and the check fails any tensor
// whose largest sampled numeric gradient is under 10× the floor. The smallest today is a
// second-layer query bias at 26× the floor.
const (
	gradH       = 1e-2 // the stencil step
	gradAbsTol  = 1e-4
	gradRelTol  = 1e-2
	gradVisible = 10 * gradAbsTol
	gradSamples = 12 // spread over each tensor, plus its largest analytic entry
)

// zeroGradient names tensors whose gradient is zero by construction, so the visibility
// requirement does not apply (their entries are still compared): a key bias adds the same
// q·b to every score of a query, which the softmax ignores.
func zeroGradient(name string) bool {
	return strings.HasSuffix(name, "attn.k_proj.bias")
}

// randomizeForGradients draws every parameter, the methods' too, so that LoRA's B is not zero
// and every path carries gradient: the base's N(0, 0.3) with LayerNorm gains 1 + N(0, 0.3), the
// methods' N(0, 0.1) (larger LoRA updates make attention so sharp that the differences' O(h⁴)
// error exceeds the tolerance).
func randomizeForGradients(m *Model, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 8))
	for k, p := range m.Params {
		gain := len(p.Shape) == 1 && isGain(p.Name)
		std := 0.3
		if k >= m.nBase {
			std = 0.1
		}
		// DoRA's magnitudes and IA3's vectors are scales, near 1 like the gains: near 0 they
		// would starve their layers of signal.
		if strings.HasSuffix(p.Name, ".lora_magnitude_vector") || strings.HasSuffix(p.Name, ".ia3_l") {
			gain, std = true, 0.3
		}
		w := ops.Floats(p.W)
		for i := range w {
			w[i] = float32(r.NormFloat64() * std)
			if gain {
				w[i]++
			}
		}
	}
}

// gradBatch is a batch of B×T random tokens with uneven loss weights (0, 1 or 2: SFT's
// response-only weights and a few doubled ones), the first weight 1 so the total is never zero.
func gradBatch(m *Model, seed uint64, B, T int) *Batch {
	r := rand.New(rand.NewPCG(seed, 9))
	in, tg, wt := make([]int32, B*T), make([]int32, B*T), make([]float32, B*T)
	for i := range in {
		in[i], tg[i], wt[i] = int32(r.IntN(m.Cfg.Vocab)), int32(r.IntN(m.Cfg.Vocab)), float32(r.IntN(3))
	}
	wt[0] = 1
	b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	b.Set(m.Dev, B, T, in, tg, wt)
	return b
}

// fivePoint is the five-point central difference of lossAt in w[i], restoring w[i]:
// (8(f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h, whose truncation error is O(h⁴) where the
// plain central difference's is O(h²). The steps are the float32 values actually stored.
func fivePoint(w []float32, i int, lossAt func() float64) float64 {
	old := w[i]
	at := func(k float32) (float64, float64) {
		w[i] = old + k*gradH
		f := lossAt()
		x := float64(w[i])
		w[i] = old
		return f, x
	}
	f1, x1 := at(1)
	fm1, xm1 := at(-1)
	f2, x2 := at(2)
	fm2, xm2 := at(-2)
	// Each step h' is the stored x - old; for the stencil's weights to hold, the four steps
	// must be ±h and ±2h, which they are to float32 rounding of order 1e-8.
	h := ((x1 - xm1) + (x2-xm2)/2) / 4
	return (8*(f1-fm1) - (f2 - fm2)) / (12 * h)
}

// checkModelGradients compares, for every trainable parameter of m, the gradient that backward
// adds into DW (after lossAt ran) with five-point differences of lossAt, on gradSamples entries
// spread over the tensor and the entry with the largest analytic gradient. It fails on any entry
// outside |analytic - numeric| <= gradAbsTol + gradRelTol·|numeric|, and on any tensor whose
// sampled gradients all lie below gradVisible (a check that cannot see the tensor), unless
// zeroGradient or zero names it as zero by construction for this loss. Then it runs backward
// again into random DW and requires it to have added.
func checkModelGradients(t *testing.T, m *Model, lossAt func() float64, backward func(), zero ...string) {
	t.Helper()
	for _, p := range m.Params {
		m.Dev.Zero(p.DW)
	}
	lossAt()
	backward()
	analytic := make([][]float32, len(m.Params))
	for k, p := range m.Params {
		analytic[k] = append([]float32(nil), ops.Floats(p.DW)...)
	}
	checked := 0
	for k, p := range m.Params {
		if p.Frozen {
			continue
		}
		w, g := ops.Floats(p.W), analytic[k]
		n := min(gradSamples, len(w))
		idx := make([]int, 0, n+1)
		largest := 0
		for i, v := range g {
			if math.Abs(float64(v)) > math.Abs(float64(g[largest])) {
				largest = i
			}
		}
		for j := 0; j < n; j++ {
			idx = append(idx, j*len(w)/n)
		}
		idx = append(idx, largest)
		var maxNum, worst float64
		for _, i := range idx {
			num := fivePoint(w, i, lossAt)
			tol := gradAbsTol + gradRelTol*math.Abs(num)
			diff := math.Abs(float64(g[i]) - num)
			maxNum, worst = max(maxNum, math.Abs(num)), max(worst, diff/tol)
			if diff > tol {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g (diff %.2g, tolerance %.2g)", p.Name, i, g[i], num, diff, tol)
			}
			checked++
		}
		t.Logf("%-34s largest sampled |gradient| %.2e (%4.0f× the floor %.0e), worst diff %.2f of the tolerance",
			p.Name, maxNum, maxNum/gradAbsTol, gradAbsTol, worst)
		if !zeroGradient(p.Name) && !slices.Contains(zero, p.Name) && maxNum < gradVisible {
			t.Errorf("%s: its largest sampled gradient %.2e is under %.0e: the check cannot see this tensor's gradient", p.Name, maxNum, gradVisible)
		}
	}
	require.Greater(t, checked, 0, "no trainable tensor")

	// backward adds into DW (gradient accumulation relies on it): from random gradients, every
	// entry must move by exactly the analytic gradient, up to the rounding of that sum.
	r := rand.New(rand.NewPCG(11, 12))
	prefill := make([][]float32, len(m.Params))
	for k, p := range m.Params {
		prefill[k] = make([]float32, p.Size())
		for i := range prefill[k] {
			prefill[k][i] = float32(r.NormFloat64())
		}
		m.Dev.Upload(p.DW, prefill[k])
	}
	lossAt()
	backward()
	for k, p := range m.Params {
		if p.Frozen {
			continue
		}
		for i, v := range ops.Floats(p.DW) {
			want := float64(prefill[k][i]) + float64(analytic[k][i])
			if math.Abs(float64(v)-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("%s[%d]: backward into %g gave %g, want %g: it does not add", p.Name, i, prefill[k][i], v, want)
			}
		}
	}
}
