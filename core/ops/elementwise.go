package ops

// Add writes out = a + b over n elements; out may be a or b.
func (d *CPU) Add(out, a, b Buf, n int) {
	o, av, bv := f32(out)[:n], f32(a)[:n], f32(b)[:n]
	for i := range o {
		o[i] = av[i] + bv[i]
	}
}

// Scale multiplies n elements of x by s in place.
func (d *CPU) Scale(x Buf, n int, s float32) {
	xv := f32(x)[:n]
	for i := range xv {
		xv[i] *= s
	}
}

// SumSquares writes out[slot] = Σ x[i]² over i = 0..n-1 in increasing order. It accumulates in
// float64, where the square of a float32 is exact (48 significant bits), so the only rounding is
// in the running sum: a gradient norm over millions of parameters stays accurate and the order
// alone fixes the result.
func (d *CPU) SumSquares(out Buf, slot int, x Buf, n int) {
	xv := f32(x)[:n]
	var s float64
	for _, v := range xv {
		w := float64(v)
		s += float64(w * w)
	}
	f32(out)[slot] = float32(s)
}
