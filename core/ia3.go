package core

import (
	"fmt"
	"slices"
	"strings"

	"pretune/core/ops"
)

// IA3 (Liu et al. 2022, "(IA)³"; PEFT's IA3Config) learns one vector per adapted linear layer
// that rescales it: for a target layer its output, y = (x·Wᵀ + b) ⊙ l, and for a feedforward
// target its input, y = (x ⊙ l)·Wᵀ + b. PEFT's default for causal LMs adapts the keys and
// values (k_proj, v_proj) and the MLP's output layer fc_out as a feedforward module, whose input
// is the MLP's hidden activations. The vectors start at 1, so the model starts at the base bit
// for bit (x·1 = x), and they are the fewest parameters of any method here: 2C + 4C per block.
// Built from ScaleCols and its backward.

// IA3Config says which layers IA3 rescales, with PEFT's field names.
type IA3Config struct {
	Targets []string `json:"target_modules"` // names from LoRATargets
	// Feedforward are the targets whose input is rescaled instead of their output (a subset of
	// Targets, as PEFT requires).
	Feedforward []string `json:"feedforward_modules"`
}

// DefaultIA3 is PEFT's IA3 for GPT-style causal LMs: keys, values and the MLP's hidden
// activations (the input of fc_out).
func DefaultIA3() IA3Config {
	return IA3Config{Targets: []string{"k_proj", "v_proj", "fc_out"}, Feedforward: []string{"fc_out"}}
}

// Validate says what is wrong with c.
func (c IA3Config) Validate() error {
	if len(c.Targets) == 0 {
		return fmt.Errorf("ia3: no target layers (choose from %s)", strings.Join(LoRATargets[:], ", "))
	}
	seen := map[string]bool{}
	for _, t := range c.Targets {
		if loraIndex(t) < 0 {
			return fmt.Errorf("ia3: unknown target %q (choose from %s)", t, strings.Join(LoRATargets[:], ", "))
		}
		if seen[t] {
			return fmt.Errorf("ia3: target %q is listed twice", t)
		}
		seen[t] = true
	}
	ff := map[string]bool{}
	for _, t := range c.Feedforward {
		if !seen[t] {
			return fmt.Errorf("ia3: feedforward module %q is not among the targets", t)
		}
		if ff[t] {
			return fmt.Errorf("ia3: feedforward module %q is listed twice", t)
		}
		ff[t] = true
	}
	return nil
}

// ia3Layer is one rescaled linear layer.
type ia3Layer struct {
	L     *Param // [out, 1], or [1, in] for a feedforward layer (PEFT's shapes)
	ff    bool   // rescale the input, not the output
	layer int
}

// ia3Acts are one IA3 layer's saved forward values and scratch for one batch shape.
type ia3Acts struct {
	pre, dpre ops.Buf // the unscaled tensor (the layer's output, or its input for ff) and its gradient
}

// AttachIA3 adds IA3's vectors (all ones) to the targets of every block, freezes the base model
// and returns the number of parameters added.
func (m *Model) AttachIA3(c IA3Config) (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if m.ia3 != nil {
		return 0, fmt.Errorf("ia3: the model already has IA3")
	}
	m.FreezeBase()
	m.ia3Cfg = IA3Config{Targets: slices.Clone(c.Targets), Feedforward: slices.Clone(c.Feedforward)}
	m.ia3 = map[*Param]*ia3Layer{}
	added := 0
	for l := range m.blocks {
		bl := &m.blocks[l]
		weights := [numLoRATargets]*Param{bl.wq, bl.wk, bl.wv, bl.wo, bl.wfc, bl.wproj}
		for t, name := range LoRATargets {
			if !slices.Contains(c.Targets, name) {
				continue
			}
			w := weights[t]
			ia := &ia3Layer{ff: slices.Contains(c.Feedforward, name), layer: l}
			shape := []int{w.Shape[0], 1}
			if ia.ff {
				shape = []int{1, w.Shape[1]}
			}
			ia.L = m.addParam(fmt.Sprintf("blocks.%d.%s.ia3_l", l, loraModule[t]), false, shape...)
			ones := make([]float32, ia.L.Size())
			for i := range ones {
				ones[i] = 1
			}
			m.Dev.Upload(ia.L.W, ones)
			m.ia3[w] = ia
			added += ia.L.Size()
		}
	}
	m.allocActs()
	return added, nil
}

// IA3 returns the attached IA3's config and whether there is one.
func (m *Model) IA3() (IA3Config, bool) { return m.ia3Cfg, m.ia3 != nil }

func (m *Model) newIA3Acts(a *acts) {
	a.ia3 = map[*ia3Layer]*ia3Acts{}
	N := a.B * a.T
	for w, ia := range m.ia3 {
		n := N * w.Shape[0]
		if ia.ff {
			n = N * w.Shape[1]
		}
		a.ia3[ia] = &ia3Acts{pre: m.Dev.Alloc(n), dpre: m.Dev.Alloc(n)}
	}
}

// ia3Forward is proj for an IA3 layer: y = (x·Wᵀ + b) ⊙ l, or y = (x ⊙ l)·Wᵀ + b for ff.
func (m *Model) ia3Forward(a *acts, ia *ia3Layer, y, x ops.Buf, w, b *Param, N, in, out int) {
	ac := a.ia3[ia]
	if ia.ff {
		m.Dev.ScaleCols(ac.pre, x, ia.L.W, N, in)
		m.linear(y, ac.pre, w, b, N, in, out)
		return
	}
	m.linear(ac.pre, x, w, b, N, in, out)
	m.Dev.ScaleCols(y, ac.pre, ia.L.W, N, out)
}

// ia3Backward is projBackward for an IA3 layer: the linear layer's backward and ScaleCols',
// in the reverse order of the forward pass. With accumulate false dx is overwritten.
func (m *Model) ia3Backward(a *acts, ia *ia3Layer, dx, dy, x ops.Buf, w, b *Param, N, in, out int, accumulate bool) {
	d, ac := m.Dev, a.ia3[ia]
	if ia.ff {
		m.linearBackward(ac.dpre, dy, ac.pre, w, b, N, in, out, false)
		if !accumulate {
			d.Zero(dx)
		}
		d.ScaleColsBackward(dx, ia.L.DW, ac.dpre, x, ia.L.W, N, in)
		return
	}
	d.Zero(ac.dpre)
	d.ScaleColsBackward(ac.dpre, ia.L.DW, dy, ac.pre, ia.L.W, N, out)
	m.linearBackward(dx, ac.dpre, x, w, b, N, in, out, accumulate)
}
