package ops

// ScaleCols writes out[r,c] = x[r,c]·s[c] for a rows×cols x: every column scaled by its own
// factor. IA3 rescales keys, values and the MLP's hidden activations this way, and DoRA scales
// each output column of its layer by magnitude over norm.
func (d *CPU) ScaleCols(out, x, s Buf, rows, cols int) {
	ov, xv, sv := f32(out)[:rows*cols], f32(x)[:rows*cols], f32(s)[:cols]
	for r := 0; r < rows; r++ {
		o, xr := ov[r*cols:(r+1)*cols], xv[r*cols:(r+1)*cols]
		for c := range o {
			o[c] = xr[c] * sv[c]
		}
	}
}

// ScaleColsBackward is ScaleCols' backward: dx[r,c] += dy[r,c]·s[c] and
// ds[c] += Σ_r dy[r,c]·x[r,c]. Each product is rounded to float32 before it is added (explicit
// conversions: Go may not fuse them into an FMA), and each column's sum runs from 0 over
// r = 0..rows-1 in increasing order before it is added to ds[c], as AddBiasBackward's, so the
// result does not depend on how a device splits the work.
func (d *CPU) ScaleColsBackward(dx, ds, dy, x, s Buf, rows, cols int) {
	dxv, dsv := f32(dx)[:rows*cols], f32(ds)[:cols]
	dyv, xv, sv := f32(dy)[:rows*cols], f32(x)[:rows*cols], f32(s)[:cols]
	sum := make([]float32, cols)
	for r := 0; r < rows; r++ {
		i := r * cols
		for c := 0; c < cols; c++ {
			dxv[i+c] += float32(dyv[i+c] * sv[c])
			sum[c] += float32(dyv[i+c] * xv[i+c])
		}
	}
	for c := range dsv {
		dsv[c] += sum[c]
	}
}
