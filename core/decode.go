package core

import (
	"pretune/core/ops"
)

// Cached decoding: the forward pass of one new token against a cache of the earlier positions'
// keys and values. Recomputing the whole sequence for every sampled token (continueBatch) costs
// the full forward pass of T positions per token; with the cache a token costs one position's
// projections and MLP plus its attention over the cached keys, so sampling a response is linear
// in its length instead of quadratic. RLHF rollouts (core/feedback) sample thousands of tokens
// per step, which is why SampleBatch uses it.
//
// It adds no device op: every step is made of ops the Device already has, so the WebGPU device
// runs it unchanged. Copies and selections that have no op of their own are MatMuls by 0/1
// matrices, which are exact (each output is 1·x plus zeros, summed in order), so the decoder's
// logits are those of the full forward pass bit for bit on the CPU device (decode_test.go).
//
// The decoder mirrors forwardBody for one sequence without dropout (Pass{}), LoRA included
// (it calls proj). Adapters and prefix tuning are not mirrored: canDecode refuses them and
// SampleBatch then recomputes as before.

// decoder holds one sequence's key/value cache and the scratch of one position.
type decoder struct {
	m     *Model
	a     *acts     // one position's activations (B=T=1), and proj's LoRA scratch
	kc    []ops.Buf // per layer: the keys, H×Ctx×D (head-major, so a head's keys are one matrix)
	vc    []ops.Buf // per layer: the values, H×Ctx×D
	s, p  ops.Buf   // one query's scores and probabilities, H×(n+1) of H×Ctx
	hot   ops.Buf   // e_n: the one-hot vector (Ctx) of the position being written
	eye   ops.Buf   // Ctx×Ctx identity: its first T rows copy a prompt's keys into the cache
	wpe   ops.Buf   // the position embedding of the new token (1×C)
	id    ops.Buf   // the new token (1 int32)
	batch *Batch    // the prompt, for the prefill's ordinary forward pass
	n     int       // positions in the cache
	out   []float32 // host copy of the logits of one forward pass
	hotH  []float32 // host copy of hot
}

// canDecode reports whether the cached decoder computes exactly what forward computes for this
// model: a causal LM without adapters or a prefix (LoRA and a value head are fine; a value
// head does not touch the logits).
func (m *Model) canDecode() bool {
	if m.Mask != ops.Causal || m.head != nil || m.prefixLen > 0 || m.prompt != nil {
		return false
	}
	for _, bl := range m.blocks {
		if bl.adapters[0] != nil || bl.adapters[1] != nil || bl.prefix != nil {
			return false
		}
	}
	return true
}

func (m *Model) newDecoder() *decoder {
	d, cfg := m.Dev, m.Cfg
	C, H, ctx := cfg.Dim, cfg.Heads, cfg.Context
	dc := &decoder{m: m, a: m.newActs(1, 1)}
	for range m.blocks {
		dc.kc = append(dc.kc, d.Alloc(ctx*C))
		dc.vc = append(dc.vc, d.Alloc(ctx*C))
	}
	dc.s, dc.p = d.Alloc(H*ctx), d.Alloc(H*ctx)
	dc.hot, dc.eye, dc.wpe, dc.id = d.Alloc(ctx), d.Alloc(ctx*ctx), d.Alloc(C), d.AllocInts(1)
	eye := make([]float32, ctx*ctx)
	for i := 0; i < ctx; i++ {
		eye[i*ctx+i] = 1
	}
	d.Upload(dc.eye, eye)
	dc.batch = NewBatch(d, 1, ctx)
	dc.hotH, dc.out = make([]float32, ctx), make([]float32, m.single.logits.Len())
	return dc
}

func (dc *decoder) free() {
	d := dc.m.Dev
	dc.a.free(d)
	for l := range dc.kc {
		d.Free(dc.kc[l])
		d.Free(dc.vc[l])
	}
	for _, b := range []ops.Buf{dc.s, dc.p, dc.hot, dc.eye, dc.wpe, dc.id} {
		d.Free(b)
	}
	dc.batch.Free(d)
}

// prefill runs the ordinary forward pass on a prompt of 1..Context tokens, fills the cache with
// its keys and values, and returns the logits (V) of its last position (valid until the next
// call).
func (dc *decoder) prefill(ids []int32) ([]float32, error) {
	m, d := dc.m, dc.m.Dev
	T, V, D, H, ctx := len(ids), m.Cfg.Vocab, m.Cfg.HeadDim(), m.Cfg.Heads, m.Cfg.Context
	a := m.single
	dc.batch.Set(d, 1, T, ids, make([]int32, T), nil)
	m.forward(a, dc.batch, Pass{})
	// cache[h] (Ctx×D) = S·kh[h] with S (Ctx×T) the identity over the prompt's rows and zero
	// below; S is stored transposed as the first T rows of eye. The rows past the prompt become
	// exactly 0, which step's accumulating write relies on.
	sel := ops.MatMulArgs{M: ctx, N: D, K: T, TransA: true, Batch: H, StrideA: 0, StrideB: T * D, StrideC: ctx * D}
	for l := range m.blocks {
		d.MatMul(dc.kc[l], dc.eye, a.layers[l].kh, sel)
		d.MatMul(dc.vc[l], dc.eye, a.layers[l].vh, sel)
	}
	dc.n = T
	if err := d.Download(a.logits, dc.out); err != nil {
		return nil, err
	}
	return dc.out[(T-1)*V : T*V], nil
}

