package ops

// geluK is √(2/π) and geluC the cubic's weight, the constants of GELU's tanh approximation
// (GPT-2's, and PyTorch's approximate="tanh").
const (
	geluK = 0.7978845608028654
	geluC = 0.044715
)

// GELU writes out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) over n elements.
func (d *CPU) GELU(out, x Buf, n int) {
	o, xv := f32(out)[:n], f32(x)[:n]
	// Under wasm a SIMD kernel may take a prefix with the same operations (simd_js.go).
	done := geluSIMD(o, xv)
	for i, v := range xv[done:] {
		t := Tanh32(geluArg(v))
		o[done+i] = float32(0.5*v) * (1 + t)
	}
}

// geluArg is √(2/π)·(x + 0.044715·x³), with the products rounded before each addition so that no
// compiler fuses them into an FMA.
func geluArg(x float32) float32 {
	x3 := float32(float32(x*x) * x)
	return float32(geluK * (x + float32(geluC*x3)))
}

// GELUBackward adds gelu'(x)·dout into dx, where with u = √(2/π)(x + 0.044715x³), t = tanh u:
//
//	gelu'(x) = 0.5(1+t) + 0.5x·(1-t²)·√(2/π)(1 + 3·0.044715x²).
//
// sech²u is taken as 1-t², which needs no cosh and matches the forward's tanh exactly.
func (d *CPU) GELUBackward(dx, x, dout Buf, n int) {
	dxv, xv, dov := f32(dx)[:n], f32(x)[:n], f32(dout)[:n]
	for i := geluBackwardSIMD(dxv, xv, dov); i < n; i++ {
		v := xv[i]
		t := Tanh32(geluArg(v))
		sech2 := 1 - float32(t*t)
		du := float32(geluK * (1 + float32(3*geluC*float32(v*v))))
		local := float32(0.5*(1+t)) + float32(float32(float32(0.5*v)*sech2)*du)
		dxv[i] += float32(local * dov[i])
	}
}
