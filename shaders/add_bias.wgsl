// add_bias: y[r,c] += bias[c] for a rows×cols y (cols = C).
//
// Dispatch: 1D over rows·cols, flattened across num_workgroups.x and .y, WG invocations per
// workgroup.
//
// Bindings:
//   0 bias   storage read        cols f32
//   1 y      storage read_write  rows·cols f32 (input and output)
//   2 params uniform            { rows, cols }
struct Params {
    rows: u32,
    cols: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> bias: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.rows * params.cols) {
        return;
    }
    y[i] = y[i] + bias[i % params.cols];
}
