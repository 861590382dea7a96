// merge_heads: out[b,t,h·D+d] = in[b,h,t,d]; in is B×H×T×D, out is B×T×(H·D). It is also
// split_heads' backward (a permutation: it overwrites).
//
// Dispatch: 1D over B·T·H·D (one invocation per output element), flattened across
// num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 src    storage read        B·H·T·D f32
//   1 out    storage read_write  B·T·H·D f32 (output)
//   2 params uniform            { B, T, H, D }
struct Params {
    B: u32,
    T: u32,
    H: u32,
    D: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    let T = params.T;
    let H = params.H;
    let D = params.D;
    if (i >= params.B * T * H * D) {
        return;
    }
    let hd = i % (H * D);
    let h = hd / D;
    let d = hd % D;
    let bt = i / (H * D);
    let t = bt % T;
    let b = bt / T;
    out[i] = src[((b * H + h) * T + t) * D + d];
}
