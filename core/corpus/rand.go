package corpus

// Rand is the small seeded generator behind every built-in corpus and task: splitmix64
// (Steele, Lea and Flood, 2014). It uses only 64-bit wrapping integer arithmetic, so a seed gives
// the same stream natively and under wasm, and it never touches the global math/rand.
type Rand struct {
	state uint64
}

// NewRand returns a generator whose stream depends only on seed.
func NewRand(seed uint64) *Rand {
	return &Rand{state: seed}
}

// Uint64 returns the next 64 bits of the stream.
func (r *Rand) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Intn returns a value in [0, n). It panics when n <= 0, like math/rand, because a caller that
// asks for a choice among nothing has a bug. The modulo bias is below 2^-50 for the small n
// used here and, being the same on every platform, cannot break reproducibility.
func (r *Rand) Intn(n int) int {
	if n <= 0 {
		panic("corpus: Intn called with n <= 0")
	}
	return int(r.Uint64() % uint64(n))
}

// Chance reports true with probability num/den, decided on integers only.
func (r *Rand) Chance(num, den int) bool {
	return r.Intn(den) < num
}

// Shuffle permutes n elements with Fisher-Yates, calling swap like sort.Slice does.
func (r *Rand) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		swap(i, r.Intn(i+1))
	}
}

// Pick returns one of the strings, chosen uniformly.
func (r *Rand) Pick(options ...string) string {
	return options[r.Intn(len(options))]
}
