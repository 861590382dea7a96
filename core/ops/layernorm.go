package ops

import "math"

// layerNormEps keeps rstd finite for a constant row; GPT-2 and PyTorch use 1e-5.
const layerNormEps = 1e-5

// LayerNorm normalizes each row of the N×C x: out = (x-μ)·rstd·w + b, rstd = 1/sqrt(σ²+eps) with
// the biased variance. It saves mean and rstd (N each) for the backward pass. The mean and then
// the variance are each summed in float32 over c in increasing order (two passes: the one-pass
// E[x²]-μ² cancels badly in float32).
func (d *CPU) LayerNorm(out, mean, rstd, x, w, b Buf, N, C int) {
	o, mv, rv, xv := f32(out)[:N*C], f32(mean)[:N], f32(rstd)[:N], f32(x)[:N*C]
	wv, bv := f32(w)[:C], f32(b)[:C]
	fc := float32(C)
	for n := 0; n < N; n++ {
		row := xv[n*C : (n+1)*C]
		var sum float32
		for _, v := range row {
			sum += v
		}
		m := sum / fc
		var sq float32
		for _, v := range row {
			dv := v - m
			sq += float32(dv * dv)
		}
		s := 1 / float32(math.Sqrt(float64(sq/fc+layerNormEps)))
		dst := o[n*C : (n+1)*C]
		for c, v := range row {
			norm := float32((v - m) * s)
			dst[c] = float32(norm*wv[c]) + bv[c]
		}
		mv[n], rv[n] = m, s
	}
}

// LayerNormBackward adds the gradients of LayerNorm into dx, dw and db (llm.c's formulation):
// with norm = (x-μ)·rstd and g = w⊙dout,
//
//	dx += rstd·(g - mean(g) - norm·mean(g⊙norm)),  dw += norm⊙dout,  db += dout.
//
// dw and db receive the rows in increasing n order.
func (d *CPU) LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd Buf, N, C int) {
	dxv, dwv, dbv := f32(dx)[:N*C], f32(dw)[:C], f32(db)[:C]
	dov, xv, wv := f32(dout)[:N*C], f32(x)[:N*C], f32(w)[:C]
	mv, rv := f32(mean)[:N], f32(rstd)[:N]
	fc := float32(C)
	for n := 0; n < N; n++ {
		xr, gr, dxr := xv[n*C:(n+1)*C], dov[n*C:(n+1)*C], dxv[n*C:(n+1)*C]
		m, s := mv[n], rv[n]
		// The two row means, summed in increasing c order.
		var gSum, gNormSum float32
		for c, v := range xr {
			norm := float32((v - m) * s)
			g := float32(wv[c] * gr[c])
			gSum += g
			gNormSum += float32(g * norm)
		}
		gMean, gNormMean := gSum/fc, gNormSum/fc
		for c, v := range xr {
			norm := float32((v - m) * s)
			g := float32(wv[c] * gr[c])
			dbv[c] += gr[c]
			dwv[c] += float32(norm * gr[c])
			t := g - gMean - float32(norm*gNormMean)
			dxr[c] += float32(t * s)
		}
	}
}
