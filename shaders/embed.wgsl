// embed: out[b,t,c] = wte[ids[b,t],c] + wpe[t,c] for B×T tokens of C channels; ids are int32 in
// [0,V), wte is V×C, wpe is (≥T)×C.
//
// Dispatch: 1D over B·T·C, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 ids    storage read        B·T i32
//   1 wte    storage read        V·C f32
//   2 wpe    storage read        ≥T·C f32
//   3 out    storage read_write  B·T·C f32 (output)
//   4 params uniform            { BT, T, C }
struct Params {
    BT: u32,
    T: u32,
    C: u32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> ids: array<i32>;
@group(0) @binding(1) var<storage, read> wte: array<f32>;
@group(0) @binding(2) var<storage, read> wpe: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.BT * params.C) {
        return;
    }
    let bt = i / params.C;
    let c = i % params.C;
    let t = bt % params.T;
    let v = u32(ids[bt]);
    out[i] = wte[v * params.C + c] + wpe[t * params.C + c];
}
