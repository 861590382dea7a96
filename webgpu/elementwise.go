package webgpu

import (
	"pretune/core/ops"
)

// This file holds the elementwise ops without a backward of their own: Zero, Copy, Add, Scale
// and SumSquares.

// zero records x = 0.
func (d *Device) zero(b *buffer) {
	if b.n == 0 {
		return
	}
	x, y := grid1(b.n, 256)
	d.dispatch("zero", []*buffer{b}, u32s{uint32(b.n)}, x, y, 1)
}

// Zero sets x to 0.
func (d *Device) Zero(x ops.Buf) { d.zero(d.fbuf(x)) }

// Copy sets dst = src (same length).
func (d *Device) Copy(dst, src ops.Buf) {
	db, sb := d.fbuf(dst), d.fbuf(src)
	if db.n != sb.n {
		panic("webgpu: Copy between buffers of different lengths")
	}
	if db == sb || db.n == 0 {
		return
	}
	x, y := grid1(db.n, 256)
	d.dispatch("copy", []*buffer{sb, db}, u32s{uint32(db.n)}, x, y, 1)
}

// Add sets out = a + b over n elements; out may be a or b (then add_inplace.wgsl runs, since
// WebGPU cannot bind one buffer as both input and output).
func (d *Device) Add(out, a, b ops.Buf, n int) {
	ob, ab, bb := d.fbuf(out), d.fbuf(a), d.fbuf(b)
	checkLen("Add", n, ob, ab, bb)
	if n == 0 {
		return
	}
	x, y := grid1(n, 256)
	switch {
	case ob == ab && ob == bb:
		// x + x is exactly 2x.
		d.dispatch("scale", []*buffer{ob}, u32s{uint32(n), f(2)}, x, y, 1)
	case ob == ab:
		d.dispatch("add_inplace", []*buffer{bb, ob}, u32s{uint32(n)}, x, y, 1)
	case ob == bb:
		d.dispatch("add_inplace", []*buffer{ab, ob}, u32s{uint32(n)}, x, y, 1)
	default:
		d.dispatch("add", []*buffer{ab, bb, ob}, u32s{uint32(n)}, x, y, 1)
	}
}

// Scale sets x *= s over n elements.
func (d *Device) Scale(x ops.Buf, n int, s float32) {
	xb := d.fbuf(x)
	checkLen("Scale", n, xb)
	if n == 0 {
		return
	}
	gx, gy := grid1(n, 256)
	d.dispatch("scale", []*buffer{xb}, u32s{uint32(n), f(s)}, gx, gy, 1)
}

// SumSquares sets out[slot] = Σ x[i]² over n elements, by sum_squares.wgsl's fixed tree.
func (d *Device) SumSquares(out ops.Buf, slot int, x ops.Buf, n int) {
	ob, xb := d.fbuf(out), d.fbuf(x)
	checkLen("SumSquares", n, xb)
	checkLen("SumSquares", slot+1, ob)
	d.dispatch("sum_squares", []*buffer{xb, ob}, u32s{uint32(n), uint32(slot)}, 1, 1, 1)
}

// checkLen panics, as the CPU device does on a slice bound, when a buffer is shorter than the
// op needs: a shape bug in the caller, which the GPU would otherwise hide by clamping.
func checkLen(op string, n int, bufs ...*buffer) {
	if n < 0 {
		panic("webgpu: " + op + ": negative size")
	}
	for _, b := range bufs {
		if b.n < n {
			panic("webgpu: " + op + ": buffer too short for the shape")
		}
	}
}
