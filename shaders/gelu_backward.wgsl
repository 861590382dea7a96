// gelu_backward: dx[i] += gelu'(x[i])·dout[i] for i < n, with u = √(2/π)·(x + 0.044715·x³) and
//   gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·(1 - tanh² u)·√(2/π)·(1 + 3·0.044715·x²).
// sech² is written 1 - tanh² so that no cosh overflows; the argument is clamped as in gelu.wgsl.
//
// Dispatch: 1D over n, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 x      storage read        n f32
//   1 dout   storage read        n f32
//   2 dx     storage read_write  n f32 (accumulated into)
//   3 params uniform            { n }
struct Params {
    n: u32,
}

override WG: u32 = 256u;

const GELU_SCALE: f32 = 0.7978845608028654; // √(2/π)

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.n) {
        return;
    }
    let v = x[i];
    let u = clamp(GELU_SCALE * (v + 0.044715 * v * v * v), -15.0, 15.0);
    let th = tanh(u);
    let sech2 = 1.0 - th * th;
    let grad = 0.5 * (1.0 + th) + 0.5 * v * sech2 * GELU_SCALE * (1.0 + 3.0 * 0.044715 * v * v);
    dx[i] = dx[i] + grad * dout[i];
}
