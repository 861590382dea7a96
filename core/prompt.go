package core

import (
	"fmt"

	"pretune/core/ops"
)

// Prompt tuning (Lester et al. 2021): P trainable vectors, "soft tokens", are put in front of
// every sequence's token embeddings, and the frozen model reads P+T positions. The soft tokens
// are inputs only: every layer computes its own keys and values from them as it would from real
// tokens, so what is trained is P×C numbers in all, however deep the model. Prefix tuning
// (prefix.go) instead trains each layer's keys and values directly (2·P×C per layer), which
// reaches every layer with more freedom and more parameters.
//
// Positions are PEFT's for a model with absolute position embeddings: the model is simply fed
// P+T input vectors, so the soft tokens take positions 0..P-1 and the real tokens P..P+T-1.
// P+T must fit the context: with prompt tuning a sequence holds at most TokenContext tokens.
// Only the real positions are scored: after the final LayerNorm their rows are gathered back
// into the B×T layout, so the LM head, the loss, a class head's pooling and generation read
// exactly the rows they would without soft tokens, and never see the soft positions.
//
// Built from existing ops only (no kernel of its own): the embedding of [soft; tokens] is two
// Embed gathers, as prefix.go builds its key tables. First ext[b·T+t] = wte[id] + wpe[P+t] (the
// position table shifted by P, itself an Embed gather of wpe), with one zero row after the
// batch's rows; then emb[b,t'] = ext[ids[b,t']] + tab[t'] with tab's first P rows the soft
// tokens plus their positions and zeros after, and ids pointing at the zero row for t' < P. A
// real token's embedding is therefore wte[id] + wpe[P+t] exactly, as the plain Embed would
// give it at that position. EmbedBackward scatters the gradient back the same way. The gather
// of the real rows after the final LayerNorm is an Embed with a zero table too.
//
// Initialisation: the soft tokens start as the token embeddings of real text (PEFT's TEXT
// init; Lester et al. found it beats random vectors on small models): the model then starts as
// if it read those P tokens before each sequence, with inputs of the scale it was trained on.
// Without text they are drawn N(0, 0.02), wte's own initial scale.

// PromptConfig sizes prompt tuning.
type PromptConfig struct {
	Len int `json:"num_virtual_tokens"` // P: soft tokens before every sequence
}

// promptActs are prompt tuning's activations and scratch for one batch shape.
type promptActs struct {
	B, T    int     // the shape ids and real were uploaded for (0 before any)
	ids     ops.Buf // B×(P+T) row indices into ext
	real    ops.Buf // B×T: the row of each real position among the B×(P+T)
	wpeS    ops.Buf // the position table shifted by P: wpe[P+t] (Context−P rows)
	ext     ops.Buf // the tokens' embeddings with their positions (N×C) and one zero row after
	tab     ops.Buf // Context×C: the soft tokens plus their positions, zeros after row P
	lnf     ops.Buf // the final LayerNorm of all B×(P+T) positions
	dln     ops.Buf // its gradient
	dext    ops.Buf
	dtab    ops.Buf
	junk    ops.Buf // the position-table gradient of the gathers (Context×C), never read
	zeroRow int
}

func (pa *promptActs) bufs() []ops.Buf {
	return []ops.Buf{pa.ids, pa.real, pa.wpeS, pa.ext, pa.tab, pa.lnf, pa.dln, pa.dext, pa.dtab, pa.junk}
}

func (m *Model) newPromptActs(B, T int) *promptActs {
	C, ctx, N := m.Cfg.Dim, m.Cfg.Context, B*T
	f := m.Dev.Alloc
	return &promptActs{zeroRow: N, ids: m.Dev.AllocInts(N), real: m.Dev.AllocInts(N),
		wpeS: f(ctx * C), ext: f((N + 1) * C), tab: f(ctx * C), lnf: f(N * C), dln: f(N * C),
		dext: f((N + 1) * C), dtab: f(ctx * C), junk: f(ctx * C)}
}

// promptTensors are prompt tuning's model-wide tensors besides the soft tokens.
type promptTensors struct {
	P     int
	embed *Param  // "prompt_embeddings", P×C
	eye   ops.Buf // P×P identity: copies the soft tokens into tab with a MatMul
	shift ops.Buf // Context−P int32: P, P+1, ..., the rows of wpe the real tokens take
	zeros ops.Buf // Context×C zeros: the position table of a plain gather
}

