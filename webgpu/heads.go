package webgpu

import (
	"pretune/core/ops"
)

// SplitHeads sets out[b,h,t,d] = in[b,t,h*D+d].
func (d *Device) SplitHeads(out, in ops.Buf, B, T, H, D int) {
	d.permute("split_heads", out, in, B, T, H, D)
}

// MergeHeads sets out[b,t,h*D+d] = in[b,h,t,d], SplitHeads' inverse (and backward).
func (d *Device) MergeHeads(out, in ops.Buf, B, T, H, D int) {
	d.permute("merge_heads", out, in, B, T, H, D)
}

func (d *Device) permute(kernel string, out, in ops.Buf, B, T, H, D int) {
	ob, ib := d.fbuf(out), d.fbuf(in)
	n := B * T * H * D
	checkLen(kernel, n, ob, ib)
	if n == 0 {
		return
	}
	x, y := grid1(n, 256)
	d.dispatch(kernel, []*buffer{ib, ob}, u32s{uint32(B), uint32(T), uint32(H), uint32(D)}, x, y, 1)
}
