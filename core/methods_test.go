package core

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// methodCase attaches one fine-tuning method (or several) to a tiny model.
type methodCase struct {
	name   string
	attach func(t *testing.T, m *Model)
	class  bool // the loss is the class head's
	mask   ops.MaskMode
	train  bool // a training pass (dropout on)
}

func methodCases() []methodCase {
	lora := func(cfg LoRAConfig) func(t *testing.T, m *Model) {
		return func(t *testing.T, m *Model) {
			_, err := m.AttachLoRA(cfg, 5)
			require.NoError(t, err)
		}
	}
	all := LoRAConfig{Rank: 3, Alpha: 6, Targets: LoRATargets[:]}
	drop := all
	drop.Dropout, drop.RSLoRA = 0.3, true
	return []methodCase{
		{name: "lora-all-targets", attach: lora(all)},
		{name: "lora-dropout-rslora", attach: lora(drop), train: true},
		{name: "adapters", attach: func(t *testing.T, m *Model) {
			_, err := m.AttachAdapters(AdapterConfig{Size: 3}, 5)
			require.NoError(t, err)
		}, train: true},
		{name: "prefix", attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPrefix(PrefixConfig{Len: 2}, nil, 5)
			require.NoError(t, err)
		}},
		{name: "prefix-bidirectional", mask: ops.Bidirectional, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPrefix(PrefixConfig{Len: 3}, nil, 5)
			require.NoError(t, err)
		}},
		{name: "class-head-frozen-body", class: true, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachClassHead(3, false, 5)
			require.NoError(t, err)
		}},
		{name: "class-head-trained-body-mean-pool", class: true, mask: ops.Bidirectional, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachClassHead(3, true, 5)
			require.NoError(t, err)
		}},
		{name: "class-head-with-lora", class: true, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 2, Targets: []string{"v_proj", "fc_out"}}, 5)
			require.NoError(t, err)
			_, err = m.AttachClassHead(2, false, 5)
			require.NoError(t, err)
		}},
		{name: "masked-lm", mask: ops.Bidirectional, attach: func(t *testing.T, m *Model) {}},
	}
}

// TestMethodGradients checks the analytic gradient of every trainable tensor (the methods' own,
// and the base's where it trains) against central finite differences of the whole model's loss.
func TestMethodGradients(t *testing.T) {
	for _, tc := range methodCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := tinyModel(t, 0)
			m.Mask = tc.mask
			tc.attach(t, m)
			r := rand.New(rand.NewPCG(7, 8))
			for _, p := range m.Params {
				w := ops.Floats(p.W)
				for i := range w {
					w[i] = float32(r.NormFloat64() * 0.3)
				}
			}
			B, T := 2, 5
			in, tg, wt := make([]int32, B*T), make([]int32, B*T), make([]float32, B*T)
			for i := range in {
				in[i], tg[i], wt[i] = int32(r.IntN(m.Cfg.Vocab)), int32(r.IntN(m.Cfg.Vocab)), float32(r.IntN(3))
			}
			wt[0] = 1
			lengths, labels := []int{5, 3}, []int32{1, 0}
			b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
			b.Set(m.Dev, B, T, in, tg, wt)
			pass := Pass{Train: tc.train, DropoutSeed: 99, Step: 4}
			var weight float64
			lossAt := func() float64 {
				if tc.class {
					m.classForward(m.train, b, lengths, labels, pass)
					l, err := m.classLoss(m.train, B)
					require.NoError(t, err)
					return l
				}
				m.forward(m.train, b, pass)
				l, w, err := m.loss(m.train, b)
				require.NoError(t, err)
				weight = w
				return l
			}
			for _, p := range m.Params {
				m.Dev.Zero(p.DW)
			}
			lossAt()
			if tc.class {
				m.classBackward(m.train, b, pass)
			} else {
				m.backward(m.train, b, pass, weight)
			}
			const h = 1e-2
			checked := 0
			for _, p := range m.Params {
				if p.Frozen {
					continue
				}
				w, g := ops.Floats(p.W), ops.Floats(p.DW)
				for k := 0; k < min(10, len(w)); k++ {
					i := k * len(w) / min(10, len(w))
					old := w[i]
					w[i] = old + h
					up := lossAt()
					w[i] = old - h
					down := lossAt()
					w[i] = old
					num := (up - down) / (2 * h)
					// float32 losses of order 1 differ by about 1e-7: with h = 1e-2 the numeric
					// gradient is good to about 1e-5, plus the curvature's O(h²).
					tol := 1e-4 + 3e-2*math.Abs(num)
					require.InDelta(t, num, float64(g[i]), tol, "%s[%d]: numeric %g analytic %g", p.Name, i, num, g[i])
					checked++
				}
			}
			require.Greater(t, checked, 0)
		})
	}
}
