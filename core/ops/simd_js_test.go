//go:build js && wasm

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"pretune/core/testenv"
)

// requireSIMD ends t unless the SIMD kernel runs here (make test-wasm hands it Go's memory).
func requireSIMD(t *testing.T) {
	t.Helper()
	if k := CPUKernel(); k != "wasm-simd128" {
		testenv.Missing(t, testenv.WasmSIMD, "the CPU device's kernel is "+k+
			": run the wasm tests as make test-wasm does (node --require=wasm/node_memory.js)")
	}
}

// TestMatMulSIMDMatchesRef: the SIMD kernel (with the Go kernel's edges) is bit-identical to the
// definition for every layout, odd size, stride, shared or padded batch and both accumulate
// modes, and for the training path's real shapes; and it did compute them (a fallback to the Go
// kernel would pass the comparison and prove nothing).
func TestMatMulSIMDMatchesRef(t *testing.T) {
	requireSIMD(t)
	rng := rand.New(rand.NewPCG(11, 12))
	cases := mmCases()
	// The small preset's products: linear layers (rows 512) and attention (B·H = 32 heads of 64×16).
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, acc := range []bool{false, true} {
				cases = append(cases,
					mmCase{M: 512, N: 192, K: 64, strideA: -1, strideB: -1, strideC: -1, transA: tA, transB: tB, accumulate: acc},
					mmCase{M: 64, N: 64, K: 16, batch: 32, strideA: -1, strideB: -1, strideC: -1, transA: tA, transB: tB, accumulate: acc},
					mmCase{M: 12, N: 24, K: 40, batch: 3, strideA: -1, strideB: 0, strideC: 0, transA: tA, transB: tB, accumulate: acc},
					mmCase{M: 45, N: 101, K: 33, strideA: -1, strideB: -1, strideC: -1, transA: tA, transB: tB, accumulate: acc},
				)
			}
		}
	}
	used := 0
	for _, tc := range cases {
		t.Run(tc.String(), func(t *testing.T) {
			p := tc.args()
			c, a, b := mmBuffers(rng, p)
			want := append([]float32(nil), c...)
			MatMulRef(want, a, b, p)
			got := append([]float32(nil), c...)
			before := simd.calls
			(&CPU{}).MatMul(&cpuBuf{f: got}, &cpuBuf{f: a}, &cpuBuf{f: b}, p)
			if simd.calls > before {
				used++
			}
			requireBitsEqual(t, want, got, "simd")
		})
	}
	if used < len(cases)/2 {
		t.Fatalf("the SIMD kernel computed %d of %d products: the comparison mostly tested the Go kernel", used, len(cases))
	}
}

// TestMatMulSIMDSpecialValues: zeros of both signs, infinities, NaN, subnormals and values whose
// products overflow or vanish give what the definition gives (NaN as NaN: its payload is the one
// thing WebAssembly leaves to the engine, for scalar and SIMD arithmetic alike).
func TestMatMulSIMDSpecialValues(t *testing.T) {
	requireSIMD(t)
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 1e-45, -3e-39, 3e38, -3e38, 1e-30, 7}
	rng := rand.New(rand.NewPCG(13, 14))
	for _, tB := range []bool{false, true} {
		p := MatMulArgs{M: 8, N: 16, K: 9, TransB: tB, Accumulate: true}
		c, a, b := mmBuffers(rng, p)
		for _, x := range [][]float32{a, b, c} {
			for i := range x {
				if rng.IntN(2) == 0 {
					x[i] = specials[rng.IntN(len(specials))]
				}
			}
		}
		want := append([]float32(nil), c...)
		MatMulRef(want, a, b, p)
		got := append([]float32(nil), c...)
		(&CPU{}).MatMul(&cpuBuf{f: got}, &cpuBuf{f: a}, &cpuBuf{f: b}, p)
		for i := range want {
			w, g := want[i], got[i]
			if w != w && g != g {
				continue
			}
			if math.Float32bits(w) != math.Float32bits(g) {
				t.Fatalf("transB=%v element %d = %v (%#08x), want %v (%#08x)", tB, i, g, math.Float32bits(g), w, math.Float32bits(w))
			}
		}
	}
}

