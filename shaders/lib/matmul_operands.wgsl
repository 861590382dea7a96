// matmul_operands: one element of op(A) or op(B), with matmul_naive.wgsl's layout, transposes and
// batch offsets, reading 0 outside the matrix. matmul.wgsl fills its tiles and matmul_thin.wgsl
// its register vectors through these, so the two cannot index the operands differently; the
// zeros they read past an edge add exact zeros to sums whose lanes are never stored. The naive
// kernel keeps its own inline loads: it is the definition these are checked against.
// The including kernel binds `a` and `b` (array<f32>) and a uniform `params` with the u32 fields
// M, N, K, transA and transB.

// op_a is op(A)[i, k] of the matrix at a0 (z·strideA): A[i·K+k], or A[k·M+i] with transA.
fn op_a(a0: u32, i: u32, k: u32) -> f32 {
    if (i >= params.M || k >= params.K) {
        return 0.0;
    }
    if (params.transA != 0u) {
        return a[a0 + k * params.M + i];
    }
    return a[a0 + i * params.K + k];
}

// op_b is op(B)[k, j] of the matrix at b0 (z·strideB): B[k·N+j], or B[j·K+k] with transB.
fn op_b(b0: u32, k: u32, j: u32) -> f32 {
    if (k >= params.K || j >= params.N) {
        return 0.0;
    }
    if (params.transB != 0u) {
        return b[b0 + j * params.K + k];
    }
    return b[b0 + k * params.N + j];
}
