package core

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// logitsOf runs the model without dropout on a fixed batch and returns a copy of the logits.
func logitsOf(t *testing.T, m *Model, in []int32) []float32 {
	t.Helper()
	b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	b.Set(m.Dev, 2, len(in)/2, in, make([]int32, len(in)), nil)
	m.forward(m.train, b, Pass{})
	return append([]float32(nil), Floats(m.train.logits)[:len(in)*m.Cfg.Vocab]...)
}

func fixedInput(m *Model) []int32 {
	in := make([]int32, 10)
	for i := range in {
		in[i] = int32(3 + (i*7)%(m.Cfg.Vocab-3))
	}
	return in
}

func TestLoRAStartsAtBaseAndSwitches(t *testing.T) {
	for _, targets := range [][]string{{"q_proj"}, LoRATargets[:]} {
		t.Run(targets[len(targets)-1], func(t *testing.T) {
			m, _ := tinyModel(t, 0)
			in := fixedInput(m)
			base := logitsOf(t, m, in)
			baseHash, err := m.Clone()
			require.NoError(t, err)
			added, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: targets}, 1)
			require.NoError(t, err)
			require.Equal(t, m.TrainableCount(), added)
			require.Equal(t, base, logitsOf(t, m, in), "with B = 0 the outputs must equal the base's bit for bit")

			// A non-zero B changes the outputs; merged and unmerged agree within float32 rounding.
			for _, p := range m.MethodParams() {
				w := Floats(p.W)
				for i := range w {
					w[i] = float32(math.Sin(float64(i+1))) * 0.3
				}
			}
			tuned := logitsOf(t, m, in)
			require.NotEqual(t, base, tuned)
			m.MergeLoRA()
			require.True(t, m.LoRAMerged())
			merged := logitsOf(t, m, in)
			for i := range tuned {
				require.InDelta(t, tuned[i], merged[i], 1e-4+1e-4*math.Abs(float64(tuned[i])), "logit %d", i)
			}
			m.UnmergeLoRA()
			require.Equal(t, tuned, logitsOf(t, m, in), "unmerging restores the unmerged model exactly")

			// Off is the base exactly, merged or not; on again is the tuned model exactly.
			m.MergeLoRA()
			m.SetLoRAEnabled(false)
			require.False(t, m.LoRAMerged())
			require.Equal(t, base, logitsOf(t, m, in))
			for i, p := range m.BaseParams() {
				require.Equal(t, Floats(baseHash.Params[i].W), Floats(p.W), "%s changed", p.Name)
			}
			m.SetLoRAEnabled(true)
			require.Equal(t, tuned, logitsOf(t, m, in))
		})
	}
}

func TestLoRAScalingAndValidation(t *testing.T) {
	require.InDelta(t, 2.0, LoRAConfig{Rank: 4, Alpha: 8}.Scaling(), 0)
	require.InDelta(t, 4.0, LoRAConfig{Rank: 4, Alpha: 8, RSLoRA: true}.Scaling(), 1e-7)
	m, _ := tinyModel(t, 0)
	for name, c := range map[string]LoRAConfig{
		"rank 0":         {Rank: 0, Alpha: 1, Targets: []string{"q_proj"}},
		"rank too large": {Rank: 99, Alpha: 1, Targets: []string{"q_proj"}},
		"no alpha":       {Rank: 1, Targets: []string{"q_proj"}},
		"no targets":     {Rank: 1, Alpha: 1},
		"unknown target": {Rank: 1, Alpha: 1, Targets: []string{"c_attn"}},
		"twice":          {Rank: 1, Alpha: 1, Targets: []string{"q_proj", "q_proj"}},
		"dropout":        {Rank: 1, Alpha: 1, Dropout: 0.95, Targets: []string{"q_proj"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := m.AttachLoRA(c, 1)
			require.Error(t, err)
		})
	}
}

func TestAdaptersStartAtBase(t *testing.T) {
	m, _ := tinyModel(t, 0)
	in := fixedInput(m)
	base := logitsOf(t, m, in)
	added, err := m.AttachAdapters(AdapterConfig{Size: 3}, 1)
	require.NoError(t, err)
	require.Equal(t, 2*m.Cfg.Layers*(2*3*m.Cfg.Dim+3+m.Cfg.Dim), added)
	require.Equal(t, added, m.TrainableCount())
	require.Equal(t, base, logitsOf(t, m, in), "with up = 0 the outputs must equal the base's bit for bit")
	Floats(m.Param("blocks.1.mlp_adapter.up.bias").W)[0] = 0.5
	require.NotEqual(t, base, logitsOf(t, m, in))
}

