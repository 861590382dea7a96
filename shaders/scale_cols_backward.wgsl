// scale_cols_backward: dx[r,c] += dy[r,c]·s[c] and ds[c] += Σ_r dy[r,c]·x[r,c] for rows×cols
// dy and x. One invocation per column walks the rows in increasing r (the CPU's order), adds
// into dx as it goes and the column's sum into ds once.
//
// Dispatch: ceil(cols/WG) workgroups along x.
//
// Bindings:
//   0 dy     storage read        rows·cols f32
//   1 x      storage read        rows·cols f32
//   2 s      storage read        cols f32
//   3 dx     storage read_write  rows·cols f32 (accumulated into)
//   4 ds     storage read_write  cols f32 (accumulated into)
//   5 params uniform            { rows, cols }
struct Params {
    rows: u32,
    cols: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<storage, read_write> ds: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= params.cols) {
        return;
    }
    let sc = s[c];
    var acc = 0.0;
    for (var r = 0u; r < params.rows; r = r + 1u) {
        let i = r * params.cols + c;
        let g = dy[i];
        dx[i] = dx[i] + g * sc;
        acc = acc + g * x[i];
    }
    ds[c] = ds[c] + acc;
}
