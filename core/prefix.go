package core

import (
	"fmt"

	"pretune/core/ops"
)

// Prefix tuning (Li & Liang 2021): every block gets P learned key rows and P learned value rows
// (per layer, shared by all sequences, split into heads like the real ones) placed before the T
// keys and values of each sequence. Attention then has Tk = P+T keys; AttnSoftmax's Causal mode
// with Tk > Tq lets every query see the whole prefix and the tokens up to itself.
//
// The concatenation [prefix; tokens] per sequence uses existing ops only: the K (or V)
// projection writes the tokens' rows into a buffer with one extra zero row, a MatMul with a P×P
// identity copies the prefix into the first rows of an otherwise zero table, and Embed gathers
// out[b,t',:] = rows[ids[b,t'],:] + table[t',:] with ids pointing at the zero row for t' < P and
// at token b*T+t'-P after. EmbedBackward scatters the gradient back the same way.
//
// What "starts at the base" means here: a prefix always changes attention (the softmax also
// spreads over the prefix), so a prefixed model cannot equal the base exactly. AttachPrefix
// initialises the prefix to the keys and values the base model itself computes for P real
// tokens (initTokens, e.g. the start of the pretraining text), so the model starts as the base
// model would behave after reading those tokens; the comparison measures the remaining shift as
// the held-out task loss before the first step (its step-0 point of the curve).

// PrefixConfig sizes prefix tuning.
type PrefixConfig struct {
	Len int `json:"len"` // P: learned key/value rows per layer
}

// prefixKV is one block's learned prefix.
type prefixKV struct {
	K, V *Param // P×C each
}

// prefixActs are one block's prefixed keys and values and their scratch for one batch shape.
type prefixActs struct {
	B, T                int     // the shape ids was uploaded for (0 before any)
	ids                 ops.Buf // B×(P+T) row indices into kext/vext
	kext, vext          ops.Buf // the tokens' projections (N×C) and one zero row after the batch's rows
	ktab, vtab          ops.Buf // (P+T)×C: the prefix in the first P rows, zeros after
	kcat, vcat          ops.Buf // B×(P+T)×C: [prefix; tokens] per sequence
	kh, vh              ops.Buf // split into heads: B×H×(P+T)×D
	dkh, dvh            ops.Buf // scratch of the same shapes
	dkcat, dvcat        ops.Buf
	dkext, dvext        ops.Buf
	dktab, dvtab        ops.Buf
	zeroRow, maxB, maxT int
}

func (pa *prefixActs) bufs() []ops.Buf {
	return []ops.Buf{pa.ids, pa.kext, pa.vext, pa.ktab, pa.vtab, pa.kcat, pa.vcat, pa.kh, pa.vh,
		pa.dkh, pa.dvh, pa.dkcat, pa.dvcat, pa.dkext, pa.dvext, pa.dktab, pa.dvtab}
}

func (m *Model) newPrefixActs(B, T int) *prefixActs {
	C, P, N := m.Cfg.Dim, m.prefixLen, B*T
	f := m.Dev.Alloc
	pa := &prefixActs{zeroRow: N, maxB: B, maxT: T}
	pa.ids = m.Dev.AllocInts(B * (P + T))
	pa.kext, pa.vext = f((N+1)*C), f((N+1)*C)
	pa.ktab, pa.vtab = f((P+T)*C), f((P+T)*C)
	cat := B * (P + T) * C
	pa.kcat, pa.vcat, pa.kh, pa.vh = f(cat), f(cat), f(cat), f(cat)
	pa.dkh, pa.dvh, pa.dkcat, pa.dvcat = f(cat), f(cat), f(cat), f(cat)
	pa.dkext, pa.dvext = f((N+1)*C), f((N+1)*C)
	pa.dktab, pa.dvtab = f((P+T)*C), f((P+T)*C)
	return pa
}

