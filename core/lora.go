package core

import (
	"fmt"
	"strings"

	"pretune/core/ops"
)

// LoRA (Hu et al. 2021) adds a trainable low-rank update to chosen linear layers of a frozen
// model: y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ with A [r, in] and B [out, r] (PEFT's layout), A drawn from
// N(0, 1/r²)... see AttachLoRA for the exact initialisation. B starts at zero, so the update is
// exactly zero and the model starts exactly at the base. The update uses only MatMul and Scale.

// LoRA targets: the six linear layers of a block, with PEFT-style module names.
const (
	loraQ = iota
	loraK
	loraV
	loraO
	loraFcIn
	loraFcOut
	numLoRATargets
)

// LoRATargets are the names of the linear layers LoRA can adapt, in block order.
var LoRATargets = [numLoRATargets]string{"q_proj", "k_proj", "v_proj", "o_proj", "fc_in", "fc_out"}

// loraModule is the module path of a target inside a block (checkpoint names use it).
var loraModule = [numLoRATargets]string{"attn.q_proj", "attn.k_proj", "attn.v_proj", "attn.o_proj", "mlp.fc_in", "mlp.fc_out"}

// LoRAConfig says where LoRA goes and how big it is.
type LoRAConfig struct {
	Rank    int      `json:"r"`              // r: the rank of the update
	Alpha   float32  `json:"lora_alpha"`     // α: the update is scaled by α/r (or α/√r)
	RSLoRA  bool     `json:"use_rslora"`     // rank-stabilised scaling α/√r (Kalajdzievski 2023)
	Dropout float32  `json:"lora_dropout"`   // dropout on the LoRA branch's input while training
	Targets []string `json:"target_modules"` // names from LoRATargets
	// UseDoRA makes it DoRA (Liu et al. 2024, PEFT's use_dora): the update goes to the direction
	// of each output row and a learned magnitude per row scales it (dora.go). omitempty: plain
	// LoRA's config (its adapter files, its links) reads exactly as before.
	UseDoRA bool `json:"use_dora,omitempty"`
}

// AttentionTargets are the four attention projections, the targets LoRA adapts unless told
// otherwise (a new slice each call). The method's other defaults (rank, α) live with the method
// kinds in core/compare.
func AttentionTargets() []string {
	return []string{"q_proj", "k_proj", "v_proj", "o_proj"}
}

// Scaling is s: α/r, or α/√r with RSLoRA.
func (c LoRAConfig) Scaling() float32 {
	if c.RSLoRA {
		return c.Alpha / sqrt32(float32(c.Rank))
	}
	return c.Alpha / float32(c.Rank)
}

// Validate says what is wrong with c for a model of C channels.
func (c LoRAConfig) Validate(C int) error {
	switch {
	case c.Rank < 1 || c.Rank > C:
		return fmt.Errorf("lora: rank %d is outside 1..%d (the model's width)", c.Rank, C)
	case !(c.Alpha > 0) || c.Alpha > 1024:
		return fmt.Errorf("lora: alpha %g is outside (0, 1024]", c.Alpha)
	case !(c.Dropout >= 0 && c.Dropout < 0.9):
		return fmt.Errorf("lora: dropout %g is outside [0, 0.9)", c.Dropout)
	case c.UseDoRA && c.Dropout > 0:
		return fmt.Errorf("dora: lora_dropout %g: DoRA here takes no dropout (its norm is of the whole weight)", c.Dropout)
	case len(c.Targets) == 0:
		return fmt.Errorf("lora: no target layers (choose from %s)", strings.Join(LoRATargets[:], ", "))
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if loraIndex(t) < 0 {
			return fmt.Errorf("lora: unknown target %q (choose from %s)", t, strings.Join(LoRATargets[:], ", "))
		}
		if seen[t] {
			return fmt.Errorf("lora: target %q is listed twice", t)
		}
		seen[t] = true
	}
	return nil
}

func loraIndex(name string) int {
	for i, t := range LoRATargets {
		if t == name {
			return i
		}
	}
	return -1
}

// loraLayer is one adapted linear layer.
type loraLayer struct {
	A, B    *Param // A [r, in], B [out, r]
	M       *Param // DoRA's magnitude [out] (lora_magnitude_vector), nil for plain LoRA
	w       *Param // the adapted base weight [out, in]
	in, out int
	layer   int
	target  int
	merged  bool
	backup  ops.Buf // the base weight before merging: unmerging restores it exactly
}

