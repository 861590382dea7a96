package core

import (
	"math"

	"pretune/core/ops"
)

// layerActs are one block's saved activations, kept for the backward pass.
type layerActs struct {
	x                   ops.Buf // the block's input: the residual stream (B,T,C)
	ln1, ln1Mean, ln1R  ops.Buf
	q, k, v, qh, kh, vh ops.Buf // (B,T,C) and, split into heads, (B,H,T,D)
	s, p                ops.Buf // attention scores and probabilities (B,H,T,T)
	yh, y, o, oDrop     ops.Buf
	x2                  ops.Buf // x + attention branch
	ln2, ln2Mean, ln2R  ops.Buf
	h, g                ops.Buf // MLP hidden before and after GELU (B,T,4C)
	mo, moDrop          ops.Buf
}

// acts are the activations and gradient scratch of one batch shape. Gradient scratch is shared by
// all blocks: the backward pass handles one block at a time.
type acts struct {
	B, T   int
	emb    ops.Buf // embedding sum before dropout
	layers []layerActs
	xL     ops.Buf // the final residual stream
	lnf    ops.Buf
	lnfM   ops.Buf
	lnfR   ops.Buf
	logits ops.Buf // (B,T,V)
	probs  ops.Buf
	losses ops.Buf // (B,T)

	dres, dln, dq, dk, dv, dqh, dkh, dvh, ds, dp, dyh, dy, dmo, dh, dg, dlogits, ddrop ops.Buf

	// The fine-tuning methods' activations and scratch (empty for a plain model).
	lora    map[*loraLayer]*loraActs
	adapter map[*adapter]*adapterActs
	prefix  []*prefixActs // per layer; nil entries without prefix tuning
	prompt  *promptActs   // nil without prompt tuning
	head    *headActs
	value   *valueActs
	ia3     map[*ia3Layer]*ia3Acts
}

func (m *Model) newActs(B, T int) *acts {
	dev, cfg := m.Dev, m.Cfg
	C, H, V, N := cfg.Dim, cfg.Heads, cfg.Vocab, B*T
	a := &acts{B: B, T: T}
	Tk := T + m.prefixLen // keys per query row: the prefix, then the tokens
	f := dev.Alloc
	dropped := func(x ops.Buf) ops.Buf { // without dropout the "dropped" tensor is the tensor itself
		if cfg.Dropout > 0 {
			return f(x.Len())
		}
		return x
	}
	a.emb = f(N * C)
	x := dropped(a.emb)
	for l := 0; l < cfg.Layers; l++ {
		la := layerActs{x: x}
		la.ln1, la.ln1Mean, la.ln1R = f(N*C), f(N), f(N)
		la.q, la.k, la.v, la.qh, la.kh, la.vh = f(N*C), f(N*C), f(N*C), f(N*C), f(N*C), f(N*C)
		la.s, la.p = f(B*H*T*Tk), f(B*H*T*Tk)
		la.yh, la.y, la.o = f(N*C), f(N*C), f(N*C)
		la.oDrop = dropped(la.o)
		la.x2 = f(N * C)
		la.ln2, la.ln2Mean, la.ln2R = f(N*C), f(N), f(N)
		la.h, la.g = f(N*4*C), f(N*4*C)
		la.mo = f(N * C)
		la.moDrop = dropped(la.mo)
		x = f(N * C)
		a.layers = append(a.layers, la)
	}
	a.xL = x
	a.lnf, a.lnfM, a.lnfR = f(N*C), f(N), f(N)
	a.logits, a.probs, a.losses = f(N*V), f(N*V), f(N)

	a.dres, a.dln = f(N*C), f(N*C)
	a.dq, a.dk, a.dv, a.dqh, a.dkh, a.dvh = f(N*C), f(N*C), f(N*C), f(N*C), f(N*C), f(N*C)
	a.ds, a.dp = f(B*H*T*Tk), f(B*H*T*Tk)
	a.dyh, a.dy, a.dmo = f(N*C), f(N*C), f(N*C)
	a.dh, a.dg = f(N*4*C), f(N*4*C)
	a.dlogits = f(N * V)
	if cfg.Dropout > 0 {
		a.ddrop = f(N * C)
	}
	m.newMethodActs(a)
	return a
}

