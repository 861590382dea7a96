package webgpu

import (
	"pretune/core/ops"
)

// dropoutParams is dropout.wgsl's uniform: the key, the threshold computed on the host by
// ops.DropoutThreshold (so every device compares against the same integer) and 1-rate.
func dropoutParams(n int, rate float32, key ops.DropoutKey) u32s {
	return u32s{uint32(n), uint32(key.Seed), uint32(key.Seed >> 32), key.Step, key.Site,
		ops.DropoutThreshold(rate), f(1 - rate)}
}

// Dropout sets out[i] = keep(i) ? x[i]/(1-rate) : 0 with the mask of ops.DropoutBits.
func (d *Device) Dropout(out, x ops.Buf, n int, rate float32, key ops.DropoutKey) {
	ob, xb := d.fbuf(out), d.fbuf(x)
	checkLen("Dropout", n, ob, xb)
	if n == 0 {
		return
	}
	gx, gy := grid1(n, 256)
	d.dispatch("dropout", []*buffer{xb, ob}, dropoutParams(n, rate, key), gx, gy, 1)
}

// DropoutBackward adds keep(i) ? dout[i]/(1-rate) : 0 into dx, the forward pass's mask.
func (d *Device) DropoutBackward(dx, dout ops.Buf, n int, rate float32, key ops.DropoutKey) {
	dxb, db := d.fbuf(dx), d.fbuf(dout)
	checkLen("DropoutBackward", n, dxb, db)
	if n == 0 {
		return
	}
	gx, gy := grid1(n, 256)
	d.dispatch("dropout_backward", []*buffer{db, dxb}, dropoutParams(n, rate, key), gx, gy, 1)
}