// loraActs are one adapted layer's saved activations and scratch for one batch shape.
type loraActs struct {
	xd   ops.Buf // the input after LoRA dropout (N×in); nil without dropout
	u    ops.Buf // s·xd·Aᵀ (N×r)
	du   ops.Buf // scratch: s·dy·B (N×r)
	dxd  ops.Buf // scratch: du·A before dropout's backward (N×in); nil without dropout
	dora *doraActs
}

func (la *loraActs) bufs() []ops.Buf {
	out := []ops.Buf{la.xd, la.u, la.du, la.dxd}
	if la.dora != nil {
		out = append(out, la.dora.bufs()...)
	}
	return out
}

// siteLoRA is the dropout site of a LoRA branch: far above the model's own sites.
func siteLoRA(layer, target int) uint32 { return uint32(1<<16 + numLoRATargets*layer + target) }

// AttachLoRA adds LoRA to the targets of every block, freezes the base model, and returns the
// number of parameters added. A is drawn from the init stream of seed, uniform in ±1/√in
// (Kaiming-uniform with a=√5, PEFT's default); B is zero.
func (m *Model) AttachLoRA(c LoRAConfig, seed uint64) (int, error) {
	if err := c.Validate(m.Cfg.Dim); err != nil {
		return 0, err
	}
	if m.hasLoRA() {
		return 0, fmt.Errorf("lora: the model already has LoRA")
	}
	m.FreezeBase()
	c.Targets = append([]string(nil), c.Targets...)
	m.loraCfg, m.loraOff = c, false
	rng := NewRNG(seed, StreamInit+"/lora")
	added := 0
	for l := range m.blocks {
		bl := &m.blocks[l]
		weights := [numLoRATargets]*Param{bl.wq, bl.wk, bl.wv, bl.wo, bl.wfc, bl.wproj}
		for t := 0; t < numLoRATargets; t++ {
			if !c.has(t) {
				continue
			}
			w := weights[t]
			out, in := w.Shape[0], w.Shape[1]
			pre := fmt.Sprintf("blocks.%d.%s.", l, loraModule[t])
			lo := &loraLayer{w: w, in: in, out: out, layer: l, target: t}
			lo.A = m.addParam(pre+"lora_A.weight", false, c.Rank, in)
			lo.B = m.addParam(pre+"lora_B.weight", false, out, c.Rank)
			bound := 1 / sqrt32(float32(in))
			host := make([]float32, lo.A.Size())
			for i := range host {
				host[i] = (2*rng.Float32() - 1) * bound
			}
			m.Dev.Upload(lo.A.W, host)
			bl.lora[t] = lo
			added += lo.A.Size() + lo.B.Size()
			if c.UseDoRA {
				lo.M = m.addParam(pre+"lora_magnitude_vector", false, out)
				m.initMagnitude(lo)
				added += lo.M.Size()
			}
		}
	}
	m.allocActs()
	return added, nil
}

func (c LoRAConfig) has(target int) bool {
	for _, t := range c.Targets {
		if loraIndex(t) == target {
			return true
		}
	}
	return false
}

func (m *Model) hasLoRA() bool {
	for _, b := range m.blocks {
		for _, lo := range b.lora {
			if lo != nil {
				return true
			}
		}
	}
	return false
}

// LoRA returns the attached LoRA's config and whether there is one.
func (m *Model) LoRA() (LoRAConfig, bool) { return m.loraCfg, m.hasLoRA() }

// SetLoRAEnabled switches the LoRA update off (the base model's outputs exactly, bit for bit) or
// back on. Switching off a merged model unmerges it first.
func (m *Model) SetLoRAEnabled(on bool) {
	if !on {
		m.UnmergeLoRA()
	}
	m.loraOff = !on
}

// LoRAEnabled reports whether the LoRA update is applied.
func (m *Model) LoRAEnabled() bool { return m.hasLoRA() && !m.loraOff }

// MergeLoRA folds the update into the base weights, W += s·B·A (a MatMul), so inference costs
// nothing extra; the branch is then skipped. The unmerged weights are kept to restore exactly.
// A merged model must be unmerged before training again.
func (m *Model) MergeLoRA() {
	if m.loraOff {
		return
	}
	s := m.loraCfg.Scaling()
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo == nil || lo.merged {
				continue
			}
			if lo.backup == nil {
				lo.backup = m.Dev.Alloc(lo.w.Size())
			}
			m.Dev.Copy(lo.backup, lo.w.W)
			if lo.M != nil { // DoRA: the weight becomes g ⊙ (W + s·B·A), row by row
				merged, err := m.doraMerged(lo)
				if err != nil {
					continue // a failed device: the layer stays unmerged, its branch runs
				}
				m.Dev.Upload(lo.w.W, merged)
				lo.merged = true
				continue
			}
			sb := m.Dev.Alloc(lo.B.Size())
			m.Dev.Copy(sb, lo.B.W)
			m.Dev.Scale(sb, lo.B.Size(), s)
			m.Dev.MatMul(lo.w.W, sb, lo.A.W, ops.MatMulArgs{M: lo.out, N: lo.in, K: m.loraCfg.Rank, Accumulate: true})
			m.Dev.Free(sb)
			lo.merged = true
		}
	}
}

