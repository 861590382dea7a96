// reduce: workgroup-wide reductions by a fixed pairwise halving tree in workgroup memory, so a
// sum or max over the workgroup has the same order on every run of one adapter (no atomics).
// The including kernel declares `override WG: u32` (a power of two) and calls these from uniform
// control flow, every invocation of the workgroup with its own t = local_invocation_id.x.

var<workgroup> red: array<f32, WG>;

// reduce_sum returns Σ over the workgroup of v.
fn reduce_sum(t: u32, v: f32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (t < h) {
            red[t] = red[t] + red[t + h];
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

// reduce_max returns the maximum over the workgroup of v.
fn reduce_max(t: u32, v: f32) -> f32 {
    red[t] = v;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
        if (t < h) {
            red[t] = max(red[t], red[t + h]);
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}