// TestMatMulSIMDZeroSums: sums of signed zeros only. The definition starts each sum at +0, so
// -0 products sum to +0 (and C + +0 keeps C's -0); a kernel starting from -0 would give -0 where
// random values never show it.
func TestMatMulSIMDZeroSums(t *testing.T) {
	requireSIMD(t)
	negZero := float32(math.Copysign(0, -1))
	for _, acc := range []bool{false, true} {
		p := MatMulArgs{M: 8, N: 16, K: 5, Accumulate: acc}
		a, b, c := make([]float32, p.M*p.K), make([]float32, p.K*p.N), make([]float32, p.M*p.N)
		for i := range a {
			a[i] = negZero
		}
		for i := range b {
			b[i] = 1
		}
		for i := range c {
			c[i] = negZero
		}
		want := append([]float32(nil), c...)
		MatMulRef(want, a, b, p)
		got := append([]float32(nil), c...)
		(&CPU{}).MatMul(&cpuBuf{f: got}, &cpuBuf{f: a}, &cpuBuf{f: b}, p)
		requireBitsEqual(t, want, got, fmt.Sprintf("accumulate=%v", acc))
	}
}

// TestMatMulSIMDOff: with the kernel switched off the Go kernel answers the same bits, and the
// kernel reports itself; the device names the kernel in use.
func TestMatMulSIMDOff(t *testing.T) {
	requireSIMD(t)
	p := MatMulArgs{M: 64, N: 64, K: 64, TransB: true}
	c, a, b := mmBuffers(rand.New(rand.NewPCG(15, 16)), p)
	on := append([]float32(nil), c...)
	(&CPU{}).MatMul(&cpuBuf{f: on}, &cpuBuf{f: a}, &cpuBuf{f: b}, p)
	simd.off = true
	defer func() { simd.off = false }()
	before := simd.calls
	off := append([]float32(nil), c...)
	(&CPU{}).MatMul(&cpuBuf{f: off}, &cpuBuf{f: a}, &cpuBuf{f: b}, p)
	if simd.calls != before {
		t.Fatal("the SIMD kernel ran while switched off")
	}
	requireBitsEqual(t, on, off, "off")
	if !strings.HasPrefix(fmt.Sprint(CPUKernel()), "wasm-simd128") {
		t.Fatalf("CPUKernel() = %q", CPUKernel())
	}
}

// TestGELUSIMDMatchesGo: the SIMD GELU forward and backward give the Go code's bits for float32
// values spread over every exponent (every 8191st bit pattern, so signs, zeros, subnormals,
// infinities and NaNs included), for values around Tanh32's branch points, and for odd lengths
// (the Go code finishes the tail).
func TestGELUSIMDMatchesGo(t *testing.T) {
	requireSIMD(t)
	var xs []float32
	for b := uint64(0); b < 1<<32; b += 8191 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	// Runs of consecutive floats where the GELU argument crosses 0.5 and 10 (x ≈ 0.615 and 5.42:
	// Tanh32's branch points), and near 0 and ±1.
	for _, c := range []float32{0.6125, 5.415, 0, 1, -1, -0.6125, -5.415} {
		v := c
		for range 4000 {
			xs = append(xs, v)
			v = math.Nextafter32(v, 10)
		}
	}
	xs = append(xs, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	rng := rand.New(rand.NewPCG(17, 18))
	dout := make([]float32, len(xs))
	dx0 := make([]float32, len(xs))
	for i := range xs {
		dout[i], dx0[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	same := func(what string, want, got []float32) {
		t.Helper()
		for i := range want {
			w, g := want[i], got[i]
			if (w != w && g != g) || math.Float32bits(w) == math.Float32bits(g) {
				continue
			}
			t.Fatalf("%s: x=%v (%#08x): got %v (%#08x), want %v (%#08x)", what, xs[i], math.Float32bits(xs[i]),
				g, math.Float32bits(g), w, math.Float32bits(w))
		}
	}
	d := &CPU{}
	run := func(n int) (fwd, bwd []float32) {
		fwd, bwd = make([]float32, n), append([]float32(nil), dx0[:n]...)
		d.GELU(&cpuBuf{f: fwd}, &cpuBuf{f: xs[:n]}, n)
		d.GELUBackward(&cpuBuf{f: bwd}, &cpuBuf{f: xs[:n]}, &cpuBuf{f: dout[:n]}, n)
		return
	}
	for _, n := range []int{len(xs), len(xs) - 1, 65} {
		before := simd.calls
		fwd, bwd := run(n)
		if simd.calls != before+2 {
			t.Fatalf("n=%d: %d SIMD calls, want 2 (forward and backward)", n, simd.calls-before)
		}
		simd.off = true
		wantF, wantB := run(n)
		simd.off = false
		same(fmt.Sprintf("GELU n=%d", n), wantF, fwd)
		same(fmt.Sprintf("GELUBackward n=%d", n), wantB, bwd)
	}
}