// UnmergeLoRA restores the base weights saved by MergeLoRA, bit for bit.
func (m *Model) UnmergeLoRA() {
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo != nil && lo.merged {
				m.Dev.Copy(lo.w.W, lo.backup)
				lo.merged = false
			}
		}
	}
}

// LoRAMerged reports whether the update is folded into the base weights.
func (m *Model) LoRAMerged() bool {
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo != nil && lo.merged {
				return true
			}
		}
	}
	return false
}

// loraActive says whether lo's branch runs in the forward pass.
func (m *Model) loraActive(lo *loraLayer) bool { return lo != nil && !m.loraOff && !lo.merged }

// proj is a linear layer with its LoRA branch, if any: y = x·Wᵀ + b + s·(drop(x)·Aᵀ)·Bᵀ.
func (m *Model) proj(a *acts, y, x ops.Buf, w, b *Param, lo *loraLayer, N, in, out int, pass Pass) {
	if m.loraActive(lo) && lo.M != nil {
		m.doraForward(a, y, x, w, b, lo, N, in, out)
		return
	}
	if ia := m.ia3[w]; ia != nil {
		m.ia3Forward(a, ia, y, x, w, b, N, in, out)
		return
	}
	m.linear(y, x, w, b, N, in, out)
	if !m.loraActive(lo) {
		return
	}
	d, la, r := m.Dev, a.lora[lo], m.loraCfg.Rank
	xin := x
	if rate := m.loraCfg.Dropout; pass.Train && rate > 0 {
		d.Dropout(la.xd, x, N*in, rate, pass.key(siteLoRA(lo.layer, lo.target)))
		xin = la.xd
	}
	d.MatMul(la.u, xin, lo.A.W, ops.MatMulArgs{M: N, N: r, K: in, TransB: true})
	d.Scale(la.u, N*r, m.loraCfg.Scaling())
	d.MatMul(y, la.u, lo.B.W, ops.MatMulArgs{M: N, N: out, K: r, TransB: true, Accumulate: true})
}

// projBackward is linearBackward followed by the LoRA branch's backward: dB += dyᵀ·u,
// dA += (s·dy·B)ᵀ·drop(x) and dx += drop'(s·dy·B·A). With accumulate false dx is overwritten
// by the base layer's part first, then the branch adds.
func (m *Model) projBackward(a *acts, dx, dy, x ops.Buf, w, b *Param, lo *loraLayer, N, in, out int, accumulate bool, pass Pass) {
	if m.loraActive(lo) && lo.M != nil {
		m.doraBackward(a, dx, dy, x, w, b, lo, N, in, out, accumulate)
		return
	}
	if ia := m.ia3[w]; ia != nil {
		m.ia3Backward(a, ia, dx, dy, x, w, b, N, in, out, accumulate)
		return
	}
	m.linearBackward(dx, dy, x, w, b, N, in, out, accumulate)
	if !m.loraActive(lo) {
		return
	}
	d, la, r := m.Dev, a.lora[lo], m.loraCfg.Rank
	if !lo.B.Frozen {
		d.MatMul(lo.B.DW, dy, la.u, ops.MatMulArgs{M: out, N: r, K: N, TransA: true, Accumulate: true})
	}
	d.MatMul(la.du, dy, lo.B.W, ops.MatMulArgs{M: N, N: r, K: out})
	d.Scale(la.du, N*r, m.loraCfg.Scaling())
	xin := x
	rate := m.loraCfg.Dropout
	dropped := pass.Train && rate > 0
	if dropped {
		xin = la.xd
	}
	if !lo.A.Frozen {
		d.MatMul(lo.A.DW, la.du, xin, ops.MatMulArgs{M: r, N: in, K: N, TransA: true, Accumulate: true})
	}
	if dropped {
		d.MatMul(la.dxd, la.du, lo.A.W, ops.MatMulArgs{M: N, N: in, K: r})
		d.DropoutBackward(dx, la.dxd, N*in, rate, pass.key(siteLoRA(lo.layer, lo.target)))
	} else {
		d.MatMul(dx, la.du, lo.A.W, ops.MatMulArgs{M: N, N: in, K: r, Accumulate: true})
	}
}