func TestPrefixInitFromTokens(t *testing.T) {
	m, tk := tinyModel(t, 0)
	init := tk.Encode("abc")
	added, err := m.AttachPrefix(PrefixConfig{Len: 3}, init, 1)
	require.NoError(t, err)
	require.Equal(t, 2*m.Cfg.Layers*3*m.Cfg.Dim, added)
	// The prefix is exactly the base's own keys and values of "abc", layer by layer.
	c, err := m.Clone()
	require.NoError(t, err)
	b := NewBatch(c.Dev, 1, c.Cfg.Context)
	b.Set(c.Dev, 1, 3, init, make([]int32, 3), nil)
	c.forward(c.single, b, Pass{})
	require.Equal(t, Floats(c.single.layers[0].k)[:3*m.Cfg.Dim], Floats(m.Param("blocks.0.attn.prefix_k").W))
	require.Equal(t, Floats(c.single.layers[1].v)[:3*m.Cfg.Dim], Floats(m.Param("blocks.1.attn.prefix_v").W))
	_, err = m.AttachPrefix(PrefixConfig{Len: 3}, nil, 1)
	require.Error(t, err)
}

func TestLoRAExportImport(t *testing.T) {
	m, _ := tinyModel(t, 0)
	cfg := LoRAConfig{Rank: 2, Alpha: 3, RSLoRA: true, Dropout: 0.1, Targets: []string{"v_proj", "fc_in"}}
	_, err := m.AttachLoRA(cfg, 1)
	require.NoError(t, err)
	for _, p := range m.MethodParams() {
		w := Floats(p.W)
		for i := range w {
			w[i] = float32(i%7) - 3.25
		}
	}
	in := fixedInput(m)
	tuned := logitsOf(t, m, in)
	var buf bytes.Buffer
	require.NoError(t, m.ExportLoRA(&buf))
	file := buf.Bytes()
	require.Contains(t, string(file), `"base_model.model.blocks.1.mlp.fc_in.lora_B.weight"`)
	require.Contains(t, string(file), `"peft_type":"LORA"`)

	// Into a fresh copy of the base: the same config, the same outputs.
	fresh, _ := tinyModel(t, 0)
	require.NoError(t, fresh.ImportLoRA(bytes.NewReader(file)))
	got, ok := fresh.LoRA()
	require.True(t, ok)
	require.Equal(t, cfg, got)
	require.Equal(t, tuned, logitsOf(t, fresh, in))

	bad := func(edit func([]byte) []byte) error {
		f, _ := tinyModel(t, 0)
		return f.ImportLoRA(bytes.NewReader(edit(append([]byte(nil), file...))))
	}
	for name, edit := range map[string]func([]byte) []byte{
		"truncated":   func(b []byte) []byte { return b[:len(b)-4] },
		"short":       func(b []byte) []byte { return b[:5] },
		"huge header": func(b []byte) []byte { b[7] = 0x7f; return b },
		"not json":    func(b []byte) []byte { b[8] = '['; return b },
		"wrong rank":  func(b []byte) []byte { return bytes.Replace(b, []byte(`\"r\":2`), []byte(`\"r\":3`), 1) },
		"missing tensor": func(b []byte) []byte {
			return bytes.Replace(b, []byte("blocks.0.attn.v_proj.lora_A"), []byte("blocks.0.attn.v_proj.lora_X"), 1)
		},
		"nan": func(b []byte) []byte {
			copy(b[len(b)-4:], []byte{0, 0, 0xc0, 0x7f})
			return b
		},
	} {
		t.Run(name, func(t *testing.T) { require.Error(t, bad(edit)) })
	}
	// A model with a different LoRA refuses the file.
	other, _ := tinyModel(t, 0)
	_, err = other.AttachLoRA(LoRAConfig{Rank: 1, Alpha: 1, Targets: []string{"q_proj"}}, 1)
	require.NoError(t, err)
	require.Error(t, other.ImportLoRA(bytes.NewReader(file)))
}
