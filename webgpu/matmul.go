package webgpu

import (
	"fmt"

	"pretune/core/ops"
)

// matmulKernel names one of the three matmul kernels.
type matmulKernel int

const (
	// kernelAuto picks naive for a side of 1, thin for a side of 2..16 and tiled otherwise.
	kernelAuto matmulKernel = iota
	// kernelTiled is matmul.wgsl: 64×64 tiles in workgroup memory, 4×4 registers an invocation.
	kernelTiled
	// kernelThin is matmul_thin.wgsl, for min(M,N) <= thinMax (LoRA ranks, batch-1 decoding).
	kernelThin
	// kernelNaive is matmul_naive.wgsl, one invocation an output: the GPU oracle.
	kernelNaive
)

// thinMax is matmul_thin.wgsl's S, the largest small side it handles.
const thinMax = 16

func (k matmulKernel) String() string {
	return [...]string{"auto", "tiled", "thin", "naive"}[k]
}

// MatMul computes C (+)= op(A)·op(B) (see ops.MatMulArgs) with the tiled kernel, the thin one
// when M or N is 2..16, or the naive one for a single row or column (a matrix-vector product,
// where no kernel can reuse loads and the naive one has the least overhead: on lavapipe it ran
// M=1, N=K=512 at 1.2 GFLOP/s against 0.14 for thin and 0.05 for tiled).
func (d *Device) MatMul(c, a, b ops.Buf, p ops.MatMulArgs) {
	d.matmul(kernelAuto, c, a, b, p)
}

func (d *Device) matmul(kind matmulKernel, c, a, b ops.Buf, p ops.MatMulArgs) {
	cb, ab, bb := d.fbuf(c), d.fbuf(a), d.fbuf(b)
	batch := p.Batch
	if batch <= 0 {
		batch = 1
	}
	if err := checkMatMul(p, batch, cb.n, ab.n, bb.n); err != nil {
		panic(err.Error())
	}
	if p.M == 0 || p.N == 0 {
		return
	}
	if kind == kernelAuto {
		switch small := min(p.M, p.N); {
		case small == 1:
			kind = kernelNaive
		case small <= thinMax:
			kind = kernelThin
		default:
			kind = kernelTiled
		}
	}
	params := u32s{uint32(p.M), uint32(p.N), uint32(p.K), b2u(p.TransA), b2u(p.TransB),
		uint32(p.StrideA), uint32(p.StrideB), uint32(p.StrideC), b2u(p.Accumulate)}
	bufs := []*buffer{ab, bb, cb}
	switch kind {
	case kernelTiled:
		d.dispatch("matmul", bufs, params, (p.N+63)/64, (p.M+63)/64, batch)
	case kernelNaive:
		d.dispatch("matmul_naive", bufs, params, (p.N+15)/16, (p.M+15)/16, batch)
	case kernelThin:
		if p.M > thinMax && p.N > thinMax {
			panic(fmt.Sprintf("webgpu: thin matmul needs M or N <= %d: %v", thinMax, p))
		}
		smallM := p.M <= p.N
		long := p.M
		if smallM {
			long = p.N
		}
		d.dispatch("matmul_thin", bufs, append(params, b2u(smallM)), (long+63)/64, 1, batch)
	}
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// checkMatMul checks that the buffers hold every matrix the shape reads or writes: the GPU
// clamps out-of-range reads instead of failing, which would hide a caller's shape bug.
func checkMatMul(p ops.MatMulArgs, batch, lc, la, lb int) error {
	if p.M < 0 || p.N < 0 || p.K < 0 || p.StrideA < 0 || p.StrideB < 0 || p.StrideC < 0 {
		return fmt.Errorf("webgpu: MatMul with a negative size: %v", p)
	}
	need := func(stride, size int) int {
		if size == 0 {
			return 0
		}
		return (batch-1)*stride + size
	}
	if la < need(p.StrideA, p.M*p.K) || lb < need(p.StrideB, p.K*p.N) || lc < need(p.StrideC, p.M*p.N) {
		return fmt.Errorf("webgpu: MatMul %v: buffers of %d, %d, %d values (C, A, B) are too short", p, lc, la, lb)
	}
	return nil
}
