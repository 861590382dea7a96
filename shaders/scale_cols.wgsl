// scale_cols: out[r,c] = x[r,c]·s[c] for a rows×cols x (IA3's rescaling, DoRA's magnitude).
//
// Dispatch: 1D over rows·cols, flattened across num_workgroups.x and .y, WG invocations per
// workgroup.
//
// Bindings:
//   0 x      storage read        rows·cols f32
//   1 s      storage read        cols f32
//   2 out    storage read_write  rows·cols f32 (output)
//   3 params uniform            { rows, cols }
struct Params {
    rows: u32,
    cols: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.rows * params.cols) {
        return;
    }
    out[i] = x[i] * s[i % params.cols];
}
