// adamw: one AdamW step for n parameters, elementwise (the host computes the bias corrections
// and the clipping factor, see core.AdamWArgs):
//   g  = grad[i]·grad_scale
//   m  = β1·m + (1-β1)·g
//   v  = β2·v + (1-β2)·g²
//   p -= lr·((m/bc1) / (sqrt(v/bc2) + eps) + weight_decay·p)
//
// Dispatch: 1D over n, flattened across num_workgroups.x and .y, WG invocations per workgroup.
//
// Bindings:
//   0 grad   storage read        n f32
//   1 p      storage read_write  n f32 (updated in place)
//   2 m      storage read_write  n f32 (updated in place)
//   3 v      storage read_write  n f32 (updated in place)
//   4 params uniform            { n, lr, beta1, beta2, eps, weight_decay, bc1, bc2, grad_scale }
struct Params {
    n: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    bc1: f32,
    bc2: f32,
    grad_scale: f32,
}

override WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * WG;
    if (i >= params.n) {
        return;
    }
    let g = grad[i] * params.grad_scale;
    let mi = params.beta1 * m[i] + (1.0 - params.beta1) * g;
    let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    let mhat = mi / params.bc1;
    let vhat = vi / params.bc2;
    let pi = p[i];
    p[i] = pi - params.lr * (mhat / (sqrt(vhat) + params.eps) + params.weight_decay * pi);
}