// AttachPrefix adds a prefix of c.Len key/value rows to every block, freezes the base model and
// returns the number of parameters added. With at least c.Len initTokens the prefix starts as
// the base model's own keys and values of initTokens[:c.Len]; with none it is drawn N(0, 0.02)
// from the init stream of seed.
func (m *Model) AttachPrefix(c PrefixConfig, initTokens []int32, seed uint64) (int, error) {
	C := m.Cfg.Dim
	if c.Len < 1 || c.Len > m.Cfg.Context {
		return 0, fmt.Errorf("prefix: length %d is outside 1..%d (the context)", c.Len, m.Cfg.Context)
	}
	if m.prefixLen > 0 {
		return 0, fmt.Errorf("prefix: the model already has a prefix")
	}
	if len(initTokens) > 0 && len(initTokens) < c.Len {
		return 0, fmt.Errorf("prefix: %d initial tokens for a prefix of %d", len(initTokens), c.Len)
	}
	var init [][2][]float32 // per layer: keys and values of the initial tokens
	if len(initTokens) > 0 {
		b := NewBatch(m.Dev, 1, m.Cfg.Context)
		b.Set(m.Dev, 1, c.Len, initTokens[:c.Len], make([]int32, c.Len), nil)
		m.forwardBody(m.single, b, Pass{})
		b.Free(m.Dev)
		for l := range m.blocks {
			k, v := make([]float32, m.single.layers[l].k.Len()), make([]float32, m.single.layers[l].v.Len())
			if err := m.Dev.Download(m.single.layers[l].k, k); err != nil {
				return 0, err
			}
			if err := m.Dev.Download(m.single.layers[l].v, v); err != nil {
				return 0, err
			}
			init = append(init, [2][]float32{k[:c.Len*C], v[:c.Len*C]})
		}
	}
	m.FreezeBase()
	rng := NewRNG(seed, StreamInit+"/prefix")
	added := 0
	for l := range m.blocks {
		pre := fmt.Sprintf("blocks.%d.attn.", l)
		pf := &prefixKV{K: m.addParam(pre+"prefix_k", false, c.Len, C), V: m.addParam(pre+"prefix_v", false, c.Len, C)}
		for i, p := range []*Param{pf.K, pf.V} {
			host := make([]float32, p.Size())
			if init != nil {
				copy(host, init[l][i])
			} else {
				for j := range host {
					host[j] = rng.Normal() * 0.02
				}
			}
			m.Dev.Upload(p.W, host)
		}
		m.blocks[l].prefix = pf
		added += pf.K.Size() + pf.V.Size()
	}
	m.prefixLen = c.Len
	m.eye = m.Dev.Alloc(c.Len * c.Len)
	eye := make([]float32, c.Len*c.Len)
	for i := 0; i < c.Len; i++ {
		eye[i*c.Len+i] = 1
	}
	m.Dev.Upload(m.eye, eye)
	m.allocActs()
	return added, nil
}

// PrefixLen is P, 0 without prefix tuning.
func (m *Model) PrefixLen() int { return m.prefixLen }

// prefixKeys builds [prefix; tokens] keys and values split into heads from pa.kext and pa.vext
// (where the projections wrote the tokens' rows) and returns them with Tk = P+T.
func (m *Model) prefixKeys(pa *prefixActs, pf *prefixKV, B, T int) (kh, vh ops.Buf, Tk int) {
	d, C, H, D, P := m.Dev, m.Cfg.Dim, m.Cfg.Heads, m.Cfg.HeadDim(), m.prefixLen
	Tk = P + T
	if pa.B != B || pa.T != T {
		ids := make([]int32, pa.ids.Len())
		for b := 0; b < B; b++ {
			for t := 0; t < Tk; t++ {
				id := pa.zeroRow
				if t >= P {
					id = b*T + t - P
				}
				ids[b*Tk+t] = int32(id)
			}
		}
		d.UploadInts(pa.ids, ids)
		pa.B, pa.T = B, T
	}
	for _, kv := range []struct {
		p                *Param
		tab, ext, cat, h ops.Buf
	}{{pf.K, pa.ktab, pa.kext, pa.kcat, pa.kh}, {pf.V, pa.vtab, pa.vext, pa.vcat, pa.vh}} {
		d.MatMul(kv.tab, m.eye, kv.p.W, ops.MatMulArgs{M: P, N: C, K: P})
		d.Embed(kv.cat, pa.ids, kv.ext, kv.tab, B, Tk, C)
		d.SplitHeads(kv.h, kv.cat, B, Tk, H, D)
	}
	return pa.kh, pa.vh, Tk
}

// prefixKeysBackward takes pa.dkh and pa.dvh (the gradients of the prefixed keys and values in
// heads), adds the prefix's gradients and returns the tokens' key and value gradients (N×C).
func (m *Model) prefixKeysBackward(pa *prefixActs, pf *prefixKV, B, T int) (dk, dv ops.Buf) {
	d, C, H, D, P := m.Dev, m.Cfg.Dim, m.Cfg.Heads, m.Cfg.HeadDim(), m.prefixLen
	Tk := P + T
	for _, kv := range []struct {
		p                    *Param
		dh, dcat, dext, dtab ops.Buf
	}{{pf.K, pa.dkh, pa.dkcat, pa.dkext, pa.dktab}, {pf.V, pa.dvh, pa.dvcat, pa.dvext, pa.dvtab}} {
		d.MergeHeads(kv.dcat, kv.dh, B, Tk, H, D)
		d.Zero(kv.dext)
		d.Zero(kv.dtab)
		d.EmbedBackward(kv.dext, kv.dtab, kv.dcat, pa.ids, B, Tk, C)
		if !kv.p.Frozen {
			d.MatMul(kv.p.DW, m.eye, kv.dtab, ops.MatMulArgs{M: P, N: C, K: P, Accumulate: true})
		}
	}
	return pa.dkext, pa.dvext
}
