// embed_backward: dwte[ids[b,t],:] += dout[b,t,:] and dwpe[t,:] += dout[b,t,:], deterministic
// without atomics: one invocation per gradient element loops over the tokens in increasing (b,t)
// order (the CPU's order) and adds each matching dout into its running value.
//   rows 0..V-1 of the grid are dwte's rows v: every token with ids[b,t] == v contributes;
//   rows V..V+T-1 are dwpe's rows t: the tokens (0,t), (1,t), ..., (B-1,t) contribute.
// All invocations of a workgroup share one row, so ids[b,t] is a broadcast read and dout a
// coalesced one.
//
// Dispatch: (ceil(C/WG), V+T) workgroups.
//
// Bindings:
//   0 dout   storage read        B·T·C f32
//   1 ids    storage read        B·T i32
//   2 dwte   storage read_write  V·C f32 (accumulated into)
//   3 dwpe   storage read_write  ≥T·C f32 (accumulated into)
//   4 params uniform            { B, T, C, V }
struct Params {
    B: u32,
    T: u32,
    C: u32,
    V: u32,
}

override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> ids: array<i32>;
@group(0) @binding(2) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(3) var<storage, read_write> dwpe: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let c = gid.x;
    let row = wid.y;
    let C = params.C;
    if (c >= C || row >= params.V + params.T) {
        return;
    }
    if (row < params.V) {
        var acc = dwte[row * C + c];
        let BT = params.B * params.T;
        for (var bt = 0u; bt < BT; bt = bt + 1u) {
            if (u32(ids[bt]) == row) {
                acc = acc + dout[bt * C + c];
            }
        }
        dwte[row * C + c] = acc;
    } else {
        let t = row - params.V;
        var acc = dwpe[t * C + c];
        for (var b = 0u; b < params.B; b = b + 1u) {
            acc = acc + dout[(b * params.T + t) * C + c];
        }
        dwpe[t * C + c] = acc;
    }
}
