// The browser benchmark's peer: the same pre-LN GPT that pretune trains (core/model.go,
// core/forward.go), written for TensorFlow.js and trained by its wasm backend, so one Chromium
// page can time both. Test- and bench-only: bench_browser_test.go serves it with TensorFlow.js
// from .npm/ (pinned), never the app.
//
// The model, as core builds it: token and position tables; L blocks of LayerNorm (eps 1e-5) ->
// causal multi-head attention (q, k, v and output projections with biases, softmax of QKᵀ/√D)
// -> residual, LayerNorm -> MLP (C -> 4C, GELU tanh form, 4C -> C, with biases) -> residual; a
// final LayerNorm and an untied LM head without bias; mean cross-entropy over B·T positions.
// The step, as core's trainer does it: the global gradient norm read back to the host, clipped
// to gradClip, then AdamW (decoupled weight decay on matrices only, bias-corrected moments),
// and the loss read back. Weights are stored in->out so the forward products need no transpose
// (TensorFlow.js's wasm backend is fastest that way), and q, k, v are one C×3C product: the same
// arithmetic, in the layout that suits the peer best.
//
// pretunePeer(tf, cfg, tokens) returns {step, losses, params, dispose}: step() trains one batch
// of cfg.batch random windows of cfg.context tokens from tokens and resolves to the loss, which
// it also appends to losses; params counts the weights.
'use strict';

let pretunePeerModels = 0; // variable names are global to TensorFlow.js: each model gets its own

