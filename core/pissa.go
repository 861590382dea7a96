package core

import (
	"fmt"
	"math"
)

// PiSSA (Meng et al. 2024, "Principal Singular values and Singular vectors Adaptation") is
// LoRA that starts from the weight's main directions instead of from zero. For each adapted
// weight W = U·diag(S)·Vᵀ (svd.go) it sets, as PEFT's init_lora_weights="pissa" does,
//
//	Sr = S[:r] / s,   A = diag(√Sr)·V[:, :r]ᵀ,   B = U[:, :r]·diag(√Sr),   W_res = W − s·B·A,
//
// with s LoRA's scaling, so s·B·A is W's best rank-r part and the frozen W_res the rest. The
// model computes W_res·x + s·B·A·x = W·x (to float32 rounding): it starts at the base, but
// training now moves the principal directions directly, which tends to converge faster than
// LoRA's zero start. The forward and backward passes are LoRA's (lora.go): PiSSA adds no op.
//
// The residual replaces W in the model's own tensors, so after attaching, the base tensors are
// no longer the base: switching the update off (SetLoRAEnabled(false)) gives W_res alone, not
// the base, and a saved adapter (A, B) belongs on W_res. Put on the original base it would add
// the principal part twice; PEFT converts a trained PiSSA adapter to a plain LoRA of rank 2r,
// [B | −B₀]·[A; A₀] (B₀, A₀ the initial values), for that. Merging (W_res + s·B·A) and
// BakeLoRA give the fine-tuned weights as for LoRA.

// AttachPiSSA adds LoRA with c's rank, α and targets (no dropout), initialises A and B from
// each target weight's top r singular triplets and replaces the weight by its residual; it
// freezes the base and returns the number of parameters added. Nothing is drawn at random.
func (m *Model) AttachPiSSA(c LoRAConfig) (int, error) {
	if c.Dropout != 0 {
		return 0, fmt.Errorf("pissa: no dropout (the residual is exact only without it)")
	}
	n, err := m.AttachLoRA(c, 0)
	if err != nil {
		return 0, err
	}
	s, r := float64(c.Scaling()), c.Rank
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo == nil {
				continue
			}
			w32 := make([]float32, lo.w.Size())
			if err := m.Dev.Download(lo.w.W, w32); err != nil {
				return 0, err
			}
			a, b, res := pissaInit(w32, lo.out, lo.in, r, s)
			m.Dev.Upload(lo.A.W, a)
			m.Dev.Upload(lo.B.W, b)
			m.Dev.Upload(lo.w.W, res)
		}
	}
	m.pissa = true
	return n, nil
}

// pissaInit returns A (r×in), B (out×r) and W_res (out×in) for the out×in weight w and
// scaling s. The residual is computed in float64 from the float32 A and B the model holds,
// then rounded once, so W_res + s·B·A is W to float32 rounding.
func pissaInit(w []float32, out, in, r int, s float64) (a, b, res []float32) {
	w64 := make([]float64, len(w))
	for i, x := range w {
		w64[i] = float64(x)
	}
	d := NewSVD(w64, out, in)
	a, b = make([]float32, r*in), make([]float32, out*r)
	for k := 0; k < r; k++ {
		root := math.Sqrt(d.S[k] / s)
		for j := 0; j < in; j++ {
			a[k*in+j] = float32(root * d.V[j*d.K+k])
		}
		for i := 0; i < out; i++ {
			b[i*r+k] = float32(d.U[i*d.K+k] * root)
		}
	}
	res = make([]float32, out*in)
	for i := 0; i < out; i++ {
		for j := 0; j < in; j++ {
			var ba float64
			for k := 0; k < r; k++ {
				ba += float64(float64(b[i*r+k]) * float64(a[k*in+j]))
			}
			res[i*in+j] = float32(w64[i*in+j] - float64(s*ba))
		}
	}
	return a, b, res
}

// PiSSA reports whether the model's LoRA was initialised by AttachPiSSA (its base tensors then
// hold the residuals).
func (m *Model) PiSSA() bool { return m.pissa && m.hasLoRA() }
