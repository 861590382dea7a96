// cross_entropy: over N rows of V logits, one workgroup per row,
//   m = max_j logits[i,j],  S = Σ_j exp(logits[i,j] - m)
//   probs[i,j] = exp(logits[i,j] - m) / S
//   losses[i] = weights[i]·(-log probs[i,targets[i]]) = weights[i]·(log S - (logits[i,target] - m))
// (the log-sum-exp form of the same quantity, which stays finite when the target's probability
// underflows). Max and sum use a fixed pairwise tree in workgroup memory.
//
// Dispatch: N workgroups, flattened across num_workgroups.x and .y.
//
// Bindings:
//   0 logits  storage read        N·V f32
//   1 targets storage read        N i32 in [0,V)
//   2 weights storage read        N f32
//   3 losses  storage read_write  N f32 (output)
//   4 probs   storage read_write  N·V f32 (output)
//   5 params  uniform            { N, V }
struct Params {
    N: u32,
    V: u32,
}

override WG: u32 = 64u; // a power of two

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> losses: array<f32>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

//#include reduce

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
    let i = wid.x + wid.y * nwg.x;
    if (i >= params.N) {
        return;
    }
    let t = lid.x;
    let V = params.V;
    let base = i * V;
    var m = -3.402823e38;
    for (var j = t; j < V; j = j + WG) {
        m = max(m, logits[base + j]);
    }
    m = reduce_max(t, m);
    var sum = 0.0;
    for (var j = t; j < V; j = j + WG) {
        sum = sum + exp(logits[base + j] - m);
    }
    let S = reduce_sum(t, sum);
    for (var j = t; j < V; j = j + WG) {
        probs[base + j] = exp(logits[base + j] - m) / S;
    }
    if (t == 0u) {
        let tgt = u32(targets[i]);
        losses[i] = weights[i] * (log(S) - (logits[base + tgt] - m));
    }
}
