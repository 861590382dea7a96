// matmul_thin: C (+)= op(A)·op(B) for shapes with a small side (S = min(M,N) <= 16): LoRA's
// rank-r products (N = r forward, M = r for dA) and batch-1 decoding (M = 1). Layout, strides and
// sum order are matmul_naive.wgsl's (each output is Σ over k in increasing order, then stored or
// added once). One invocation owns one line of the long side and all S outputs across it, held in
// registers: with small_m == 0 it is row i of C (reading op(A)'s row once, op(B)'s S columns as
// broadcasts); with small_m == 1 it is column j (op(B)'s column once, op(A)'s S rows broadcast).
// The tiled kernel would spend most of a 64-wide tile on padding for these shapes. Operands are
// read through op_a and op_b (lib/matmul_operands.wgsl), as the tiled kernel fills its tiles.
//
// Dispatch: (ceil(L/WG), 1, Batch) workgroups, L = N when small_m else M.
//
// Bindings:
//   0 a      storage read        A f32
//   1 b      storage read        B f32
//   2 c      storage read_write  C f32 (output, or accumulated into)
//   3 params uniform            { M, N, K, transA, transB, strideA, strideB, strideC, accumulate,
//                                 small_m }
struct Params {
    M: u32,
    N: u32,
    K: u32,
    transA: u32,
    transB: u32,
    strideA: u32,
    strideB: u32,
    strideC: u32,
    accumulate: u32,
    small_m: u32,
}

override WG: u32 = 64u;

const S: u32 = 16u; // the largest small side

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

//#include matmul_operands

fn store(ci: u32, v: f32) {
    if (params.accumulate != 0u) {
        c[ci] = c[ci] + v;
    } else {
        c[ci] = v;
    }
}

// colA is op(A)[s..s+3, k] with rows past M read as 0 (so they add exact zeros to lanes that are
// never stored); rowB is op(B)[k, s..s+3] likewise for columns past N.
fn colA(a0: u32, s: u32, k: u32) -> vec4<f32> {
    return vec4<f32>(op_a(a0, s, k), op_a(a0, s + 1u, k), op_a(a0, s + 2u, k), op_a(a0, s + 3u, k));
}

fn rowB(b0: u32, k: u32, s: u32) -> vec4<f32> {
    return vec4<f32>(op_b(b0, k, s), op_b(b0, k, s + 1u), op_b(b0, k, s + 2u), op_b(b0, k, s + 3u));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let line = gid.x;
    let z = gid.z;
    let M = params.M;
    let N = params.N;
    let K = params.K;
    let a0 = z * params.strideA;
    let b0 = z * params.strideB;
    let c0 = z * params.strideC;
    // The S outputs of this line as four vectors (outputs 4q..4q+3 in acc_q): whole-vector
    // updates instead of a dynamically indexed private array, which some compilers (llvmpipe's
    // among them) spill to memory. Groups past the small side are skipped by uniform branches.
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();
    var small: u32;
    if (params.small_m != 0u) {
        let j = line;
        small = M;
        if (j >= N || M > S) {
            return;
        }
        for (var k = 0u; k < K; k = k + 1u) {
            let y = op_b(b0, k, j);
            acc0 = acc0 + colA(a0, 0u, k) * y;
            if (M > 4u) {
                acc1 = acc1 + colA(a0, 4u, k) * y;
            }
            if (M > 8u) {
                acc2 = acc2 + colA(a0, 8u, k) * y;
            }
            if (M > 12u) {
                acc3 = acc3 + colA(a0, 12u, k) * y;
            }
        }
    } else {
        let i = line;
        small = N;
        if (i >= M || N > S) {
            return;
        }
        for (var k = 0u; k < K; k = k + 1u) {
            let x = op_a(a0, i, k);
            acc0 = acc0 + x * rowB(b0, k, 0u);
            if (N > 4u) {
                acc1 = acc1 + x * rowB(b0, k, 4u);
            }
            if (N > 8u) {
                acc2 = acc2 + x * rowB(b0, k, 8u);
            }
            if (N > 12u) {
                acc3 = acc3 + x * rowB(b0, k, 12u);
            }
        }
    }
    for (var q = 0u; q < small; q = q + 1u) {
        var v: f32;
        switch (q / 4u) {
            case 0u: { v = acc0[q % 4u]; }
            case 1u: { v = acc1[q % 4u]; }
            case 2u: { v = acc2[q % 4u]; }
            default: { v = acc3[q % 4u]; }
        }
        if (params.small_m != 0u) {
            store(c0 + q * N + line, v);
        } else {
            store(c0 + line * N + q, v);
        }
    }
}