// bufs lists every buffer of a (some more than once: without dropout a "dropped" tensor is the
// tensor itself; nil for scratch a shape does not need).
func (a *acts) bufs() []ops.Buf {
	out := []ops.Buf{a.emb, a.xL, a.lnf, a.lnfM, a.lnfR, a.logits, a.probs, a.losses}
	for _, l := range a.layers {
		out = append(out, l.x, l.ln1, l.ln1Mean, l.ln1R, l.q, l.k, l.v, l.qh, l.kh, l.vh, l.s, l.p, l.yh, l.y, l.o,
			l.oDrop, l.x2, l.ln2, l.ln2Mean, l.ln2R, l.h, l.g, l.mo, l.moDrop)
	}
	out = append(out, a.dres, a.dln, a.dq, a.dk, a.dv, a.dqh, a.dkh, a.dvh, a.ds, a.dp, a.dyh, a.dy, a.dmo, a.dh, a.dg, a.dlogits, a.ddrop)
	for _, la := range a.lora {
		out = append(out, la.bufs()...)
	}
	for _, aa := range a.adapter {
		out = append(out, aa.bufs()...)
	}
	for _, pa := range a.prefix {
		if pa != nil {
			out = append(out, pa.bufs()...)
		}
	}
	if a.prompt != nil {
		out = append(out, a.prompt.bufs()...)
	}
	if a.head != nil {
		out = append(out, a.head.bufs()...)
	}
	if a.value != nil {
		out = append(out, a.value.values, a.value.dvalues)
	}
	for _, ac := range a.ia3 {
		out = append(out, ac.pre, ac.dpre)
	}
	return out
}

func (a *acts) free(dev ops.Device) {
	seen := map[ops.Buf]bool{}
	for _, b := range a.bufs() {
		if b != nil && !seen[b] {
			seen[b] = true
			dev.Free(b)
		}
	}
}

// Dropout sites: one key per place dropout is applied, so masks never repeat across sites.
func siteEmbed() uint32         { return 0 }
func siteAttn(layer int) uint32 { return uint32(1 + 2*layer) }
func siteMLP(layer int) uint32  { return uint32(2 + 2*layer) }

// Pass says how a forward pass runs.
type Pass struct {
	Train       bool   // apply dropout
	DropoutSeed uint64 // with Step, keys the dropout masks
	Step        int
	// Row is the index, in the whole step's batch, of the first sequence this pass runs: a
	// data-parallel shard's (shards.go). It keys the shard's dropout masks, so a shard draws the
	// same mask whichever worker computes it; 0 (the whole batch) keys them exactly as before
	// shards existed.
	Row int
}

// key is the dropout key of site in this pass. The shard's row offset goes above every site
// number (sites stay below 1<<20; a batch has at most MaxBatch rows), so no two shards of a
// step, and no two sites, share a mask.
func (p Pass) key(site uint32) ops.DropoutKey {
	return ops.DropoutKey{Seed: p.DropoutSeed, Step: uint32(p.Step), Site: site + uint32(p.Row)<<20}
}

// linear computes y = x·Wᵀ + b for N rows (b may be nil).
func (m *Model) linear(y, x ops.Buf, w, b *Param, N, in, out int) {
	m.Dev.MatMul(y, x, w.W, ops.MatMulArgs{M: N, N: out, K: in, TransB: true})
	if b != nil {
		m.Dev.AddBias(y, b.W, N, out)
	}
}

// linearBackward adds dx += dy·W (or overwrites dx when accumulate is false) and, unless the
// parameters are frozen, dW += dyᵀ·x and db += Σ dy.
func (m *Model) linearBackward(dx, dy, x ops.Buf, w, b *Param, N, in, out int, accumulate bool) {
	if dx != nil {
		m.Dev.MatMul(dx, dy, w.W, ops.MatMulArgs{M: N, N: in, K: out, Accumulate: accumulate})
	}
	if !w.Frozen {
		m.Dev.MatMul(w.DW, dy, x, ops.MatMulArgs{M: out, N: in, K: N, TransA: true, Accumulate: true})
	}
	if b != nil && !b.Frozen {
		m.Dev.AddBiasBackward(b.DW, dy, N, out)
	}
}

func (m *Model) dropout(out, x ops.Buf, n int, pass Pass, site uint32) {
	if out == x {
		return // dropout is off in this model: out aliases x
	}
	rate := m.Cfg.Dropout
	if !pass.Train {
		rate = 0
	}
	m.Dev.Dropout(out, x, n, rate, pass.key(site))
}