// MaxPromptLen bounds the soft tokens; the context bounds them further (TokenContext).
const MaxPromptLen = 256

// AttachPrompt adds c.Len soft tokens before every sequence, freezes the base model and returns
// the number of parameters added (c.Len × C). With at least c.Len initTokens the soft tokens
// start as the embeddings (wte rows) of initTokens[:c.Len]; with none they are drawn N(0, 0.02)
// from the init stream of seed. At least one real token must still fit the context.
func (m *Model) AttachPrompt(c PromptConfig, initTokens []int32, seed uint64) (int, error) {
	C, ctx := m.Cfg.Dim, m.Cfg.Context
	switch {
	case c.Len < 1 || c.Len > MaxPromptLen || c.Len >= ctx:
		return 0, fmt.Errorf("prompt: %d soft tokens is outside 1..%d (the context %d must keep room for the text)", c.Len, min(MaxPromptLen, ctx-1), ctx)
	case m.prompt != nil:
		return 0, fmt.Errorf("prompt: the model already has soft tokens")
	case m.prefixLen > 0:
		return 0, fmt.Errorf("prompt: the model has a prefix; use one of prefix and prompt tuning")
	case m.head != nil && m.head.trainBody:
		return 0, fmt.Errorf("prompt: the model's body trains with its class head; prompt tuning keeps it frozen")
	case len(initTokens) > 0 && len(initTokens) < c.Len:
		return 0, fmt.Errorf("prompt: %d initial tokens for %d soft tokens", len(initTokens), c.Len)
	}
	host := make([]float32, c.Len*C)
	if len(initTokens) > 0 {
		wte := make([]float32, m.wte.Size())
		if err := m.Dev.Download(m.wte.W, wte); err != nil {
			return 0, err
		}
		for i, id := range initTokens[:c.Len] {
			if id < 0 || int(id) >= m.Cfg.Vocab {
				return 0, fmt.Errorf("prompt: initial token %d is outside the vocabulary of %d", id, m.Cfg.Vocab)
			}
			copy(host[i*C:(i+1)*C], wte[int(id)*C:(int(id)+1)*C])
		}
	} else {
		rng := NewRNG(seed, StreamInit+"/prompt")
		for i := range host {
			host[i] = rng.Normal() * 0.02
		}
	}
	m.FreezeBase()
	if m.head != nil {
		m.lmHead.Frozen = true // unused under a class head, as attachHead left it
	}
	pt := &promptTensors{P: c.Len, embed: m.addParam("prompt_embeddings", false, c.Len, C)}
	m.Dev.Upload(pt.embed.W, host)
	pt.eye, pt.shift, pt.zeros = m.Dev.Alloc(c.Len*c.Len), m.Dev.AllocInts(ctx-c.Len), m.Dev.Alloc(ctx*C)
	eye := make([]float32, c.Len*c.Len)
	for i := 0; i < c.Len; i++ {
		eye[i*c.Len+i] = 1
	}
	m.Dev.Upload(pt.eye, eye)
	shift := make([]int32, ctx-c.Len)
	for i := range shift {
		shift[i] = int32(c.Len + i)
	}
	m.Dev.UploadInts(pt.shift, shift)
	m.prompt = pt
	m.allocActs()
	return pt.embed.Size(), nil
}

// PromptLen is P, the soft tokens before every sequence (0 without prompt tuning).
func (m *Model) PromptLen() int {
	if m.prompt == nil {
		return 0
	}
	return m.prompt.P
}

// TokenContext is the most real tokens a sequence may hold: the context less the soft tokens.
// Every place that cuts text to the model's window (training rows, evaluation windows,
// generation) cuts it to this.
func (m *Model) TokenContext() int { return m.Cfg.Context - m.PromptLen() }

func (pt *promptTensors) free(d ops.Device) {
	d.Free(pt.eye)
	d.Free(pt.shift)
	d.Free(pt.zeros)
}

