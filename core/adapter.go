package core

import (
	"fmt"

	"pretune/core/ops"
)

// Bottleneck adapters (Houlsby et al. 2019): after a block's attention branch and after its MLP
// branch, a small residual MLP on the branch's output,
//
//	branch' = branch + up(GELU(down(branch)))   down: C→M, up: M→C,
//
// added to the residual stream with the branch. up starts at zero (weights and bias), so the
// adapter's output is exactly 0 and the model starts exactly at the base, bit for bit. Built
// from linear layers, GELU and Add: no device op of its own.

// AdapterConfig sizes the adapters.
type AdapterConfig struct {
	Size int `json:"size"` // M: the bottleneck width
}

// adapter is one bottleneck adapter.
type adapter struct {
	down, downB, up, upB *Param
	size                 int
}

// adapterActs are one adapter's saved activations and scratch for one batch shape.
type adapterActs struct {
	h, g, e ops.Buf // down's output (N×M), after GELU (N×M), up's output (N×C)
	dg, dh  ops.Buf // scratch (N×M)
	dbranch ops.Buf // the branch's gradient: the residual's plus the adapter's (N×C)
}

func (aa *adapterActs) bufs() []ops.Buf { return []ops.Buf{aa.h, aa.g, aa.e, aa.dg, aa.dh, aa.dbranch} }

// AttachAdapters adds an adapter after the attention and after the MLP of every block, freezes
// the base model, and returns the number of parameters added. down is drawn N(0, 0.02) from the
// init stream of seed; up is zero.
func (m *Model) AttachAdapters(c AdapterConfig, seed uint64) (int, error) {
	C := m.Cfg.Dim
	if c.Size < 1 || c.Size > 4*C {
		return 0, fmt.Errorf("adapter: size %d is outside 1..%d", c.Size, 4*C)
	}
	if m.blocks[0].adapters[0] != nil {
		return 0, fmt.Errorf("adapter: the model already has adapters")
	}
	m.FreezeBase()
	rng := NewRNG(seed, StreamInit+"/adapter")
	added := 0
	for l := range m.blocks {
		for i, where := range []string{"attn_adapter", "mlp_adapter"} {
			pre := fmt.Sprintf("blocks.%d.%s.", l, where)
			ad := &adapter{size: c.Size}
			ad.down, ad.downB = m.addParam(pre+"down.weight", true, c.Size, C), m.addParam(pre+"down.bias", false, c.Size)
			ad.up, ad.upB = m.addParam(pre+"up.weight", true, C, c.Size), m.addParam(pre+"up.bias", false, C)
			host := make([]float32, ad.down.Size())
			for j := range host {
				host[j] = rng.Normal() * 0.02
			}
			m.Dev.Upload(ad.down.W, host)
			m.blocks[l].adapters[i] = ad
			added += ad.down.Size() + ad.downB.Size() + ad.up.Size() + ad.upB.Size()
		}
	}
	m.allocActs()
	return added, nil
}

// adapterForward adds ad(branch) into out (which already holds residual + branch).
func (m *Model) adapterForward(a *acts, ad *adapter, out, branch ops.Buf, N int) {
	if ad == nil {
		return
	}
	C, aa := m.Cfg.Dim, a.adapter[ad]
	m.linear(aa.h, branch, ad.down, ad.downB, N, C, ad.size)
	m.Dev.GELU(aa.g, aa.h, N*ad.size)
	m.linear(aa.e, aa.g, ad.up, ad.upB, N, ad.size, C)
	m.Dev.Add(out, out, aa.e, N*C)
}

// adapterBackward returns the gradient of the branch given dout, the gradient of residual +
// branch + adapter(branch): dout itself without an adapter, else dout + the adapter's input
// gradient (in scratch), adding the adapter's parameter gradients on the way.
func (m *Model) adapterBackward(a *acts, ad *adapter, dout, branch ops.Buf, N int) ops.Buf {
	if ad == nil {
		return dout
	}
	C, aa := m.Cfg.Dim, a.adapter[ad]
	m.linearBackward(aa.dg, dout, aa.g, ad.up, ad.upB, N, ad.size, C, false)
	m.Dev.Zero(aa.dh)
	m.Dev.GELUBackward(aa.dh, aa.h, aa.dg, N*ad.size)
	m.Dev.Copy(aa.dbranch, dout)
	m.linearBackward(aa.dbranch, aa.dh, branch, ad.down, ad.downB, N, C, ad.size, true)
	return aa.dbranch
}
