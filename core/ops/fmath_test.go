package ops

import (
	"math"
	"testing"
)

// ulpDiff is the number of float32 values between a and b (0 when equal; both NaN counts as equal,
// one NaN as infinitely far).
func ulpDiff(a, b float32) uint64 {
	an, bn := a != a, b != b
	if an || bn {
		if an && bn {
			return 0
		}
		return math.MaxUint64
	}
	// Map the float32 bit patterns onto a monotonic integer line (+0 and -0 both map to 0).
	ord := func(f float32) int64 {
		u := int64(math.Float32bits(f))
		if u&(1<<31) != 0 {
			return -(u & (1<<31 - 1))
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return uint64(d)
}

// sweepFloat32 calls f on every step-th float32 bit pattern (both signs), plus the last one.
func sweepFloat32(step uint32, f func(x float32)) {
	for u := uint64(0); u < 1<<32; u += uint64(step) {
		f(math.Float32frombits(uint32(u)))
	}
	f(math.Float32frombits(^uint32(0)))
}

// TestFmathDense compares each function with the float64 math package rounded to float32 over a
// dense sweep of all float32s (every 257th bit pattern, about 16.7 million inputs, which covers
// every exponent with many mantissas each). The bound is the 2 ulp the contract promises; the
// observed maximum is logged.
func TestFmathDense(t *testing.T) {
	step := uint32(257)
	if testing.Short() {
		step = 4099
	}
	cases := []struct {
		name string
		got  func(float32) float32
		want func(float64) float64
	}{
		{"Exp32", Exp32, math.Exp},
		{"Log32", Log32, math.Log},
		{"Tanh32", Tanh32, math.Tanh},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var worst uint64
			var worstX float32
			var inexact, n int
			sweepFloat32(step, func(x float32) {
				n++
				want := float32(c.want(float64(x)))
				got := c.got(x)
				d := ulpDiff(got, want)
				if d > 0 {
					inexact++
				}
				if d > worst {
					worst, worstX = d, x
				}
			})
			t.Logf("%d inputs: %d not correctly rounded, worst %d ulp at x=%g", n, inexact, worst, worstX)
			if worst > 2 {
				t.Fatalf("%s(%g) = %g, want %g (%d ulp)", c.name, worstX, c.got(worstX),
					float32(c.want(float64(worstX))), worst)
			}
		})
	}
}

// TestFmathEdges checks special values exactly, including sign of zero and overflow boundaries.
func TestFmathEdges(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	denorm := math.Float32frombits(1)           // smallest positive denormal, 2^-149
	bigDenorm := math.Float32frombits(0x7fffff) // largest denormal
	cases := []struct {
		name string
		f    func(float32) float32
		x    float32
		want float32
	}{
		{"exp 0", Exp32, 0, 1},
		{"exp -0", Exp32, float32(math.Copysign(0, -1)), 1},
		{"exp 1", Exp32, 1, float32(math.E)},
		{"exp +Inf", Exp32, inf, inf},
		{"exp -Inf", Exp32, -inf, 0},
		{"exp NaN", Exp32, nan, nan},
		{"exp 88.7 finite", Exp32, 88.7, float32(math.Exp(float64(float32(88.7))))},
		{"exp 88.73 overflows", Exp32, 88.73, inf},
		{"exp 1000 overflows", Exp32, 1000, inf},
		{"exp -87.5 normal", Exp32, -87.5, float32(math.Exp(-87.5))},
		{"exp -100 denormal", Exp32, -100, float32(math.Exp(-100))},
		{"exp -103.5 smallest denormals", Exp32, -103.5, float32(math.Exp(-103.5))},
		{"exp -104 underflows", Exp32, -104, 0},
		{"exp -1000 underflows", Exp32, -1000, 0},
		{"exp denormal", Exp32, denorm, 1},
		{"exp 1e-8", Exp32, 1e-8, 1},
		{"log 1", Log32, 1, 0},
		{"log 0", Log32, 0, -inf},
		{"log -0", Log32, float32(math.Copysign(0, -1)), -inf},
		{"log -1", Log32, -1, nan},
		{"log -Inf", Log32, -inf, nan},
		{"log +Inf", Log32, inf, inf},
		{"log NaN", Log32, nan, nan},
		{"log e", Log32, float32(math.E), float32(math.Log(float64(float32(math.E))))},
		{"log 2", Log32, 2, float32(math.Ln2)},
		{"log denormal", Log32, denorm, float32(-149 * math.Ln2)},
		{"log largest denormal", Log32, bigDenorm, float32(math.Log(float64(bigDenorm)))},
		{"log MaxFloat32", Log32, math.MaxFloat32, float32(math.Log(math.MaxFloat32))},
		{"log just below 1", Log32, math.Nextafter32(1, 0), float32(math.Log(float64(math.Nextafter32(1, 0))))},
		{"log just above 1", Log32, math.Nextafter32(1, 2), float32(math.Log(float64(math.Nextafter32(1, 2))))},
		{"tanh 0", Tanh32, 0, 0},
		{"tanh denormal", Tanh32, denorm, denorm},
		{"tanh -denormal", Tanh32, -denorm, -denorm},
		{"tanh 1e-20", Tanh32, 1e-20, 1e-20},
		{"tanh 0.5", Tanh32, 0.5, float32(math.Tanh(0.5))},
		{"tanh -0.49999997", Tanh32, -0.49999997, float32(math.Tanh(-0.49999997))},
		{"tanh 9", Tanh32, 9, float32(math.Tanh(9))},
		{"tanh 10.5", Tanh32, 10.5, 1},
		{"tanh +Inf", Tanh32, inf, 1},
		{"tanh -Inf", Tanh32, -inf, -1},
		{"tanh NaN", Tanh32, nan, nan},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.f(c.x)
			if ulpDiff(got, c.want) > 1 {
				t.Fatalf("f(%g) = %g (bits %#08x), want %g (bits %#08x)", c.x, got,
					math.Float32bits(got), c.want, math.Float32bits(c.want))
			}
		})
	}
	// The sign of zero is part of the contract for tanh (an odd function).
	if z := Tanh32(float32(math.Copysign(0, -1))); z != 0 || !math.Signbit(float64(z)) {
		t.Fatalf("Tanh32(-0) = %g, want -0", z)
	}
}

