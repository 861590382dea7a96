// attn_softmax_backward: for each row of the BH·Tq rows of Tk probabilities p and their
// gradient dp,
//   ds[t,j] += scale·p[t,j]·(dp[t,j] - Σ_k p[t,k]·dp[t,k]).
// Masked keys have p = 0, so they receive nothing whatever the mask mode. One workgroup per row;
// the row sum uses a fixed pairwise tree in workgroup memory.
//
// Dispatch: BH·Tq workgroups, flattened across num_workgroups.x and .y.
//
// Bindings:
//   0 p      storage read        BH·Tq·Tk f32
//   1 dp     storage read        BH·Tq·Tk f32
//   2 ds     storage read_write  BH·Tq·Tk f32 (accumulated into)
//   3 params uniform            { rows = BH·Tq, Tk, scale }
struct Params {
    rows: u32,
    Tk: u32,
    scale: f32,
}

override WG: u32 = 64u; // a power of two

@group(0) @binding(0) var<storage, read> p: array<f32>;
@group(0) @binding(1) var<storage, read> dp: array<f32>;
@group(0) @binding(2) var<storage, read_write> ds: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

//#include reduce

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= params.rows) {
        return;
    }
    let t = lid.x;
    let Tk = params.Tk;
    let base = row * Tk;
    var acc = 0.0;
    for (var j = t; j < Tk; j = j + WG) {
        acc = acc + p[base + j] * dp[base + j];
    }
    let pdp = reduce_sum(t, acc);
    for (var j = t; j < Tk; j = j + WG) {
        ds[base + j] = ds[base + j] + params.scale * p[base + j] * (dp[base + j] - pdp);
    }
}
