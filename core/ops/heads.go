package ops

// SplitHeads reorders a B×T×(H·D) activation into B×H×T×D so that each head's T×D block is
// contiguous for the batched attention matmuls: out[b,h,t,d] = in[b,t,h·D+d].
func (d *CPU) SplitHeads(out, in Buf, B, T, H, D int) {
	o, x := f32(out)[:B*T*H*D], f32(in)[:B*T*H*D]
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			for t := 0; t < T; t++ {
				src := x[((b*T+t)*H+h)*D:][:D]
				dst := o[((b*H+h)*T+t)*D:][:D]
				copy(dst, src)
			}
		}
	}
}

// MergeHeads is SplitHeads' inverse: out[b,t,h·D+d] = in[b,h,t,d]. Each is also the other's
// backward pass.
func (d *CPU) MergeHeads(out, in Buf, B, T, H, D int) {
	o, x := f32(out)[:B*T*H*D], f32(in)[:B*T*H*D]
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			for t := 0; t < T; t++ {
				src := x[((b*H+h)*T+t)*D:][:D]
				dst := o[((b*T+t)*H+h)*D:][:D]
				copy(dst, src)
			}
		}
	}
}
