// weight_norm: DoRA's row norms and scales for a rows×cols weight w and magnitudes m:
// norm[r] = sqrt(Σ_c w[r,c]²) summed in increasing c (the CPU's order), g[r] = m[r]/norm[r],
// and exactly 1 where m[r] == norm[r] (WGSL allows its division 2.5 ulp; DoRA starts with
// m = norm and must then compute the base model's outputs bit for bit).
//
// Dispatch: ceil(rows/WG) workgroups along x, one invocation per row.
//
// Bindings:
//   0 w      storage read        rows·cols f32
//   1 m      storage read        rows f32
//   2 norm   storage read_write  rows f32 (output)
//   3 g      storage read_write  rows f32 (output)
//   4 params uniform            { rows, cols }
struct Params {
    rows: u32,
    cols: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;
@group(0) @binding(3) var<storage, read_write> g: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let r = gid.x;
    if (r >= params.rows) {
        return;
    }
    var acc = 0.0;
    for (var c = 0u; c < params.cols; c = c + 1u) {
        let v = w[r * params.cols + c];
        acc = acc + v * v;
    }
    let n = sqrt(acc);
    norm[r] = n;
    let mr = m[r];
    g[r] = select(mr / n, 1.0, mr == n);
}