// TestFmathOddAndMonotonic checks properties the sweep cannot see: tanh is exactly odd, and exp
// and log never decrease between neighbouring float32s (a polynomial seam would show as a step
// backwards at a reduction boundary).
func TestFmathOddAndMonotonic(t *testing.T) {
	t.Run("tanh odd", func(t *testing.T) {
		sweepFloat32(65537, func(x float32) {
			if x != x {
				return
			}
			if a, b := Tanh32(-x), -Tanh32(x); math.Float32bits(a) != math.Float32bits(b) {
				t.Fatalf("Tanh32(-%g) = %g, -Tanh32(%g) = %g", x, a, x, b)
			}
		})
	})
	// Each window spans 4096 float32s around a point where the evaluation switches branch or the
	// range reduction changes k.
	windows := []struct {
		name string
		f    func(float32) float32
		at   float32
	}{
		{"exp at ln2/2", Exp32, float32(math.Ln2 / 2)},
		{"exp at -ln2/2", Exp32, float32(-math.Ln2 / 2)},
		{"exp at 5.5·ln2", Exp32, float32(5.5 * math.Ln2)},
		{"exp at -60.5·ln2", Exp32, float32(-60.5 * math.Ln2)},
		{"exp at 0", Exp32, 0},
		{"log at √2", Log32, math.Sqrt2},
		{"log at 1", Log32, 1},
		{"log at 2^-126 (denormal edge)", Log32, 0x1p-126},
		{"tanh at 0.5", Tanh32, 0.5},
		{"tanh at 10", Tanh32, 10},
	}
	for _, w := range windows {
		t.Run(w.name, func(t *testing.T) {
			x := w.at
			for i := 0; i < 2048; i++ {
				x = math.Nextafter32(x, float32(math.Inf(-1)))
			}
			prev := w.f(x)
			for i := 0; i < 4096; i++ {
				x = math.Nextafter32(x, float32(math.Inf(1)))
				y := w.f(x)
				if y < prev {
					t.Fatalf("decreases at %g: %g then %g", x, prev, y)
				}
				prev = y
			}
		})
	}
}

// fmathSink keeps the benchmarked calls from being optimized away.
var fmathSink float32

func BenchmarkFmath(b *testing.B) {
	for _, c := range []struct {
		name string
		f    func(float32) float32
	}{{"Exp32", Exp32}, {"Log32", Log32}, {"Tanh32", Tanh32}} {
		b.Run(c.name, func(b *testing.B) {
			x := float32(0.1)
			for i := 0; i < b.N; i++ {
				fmathSink += c.f(x)
				x += 1e-4
			}
		})
	}
}
