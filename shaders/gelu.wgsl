// gelu: the tanh form, as GPT-2: out[i] = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) for i < n.
//
// The tanh argument is clamped to ±15 first: tanh there is ±1 in float32 already, and some
// drivers evaluate tanh through exp, which overflows to NaN for large arguments.
//
// Dispatch: 1D over n, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 x      storage read        n f32
//   1 out    storage read_write  n f32 (output)
//   2 params uniform            { n }
struct Params {
    n: u32,
}

override WG: u32 = 256u;

const GELU_SCALE: f32 = 0.7978845608028654; // √(2/π)

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.n) {
        return;
    }
    let v = x[i];
    let u = clamp(GELU_SCALE * (v + 0.044715 * v * v * v), -15.0, 15.0);
    out[i] = 0.5 * v * (1.0 + tanh(u));
}
