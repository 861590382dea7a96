// split_heads: out[b,h,t,d] = in[b,t,h·D+d]; in is B×T×(H·D), out is B×H×T×D. It is also
// merge_heads' backward (a permutation: it overwrites).
//
// Dispatch: 1D over B·H·T·D (one invocation per output element), flattened across
// num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 src    storage read        B·T·H·D f32
//   1 out    storage read_write  B·H·T·D f32 (output)
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
    if (i >= params.B * H * T * D) {
        return;
    }
    let d = i % D;
    let t = (i / D) % T;
    let h = (i / (D * T)) % H;
    let b = i / (D * T * H);
    out[i] = src[(b * T + t) * H * D + h * D + d];
}
