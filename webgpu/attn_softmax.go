package webgpu

import (
	"pretune/core/ops"
)

// AttnSoftmax sets p = softmax(scale·s) over the keys of each of the BH·Tq rows, masked keys at
// exactly 0 and rows that see no key (causal with Tk < Tq) all zeros (attn_softmax.wgsl, a
// workgroup per row).
func (d *Device) AttnSoftmax(p, s ops.Buf, BH, Tq, Tk int, scale float32, mode ops.MaskMode) {
	pb, sb := d.fbuf(p), d.fbuf(s)
	checkLen("AttnSoftmax", BH*Tq*Tk, pb, sb)
	if BH*Tq*Tk == 0 {
		return
	}
	var m uint32
	if mode == ops.Bidirectional {
		m = 1
	}
	x, y := gridGroups(BH * Tq)
	d.dispatch("attn_softmax", []*buffer{sb, pb}, u32s{uint32(BH * Tq), uint32(Tq), uint32(Tk), f(scale), m}, x, y, 1)
}

// AttnSoftmaxBackward adds scale·p⊙(dp - Σ_j p⊙dp) into ds, row by row.
func (d *Device) AttnSoftmaxBackward(ds, p, dp ops.Buf, BH, Tq, Tk int, scale float32) {
	dsb, pb, dpb := d.fbuf(ds), d.fbuf(p), d.fbuf(dp)
	checkLen("AttnSoftmaxBackward", BH*Tq*Tk, dsb, pb, dpb)
	if BH*Tq*Tk == 0 {
		return
	}
	x, y := gridGroups(BH * Tq)
	d.dispatch("attn_softmax_backward", []*buffer{pb, dpb, dsb}, u32s{uint32(BH * Tq), uint32(Tk), f(scale)}, x, y, 1)
}
