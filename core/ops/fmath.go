package ops

import "math"

// Core's own exp, log and tanh. Go's math.Exp, Log and Tanh run assembly on amd64 and pure Go
// under wasm, and their float64 results differ in the last bits between the two, which is enough
// to change a float32 training run after a few hundred steps. These functions use only + - * /,
// comparisons, float conversions and bit casts, all of which IEEE 754 defines exactly, so every
// platform computes the same bits. They work in float64 internally: a float64 polynomial gives a
// result within 1 ulp of the correctly rounded float32 without hand-tuned minimax coefficients.
//
// Every product that feeds an addition is wrapped in float64(...): the Go spec lets a compiler
// fuse x*y+z into one FMA (it does with GOAMD64=v3 and on arm64) unless an explicit conversion
// rounds the product first.

const (
	// ln2Hi + ln2Lo = ln 2 to about 2^-85 (fdlibm's split). ln2Hi has its low 32 bits zero, so
	// k*ln2Hi is exact for every k the functions below produce.
	ln2Hi  = 6.93147180369123816490e-01
	ln2Lo  = 1.90821492927058770002e-10
	invLn2 = 1.44269504088896338700e+00

	// expOverflow is the midpoint between MaxFloat32 and 2^128: a float64 at or above it rounds
	// to +Inf as a float32.
	expOverflow = 0x1.ffffffp127
)

// expTaylor are exp64's Horner coefficients, highest degree first: e^r's Taylor series to degree
// 12, 1/12! down to 1/2!, then 1 and 1 (p = 1 + r·(1 + r·(1/2 + ...))). expm1Taylor are
// expm1Small's, 1/17! down to 1/2! and 1 (then times y). The WebAssembly GELU (simd_js.go)
// evaluates these very lists.
var (
	expTaylor = [...]float64{1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880,
		1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1}
	expm1Taylor = [...]float64{1.0 / 355687428096000, 1.0 / 20922789888000, 1.0 / 1307674368000,
		1.0 / 87178291200, 1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
		1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1}
)

// Tanh32's branch points: below tanhSeriesBelow it uses expm1Small, above tanhOneAbove it is ±1.
const (
	tanhSeriesBelow = 0.5
	tanhOneAbove    = 10
)

// exp64 is e^x for |x| <= 105, accurate to a few float64 ulps. It reduces x = k·ln2 + r with
// |r| <= ln2/2 (plus rounding) and evaluates the Taylor series of e^r to degree 12, whose
// truncation error there is below 2e-16 relative.
func exp64(x float64) float64 {
	t := float64(x * invLn2)
	var k int
	if t >= 0 {
		k = int(t + 0.5)
	} else {
		k = int(t - 0.5)
	}
	fk := float64(k)
	r := (x - float64(fk*ln2Hi)) - float64(fk*ln2Lo)

	// p = c + r·p for each coefficient after the first, unrolled: as a loop Exp32 took 15% longer.
	c := &expTaylor
	p := c[0]
	p = c[1] + float64(r*p)
	p = c[2] + float64(r*p)
	p = c[3] + float64(r*p)
	p = c[4] + float64(r*p)
	p = c[5] + float64(r*p)
	p = c[6] + float64(r*p)
	p = c[7] + float64(r*p)
	p = c[8] + float64(r*p)
	p = c[9] + float64(r*p)
	p = c[10] + float64(r*p)
	p = c[11] + float64(r*p)
	p = c[12] + float64(r*p)

	// 2^k as a float64 (k is within [-152, 152] here, a normal float64 exponent); the product is
	// exact because it only changes the exponent.
	return float64(p * math.Float64frombits(uint64(k+1023)<<52)) // rounded: see expm1Small
}

// expm1Small is e^y - 1 for |y| <= 1 by its Taylor series to degree 17 (truncation error below
// 3e-16 relative), without the cancellation of exp64(y) - 1 near 0.
func expm1Small(y float64) float64 {
	p := expm1Taylor[0]
	for _, c := range expm1Taylor[1:] {
		p = c + float64(y*p)
	}
	// Rounded here: with the loop the function is small enough to inline, and a caller's
	// em1 + 2 would otherwise fuse with this product into an FMA.
	return float64(y * p)
}

// Exp32 is e^x rounded to float32, within 1 ulp of the correctly rounded value; the same bits on
// every platform.
func Exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 89: // e^89 > MaxFloat32; also catches +Inf
		return float32(math.Inf(1))
	case x < -104: // e^-104 < 2^-150, half the smallest denormal; also catches -Inf
		return 0
	}
	y := exp64(float64(x))
	if y >= expOverflow {
		// Spelled out rather than left to the float64→float32 conversion, whose overflow
		// result the Go spec leaves to the implementation.
		return float32(math.Inf(1))
	}
	return float32(y)
}

// Log32 is the natural logarithm rounded to float32, within 1 ulp of the correctly rounded value:
// Log32(0) = -Inf, Log32(x<0) = NaN, Log32(+Inf) = +Inf.
func Log32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x < 0:
		return float32(math.NaN())
	case x == 0:
		return float32(math.Inf(-1))
	case x > math.MaxFloat32:
		return x
	}
	// Every float32, denormals included, is a normal float64: split it as 2^e · m, m in [1,2).
	bits := math.Float64bits(float64(x))
	e := int(bits>>52) - 1023
	m := math.Float64frombits(bits&(1<<52-1) | 1023<<52)
	// Centre m on 1 (m in [√½, √2)) so that s below stays small.
	if m > math.Sqrt2 {
		m *= 0.5
		e++
	}
	// ln m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + ...) with s = (m-1)/(m+1), |s| <= 0.172;
	// m-1 is exact there. Nine terms leave a truncation error below 1e-15 relative.
	s := (m - 1) / (m + 1)
	z := s * s
	p := 1.0 / 17
	p = 1.0/15 + float64(z*p)
	p = 1.0/13 + float64(z*p)
	p = 1.0/11 + float64(z*p)
	p = 1.0/9 + float64(z*p)
	p = 1.0/7 + float64(z*p)
	p = 1.0/5 + float64(z*p)
	p = 1.0/3 + float64(z*p)
	p = 1 + float64(z*p)
	lnm := float64(float64(2*s) * p)
	fe := float64(e)
	return float32(float64(fe*ln2Hi) + (float64(fe*ln2Lo) + lnm))
}

// Tanh32 is tanh(x) rounded to float32, within 1 ulp of the correctly rounded value; it keeps the
// sign of zero and is exactly ±1 for |x| > 10 (tanh(10) is within 4e-9 of 1, below half an ulp).
func Tanh32(x float32) float32 {
	if x != x {
		return x
	}
	a := float64(x)
	neg := a < 0
	if neg {
		a = -a
	}
	var t float64
	switch {
	case a > tanhOneAbove:
		t = 1
	case a < tanhSeriesBelow:
		// tanh a = (e^2a - 1)/(e^2a + 1), with e^2a - 1 computed without cancellation so that
		// small arguments (denormals too) keep full relative precision.
		em1 := expm1Small(2 * a)
		t = em1 / (em1 + 2)
	default:
		// a >= 0.5: tanh a >= 0.46, so 1 - 2/(e^2a + 1) loses at most a couple of bits of float64.
		t = 1 - 2/(exp64(2*a)+1)
	}
	if neg {
		t = -t
	}
	return float32(t)
}
