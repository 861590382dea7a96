// attn_softmax: for each of BH score matrices s of Tq×Tk, row t:
//   p[t,j] = exp(scale·s[t,j] - m) / Σ_visible exp(scale·s[t,k] - m), m = max_visible scale·s[t,k]
// over the visible keys, and p[t,j] = 0 exactly for masked keys. mode 0 (causal): key j is
// visible when j <= t + (Tk - Tq), so with Tk > Tq the first Tk-Tq keys (a prefix) are seen by
// every query, and with Tk < Tq a row that sees no key is all zeros; mode 1 (bidirectional):
// every key is visible.
// One workgroup per row; max and sum use a fixed pairwise tree in workgroup memory.
//
// Dispatch: BH·Tq workgroups, flattened across num_workgroups.x and .y.
//
// Bindings:
//   0 s      storage read        BH·Tq·Tk f32
//   1 p      storage read_write  BH·Tq·Tk f32 (output)
//   2 params uniform            { rows = BH·Tq, Tq, Tk, scale, mode }
struct Params {
    rows: u32,
    Tq: u32,
    Tk: u32,
    scale: f32,
    mode: u32,
}

override WG: u32 = 64u; // a power of two

@group(0) @binding(0) var<storage, read> s: array<f32>;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

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
    let q = row % params.Tq;
    var nvis = Tk;
    if (params.mode == 0u) {
        nvis = u32(clamp(i32(q) + i32(Tk) - i32(params.Tq) + 1, 0, i32(Tk)));
    }
    let base = row * Tk;
    var m = -3.402823e38;
    for (var j = t; j < nvis; j = j + WG) {
        m = max(m, params.scale * s[base + j]);
    }
    m = reduce_max(t, m);
    var sum = 0.0;
    for (var j = t; j < nvis; j = j + WG) {
        sum = sum + exp(params.scale * s[base + j] - m);
    }
    let total = reduce_sum(t, sum);
    for (var j = t; j < Tk; j = j + WG) {
        if (j < nvis) {
            p[base + j] = exp(params.scale * s[base + j] - m) / total;
        } else {
            p[base + j] = 0.0;
        }
    }
}
