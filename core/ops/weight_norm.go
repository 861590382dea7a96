package ops

import "math"

// WeightNorm is the weight normalisation DoRA applies to each adapted layer (Liu et al. 2024,
// after Salimans & Kingma 2016): for a rows×cols weight w (a linear layer's [out, in]) it writes
// the norm of every row, norm[r] = sqrt(Σ_c w[r,c]²), and the row's scale g[r] = m[r]/norm[r]
// for the magnitudes m. The squares are rounded to float32 and summed from 0 in increasing c; a
// row whose magnitude equals its norm gets exactly 1 (IEEE division gives it, but WGSL allows
// its division 2.5 ulp, so every device says it explicitly): DoRA starts with m = norm, and
// its model then computes the base model's outputs bit for bit.
func (d *CPU) WeightNorm(norm, g, w, m Buf, rows, cols int) {
	nv, gv, wv, mv := f32(norm)[:rows], f32(g)[:rows], f32(w)[:rows*cols], f32(m)[:rows]
	for r := 0; r < rows; r++ {
		var acc float32
		for _, v := range wv[r*cols : (r+1)*cols] {
			acc += float32(v * v)
		}
		n := float32(math.Sqrt(float64(acc))) // correctly rounded: the same bits everywhere
		nv[r] = n
		if mv[r] == n {
			gv[r] = 1
		} else {
			gv[r] = mv[r] / n
		}
	}
}

// WeightNormBackward adds the gradients of WeightNorm's g into the magnitudes and the weight,
// given dg (rows) and the forward pass's norm:
//
//	dm[r]   += dg[r] / norm[r]
//	dw[r,c] += k[r]·w[r,c]   with k[r] = -(dg[r]·m[r]) / (norm[r]·norm[r]·norm[r])
//
// (g = m/n, ∂g/∂n = -m/n², ∂n/∂w = w/n). Every intermediate is rounded to float32 in this order.
func (d *CPU) WeightNormBackward(dw, dm, dg, w, m, norm Buf, rows, cols int) {
	dwv, dmv, dgv := f32(dw)[:rows*cols], f32(dm)[:rows], f32(dg)[:rows]
	wv, mv, nv := f32(w)[:rows*cols], f32(m)[:rows], f32(norm)[:rows]
	for r := 0; r < rows; r++ {
		n := nv[r]
		dmv[r] += dgv[r] / n
		n3 := float32(float32(n*n) * n)
		k := -float32(dgv[r]*mv[r]) / n3
		row, wr := dwv[r*cols:(r+1)*cols], wv[r*cols:(r+1)*cols]
		for c := range row {
			row[c] += float32(k * wr[c])
		}
	}
}
