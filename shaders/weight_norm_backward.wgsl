// weight_norm_backward: for weight_norm's g = m/norm, given dg (rows):
//   dm[r]   += dg[r] / norm[r]
//   dw[r,c] += k[r]·w[r,c]   with k[r] = -(dg[r]·m[r]) / (norm[r]·norm[r]·norm[r])
// One invocation per element of w; the one at c = 0 also adds dm[r] (each output has one
// writer: no atomics).
//
// Dispatch: 1D over rows·cols, flattened across num_workgroups.x and .y, WG invocations per
// workgroup.
//
// Bindings:
//   0 dg     storage read        rows f32
//   1 w      storage read        rows·cols f32
//   2 m      storage read        rows f32
//   3 norm   storage read        rows f32
//   4 dw     storage read_write  rows·cols f32 (accumulated into)
//   5 dm     storage read_write  rows f32 (accumulated into)
//   6 params uniform            { rows, cols }
struct Params {
    rows: u32,
    cols: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> dg: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read> norm: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
@group(0) @binding(5) var<storage, read_write> dm: array<f32>;
@group(0) @binding(6) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.rows * params.cols) {
        return;
    }
    let r = i / params.cols;
    let n = norm[r];
    let k = -(dg[r] * m[r]) / (n * n * n);
    dw[i] = dw[i] + k * w[i];
    if (i % params.cols == 0u) {
        dm[r] = dm[r] + dg[r] / n;
    }
}
