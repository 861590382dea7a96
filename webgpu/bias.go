package webgpu

import (
	"pretune/core/ops"
)

// AddBias adds bias[c] to every row of the rows×cols y.
func (d *Device) AddBias(y, bias ops.Buf, rows, cols int) {
	yb, bb := d.fbuf(y), d.fbuf(bias)
	checkLen("AddBias", rows*cols, yb)
	checkLen("AddBias", cols, bb)
	if rows*cols == 0 {
		return
	}
	x, gy := grid1(rows*cols, 256)
	d.dispatch("add_bias", []*buffer{bb, yb}, u32s{uint32(rows), uint32(cols)}, x, gy, 1)
}

// AddBiasBackward adds Σ_r dy[r,c] into dbias[c], summing r in increasing order.
func (d *Device) AddBiasBackward(dbias, dy ops.Buf, rows, cols int) {
	db, dyb := d.fbuf(dbias), d.fbuf(dy)
	checkLen("AddBiasBackward", rows*cols, dyb)
	checkLen("AddBiasBackward", cols, db)
	if cols == 0 {
		return
	}
	d.dispatch("add_bias_backward", []*buffer{dyb, db}, u32s{uint32(rows), uint32(cols)}, (cols+63)/64, 1, 1)
}
