package webgpu

import (
	"pretune/core/ops"
)

// GELU sets out = gelu(x) (tanh form) over n elements.
func (d *Device) GELU(out, x ops.Buf, n int) {
	ob, xb := d.fbuf(out), d.fbuf(x)
	checkLen("GELU", n, ob, xb)
	if n == 0 {
		return
	}
	gx, gy := grid1(n, 256)
	d.dispatch("gelu", []*buffer{xb, ob}, u32s{uint32(n)}, gx, gy, 1)
}

// GELUBackward adds gelu'(x)·dout into dx over n elements.
func (d *Device) GELUBackward(dx, x, dout ops.Buf, n int) {
	dxb, xb, db := d.fbuf(dx), d.fbuf(x), d.fbuf(dout)
	checkLen("GELUBackward", n, dxb, xb, db)
	if n == 0 {
		return
	}
	gx, gy := grid1(n, 256)
	d.dispatch("gelu_backward", []*buffer{xb, db, dxb}, u32s{uint32(n)}, gx, gy, 1)
}
