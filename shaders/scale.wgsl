// scale: x[i] = x[i] * s for i < n.
//
// Dispatch: 1D over n, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 x      storage read_write  n f32 (input and output)
//   1 params uniform            { n, s }
struct Params {
    n: u32,
    s: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.n) {
        return;
    }
    x[i] = x[i] * params.s;
}