// promptEmbed writes the embeddings of [soft tokens; the batch's tokens] into a.emb and returns
// the sequence length the blocks see, P+T.
func (m *Model) promptEmbed(a *acts, b *Batch) int {
	d, pt, pa := m.Dev, m.prompt, a.prompt
	B, T, C, P, ctx := b.B, b.T, m.Cfg.Dim, m.prompt.P, m.Cfg.Context
	Tp := P + T
	if Tp > ctx {
		panic(fmt.Sprintf("core: %d soft tokens and %d tokens do not fit the context of %d", P, T, ctx))
	}
	if pa.B != B || pa.T != T {
		ids, real := make([]int32, pa.ids.Len()), make([]int32, pa.real.Len())
		for r := 0; r < B; r++ {
			for t := 0; t < Tp; t++ {
				id := pa.zeroRow
				if t >= P {
					id = r*T + t - P
					real[r*T+t-P] = int32(r*Tp + t)
				}
				ids[r*Tp+t] = int32(id)
			}
		}
		d.UploadInts(pa.ids, ids)
		d.UploadInts(pa.real, real)
		pa.B, pa.T = B, T
	}
	d.Embed(pa.wpeS, pt.shift, m.wpe.W, pt.zeros, 1, ctx-P, C)
	d.Embed(pa.ext, b.Inputs, m.wte.W, pa.wpeS, B, T, C)
	d.MatMul(pa.tab, pt.eye, pt.embed.W, ops.MatMulArgs{M: P, N: C, K: P})
	d.Add(pa.tab, pa.tab, m.wpe.W, P*C)
	d.Embed(a.emb, pa.ids, pa.ext, pa.tab, B, Tp, C)
	return Tp
}

// promptFinalNorm is the final LayerNorm of all B×(P+T) positions (x, its statistics into a's)
// followed by the gather of the real positions' rows into a.lnf (B×T).
func (m *Model) promptFinalNorm(a *acts, B, T int) {
	d, pa, C := m.Dev, a.prompt, m.Cfg.Dim
	d.LayerNorm(pa.lnf, a.lnfM, a.lnfR, a.xL, m.lnfW.W, m.lnfB.W, B*(m.prompt.P+T), C)
	d.Embed(a.lnf, pa.real, pa.lnf, m.prompt.zeros, B, T, C)
}

// promptFinalNormBackward scatters a.dln (the real positions' gradient, B×T) back to all
// B×(P+T) positions (zero at the soft ones) and runs the final LayerNorm's backward into
// a.dres, which it overwrites.
func (m *Model) promptFinalNormBackward(a *acts, B, T int) {
	d, pa, C := m.Dev, a.prompt, m.Cfg.Dim
	d.Zero(pa.dln)
	d.Zero(pa.junk)
	d.EmbedBackward(pa.dln, pa.junk, a.dln, pa.real, B, T, C)
	d.Zero(a.dres)
	m.layerNormBackward(a.dres, pa.dln, a.xL, m.lnfW, m.lnfB, a.lnfM, a.lnfR, B*(m.prompt.P+T), C)
}

// promptEmbedBackward adds the soft tokens' gradient from demb, the gradient of the B×(P+T)
// embeddings. The base's embedding tables are frozen under prompt tuning (AttachPrompt and
// attachHead see to it), so the real tokens' share is not carried further.
func (m *Model) promptEmbedBackward(a *acts, demb ops.Buf, B, T int) {
	d, pt, pa, C := m.Dev, m.prompt, a.prompt, m.Cfg.Dim
	d.Zero(pa.dext)
	d.Zero(pa.dtab)
	d.EmbedBackward(pa.dext, pa.dtab, demb, pa.ids, B, pt.P+T, C)
	if !pt.embed.Frozen {
		d.MatMul(pt.embed.DW, pt.eye, pa.dtab, ops.MatMulArgs{M: pt.P, N: C, K: pt.P, Accumulate: true})
	}
}

// promptFits says, with prompt tuning, whether sequences of n tokens fit the context after the
// soft tokens. Without prompt tuning a longer text is cut to the context as it always was; with
// it, cutting would silently drop text the other methods see, so a task that does not fit is
// refused with what would fit.
func (m *Model) promptFits(n int) error {
	if P := m.PromptLen(); P > 0 && P+n > m.Cfg.Context {
		if n >= m.Cfg.Context {
			return fmt.Errorf("prompt: the task's longest example of %d tokens fills the context of %d by itself: no soft token fits before it", n, m.Cfg.Context)
		}
		return fmt.Errorf("prompt: %d soft tokens and the task's longest example of %d tokens do not fit the context of %d: use at most %d soft tokens", P, n, m.Cfg.Context, max(0, m.Cfg.Context-n))
	}
	return nil
}
