// add_inplace: x[i] = x[i] + y[i] for i < n. WebGPU forbids binding one buffer both as an input
// and as a writable output of the same dispatch, so Add with out == a (or out == b) uses this
// kernel with x = out and y = the other operand. The sum is the same float32 addition as add.wgsl.
//
// Dispatch: 1D over n, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 y      storage read        n f32
//   1 x      storage read_write  n f32 (input and output)
//   2 params uniform            { n }
struct Params {
    n: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.n) {
        return;
    }
    x[i] = x[i] + y[i];
}
