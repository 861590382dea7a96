package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// mmCase is one product shape; sizes of A, B and C follow from it.
type mmCase struct {
	M, N, K, batch             int
	strideA, strideB, strideC  int // -1: packed (one matrix after the other)
	transA, transB, accumulate bool
}

func (tc mmCase) args() MatMulArgs {
	p := MatMulArgs{M: tc.M, N: tc.N, K: tc.K, TransA: tc.transA, TransB: tc.transB,
		Batch: tc.batch, Accumulate: tc.accumulate}
	pick := func(s, packed int) int {
		if s < 0 {
			return packed
		}
		return s
	}
	p.StrideA, p.StrideB, p.StrideC = pick(tc.strideA, tc.M*tc.K), pick(tc.strideB, tc.K*tc.N), pick(tc.strideC, tc.M*tc.N)
	return p
}

// mmBuffers returns random A, B and C sized for p (C pre-filled, so Accumulate shows).
func mmBuffers(rng *rand.Rand, p MatMulArgs) (c, a, b []float32) {
	size := func(stride, elems int) int { return (p.batches()-1)*stride + elems }
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	return fill(size(p.StrideC, p.M*p.N)), fill(size(p.StrideA, p.M*p.K)), fill(size(p.StrideB, p.K*p.N))
}

// mmCases crosses awkward sizes with every layout and both accumulate modes.
func mmCases() []mmCase {
	var cases []mmCase
	shapes := []struct{ M, N, K int }{
		{1, 1, 1}, {1, 7, 3}, {3, 1, 5}, {5, 3, 1}, {7, 13, 5}, {13, 31, 7},
		{31, 67, 13}, {67, 31, 3}, {4, 4, 4}, {8, 256, 2}, {9, 257, 17}, {67, 300, 31}, {2, 3, 0},
	}
	for _, s := range shapes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					cases = append(cases, mmCase{M: s.M, N: s.N, K: s.K, strideA: -1, strideB: -1, strideC: -1,
						transA: tA, transB: tB, accumulate: acc})
				}
			}
		}
	}
	// Batched forms: packed, a shared B (stride 0, as for a per-head weight), padded strides.
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			cases = append(cases,
				mmCase{M: 7, N: 5, K: 13, batch: 3, strideA: -1, strideB: -1, strideC: -1, transA: tA, transB: tB},
				mmCase{M: 13, N: 7, K: 5, batch: 4, strideA: -1, strideB: 0, strideC: -1, transA: tA, transB: tB, accumulate: true},
				mmCase{M: 5, N: 3, K: 7, batch: 3, strideA: 0, strideB: 40, strideC: 17, transA: tA, transB: tB},
				mmCase{M: 31, N: 67, K: 13, batch: 2, strideA: 31*13 + 3, strideB: 13*67 + 1, strideC: 31*67 + 5,
					transA: tA, transB: tB, accumulate: true},
			)
		}
	}
	return cases
}

func (tc mmCase) String() string {
	p := tc.args()
	return fmt.Sprintf("%s/M=%d,N=%d,K=%d,batch=%d,strides=%d,%d,%d,acc=%v",
		p.Layout(), p.M, p.N, p.K, p.batches(), p.StrideA, p.StrideB, p.StrideC, p.Accumulate)
}

// TestMatMulTiledMatchesRef: the tiled kernel is bit-identical to the definition for every
// layout, odd size, stride and thread count.
func TestMatMulTiledMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range mmCases() {
		t.Run(tc.String(), func(t *testing.T) {
			p := tc.args()
			c, a, b := mmBuffers(rng, p)
			want := append([]float32(nil), c...)
			MatMulRef(want, a, b, p)
			for _, threads := range []int{1, 2, 5} {
				got := append([]float32(nil), c...)
				matMulTiled(got, a, b, p, threads)
				requireBitsEqual(t, want, got, fmt.Sprintf("threads=%d", threads))
			}
		})
	}
}

// TestMatMulParallelSplit runs products above mmParallelWork, where the work really is split, and
// checks 1, 2 and 5 goroutines agree bit for bit with the reference (and so with each other).
func TestMatMulParallelSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []mmCase{
		{M: 67, N: 131, K: 61, strideA: -1, strideB: -1, strideC: -1},
		{M: 67, N: 131, K: 61, strideA: -1, strideB: -1, strideC: -1, transB: true, accumulate: true},
		{M: 61, N: 67, K: 131, strideA: -1, strideB: -1, strideC: -1, transA: true, accumulate: true},
		{M: 33, N: 300, K: 29, strideA: -1, strideB: -1, strideC: -1, transA: true, transB: true},
		{M: 9, N: 64, K: 64, batch: 12, strideA: -1, strideB: -1, strideC: -1, transB: true},
		{M: 9, N: 64, K: 64, batch: 12, strideA: -1, strideB: 0, strideC: -1, accumulate: true},
		// Two rows: only the column blocks can be shared out.
		{M: 2, N: 401, K: 400, strideA: -1, strideB: -1, strideC: -1, transA: true, accumulate: true},
	} {
		t.Run(tc.String(), func(t *testing.T) {
			p := tc.args()
			if p.M*p.N*p.K*p.batches() < mmParallelWork {
				t.Fatal("case too small to split")
			}
			c, a, b := mmBuffers(rng, p)
			want := append([]float32(nil), c...)
			MatMulRef(want, a, b, p)
			for _, threads := range []int{1, 2, 5} {
				got := append([]float32(nil), c...)
				(&CPU{Threads: threads}).MatMul(&cpuBuf{f: got}, &cpuBuf{f: a}, &cpuBuf{f: b}, p)
				requireBitsEqual(t, want, got, fmt.Sprintf("threads=%d", threads))
			}
		})
	}
}