// dropoutBackward returns the gradient of the dropout's input given dout, the gradient of its
// output: dout itself when dropout is off, else scratch holding the masked gradient.
func (m *Model) dropoutBackward(a *acts, dout ops.Buf, aliased bool, n int, pass Pass, site uint32) ops.Buf {
	if aliased {
		return dout
	}
	m.Dev.Zero(a.ddrop)
	m.Dev.DropoutBackward(a.ddrop, dout, n, m.Cfg.Dropout, pass.key(site))
	return a.ddrop
}

// forward runs the model on the batch's inputs, leaving the LM head's logits in a.logits. A
// model with a class head keeps its LM head (unused by classification, frozen), so its language
// modelling loss still measures forgetting; classForward runs the class head instead.
func (m *Model) forward(a *acts, b *Batch, pass Pass) {
	m.forwardBody(a, b, pass)
	N, C, V := b.B*b.T, m.Cfg.Dim, m.Cfg.Vocab
	m.linear(a.logits, a.lnf, m.lmHead, nil, N, C, V)
}

// forwardBody runs embeddings, blocks and the final LayerNorm, leaving the normalised hidden
// states in a.lnf. Without fine-tuning methods it is exactly GPT-2's forward pass; each method
// adds its ops at its hook (LoRA in proj, adapters after each branch, a prefix in the keys and
// values), and adds nothing at all when it is absent.
func (m *Model) forwardBody(a *acts, b *Batch, pass Pass) {
	cfg, d := m.Cfg, m.Dev
	B, T, C, H, D := b.B, b.T, cfg.Dim, cfg.Heads, cfg.HeadDim()
	if m.prompt != nil {
		T = m.promptEmbed(a, b) // the blocks read P soft tokens, then the batch's T tokens
	} else {
		d.Embed(a.emb, b.Inputs, m.wte.W, m.wpe.W, B, T, C)
	}
	N := B * T
	m.dropout(a.layers[0].x, a.emb, N*C, pass, siteEmbed())
	scale := 1 / sqrt32(float32(D))
	for l, bl := range m.blocks {
		m.blockForward(a, l, N, pass, func(la *layerActs) {
			d.SplitHeads(la.qh, la.q, B, T, H, D)
			kh, vh, Tk := la.kh, la.vh, T
			if pa := a.prefix[l]; pa != nil {
				kh, vh, Tk = m.prefixKeys(pa, bl.prefix, B, T)
			} else {
				d.SplitHeads(la.kh, la.k, B, T, H, D)
				d.SplitHeads(la.vh, la.v, B, T, H, D)
			}
			// Per head: S = Q·Kᵀ, P = softmax(S/√D), Y = P·V.
			d.MatMul(la.s, la.qh, kh, ops.MatMulArgs{M: T, N: Tk, K: D, TransB: true, Batch: B * H, StrideA: T * D, StrideB: Tk * D, StrideC: T * Tk})
			d.AttnSoftmax(la.p, la.s, B*H, T, Tk, scale, m.Mask)
			d.MatMul(la.yh, la.p, vh, ops.MatMulArgs{M: T, N: D, K: Tk, Batch: B * H, StrideA: T * Tk, StrideB: Tk * D, StrideC: T * D})
			d.MergeHeads(la.y, la.yh, B, T, H, D)
		})
	}
	if m.prompt != nil {
		m.promptFinalNorm(a, B, b.T) // a.lnf holds the real positions' rows only, as without
		return
	}
	d.LayerNorm(a.lnf, a.lnfM, a.lnfR, a.xL, m.lnfW.W, m.lnfB.W, N, C)
}

