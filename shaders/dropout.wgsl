// dropout: out[i] = keep(i) ? x[i] / keep_prob : 0 for i < n, where
//   keep(i) = dropout_bits(seed, step, site, i) >= threshold
// and dropout_bits mirrors ops.DropoutBits line by line (32-bit wrapping adds, xors, shifts and
// multiplies), so the GPU draws exactly the CPU's mask. The host passes threshold =
// core.DropoutThreshold(rate) and keep_prob = float32(1 - rate).
//
// Dispatch: 1D over n, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 x      storage read        n f32
//   1 out    storage read_write  n f32 (output)
//   2 params uniform            { n, seed_lo, seed_hi, step, site, threshold, keep_prob }
struct Params {
    n: u32,
    seed_lo: u32,
    seed_hi: u32,
    step: u32,
    site: u32,
    threshold: u32,
    keep_prob: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

//#include dropout_bits

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.n) {
        return;
    }
    if (dropout_bits(params.seed_lo, params.seed_hi, params.step, params.site, i) >= params.threshold) {
        out[i] = x[i] / params.keep_prob;
    } else {
        out[i] = 0.0;
    }
}
