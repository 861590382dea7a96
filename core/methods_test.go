package core

import (
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
	T      int  // tokens per sequence; 0 means 5 (prompt tuning needs room for its soft tokens)
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
		// DoRA, IA3, BitFit and LayerNorm tuning (dora.go, ia3.go, bitfit.go).
		{name: "dora-all-targets-rslora", attach: lora(LoRAConfig{Rank: 2, Alpha: 3, RSLoRA: true, UseDoRA: true, Targets: LoRATargets[:]}), train: true},
		{name: "dora-under-class-head", class: true, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 2, UseDoRA: true, Targets: []string{"q_proj", "fc_in"}}, 5)
			require.NoError(t, err)
			_, err = m.AttachClassHead(2, false, 5)
			require.NoError(t, err)
		}},
		{name: "ia3-peft-default", attach: func(t *testing.T, m *Model) {
			_, err := m.AttachIA3(DefaultIA3())
			require.NoError(t, err)
		}, train: true},
		{name: "ia3-every-target-two-feedforward", attach: func(t *testing.T, m *Model) {
			_, err := m.AttachIA3(IA3Config{Targets: LoRATargets[:], Feedforward: []string{"o_proj", "fc_in"}})
			require.NoError(t, err)
		}},
		{name: "bitfit", attach: func(t *testing.T, m *Model) { m.AttachBitFit() }, train: true},
		{name: "ln-tuning", attach: func(t *testing.T, m *Model) { m.AttachLNTuning() }},
		// #17's methods. LoRA+ changes only the optimizer (its own test) and PiSSA only the
		// initial values (randomized here like every case's), so their backward is LoRA's;
		// prompt tuning adds a backward of its own: the soft tokens' gather and the final
		// gather of the real rows, alone, under a class head (both masks) and beside LoRA.
		{name: "pissa", attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPiSSA(LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj", "fc_in", "fc_out"}})
			require.NoError(t, err)
		}},
		{name: "prompt", T: 3, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPrompt(PromptConfig{Len: 3}, nil, 5)
			require.NoError(t, err)
		}},
		{name: "prompt-bidirectional", T: 4, mask: ops.Bidirectional, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPrompt(PromptConfig{Len: 2}, nil, 5)
			require.NoError(t, err)
		}},
		{name: "prompt-class-head", T: 4, class: true, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPrompt(PromptConfig{Len: 2}, nil, 5)
			require.NoError(t, err)
			_, err = m.AttachClassHead(3, false, 5)
			require.NoError(t, err)
		}},
		{name: "prompt-with-lora", T: 5, attach: func(t *testing.T, m *Model) {
			_, err := m.AttachPrompt(PromptConfig{Len: 1}, nil, 5)
			require.NoError(t, err)
			_, err = m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 2, Targets: []string{"k_proj", "o_proj"}}, 5)
			require.NoError(t, err)
		}},
	}
}

// TestMethodGradients checks the analytic gradient of every trainable tensor (the methods' own,
// and the base's where it trains) against central finite differences of the whole model's loss
// (checkModelGradients).
func TestMethodGradients(t *testing.T) {
	for _, tc := range methodCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := tinyModel(t, 0)
			m.Mask = tc.mask
			tc.attach(t, m)
			randomizeForGradients(m, 7)
			B, T := 2, 5
			if tc.T > 0 {
				T = tc.T
			}
			b := gradBatch(m, 8, B, T)
			lengths, labels := []int{T, min(3, T-1)}, []int32{1, 0}
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
			backward := func() {
				if tc.class {
					m.classBackward(m.train, b, pass)
				} else {
					m.backward(m.train, b, pass, weight)
				}
			}
			checkModelGradients(t, m, lossAt, backward)
		})
	}
}
