package conformance

import (
	"fmt"

	"pretune/core/ops"
)

// ScaleCols checks IA3's and DoRA's per-column scale and its backward, with dx and ds holding
// values to add to (backward ops accumulate).
//
// Tolerance: the forward pass is one multiplication per element (exact). dx adds one product,
// which a GPU may fuse into an FMA (one rounding instead of two): atol = 1e-7, rtol = 1e-6. ds
// sums rows of products, in another order on a GPU: atol = 1e-6·rows, rtol = 1e-5.
func ScaleCols(d ops.Device, report Reporter) {
	for _, s := range []struct{ rows, cols int }{{1, 1}, {7, 13}, {67, 31}, {5, 257}} {
		shape := fmt.Sprintf("rows=%d,cols=%d", s.rows, s.cols)
		name := "scalecols/forward/" + shape
		g := newGen(name)
		x, sc, out := g.uniform(s.rows*s.cols, -1, 1), g.uniform(s.cols, -2, 2), g.uniform(s.rows*s.cols, -9, 9)
		check(d, report, name, func(ss *session) {
			ob := ss.floats(out)
			ss.d.ScaleCols(ob, ss.floats(x), ss.floats(sc), s.rows, s.cols)
			ss.read("out", ob, exact)
		})

		name = "scalecols/backward/" + shape
		g = newGen(name)
		x, sc, dy := g.uniform(s.rows*s.cols, -1, 1), g.uniform(s.cols, -2, 2), g.uniform(s.rows*s.cols, -1, 1)
		dx, ds := g.uniform(s.rows*s.cols, -1, 1), g.uniform(s.cols, -1, 1)
		t := tol{atol: 1e-6 * float64(s.rows), rtol: 1e-5}
		check(d, report, name, func(ss *session) {
			dxb, dsb := ss.floats(dx), ss.floats(ds)
			ss.d.ScaleColsBackward(dxb, dsb, ss.floats(dy), ss.floats(x), ss.floats(sc), s.rows, s.cols)
			ss.read("dx", dxb, tol{atol: 1e-7, rtol: 1e-6})
			ss.read("ds", dsb, t)
		})
	}
}

// WeightNorm checks DoRA's row norms and scales, the exact 1 of a magnitude equal to the
// device's own norm (DoRA's start: the base model bit for bit), and the backward pass fed the
// reference's norms so that it is judged on its own.
//
// Tolerance: a norm sums cols squares in some order and takes a square root, and the scale
// divides (WGSL allows both 2.5 ulp): atol = 1e-6·cols, rtol = 1e-5; the backward pass is a few
// roundings per element: atol = 1e-6, rtol = 1e-5.
func WeightNorm(d ops.Device, report Reporter) {
	for _, s := range []struct{ rows, cols int }{{1, 1}, {7, 13}, {67, 31}, {5, 257}} {
		shape := fmt.Sprintf("rows=%d,cols=%d", s.rows, s.cols)
		name := "weightnorm/forward/" + shape
		g := newGen(name)
		w, m := g.uniform(s.rows*s.cols, -1, 1), g.uniform(s.rows, 0.5, 2)
		norm, sc := g.uniform(s.rows, -9, 9), g.uniform(s.rows, -9, 9)
		fwd := tol{atol: 1e-6 * float64(s.cols), rtol: 1e-5}
		check(d, report, name, func(ss *session) {
			nb, gb := ss.floats(norm), ss.floats(sc)
			ss.d.WeightNorm(nb, gb, ss.floats(w), ss.floats(m), s.rows, s.cols)
			ss.read("norm", nb, fwd)
			ss.read("g", gb, fwd)
		})

		name = "weightnorm/starts-at-one/" + shape
		check(d, report, name, func(ss *session) {
			wb, nb, gb, mb := ss.floats(w), ss.floats(norm), ss.floats(sc), ss.floats(m)
			ss.d.WeightNorm(nb, gb, wb, mb, s.rows, s.cols)
			ss.d.Copy(mb, nb) // the magnitudes DoRA starts from: this device's own norms
			ss.d.WeightNorm(nb, gb, wb, mb, s.rows, s.cols)
			ss.read("g", gb, exact)
		})

		ref := ops.NewCPU()
		nb := ref.Alloc(s.rows)
		ref.WeightNorm(nb, ref.Alloc(s.rows), upload(ref, w), upload(ref, m), s.rows, s.cols)
		refNorm := ops.Floats(nb)

		name = "weightnorm/backward/" + shape
		g = newGen(name)
		dg, dw, dm := g.uniform(s.rows, -1, 1), g.uniform(s.rows*s.cols, -1, 1), g.uniform(s.rows, -1, 1)
		bwd := tol{atol: 1e-6, rtol: 1e-5}
		check(d, report, name, func(ss *session) {
			dwb, dmb := ss.floats(dw), ss.floats(dm)
			ss.d.WeightNormBackward(dwb, dmb, ss.floats(dg), ss.floats(w), ss.floats(m), ss.floats(refNorm), s.rows, s.cols)
			ss.read("dw", dwb, bwd)
			ss.read("dm", dmb, bwd)
		})
	}
}
