package ops

// dropoutKeepScale is the factor kept elements are divided by, 1-rate, or 0 when every element
// is dropped (rate >= 1), in which case Dropout writes zeros instead of dividing by 0.
func dropoutKeepScale(rate float32) float32 {
	if rate >= 1 {
		return 0
	}
	return 1 - rate
}

// Dropout writes out[i] = x[i]/(1-rate) where DropoutBits(key, i) >= DropoutThreshold(rate), else
// 0. Rate 0 keeps every element and divides by 1, an exact copy; rate >= 1 drops everything.
func (d *CPU) Dropout(out, x Buf, n int, rate float32, key DropoutKey) {
	o, xv := f32(out)[:n], f32(x)[:n]
	keep := dropoutKeepScale(rate)
	if keep == 0 {
		clear(o)
		return
	}
	thr := DropoutThreshold(rate)
	for i, v := range xv {
		if DropoutBits(key.Seed, key.Step, key.Site, uint32(i)) >= thr {
			o[i] = v / keep
		} else {
			o[i] = 0
		}
	}
}

// DropoutBackward adds dout[i]/(1-rate) into dx[i] for the elements the forward pass kept,
// recomputing the same mask from the key instead of storing it.
func (d *CPU) DropoutBackward(dx, dout Buf, n int, rate float32, key DropoutKey) {
	dxv, dov := f32(dx)[:n], f32(dout)[:n]
	keep := dropoutKeepScale(rate)
	if keep == 0 {
		return
	}
	thr := DropoutThreshold(rate)
	for i, g := range dov {
		if DropoutBits(key.Seed, key.Step, key.Site, uint32(i)) >= thr {
			dxv[i] += g / keep
		}
	}
}