func requireBitsEqual(t *testing.T, want, got []float32, what string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: element %d = %v (%#08x), want %v (%#08x)", what, i, got[i],
				math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestMatMulRefAgainstFloat64 checks the definition itself against an independently written
// float64 product that transposes explicitly (no shared index arithmetic with MatMulRef), and
// checks that memory outside the strided C matrices is left alone.
func TestMatMulRefAgainstFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range mmCases() {
		t.Run(tc.String(), func(t *testing.T) {
			p := tc.args()
			c, a, b := mmBuffers(rng, p)
			got := append([]float32(nil), c...)
			MatMulRef(got, a, b, p)
			want := make([]float64, len(c))
			written := make([]bool, len(c))
			for i, v := range c {
				want[i] = float64(v)
			}
			for z := range p.batches() {
				opA := matrix64(a[z*p.StrideA:], p.M, p.K, p.TransA)
				opB := matrix64(b[z*p.StrideB:], p.K, p.N, p.TransB)
				for i := range p.M {
					for j := range p.N {
						s := 0.0
						for k := range p.K {
							s += opA[i][k] * opB[k][j]
						}
						o := z*p.StrideC + i*p.N + j
						if p.Accumulate {
							// With stride 0 or overlapping C, later batches see earlier ones.
							want[o] += s
						} else {
							want[o] = s
						}
						written[o] = true
					}
				}
			}
			for i := range want {
				if !written[i] {
					if math.Float32bits(c[i]) != math.Float32bits(got[i]) {
						t.Fatalf("element %d outside C changed from %v to %v", i, c[i], got[i])
					}
					continue
				}
				tol := 1e-5 * float64(p.K+1) * (1 + math.Abs(want[i]))
				if math.Abs(want[i]-float64(got[i])) > tol {
					t.Fatalf("element %d = %v, want %v (tolerance %g)", i, got[i], want[i], tol)
				}
			}
		})
	}
}

// matrix64 returns the rows×cols matrix op(X) as float64, X stored row-major (cols×rows when
// transposed).
func matrix64(x []float32, rows, cols int, trans bool) [][]float64 {
	m := make([][]float64, rows)
	for r := range m {
		m[r] = make([]float64, cols)
		for q := range m[r] {
			if trans {
				m[r][q] = float64(x[q*rows+r])
			} else {
				m[r][q] = float64(x[r*cols+q])
			}
		}
	}
	return m
}

// TestMatMulChecksSizes: a buffer too small for the shape panics with the shape in the message;
// an exactly sized one does not.
func TestMatMulChecksSizes(t *testing.T) {
	d := NewCPU()
	p := MatMulArgs{M: 3, N: 5, K: 7, TransB: true, Batch: 2, StrideA: 21, StrideB: 0, StrideC: 15}
	for _, tc := range []struct {
		name      string
		c, a, b   int
		wantPanic string
	}{
		{"exact", 30, 42, 35, ""},
		{"small A", 30, 41, 35, "A is 3x7 per batch and needs 42 values, the buffer has 41"},
		{"small B", 30, 42, 34, "B is 5x7 (transposed) per batch and needs 35 values, the buffer has 34"},
		{"small C", 29, 42, 35, "C is 3x5 per batch and needs 30 values, the buffer has 29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, a, b := d.Alloc(tc.c), d.Alloc(tc.a), d.Alloc(tc.b)
			got := panicText(func() { d.MatMul(c, a, b, p) })
			if tc.wantPanic == "" {
				if got != "" {
					t.Fatalf("panicked: %s", got)
				}
				return
			}
			want := "ops: MatMul NT M=3 N=5 K=7 batch=2 strides(A,B,C)=(21,0,15) accumulate=false: " + tc.wantPanic
			if got != want {
				t.Fatalf("panic %q, want %q", got, want)
			}
		})
	}
	got := panicText(func() { d.MatMul(d.Alloc(1), d.Alloc(1), d.Alloc(1), MatMulArgs{M: -1, N: 1, K: 1}) })
	if !strings.Contains(got, "negative size") {
		t.Fatalf("negative M: panic %q, want one about a negative size", got)
	}
}

// panicText runs f and returns what it panicked with, as text ("" when it returned normally).
func panicText(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
			if msg == "" {
				msg = "(empty panic)"
			}
		}
	}()
	f()
	return ""
}
