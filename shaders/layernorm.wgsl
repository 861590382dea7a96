// layernorm: over the last axis of an N×C x,
//   μ = Σ_c x[n,c] / C,  σ² = Σ_c (x[n,c]-μ)² / C (biased),  rstd = 1/sqrt(σ² + 1e-5)
//   out[n,c] = (x[n,c]-μ)·rstd·w[c] + b[c];  mean[n] = μ, rstd[n] = rstd (saved for backward).
// One workgroup per row: invocation t sums c = t, t+WG, ... in increasing c, then a fixed
// pairwise tree in workgroup memory combines the WG partial sums (deterministic on one adapter).
//
// Dispatch: N workgroups, flattened across num_workgroups.x and .y.
//
// Bindings:
//   0 x      storage read        N·C f32
//   1 w      storage read        C f32
//   2 b      storage read        C f32
//   3 out    storage read_write  N·C f32 (output)
//   4 mean   storage read_write  N f32 (output)
//   5 rstd   storage read_write  N f32 (output)
//   6 params uniform            { N, C }
struct Params {
    N: u32,
    C: u32,
}

override WG: u32 = 64u; // a power of two

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd: array<f32>;
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
    var s = 0.0;
    for (var c = t; c < C; c = c + WG) {
        s = s + x[base + c];
    }
    let mu = reduce_sum(t, s) / f32(C);
    var q = 0.0;
    for (var c = t; c < C; c = c + WG) {
        let d = x[base + c] - mu;
        q = q + d * d;
    }
    let r = 1.0 / sqrt(reduce_sum(t, q) / f32(C) + 1e-5);
    for (var c = t; c < C; c = c + WG) {
        out[base + c] = (x[base + c] - mu) * r * w[c] + b[c];
    }
    if (t == 0u) {
        mean[n] = mu;
        rstd[n] = r;
    }
}