// blockForward runs block l on N positions: LayerNorm, the q, k and v projections (k and v into
// the prefix's extended tables when the block has one), attend (which must leave the heads'
// merged output in la.y), the output projection, dropout, the residual and the first adapter,
// then the MLP branch and the second adapter. forwardBody attends over the batch's positions,
// the cached decoder (decode.go) over its key/value cache: the rest of a block is written once.
func (m *Model) blockForward(a *acts, l, N int, pass Pass, attend func(la *layerActs)) {
	d, C := m.Dev, m.Cfg.Dim
	bl, la := m.blocks[l], &a.layers[l]
	next := a.xL
	if l+1 < len(a.layers) {
		next = a.layers[l+1].x
	}
	d.LayerNorm(la.ln1, la.ln1Mean, la.ln1R, la.x, bl.ln1W.W, bl.ln1B.W, N, C)
	kOut, vOut := la.k, la.v
	if pa := a.prefix[l]; pa != nil {
		kOut, vOut = pa.kext, pa.vext // the token rows of the prefixed keys and values
	}
	m.proj(a, la.q, la.ln1, bl.wq, bl.bq, bl.lora[loraQ], N, C, C, pass)
	m.proj(a, kOut, la.ln1, bl.wk, bl.bk, bl.lora[loraK], N, C, C, pass)
	m.proj(a, vOut, la.ln1, bl.wv, bl.bv, bl.lora[loraV], N, C, C, pass)
	attend(la)
	m.proj(a, la.o, la.y, bl.wo, bl.bo, bl.lora[loraO], N, C, C, pass)
	m.dropout(la.oDrop, la.o, N*C, pass, siteAttn(l))
	d.Add(la.x2, la.x, la.oDrop, N*C)
	m.adapterForward(a, bl.adapters[0], la.x2, la.oDrop, N)

	d.LayerNorm(la.ln2, la.ln2Mean, la.ln2R, la.x2, bl.ln2W.W, bl.ln2B.W, N, C)
	m.proj(a, la.h, la.ln2, bl.wfc, bl.bfc, bl.lora[loraFcIn], N, C, 4*C, pass)
	d.GELU(la.g, la.h, N*4*C)
	m.proj(a, la.mo, la.g, bl.wproj, bl.bproj, bl.lora[loraFcOut], N, 4*C, C, pass)
	m.dropout(la.moDrop, la.mo, N*C, pass, siteMLP(l))
	d.Add(next, la.x2, la.moDrop, N*C)
	m.adapterForward(a, bl.adapters[1], next, la.moDrop, N)
}

// loss computes the per-position cross-entropy of a.logits against the batch's targets and
// returns the weighted mean, read back to the host, and the total weight.
func (m *Model) loss(a *acts, b *Batch) (mean, weight float64, err error) {
	sum, weight, err := m.lossSum(a, b)
	if err != nil || weight == 0 {
		return 0, 0, err
	}
	return sum / weight, weight, nil
}

// lossSum is loss's weighted sum of the per-position losses, and the total weight: a shard's
// share of a sharded step's loss (shards.go).
func (m *Model) lossSum(a *acts, b *Batch) (sum, weight float64, err error) {
	N := b.B * b.T
	m.Dev.CrossEntropy(a.losses, a.probs, a.logits, b.Targets, b.Weights, N, m.Cfg.Vocab)
	losses := make([]float32, a.losses.Len())
	weights := make([]float32, b.Weights.Len())
	if err := m.Dev.Download(a.losses, losses); err != nil {
		return 0, 0, err
	}
	if err := m.Dev.Download(b.Weights, weights); err != nil {
		return 0, 0, err
	}
	for i := 0; i < N; i++ {
		sum += float64(losses[i])
		weight += float64(weights[i])
	}
	return sum, weight, nil
}

// backward adds every trainable parameter's gradient of the weighted mean loss (the forward pass
// and loss must have run on the same batch and pass) into its DW.
func (m *Model) backward(a *acts, b *Batch, pass Pass, weight float64) {
	N, C, V := b.B*b.T, m.Cfg.Dim, m.Cfg.Vocab
	m.Dev.Zero(a.dlogits)
	m.Dev.CrossEntropyBackward(a.dlogits, a.probs, b.Targets, b.Weights, N, V, float32(1/weight))
	m.linearBackward(a.dln, a.dlogits, a.lnf, m.lmHead, nil, N, C, V, false)
	m.backwardBody(a, b, pass)
}

