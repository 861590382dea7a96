package ops

// DropoutBits is the counter-based generator behind dropout: a pure function of
// (seed, step, site, index), built only from 32-bit wrapping adds, xors, shifts and multiplies so
// that a WGSL kernel computes the same bits (shaders/dropout.wgsl mirrors it line by line).
func DropoutBits(seed uint64, step, site, index uint32) uint32 {
	h := mix32(uint32(seed))
	h = mix32(h + uint32(seed>>32))
	h = mix32(h + step)
	h = mix32(h + site)
	return mix32(h + index)
}

// mix32 is Chris Wellons' "lowbias32" integer hash: a bijection on uint32 with low bias.
func mix32(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

// DropoutThreshold is the uint32 below which an element is dropped at the given rate; devices
// compute it on the host so that every device compares against the same integer.
func DropoutThreshold(rate float32) uint32 {
	if rate <= 0 {
		return 0
	}
	if rate >= 1 {
		return ^uint32(0)
	}
	return uint32(float64(rate) * 4294967296.0)
}
