package core

// RNG is the project's own seeded generator (SplitMix64): tiny, fast, and identical on every
// platform, unlike the global math/rand, whose algorithm and seeding are not ours to pin.
// Every random draw in training comes from an RNG made by NewRNG with its own stream name, so
// adding a draw to one stream (say, sampling) never shifts another (say, data order).
type RNG struct{ state uint64 }

// Named streams. Each is derived from the run's seed and its name.
const (
	StreamInit     = "init"     // weight initialisation
	StreamData     = "data"     // order of training windows
	StreamDropout  = "dropout"  // seed of the counter-based dropout masks
	StreamSampling = "sampling" // text generation
)

// NewRNG returns the generator for one named stream of a seed.
func NewRNG(seed uint64, stream string) *RNG {
	h := uint64(14695981039346656037) // FNV-1a over the stream name
	for i := 0; i < len(stream); i++ {
		h ^= uint64(stream[i])
		h *= 1099511628211
	}
	r := &RNG{state: seed ^ h}
	r.Uint64() // decorrelate nearby seeds
	return r
}

// Uint64 returns 64 random bits.
func (r *RNG) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Intn returns a uniform int in [0, n) without modulo bias; n must be positive.
func (r *RNG) Intn(n int) int {
	if n <= 0 {
		panic("core: RNG.Intn with n <= 0")
	}
	limit := ^uint64(0) - ^uint64(0)%uint64(n)
	for {
		x := r.Uint64()
		if x < limit {
			return int(x % uint64(n))
		}
	}
}

// Float32 returns a uniform float32 in [0, 1) with 24 random bits.
func (r *RNG) Float32() float32 {
	return float32(float32(r.Uint64()>>40) * (1.0 / (1 << 24))) // exact; the conversion only stops FMA fusion
}

// Normal returns an approximately standard normal float32: the Irwin-Hall sum of 12 uniforms
// minus 6. It needs no log or cos (which would differ between platforms), and its tails,
// truncated at ±6, do not matter for weight initialisation.
func (r *RNG) Normal() float32 {
	var s float32
	for i := 0; i < 12; i++ {
		s += r.Float32()
	}
	return s - 6
}