// backwardBody continues the backward pass from a.dln, the gradient of the final LayerNorm's
// output, down to the embeddings.
func (m *Model) backwardBody(a *acts, b *Batch, pass Pass) {
	cfg, d := m.Cfg, m.Dev
	B, T, C, H, D := b.B, b.T, cfg.Dim, cfg.Heads, cfg.HeadDim()
	if m.prompt != nil {
		m.promptFinalNormBackward(a, B, T)
		T += m.prompt.P // the blocks ran on the soft tokens too
	} else {
		d.Zero(a.dres)
		m.layerNormBackward(a.dres, a.dln, a.xL, m.lnfW, m.lnfB, a.lnfM, a.lnfR, B*T, C)
	}
	N := B * T
	scale := 1 / sqrt32(float32(D))

	for l := len(m.blocks) - 1; l >= 0; l-- {
		bl, la := m.blocks[l], &a.layers[l]
		// MLP branch: a.dres is the gradient of this block's output.
		dbranch := m.adapterBackward(a, bl.adapters[1], a.dres, la.moDrop, N)
		dmo := m.dropoutBackward(a, dbranch, la.moDrop == la.mo, N*C, pass, siteMLP(l))
		m.projBackward(a, a.dg, dmo, la.g, bl.wproj, bl.bproj, bl.lora[loraFcOut], N, 4*C, C, false, pass)
		d.Zero(a.dh)
		d.GELUBackward(a.dh, la.h, a.dg, N*4*C)
		m.projBackward(a, a.dln, a.dh, la.ln2, bl.wfc, bl.bfc, bl.lora[loraFcIn], N, C, 4*C, false, pass)
		m.layerNormBackward(a.dres, a.dln, la.x2, bl.ln2W, bl.ln2B, la.ln2Mean, la.ln2R, N, C)

		// Attention branch: a.dres is now the gradient of x2.
		dbranch = m.adapterBackward(a, bl.adapters[0], a.dres, la.oDrop, N)
		do := m.dropoutBackward(a, dbranch, la.oDrop == la.o, N*C, pass, siteAttn(l))
		m.projBackward(a, a.dy, do, la.y, bl.wo, bl.bo, bl.lora[loraO], N, C, C, false, pass)
		d.SplitHeads(a.dyh, a.dy, B, T, H, D)
		pa := a.prefix[l]
		kh, vh, dkh, dvh, Tk := la.kh, la.vh, a.dkh, a.dvh, T
		if pa != nil {
			kh, vh, dkh, dvh, Tk = pa.kh, pa.vh, pa.dkh, pa.dvh, T+m.prefixLen
		}
		d.MatMul(a.dp, a.dyh, vh, ops.MatMulArgs{M: T, N: Tk, K: D, TransB: true, Batch: B * H, StrideA: T * D, StrideB: Tk * D, StrideC: T * Tk})
		d.MatMul(dvh, la.p, a.dyh, ops.MatMulArgs{M: Tk, N: D, K: T, TransA: true, Batch: B * H, StrideA: T * Tk, StrideB: T * D, StrideC: Tk * D})
		d.Zero(a.ds)
		d.AttnSoftmaxBackward(a.ds, la.p, a.dp, B*H, T, Tk, scale)
		d.MatMul(a.dqh, a.ds, kh, ops.MatMulArgs{M: T, N: D, K: Tk, Batch: B * H, StrideA: T * Tk, StrideB: Tk * D, StrideC: T * D})
		d.MatMul(dkh, a.ds, la.qh, ops.MatMulArgs{M: Tk, N: D, K: T, TransA: true, Batch: B * H, StrideA: T * Tk, StrideB: T * D, StrideC: Tk * D})
		d.MergeHeads(a.dq, a.dqh, B, T, H, D)
		dk, dv := a.dk, a.dv
		if pa != nil {
			dk, dv = m.prefixKeysBackward(pa, bl.prefix, B, T)
		} else {
			d.MergeHeads(a.dk, a.dkh, B, T, H, D)
			d.MergeHeads(a.dv, a.dvh, B, T, H, D)
		}
		m.projBackward(a, a.dln, a.dq, la.ln1, bl.wq, bl.bq, bl.lora[loraQ], N, C, C, false, pass)
		m.projBackward(a, a.dln, dk, la.ln1, bl.wk, bl.bk, bl.lora[loraK], N, C, C, true, pass)
		m.projBackward(a, a.dln, dv, la.ln1, bl.wv, bl.bv, bl.lora[loraV], N, C, C, true, pass)
		m.layerNormBackward(a.dres, a.dln, la.x, bl.ln1W, bl.ln1B, la.ln1Mean, la.ln1R, N, C)
	}
	demb := m.dropoutBackward(a, a.dres, a.layers[0].x == a.emb, N*C, pass, siteEmbed())
	if m.prompt != nil {
		m.promptEmbedBackward(a, demb, B, b.T)
	} else if !m.wte.Frozen || !m.wpe.Frozen {
		// EmbedBackward writes both tables; a frozen table's gradient is simply never used.
		d.EmbedBackward(m.wte.DW, m.wpe.DW, demb, b.Inputs, B, T, C)
	}
}

func (m *Model) layerNormBackward(dx, dout, x ops.Buf, w, b *Param, mean, rstd ops.Buf, N, C int) {
	m.Dev.LayerNormBackward(dx, w.DW, b.DW, dout, x, w.W, mean, rstd, N, C)
}

// sqrt32 is the correctly rounded float32 square root (exact, hence the same everywhere).
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