// step appends token id at the next position (n < Context) and returns its logits (V), valid
// until the next call. It is forwardBody and the LM head for one row at position n, with the
// keys and values of positions 0..n-1 read from the cache instead of recomputed.
func (dc *decoder) step(id int32) ([]float32, error) {
	m, d, a := dc.m, dc.m.Dev, dc.a
	cfg := m.Cfg
	C, H, D, V, ctx := cfg.Dim, cfg.Heads, cfg.HeadDim(), cfg.Vocab, cfg.Context
	n := dc.n
	Tk := n + 1 // keys visible to the new token: every earlier position and itself
	clear(dc.hotH)
	dc.hotH[n] = 1
	d.Upload(dc.hot, dc.hotH)
	d.UploadInts(dc.id, []int32{id})
	// Embed adds wpe[t] for t the index within the batch; here t would be 0, so pass it a
	// one-row table holding wpe[n] (selected exactly by e_nᵀ·wpe): the same sum Embed forms in
	// the full pass.
	d.MatMul(dc.wpe, dc.hot, m.wpe.W, ops.MatMulArgs{M: 1, N: C, K: ctx})
	d.Embed(a.emb, dc.id, m.wte.W, dc.wpe, 1, 1, C)
	m.dropout(a.layers[0].x, a.emb, C, Pass{}, siteEmbed())
	scale := 1 / sqrt32(float32(D))
	for l := range m.blocks {
		m.blockForward(a, l, 1, Pass{}, func(la *layerActs) {
			// For one position (1,C) is already the split-heads layout (H,1,D). Write k and v
			// into cache row n: cache[h] += e_n·k[h], row n being 0 before (prefill zeroed it).
			write := ops.MatMulArgs{M: ctx, N: D, K: 1, Batch: H, StrideA: 0, StrideB: D, StrideC: ctx * D, Accumulate: true}
			d.MatMul(dc.kc[l], dc.hot, la.k, write)
			d.MatMul(dc.vc[l], dc.hot, la.v, write)
			// Per head: s = q·K[:n+1]ᵀ, p = softmax(s/√D), y = p·V[:n+1]. The causal mask with
			// Tq=1 lets the query see all n+1 keys; y comes out in the merged-heads layout (1,C).
			d.MatMul(dc.s, la.q, dc.kc[l], ops.MatMulArgs{M: 1, N: Tk, K: D, TransB: true, Batch: H, StrideA: D, StrideB: ctx * D, StrideC: Tk})
			d.AttnSoftmax(dc.p, dc.s, H, 1, Tk, scale, m.Mask)
			d.MatMul(la.y, dc.p, dc.vc[l], ops.MatMulArgs{M: 1, N: D, K: Tk, Batch: H, StrideA: Tk, StrideB: ctx * D, StrideC: D})
		})
	}
	d.LayerNorm(a.lnf, a.lnfM, a.lnfR, a.xL, m.lnfW.W, m.lnfB.W, 1, C)
	m.linear(a.logits, a.lnf, m.lmHead, nil, 1, C, V)
	dc.n++
	if err := d.Download(a.logits, dc.out[:V]); err != nil {
		return nil, err
	}
	return dc.out[:V], nil
}

// recompute is the full forward pass of the last Context tokens of seq, the window the model
// sees once a sequence outgrows its context (the cache cannot slide: every position's
// embedding would change), returning the logits of its last position.
func (dc *decoder) recompute(seq []int32) ([]float32, error) {
	m, ctx, V := dc.m, dc.m.Cfg.Context, dc.m.Cfg.Vocab
	if len(seq) > ctx {
		seq = seq[len(seq)-ctx:]
	}
	T := len(seq)
	dc.batch.Set(m.Dev, 1, T, seq, make([]int32, T), nil)
	m.forward(m.single, dc.batch, Pass{})
	if err := m.Dev.Download(m.single.logits, dc.out); err != nil {
		return nil, err
	}
	return dc.out[(T-1)*V : T*V], nil
}

// sampleCached continues each prompt, one row at a time, with the tokens choose picks, until
// the row writes stop or maxTokens tokens. A row's prompt is prefilled with one forward pass
// and each new token then costs one cached step; a row that outgrows the context (the old path
// slides its window) is recomputed over its last Context tokens from then on, so the logits
// are always those continueBatch would compute for the row.
func (m *Model) sampleCached(tk *Tokenizer, prompts [][]int32, maxTokens int, stop string, choose func(row []float32) int32) ([][]int32, error) {
	dc := m.newDecoder()
	defer dc.free()
	ctx := m.Cfg.Context
	out := make([][]int32, len(prompts))
	for i, p := range prompts {
		seq := append([]int32(nil), p...)
		if len(seq) == 0 {
			seq = []int32{TokPad}
		}
		var gen []int32
		var logits []float32
		var err error
		if len(seq) <= ctx {
			logits, err = dc.prefill(seq)
		} else {
			logits, err = dc.recompute(seq)
		}
		for err == nil {
			next := choose(logits)
			seq = append(seq, next)
			gen = append(gen, next)
			if len(gen) >= maxTokens || (stop != "" && hasSuffix(tk.Decode(gen), stop)) {
				break
			}
			if len(seq) <= ctx {
				logits, err = dc.step(next)
			} else {
				logits, err = dc.recompute(seq)
			}
		}
		if err != nil {
			return nil, err
		}
		out[i] = gen
	}
	return out, nil
}
