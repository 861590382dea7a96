// add_bias_backward: dbias[c] += Σ_r dy[r,c] for a rows×cols dy: one invocation per column sums
// the rows in increasing r (the CPU's order), then adds the sum into dbias once.
//
// Dispatch: ceil(cols/WG) workgroups along x.
//
// Bindings:
//   0 dy     storage read        rows·cols f32
//   1 dbias  storage read_write  cols f32 (accumulated into)
//   2 params uniform            { rows, cols }
struct Params {
    rows: u32,
    cols: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let c = gid.x;
    if (c >= params.cols) {
        return;
    }
    var acc = 0.0;
    for (var r = 0u; r < params.rows; r = r + 1u) {
        acc = acc + dy[r * params.cols + c];
    }
    dbias[c] = dbias[c] + acc;
}