function pretunePeer(tf, cfg, tokens) {
  const prefix = `peer${pretunePeerModels++}.`;
  const V = cfg.vocab, T = cfg.context, C = cfg.dim, L = cfg.layers, H = cfg.heads, B = cfg.batch;
  const D = C / H, N = B * T;
  let seed = cfg.seed || 1;
  const rand = () => { // xorshift32: a seeded init, not core's stream (the speed is what counts)
    seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
    return (seed + 0.5) / 4294967296;
  };
  const normal = (n, std) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = std * Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    return a;
  };
  const params = []; // {v: tf.Variable, decay: bool}
  const add = (name, shape, init, decay) => {
    const n = shape.reduce((a, b) => a * b, 1);
    let data;
    if (init === 'ones') data = new Float32Array(n).fill(1);
    else if (init === 'zeros') data = new Float32Array(n);
    else data = normal(n, init);
    const v = tf.variable(tf.tensor(data, shape), true, prefix + name);
    params.push({ v, decay });
    return v;
  };
  const resid = 0.02 / Math.sqrt(2 * L);
  const wte = add('wte', [V, C], 0.02, true);
  const wpe = add('wpe', [T, C], 0.02, true);
  const blocks = [];
  for (let l = 0; l < L; l++) {
    blocks.push({
      ln1g: add(`b${l}.ln1.g`, [C], 'ones', false), ln1b: add(`b${l}.ln1.b`, [C], 'zeros', false),
      wqkv: add(`b${l}.wqkv`, [C, 3 * C], 0.02, true), bqkv: add(`b${l}.bqkv`, [3 * C], 'zeros', false),
      wo: add(`b${l}.wo`, [C, C], resid, true), bo: add(`b${l}.bo`, [C], 'zeros', false),
      ln2g: add(`b${l}.ln2.g`, [C], 'ones', false), ln2b: add(`b${l}.ln2.b`, [C], 'zeros', false),
      wfc: add(`b${l}.wfc`, [C, 4 * C], 0.02, true), bfc: add(`b${l}.bfc`, [4 * C], 'zeros', false),
      wproj: add(`b${l}.wproj`, [4 * C, C], resid, true), bproj: add(`b${l}.bproj`, [C], 'zeros', false),
    });
  }
  const lnfg = add('lnf.g', [C], 'ones', false), lnfb = add('lnf.b', [C], 'zeros', false);
  const head = add('lm_head', [C, V], 0.02, true);
  const moments = params.map((p) => ({
    m: tf.variable(tf.zerosLike(p.v), false), v: tf.variable(tf.zerosLike(p.v), false),
  }));

  // The causal mask as an additive bias, made once.
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -1e9;
  const mask = tf.tensor(maskData, [1, T, T]);
  const scale = 1 / Math.sqrt(D);
  const geluK = Math.sqrt(2 / Math.PI);

  // Functions, not chained methods: tf-core.min.js registers no chained ops.
  const { add: plus, sub, mul, div, reshape, transpose, matMul } = tf;
  const layerNorm = (x, g, b) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return plus(mul(mul(sub(x, mean), tf.rsqrt(plus(variance, 1e-5))), g), b);
  };
  const gelu = (x) => mul(mul(x, 0.5), plus(tf.tanh(mul(plus(x, mul(mul(mul(x, x), x), 0.044715)), geluK)), 1));
  const heads = (x) => reshape(transpose(reshape(x, [B, T, H, D]), [0, 2, 1, 3]), [B * H, T, D]);
  const linear = (x, w, b) => plus(matMul(x, w), b);

  const loss = (inputs, targets) => {
    // The token lookup as a one-hot product: the wasm backend has no kernel for gather's
    // gradient (UnsortedSegmentSum). It adds about 2% to the small model's arithmetic. Every
    // window is T long, so the positions' rows are the whole table.
    let x = reshape(plus(reshape(matMul(tf.oneHot(inputs, V), wte), [B, T, C]), reshape(wpe, [1, T, C])), [N, C]);
    for (const bl of blocks) {
      const [q, k, v] = tf.split(linear(layerNorm(x, bl.ln1g, bl.ln1b), bl.wqkv, bl.bqkv), 3, 1);
      const s = plus(mul(matMul(heads(q), heads(k), false, true), scale), mask);
      const y = reshape(transpose(reshape(matMul(tf.softmax(s), heads(v)), [B, H, T, D]), [0, 2, 1, 3]), [N, C]);
      x = plus(x, linear(y, bl.wo, bl.bo));
      const h = gelu(linear(layerNorm(x, bl.ln2g, bl.ln2b), bl.wfc, bl.bfc));
      x = plus(x, linear(h, bl.wproj, bl.bproj));
    }
    const logits = matMul(layerNorm(x, lnfg, lnfb), head);
    return div(tf.neg(tf.sum(mul(tf.logSoftmax(logits), tf.oneHot(targets, V)))), N);
  };

  let t = 0;
  const losses = []; // every step's loss, to check the peer learns
  const b1 = cfg.beta1, b2 = cfg.beta2;
  const vars = params.map((p) => p.v);
  const step = async () => {
    const inp = new Int32Array(N), tgt = new Int32Array(N);
    for (let b = 0; b < B; b++) {
      const off = Math.floor(rand() * (tokens.length - T - 1));
      for (let i = 0; i < T; i++) {
        inp[b * T + i] = tokens[off + i];
        tgt[b * T + i] = tokens[off + i + 1];
      }
    }
    const inputs = tf.tensor(inp, [N], 'int32'), targets = tf.tensor(tgt, [N], 'int32');
    const { value, grads } = tf.variableGrads(() => loss(inputs, targets), vars);
    // Global norm to the host, as core's optimizer reads it, then the clip scale.
    const sq = tf.tidy(() => tf.addN(vars.map((v) => tf.sum(tf.square(grads[v.name])))));
    const norm = Math.sqrt((await sq.data())[0]);
    sq.dispose();
    const gscale = cfg.gradClip > 0 && norm > cfg.gradClip ? cfg.gradClip / (norm + 1e-6) : 1;
    t++;
    const bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
    tf.tidy(() => {
      params.forEach((p, i) => {
        const g = mul(grads[p.v.name], gscale);
        const m = plus(mul(moments[i].m, b1), mul(g, 1 - b1));
        const v = plus(mul(moments[i].v, b2), mul(tf.square(g), 1 - b2));
        moments[i].m.assign(m);
        moments[i].v.assign(v);
        let upd = div(div(m, bc1), plus(tf.sqrt(div(v, bc2)), cfg.eps));
        if (p.decay) upd = plus(upd, mul(p.v, cfg.weightDecay));
        p.v.assign(sub(p.v, mul(upd, cfg.lr)));
      });
    });
    const out = (await value.data())[0];
    tf.dispose([value, inputs, targets, ...Object.values(grads)]);
    losses.push(out);
    return out;
  };
  const dispose = () => {
    tf.dispose([mask, ...vars, ...moments.flatMap((m) => [m.m, m.v])]);
  };
  return { step, losses, params: params.reduce((n, p) => n + p.v.size, 0), dispose };
}
