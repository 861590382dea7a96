// sum_squares: out[slot] = Σ_{i<n} x[i]², by a fixed reduction tree so that every run on one
// adapter gives the same bits (no float atomics, no split across workgroups): one workgroup of
// WG invocations; invocation t sums x[t]², x[t+WG]², ... in increasing i, then the WG partial
// sums are halved pairwise in workgroup memory (s[t] += s[t+h] for h = WG/2, WG/4, ..., 1).
//
// Dispatch: exactly one workgroup.
//
// Bindings:
//   0 x      storage read        n f32
//   1 out    storage read_write  ≥ slot+1 f32 (out[slot] overwritten)
//   2 params uniform            { n, slot }
struct Params {
    n: u32,
    slot: u32,
}

override WG: u32 = 256u; // a power of two

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
    let t = lid.x;
    var acc = 0.0;
    for (var i = t; i < params.n; i = i + WG) {
        let v = x[i];
        acc = acc + v * v;
    }
    partial[t] = acc;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (t < h) {
            partial[t] = partial[t] + partial[t + h];
        }
        workgroupBarrier();
    }
    if (t == 0u) {
        out[params.slot] = partial[0];
    }
}
