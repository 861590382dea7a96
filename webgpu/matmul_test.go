package webgpu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// matmulCases are awkward shapes: ones, primes, sizes that are not multiples of the 64-wide tile
// or the 16-wide tile load, every transpose form, batches with strides (including a shared B),
// accumulation, and the thin shapes (a side of 1..16).
var matmulCases = []ops.MatMulArgs{
	{M: 1, N: 1, K: 1},
	{M: 7, N: 5, K: 3},
	{M: 64, N: 64, K: 64},
	{M: 65, N: 63, K: 17},
	{M: 67, N: 131, K: 29, TransB: true},
	{M: 37, N: 71, K: 100, TransA: true},
	{M: 33, N: 47, K: 19, TransA: true, TransB: true},
	{M: 129, N: 70, K: 1, Accumulate: true},
	{M: 50, N: 40, K: 0},
	{M: 23, N: 29, K: 31, Batch: 3, StrideA: 23 * 31, StrideB: 31 * 29, StrideC: 23 * 29},
	{M: 19, N: 37, K: 41, Batch: 4, StrideA: 19 * 41, StrideB: 0, StrideC: 19 * 37, TransB: true, Accumulate: true},
	{M: 100, N: 4, K: 77, TransB: true},
	{M: 4, N: 90, K: 61, TransA: true, Accumulate: true},
	{M: 1, N: 200, K: 96, TransB: true},
	{M: 16, N: 16, K: 33},
	{M: 17, N: 16, K: 9, Batch: 2, StrideA: 17 * 9, StrideB: 9 * 16, StrideC: 17 * 16},
	{M: 9, N: 300, K: 20, TransA: true, TransB: true},
	{M: 130, N: 13, K: 45, TransA: true, Accumulate: true},
	{M: 300, N: 1, K: 50},
}

// matmulInputs returns seeded A, B and starting C for p.
func matmulInputs(p ops.MatMulArgs, seed uint64) (a, b, c []float32) {
	batch := max(p.Batch, 1)
	size := func(stride, n int) int { return (batch-1)*stride + n }
	r := rng(seed)
	return r.uniform(size(p.StrideA, p.M*p.K)), r.uniform(size(p.StrideB, p.K*p.N)), r.uniform(size(p.StrideC, p.M*p.N))
}

// TestMatMulKernels checks the tiled, thin and naive kernels and MatMul's own choice against
// ops.MatMulRef, the definition.
func TestMatMulKernels(t *testing.T) {
	d := testDevice(t)
	for _, kind := range []matmulKernel{kernelAuto, kernelTiled, kernelThin, kernelNaive} {
		for i, p := range matmulCases {
			if kind == kernelThin && p.M > thinMax && p.N > thinMax {
				continue
			}
			t.Run(fmt.Sprintf("%v/%d/%s", kind, i, p.Layout()), func(t *testing.T) {
				a, b, c := matmulInputs(p, uint64(i)+1)
				want := append([]float32(nil), c...)
				ops.MatMulRef(want, a, b, p)
				ga, gb, gc := upload(t, d, a), upload(t, d, b), upload(t, d, c)
				defer func() { d.Free(ga); d.Free(gb); d.Free(gc) }()
				d.matmul(kind, gc, ga, gb, p)
				// Sums of up to 100 products of values in [-1,1): a few float32 ulps of the
				// magnitude, from the GPU's fused multiply-adds.
				requireClose(t, download(t, d, gc), want, 1e-5, 1e-5)
			})
		}
	}
}

// TestMatMulPanicsOnShortBuffers checks that a shape larger than the buffers is caught on the
// host instead of being clamped by the GPU.
func TestMatMulPanicsOnShortBuffers(t *testing.T) {
	d := testDevice(t)
	a, b, c := d.Alloc(6), d.Alloc(6), d.Alloc(3)
	defer func() { d.Free(a); d.Free(b); d.Free(c) }()
	require.Panics(t, func() { d.MatMul(c, a, b, ops.MatMulArgs{M: 2, N: 2, K: 3}) })
	c8 := d.Alloc(8)
	require.Panics(t, func() {
		d.MatMul(c8, a, b, ops.MatMulArgs{M: 2, N: 2, K: 3, Batch: 2, StrideA: 6, StrideB: 0, StrideC: 4})
	})
	d.Free(c8)
	require.NoError(t, d.Flush())
}
