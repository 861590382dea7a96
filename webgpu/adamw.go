package webgpu

import (
	"pretune/core/ops"
)

// AdamW updates n parameters p in place from gradients g and moments m, v (adamw.wgsl).
func (d *Device) AdamW(p, g, m, v ops.Buf, n int, a ops.AdamWArgs) {
	pb, gb, mb, vb := d.fbuf(p), d.fbuf(g), d.fbuf(m), d.fbuf(v)
	checkLen("AdamW", n, pb, gb, mb, vb)
	if n == 0 {
		return
	}
	x, y := grid1(n, 256)
	d.dispatch("adamw", []*buffer{gb, pb, mb, vb}, u32s{
		uint32(n), f(a.LR), f(a.Beta1), f(a.Beta2), f(a.Eps), f(a.WeightDecay),
		f(a.BiasCorr1), f(a.BiasCorr2), f(a.GradScale),
	}, x, y, 1)
}
