package ops

import "math"

// AdamW updates n parameters in place (decoupled weight decay, Loshchilov & Hutter), per element:
//
//	g  = GradScale·g
//	m  = β1·m + (1-β1)·g
//	v  = β2·v + (1-β2)·g²
//	p -= LR·((m/BiasCorr1) / (sqrt(v/BiasCorr2) + Eps) + WeightDecay·p)
//
// The decay uses p from before the update. The host computes the bias corrections and the
// clipping factor (GradScale), so this is purely elementwise.
func (d *CPU) AdamW(p, g, m, v Buf, n int, a AdamWArgs) {
	pv, gv, mv, vv := f32(p)[:n], f32(g)[:n], f32(m)[:n], f32(v)[:n]
	b1, b2 := a.Beta1, a.Beta2
	ob1, ob2 := 1-b1, 1-b2
	for i := range pv {
		gi := gv[i] * a.GradScale
		mi := float32(b1*mv[i]) + float32(ob1*gi)
		vi := float32(b2*vv[i]) + float32(float32(ob2*gi)*gi)
		mv[i], vv[i] = mi, vi
		mhat := mi / a.BiasCorr1
		vhat := vi / a.BiasCorr2
		step := mhat/(float32(math.Sqrt(float64(vhat)))+a.Eps) + float32(a.WeightDecay*pv[i])
		pv[i] -= float32(a.LR * step)
	}
}
