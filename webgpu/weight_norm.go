package webgpu

import (
	"pretune/core/ops"
)

// WeightNorm sets norm[r] = ||w[r,:]|| and g[r] = m[r]/norm[r] (exactly 1 where they are
// equal) for a rows×cols w, an invocation per row.
func (d *Device) WeightNorm(norm, g, w, m ops.Buf, rows, cols int) {
	nb, gb, wb, mb := d.fbuf(norm), d.fbuf(g), d.fbuf(w), d.fbuf(m)
	checkLen("WeightNorm", rows*cols, wb)
	checkLen("WeightNorm", rows, nb, gb, mb)
	if rows == 0 {
		return
	}
	d.dispatch("weight_norm", []*buffer{wb, mb, nb, gb}, u32s{uint32(rows), uint32(cols)}, (rows+63)/64, 1, 1)
}

// WeightNormBackward adds WeightNorm's gradients into dw and dm given dg.
func (d *Device) WeightNormBackward(dw, dm, dg, w, m, norm ops.Buf, rows, cols int) {
	dwb, dmb, dgb, wb, mb, nb := d.fbuf(dw), d.fbuf(dm), d.fbuf(dg), d.fbuf(w), d.fbuf(m), d.fbuf(norm)
	checkLen("WeightNormBackward", rows*cols, dwb, wb)
	checkLen("WeightNormBackward", rows, dmb, dgb, mb, nb)
	if rows*cols == 0 {
		return
	}
	gx, gy := grid1(rows*cols, 256)
	d.dispatch("weight_norm_backward", []*buffer{dgb, wb, mb, nb, dwb, dmb}, u32s{uint32(rows), uint32(cols)}, gx, gy, 1)
}
