// matmul_naive: C (+)= op(A)·op(B) for Batch matrices, one invocation per element of C; the
// plain definition kept beside the tiled kernel as the GPU oracle (llm.c's way).
//   op(A) is M×K: A[i·K+k], or with transA A is stored K×M and op(A)[i,k] = A[k·M+i]
//   op(B) is K×N: B[k·N+j], or with transB B is stored N×K and op(B)[k,j] = B[j·K+k]
//   batch z reads A at z·strideA, B at z·strideB and writes C at z·strideC
//   acc = Σ_{k=0..K-1} op(A)[i,k]·op(B)[k,j] in increasing k;  C[i,j] = acc, or C[i,j] + acc
// with accumulate.
//
// Dispatch: (ceil(N/WX), ceil(M/WY), Batch) workgroups of WX×WY.
//
// Bindings:
//   0 a      storage read        A f32
//   1 b      storage read        B f32
//   2 c      storage read_write  C f32 (output, or accumulated into)
//   3 params uniform            { M, N, K, transA, transB, strideA, strideB, strideC, accumulate }
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
}

override WX: u32 = 16u;
override WY: u32 = 16u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let j = gid.x;
    let i = gid.y;
    let z = gid.z;
    let M = params.M;
    let N = params.N;
    let K = params.K;
    if (i >= M || j >= N) {
        return;
    }
    let a0 = z * params.strideA;
    let b0 = z * params.strideB;
    var acc = 0.0;
    for (var k = 0u; k < K; k = k + 1u) {
        var x: f32;
        var y: f32;
        if (params.transA != 0u) {
            x = a[a0 + k * M + i];
        } else {
            x = a[a0 + i * K + k];
        }
        if (params.transB != 0u) {
            y = b[b0 + j * K + k];
        } else {
            y = b[b0 + k * N + j];
        }
        acc = acc + x * y;
    }
    let ci = z * params.strideC + i * N + j;
    if (params.accumulate != 0u) {
        c[ci] = c[ci] + acc;
    } else {
        c[ci] = acc;
    }
}
