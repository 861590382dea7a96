package webgpu

import (
	"pretune/core/ops"
)

// ScaleCols sets out[r,c] = x[r,c]·s[c] for a rows×cols x.
func (d *Device) ScaleCols(out, x, s ops.Buf, rows, cols int) {
	ob, xb, sb := d.fbuf(out), d.fbuf(x), d.fbuf(s)
	checkLen("ScaleCols", rows*cols, ob, xb)
	checkLen("ScaleCols", cols, sb)
	if rows*cols == 0 {
		return
	}
	gx, gy := grid1(rows*cols, 256)
	d.dispatch("scale_cols", []*buffer{xb, sb, ob}, u32s{uint32(rows), uint32(cols)}, gx, gy, 1)
}

// ScaleColsBackward adds dy[r,c]·s[c] into dx and Σ_r dy[r,c]·x[r,c] into ds[c], summing r in
// increasing order.
func (d *Device) ScaleColsBackward(dx, ds, dy, x, s ops.Buf, rows, cols int) {
	dxb, dsb, dyb, xb, sb := d.fbuf(dx), d.fbuf(ds), d.fbuf(dy), d.fbuf(x), d.fbuf(s)
	checkLen("ScaleColsBackward", rows*cols, dxb, dyb, xb)
	checkLen("ScaleColsBackward", cols, dsb, sb)
	if cols == 0 {
		return
	}
	d.dispatch("scale_cols_backward", []*buffer{dyb, xb, sb, dxb, dsb}, u32s{uint32(rows), uint32(cols)}, (cols+63)/64, 1, 1)
}