// LoRAUpdate is the learned update of one adapted layer, ΔW = s·B·A, as the merge adds it to the
// base weight: Rows×Cols values (out × in), row-major. The playground draws it as a heatmap.
type LoRAUpdate struct {
	Layer  int       `json:"layer"`
	Target string    `json:"target"` // a name from LoRATargets
	Rows   int       `json:"rows"`
	Cols   int       `json:"cols"`
	Delta  []float32 `json:"delta"`
}

// LoRAUpdates computes ΔW = s·B·A for every adapted layer, in block then target order, with
// the same product MergeLoRA uses.
func (m *Model) LoRAUpdates() ([]LoRAUpdate, error) {
	s := m.loraCfg.Scaling()
	var out []LoRAUpdate
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo == nil {
				continue
			}
			if lo.M != nil { // DoRA: ΔW = g ⊙ (W + s·B·A) - W, what merging changes
				delta, err := m.doraDelta(lo)
				if err != nil {
					return nil, err
				}
				out = append(out, LoRAUpdate{Layer: lo.layer, Target: LoRATargets[lo.target], Rows: lo.out, Cols: lo.in, Delta: delta})
				continue
			}
			sb := m.Dev.Alloc(lo.B.Size())
			m.Dev.Copy(sb, lo.B.W)
			m.Dev.Scale(sb, lo.B.Size(), s)
			delta := m.Dev.Alloc(lo.out * lo.in)
			m.Dev.MatMul(delta, sb, lo.A.W, ops.MatMulArgs{M: lo.out, N: lo.in, K: m.loraCfg.Rank})
			host := make([]float32, lo.out*lo.in)
			err := m.Dev.Download(delta, host)
			m.Dev.Free(sb)
			m.Dev.Free(delta)
			if err != nil {
				return nil, err
			}
			out = append(out, LoRAUpdate{Layer: lo.layer, Target: LoRATargets[lo.target], Rows: lo.out, Cols: lo.in, Delta: host})
		}
	}
	return out, nil
}

// BakeLoRA makes a LoRA-fine-tuned model plain: it folds the update into the base weights
// (MergeLoRA's W += s·B·A, the same MatMul) and then drops the adapter entirely, its tensors,
// activations and config, and unfreezes the base. What is left is an ordinary model that
// computes exactly what the merged model computed: it clones, saves as a base checkpoint, can
// write text, trains every tensor, and takes a new method (a policy's own LoRA) later. Baking
// cannot be undone. A model with LoRA switched off, or with another method beside LoRA
// (adapters, a prefix, a class or value head), is refused and left unchanged.
func (m *Model) BakeLoRA() error {
	switch {
	case !m.hasLoRA():
		return fmt.Errorf("lora: the model has no LoRA to bake in")
	case m.loraOff:
		return fmt.Errorf("lora: the update is switched off: switch it on before baking it in")
	case m.head != nil || m.value != nil || m.prefixLen > 0 || m.prompt != nil:
		return fmt.Errorf("lora: only a model with LoRA alone can be baked (it has a head or a prefix)")
	}
	for _, bl := range m.blocks {
		if bl.adapters[0] != nil || bl.adapters[1] != nil || bl.prefix != nil {
			return fmt.Errorf("lora: only a model with LoRA alone can be baked (it has adapters or a prefix)")
		}
	}
	m.MergeLoRA()
	drop := map[*Param]bool{}
	for l := range m.blocks {
		bl := &m.blocks[l]
		for t, lo := range bl.lora {
			if lo == nil {
				continue
			}
			drop[lo.A], drop[lo.B] = true, true
			if lo.M != nil {
				drop[lo.M] = true
			}
			if lo.backup != nil {
				m.Dev.Free(lo.backup)
			}
			bl.lora[t] = nil
		}
	}
	kept := m.Params[:0]
	for _, p := range m.Params {
		if drop[p] {
			m.Dev.Free(p.W)
			m.Dev.Free(p.DW)
			continue
		}
		kept = append(kept, p)
	}
	clear(m.Params[len(kept):])
	m.Params = kept
	for _, p := range m.Params {
		p.Frozen = false // a plain model trains all of itself, as NewModel made it
	}
	m.loraCfg, m.loraOff = LoRAConfig{}, false
	m.allocActs() // the LoRA branch's activations go with it
	return nil
}
