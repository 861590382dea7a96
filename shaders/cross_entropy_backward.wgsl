// cross_entropy_backward: dlogits[i,j] += scale·weights[i]·(probs[i,j] - [j == targets[i]]) over
// N rows of V. The trainer passes scale = 1/Σweights so that the loss is a weighted mean.
//
// Dispatch: 1D over N·V, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 probs   storage read        N·V f32
//   1 targets storage read        N i32
//   2 weights storage read        N f32
//   3 dlogits storage read_write  N·V f32 (accumulated into)
//   4 params  uniform            { N, V, scale }
struct Params {
    N: u32,
    V: u32,
    scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> probs: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let k = gid.x + gid.y * nwg.x * WG;
    if (k >= params.N * params.V) {
        return;
    }
    let i = k / params.V;
    let j = k % params.V;
    var g = probs[k];
    if (j == u32(targets[i])) {
        g = g - 1.0;
    }
    dlogits[k] = dlogits[k] + params.scale * weights[i] * g;
}
