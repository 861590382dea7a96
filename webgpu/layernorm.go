package webgpu

import (
	"pretune/core/ops"
)

// LayerNorm normalises each of the N rows of C values of x, scales by w and shifts by b,
// saving mean and rstd for the backward pass.
func (d *Device) LayerNorm(out, mean, rstd, x, w, b ops.Buf, N, C int) {
	ob, mb, rb, xb, wb, bb := d.fbuf(out), d.fbuf(mean), d.fbuf(rstd), d.fbuf(x), d.fbuf(w), d.fbuf(b)
	checkLen("LayerNorm", N*C, ob, xb)
	checkLen("LayerNorm", N, mb, rb)
	checkLen("LayerNorm", C, wb, bb)
	if N == 0 || C == 0 {
		return
	}
	gx, gy := gridGroups(N)
	d.dispatch("layernorm", []*buffer{xb, wb, bb, ob, mb, rb}, u32s{uint32(N), uint32(C)}, gx, gy, 1)
}

// LayerNormBackward adds into dx (layernorm_backward.wgsl, a workgroup per row) and into dw and
// db (layernorm_backward_params.wgsl, an invocation per column summing rows in order).
func (d *Device) LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd ops.Buf, N, C int) {
	dxb, dwb, dbb, dob := d.fbuf(dx), d.fbuf(dw), d.fbuf(db), d.fbuf(dout)
	xb, wb, mb, rb := d.fbuf(x), d.fbuf(w), d.fbuf(mean), d.fbuf(rstd)
	checkLen("LayerNormBackward", N*C, dxb, dob, xb)
	checkLen("LayerNormBackward", N, mb, rb)
	checkLen("LayerNormBackward", C, dwb, dbb, wb)
	if N == 0 || C == 0 {
		return
	}
	gx, gy := gridGroups(N)
	d.dispatch("layernorm_backward", []*buffer{dob, xb, wb, mb, rb, dxb}, u32s{uint32(N), uint32(C)}, gx, gy, 1)
	d.dispatch("layernorm_backward_params", []*buffer{dob, xb, mb, rb, dwb, dbb}, u32s{uint32(N), uint32(C)}, (C+63)/64, 1, 1)
}
