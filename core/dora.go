package core

import (
	"pretune/core/ops"
)

// DoRA (Liu et al. 2024; PEFT's use_dora) is LoRA on the direction of each output row of a
// weight plus a learned magnitude per row:
//
//	W' = W + s·B·A,   g[o] = m[o] / ||W'[o,:]||,   y = (x·W'ᵀ) ⊙ g + b
//
// with the norm over each row's inputs and the bias unscaled, as PEFT computes it. m starts as
// the base weight's own row norms (from the same WeightNorm op) and B at zero, so W' = W exactly,
// every g is exactly 1 (WeightNorm promises it) and the model starts at the base bit for bit.
//
// PEFT detaches the norm in the backward pass (the DoRA paper's memory saving, §4.3); here the
// gradient flows through it exactly (WeightNormBackward): these models are tiny, so the saving
// does not matter, and the exact gradient is the one a finite-difference check can confirm.
//
// DoRA lives inside LoRA (a loraLayer with a magnitude M): switching LoRA off, merging, baking,
// exporting and importing all apply to it.

// doraActs are one DoRA layer's saved forward values and scratch for one batch shape.
type doraActs struct {
	sb      ops.Buf // s·B (out×r)
	wp      ops.Buf // W' = W + s·B·A (out×in)
	norm, g ops.Buf // ||W'[o,:]|| and m/norm (out)
	z       ops.Buf // x·W'ᵀ before the scale (N×out)
	dz      ops.Buf // scratch (N×out)
	dwp     ops.Buf // scratch: the gradient of W' (out×in)
	dg      ops.Buf // scratch (out)
}

func (da *doraActs) bufs() []ops.Buf {
	return []ops.Buf{da.sb, da.wp, da.norm, da.g, da.z, da.dz, da.dwp, da.dg}
}

func (m *Model) newDoRAActs(lo *loraLayer, N int) *doraActs {
	f, r := m.Dev.Alloc, m.loraCfg.Rank
	return &doraActs{sb: f(lo.out * r), wp: f(lo.out * lo.in), norm: f(lo.out), g: f(lo.out),
		z: f(N * lo.out), dz: f(N * lo.out), dwp: f(lo.out * lo.in), dg: f(lo.out)}
}

// initMagnitude sets lo's magnitude to the row norms of the base weight, computed by the op the
// forward pass uses (with B = 0, W' is W exactly), so the scales start at exactly 1.
func (m *Model) initMagnitude(lo *loraLayer) {
	d := m.Dev
	norm, g := d.Alloc(lo.out), d.Alloc(lo.out)
	d.WeightNorm(norm, g, lo.w.W, lo.M.W, lo.out, lo.in) // M is zero: g is unused
	d.Copy(lo.M.W, norm)
	d.Free(norm)
	d.Free(g)
}

// doraWeight computes W' = W + s·B·A (MergeLoRA's product), its norms and scales into da.
func (m *Model) doraWeight(da *doraActs, lo *loraLayer) {
	d, r := m.Dev, m.loraCfg.Rank
	d.Copy(da.sb, lo.B.W)
	d.Scale(da.sb, lo.out*r, m.loraCfg.Scaling())
	w := lo.w.W
	if lo.merged {
		w = lo.backup // the base weight: a merged layer holds g ⊙ W' in its place
	}
	d.Copy(da.wp, w)
	d.MatMul(da.wp, da.sb, lo.A.W, ops.MatMulArgs{M: lo.out, N: lo.in, K: r, Accumulate: true})
	d.WeightNorm(da.norm, da.g, da.wp, lo.M.W, lo.out, lo.in)
}

// doraForward is proj for a DoRA layer: y = (x·W'ᵀ) ⊙ g + b.
func (m *Model) doraForward(a *acts, y, x ops.Buf, w, b *Param, lo *loraLayer, N, in, out int) {
	d, da := m.Dev, a.lora[lo].dora
	m.doraWeight(da, lo)
	d.MatMul(da.z, x, da.wp, ops.MatMulArgs{M: N, N: out, K: in, TransB: true})
	d.ScaleCols(y, da.z, da.g, N, out)
	if b != nil {
		d.AddBias(y, b.W, N, out)
	}
}

// doraBackward is projBackward for a DoRA layer: dz = dy ⊙ g and dg = Σ dy ⊙ z, dx (+)= dz·W',
// db += Σ dy, dW' = dzᵀ·x plus the norm's part (WeightNormBackward, which adds dm), then
// dB += s·dW'·Aᵀ and dA += s·Bᵀ·dW' (and dW += dW' if the base weight trains).
func (m *Model) doraBackward(a *acts, dx, dy, x ops.Buf, w, b *Param, lo *loraLayer, N, in, out int, accumulate bool) {
	d, da, r := m.Dev, a.lora[lo].dora, m.loraCfg.Rank
	d.Zero(da.dz)
	d.Zero(da.dg)
	d.ScaleColsBackward(da.dz, da.dg, dy, da.z, da.g, N, out)
	if dx != nil {
		d.MatMul(dx, da.dz, da.wp, ops.MatMulArgs{M: N, N: in, K: out, Accumulate: accumulate})
	}
	if b != nil && !b.Frozen {
		d.AddBiasBackward(b.DW, dy, N, out)
	}
	d.MatMul(da.dwp, da.dz, x, ops.MatMulArgs{M: out, N: in, K: N, TransA: true})
	d.WeightNormBackward(da.dwp, lo.M.DW, da.dg, da.wp, lo.M.W, da.norm, out, in)
	if !w.Frozen {
		d.Add(w.DW, w.DW, da.dwp, out*in)
	}
	d.Scale(da.dwp, out*in, m.loraCfg.Scaling())
	if !lo.B.Frozen {
		d.MatMul(lo.B.DW, da.dwp, lo.A.W, ops.MatMulArgs{M: out, N: r, K: in, TransB: true, Accumulate: true})
	}
	if !lo.A.Frozen {
		d.MatMul(lo.A.DW, lo.B.W, da.dwp, ops.MatMulArgs{M: r, N: in, K: out, TransA: true, Accumulate: true})
	}
}

// doraMerged is the weight a merged DoRA layer computes with, g[o]·W'[o,:], on the host (a
// row scale the op set has no op for; merging is rare and not on the training path).
func (m *Model) doraMerged(lo *loraLayer) ([]float32, error) {
	da := m.newDoRAActs(lo, 1) // one row: z and dz are unused here
	defer func() {
		for _, b := range da.bufs() {
			m.Dev.Free(b)
		}
	}()
	m.doraWeight(da, lo)
	wp, g := make([]float32, lo.out*lo.in), make([]float32, lo.out)
	if err := m.Dev.Download(da.wp, wp); err != nil {
		return nil, err
	}
	if err := m.Dev.Download(da.g, g); err != nil {
		return nil, err
	}
	for o := 0; o < lo.out; o++ {
		row := wp[o*lo.in : (o+1)*lo.in]
		for i := range row {
			row[i] *= g[o]
		}
	}
	return wp, nil
}

// doraDelta is what merging adds to the base weight: g ⊙ W' - W (the base weight as it is
// unmerged).
func (m *Model) doraDelta(lo *loraLayer) ([]float32, error) {
	merged, err := m.doraMerged(lo)
	if err != nil {
		return nil, err
	}
	src := lo.w.W
	if lo.merged {
		src = lo.backup
	}
	w := make([]float32, lo.out*lo.in)
	if err := m.Dev.Download(src, w); err != nil {
		return nil, err
	}
	for i := range merged {
		merged[i] -= w[i]
	}
	return merged, nil
}
