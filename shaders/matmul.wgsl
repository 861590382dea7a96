// matmul: the tiled kernel. C (+)= op(A)·op(B) for Batch matrices, with the layout, strides and
// sum order of matmul_naive.wgsl (acc = Σ over k in increasing order, then C = acc or C + acc),
// so it agrees with the naive kernel and with ops.MatMulRef up to rounding.
//
// Tiling: a workgroup of TX×TY = 16×16 invocations computes a BM×BN = 64×64 tile of C;
// invocation (tx,ty) holds a 4×4 register block, rows ty+TY·r and columns tx+TX·c (r,c < 4), so
// its stores are coalesced across tx. K is walked in steps of BK = 16: the workgroup loads
// op(A)'s 64×16 and op(B)'s 16×64 slices into workgroup memory (8 KiB) element by element through
// op_a and op_b (lib/matmul_operands.wgsl, shared with the thin kernel; loads outside the matrix
// read 0, which adds exact zeros), with the load order chosen per transpose flag so that
// neighbouring invocations read neighbouring addresses, then every invocation does 16 rank-1
// updates of its block. TX and TY may be overridden with BK·BM and BK·BN multiples of TX·TY.
//
// Dispatch: (ceil(N/BN), ceil(M/BM), Batch) workgroups of TX×TY.
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

override TX: u32 = 16u;
override TY: u32 = 16u;

const RM: u32 = 4u; // rows of C per invocation (the components of a vec4)
const RN: u32 = 4u; // columns of C per invocation
const BK: u32 = 16u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

//#include matmul_operands

// The slices are stored as vectors so that an invocation reads its 4 rows (or columns) of one k
// in a single load: As[k·TY + m%TY][m/TY] = op(A)[m0+m, k0+k] holds rows ty, ty+16, ty+32, ty+48
// together, and Bs[k·TX + n%TX][n/TX] = op(B)[k0+k, n0+n] columns tx, tx+16, tx+32, tx+48.
var<workgroup> As: array<vec4<f32>, BK * TY>;
var<workgroup> Bs: array<vec4<f32>, BK * TX>;

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let BM = TY * RM;
    let BN = TX * RN;
    let K = params.K;
    let z = wid.z;
    let m0 = wid.y * BM;
    let n0 = wid.x * BN;
    let a0 = z * params.strideA;
    let b0 = z * params.strideB;
    let tx = lid.x;
    let ty = lid.y;
    let tid = ty * TX + tx;
    let transA = params.transA != 0u;
    let transB = params.transB != 0u;

    // The 4×4 block as four row vectors (acc0 is row ty, acc1 row ty+16, ...; component cc is
    // column tx+16·cc): whole-vector updates, no dynamically indexed private array, which some
    // compilers (llvmpipe's among them) spill to memory.
    var acc0 = vec4<f32>();
    var acc1 = vec4<f32>();
    var acc2 = vec4<f32>();
    var acc3 = vec4<f32>();

    for (var k0 = 0u; k0 < K; k0 = k0 + BK) {
        for (var q = 0u; q < (BK * BM) / (TX * TY); q = q + 1u) {
            let e = tid + q * TX * TY;
            var m: u32;
            var k: u32;
            if (transA) {
                // A is K×M: consecutive invocations take consecutive m.
                k = e / BM;
                m = e % BM;
            } else {
                // A is M×K: consecutive invocations take consecutive k.
                m = e / BK;
                k = e % BK;
            }
            As[k * TY + m % TY][m / TY] = op_a(a0, m0 + m, k0 + k);
        }
        for (var q = 0u; q < (BK * BN) / (TX * TY); q = q + 1u) {
            let e = tid + q * TX * TY;
            var n: u32;
            var k: u32;
            if (transB) {
                // B is N×K: consecutive invocations take consecutive k.
                n = e / BK;
                k = e % BK;
            } else {
                // B is K×N: consecutive invocations take consecutive n.
                k = e / BN;
                n = e % BN;
            }
            Bs[k * TX + n % TX][n / TX] = op_b(b0, k0 + k, n0 + n);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk = kk + 1u) {
            let ra = As[kk * TY + ty];
            let rb = Bs[kk * TX + tx];
            acc0 = acc0 + ra.x * rb;
            acc1 = acc1 + ra.y * rb;
            acc2 = acc2 + ra.z * rb;
            acc3 = acc3 + ra.w * rb;
        }
        workgroupBarrier();
    }

    let c0 = z * params.strideC;
    store_row(c0, m0 + ty, n0 + tx, acc0);
    store_row(c0, m0 + ty + TY, n0 + tx, acc1);
    store_row(c0, m0 + ty + 2u * TY, n0 + tx, acc2);
    store_row(c0, m0 + ty + 3u * TY, n0 + tx, acc3);
}

// store_row writes (or adds) v into row i of C at columns j, j+TX, j+2·TX, j+3·TX, skipping
// those outside the matrix.
fn store_row(c0: u32, i: u32, j: u32, v: vec4<f32>) {
    if (i >= params.M) {
        return;
    }
    for (var cc = 0u; cc < RN; cc = cc + 1u) {
        let jj = j + cc * TX;
        if (jj < params.N) {
            let ci = c0 + i * params.N + jj;
            if (params.accumulate != 0u) {
                c[ci] = c[ci] + v[cc];
            } else {
                c[ci] = v[cc];
            }
        }
    }
}
