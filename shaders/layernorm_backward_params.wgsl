// layernorm_backward_params: the dw and db part of LayerNormBackward. For each column c,
//   dw[c] += Σ_n dout[n,c]·x̂[n,c],  db[c] += Σ_n dout[n,c],  x̂ = (x-mean[n])·rstd[n],
// one invocation per column adding the rows into the running value in increasing n (the CPU's
// order, no atomics).
//
// Dispatch: ceil(C/WG) workgroups along x.
//
// Bindings:
//   0 dout   storage read        N·C f32
//   1 x      storage read        N·C f32
//   2 mean   storage read        N f32
//   3 rstd   storage read        N f32
//   4 dw     storage read_write  C f32 (accumulated into)
//   5 db     storage read_write  C f32 (accumulated into)
//   6 params uniform            { N, C }
struct Params {
    N: u32,
    C: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
@group(0) @binding(5) var<storage, read_write> db: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    let C = params.C;
    if (c >= C) {
        return;
    }
    var aw = dw[c];
    var ab = db[c];
    for (var n = 0u; n < params.N; n = n + 1u) {
        let d = dout[n * C + c];
        aw = aw + d * ((x[n * C + c] - mean[n]) * rstd[n]);
        ab = ab + d;
    }
    dw[c] = aw;
    db[c] = ab;
}
