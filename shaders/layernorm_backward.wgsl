// layernorm_backward: the dx part of LayerNormBackward (layernorm_backward_params.wgsl adds dw
// and db). With x̂ = (x-μ)·rstd and g = w·dout for one row n,
//   dx[n,c] += (g[c] - mean_c(g) - x̂[c]·mean_c(g·x̂))·rstd.
// One workgroup per row; the two row means use a fixed pairwise tree as in layernorm.wgsl.
//
// Dispatch: N workgroups, flattened across num_workgroups.x and .y.
//
// Bindings:
//   0 dout   storage read        N·C f32
//   1 x      storage read        N·C f32
//   2 w      storage read        C f32
//   3 mean   storage read        N f32
//   4 rstd   storage read        N f32
//   5 dx     storage read_write  N·C f32 (accumulated into)
//   6 params uniform            { N, C }
struct Params {
    N: u32,
    C: u32,
}

override WG: u32 = 64u; // a power of two

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

//#include reduce

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let n = wid.x + wid.y * nwg.x;
    if (n >= params.N) {
        return;
    }
    let t = lid.x;
    let C = params.C;
    let base = n * C;
    let mu = mean[n];
    let r = rstd[n];
    var sg = 0.0;
    var sgx = 0.0;
    for (var c = t; c < C; c = c + WG) {
        let g = w[c] * dout[base + c];
        sg = sg + g;
        sgx = sgx + g * (x[base + c] - mu) * r;
    }
    let gmean = reduce_sum(t, sg) / f32(C);
    let gxmean = reduce_sum(t, sgx) / f32(C);
    for (var c = t; c < C; c = c + WG) {
        let g = w[c] * dout[base + c];
        let xhat = (x[base + c] - mu) * r;
        dx[base + c] = dx[base + c] + (g - gmean - xhat * gxmean) * r;
    }
}
