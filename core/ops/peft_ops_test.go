package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The ops DoRA and IA3 add (scale_cols.go, weight_norm.go): finite-difference checks of both
// backwards, and the exact 1 WeightNorm promises where the magnitude equals the norm.

func TestGradScaleCols(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 3}, {5, 1}} {
		rows, cols := sz[0], sz[1]
		t.Run(fmt.Sprintf("rows=%d cols=%d", rows, cols), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(rows*10+cols)))
			d := NewCPU()
			x, s := opBuf(d, opRand(rng, rows*cols, -1, 1)), opBuf(d, opRand(rng, cols, -2, 2))
			out, dx, ds := d.Alloc(rows*cols), d.Alloc(rows*cols), d.Alloc(cols)
			r := opRand(rng, rows*cols, -1, 1)
			dy := opBuf(d, r)
			loss := func() float64 {
				d.ScaleCols(out, x, s, rows, cols)
				return project(r, Floats(out))
			}
			backward := func() { d.ScaleColsBackward(dx, ds, dy, x, s, rows, cols) }
			checkGrads(t, rng, loss, backward, []gradInput{{"x", Floats(x), dx}, {"s", Floats(s), ds}}, 1e-3, gradTol{1e-3, 1e-3})
		})
	}
}

func TestGradWeightNorm(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {7, 3}, {2, 9}} {
		rows, cols := sz[0], sz[1]
		t.Run(fmt.Sprintf("rows=%d cols=%d", rows, cols), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(12, uint64(rows*10+cols)))
			d := NewCPU()
			// Entries away from 0 so that no row's norm is near 0 (where g is not smooth).
			wv := opRand(rng, rows*cols, 0.3, 1)
			for i := range wv {
				if rng.IntN(2) == 0 {
					wv[i] = -wv[i]
				}
			}
			w, m := opBuf(d, wv), opBuf(d, opRand(rng, rows, -2, 2))
			norm, g, dw, dm := d.Alloc(rows), d.Alloc(rows), d.Alloc(rows*cols), d.Alloc(rows)
			r := opRand(rng, rows, -1, 1)
			dg := opBuf(d, r)
			loss := func() float64 {
				d.WeightNorm(norm, g, w, m, rows, cols)
				return project(r, Floats(g))
			}
			backward := func() { d.WeightNormBackward(dw, dm, dg, w, m, norm, rows, cols) }
			checkGrads(t, rng, loss, backward, []gradInput{{"w", Floats(w), dw}, {"m", Floats(m), dm}}, 1e-3, gradTol{1e-3, 1e-3})
		})
	}
}

// TestWeightNormStartsAtOne: with the magnitudes set to the norms WeightNorm itself computed
// (how DoRA starts), every scale is exactly 1, so the adapted layer is the base layer bit for bit.
func TestWeightNormStartsAtOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	d := NewCPU()
	rows, cols := 37, 29
	w := opBuf(d, opRand(rng, rows*cols, -0.1, 0.1))
	norm, g := d.Alloc(rows), d.Alloc(rows)
	d.WeightNorm(norm, g, w, d.Alloc(rows), rows, cols)
	m := opBuf(d, append([]float32(nil), Floats(norm)...))
	d.WeightNorm(norm, g, w, m, rows, cols)
	for r, v := range Floats(g) {
		if v != 1 {
			t.Fatalf("g[%d] = %v with m = norm, want exactly 1", r, v)
		}
	}
}
