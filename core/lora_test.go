package core

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// logitsOf runs the model without dropout on a fixed batch and returns a copy of the logits.
func logitsOf(t *testing.T, m *Model, in []int32) []float32 {
	t.Helper()
	b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	b.Set(m.Dev, 2, len(in)/2, in, make([]int32, len(in)), nil)
	m.forward(m.train, b, Pass{})
	return append([]float32(nil), ops.Floats(m.train.logits)[:len(in)*m.Cfg.Vocab]...)
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
				w := ops.Floats(p.W)
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
				require.Equal(t, ops.Floats(baseHash.Params[i].W), ops.Floats(p.W), "%s changed", p.Name)
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
	ops.Floats(m.Param("blocks.1.mlp_adapter.up.bias").W)[0] = 0.5
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
	require.Equal(t, ops.Floats(c.single.layers[0].k)[:3*m.Cfg.Dim], ops.Floats(m.Param("blocks.0.attn.prefix_k").W))
	require.Equal(t, ops.Floats(c.single.layers[1].v)[:3*m.Cfg.Dim], ops.Floats(m.Param("blocks.1.attn.prefix_v").W))
	_, err = m.AttachPrefix(PrefixConfig{Len: 3}, nil, 1)
	require.Error(t, err)
}

func TestLoRAExportImport(t *testing.T) {
	m, _ := tinyModel(t, 0)
	cfg := LoRAConfig{Rank: 2, Alpha: 3, RSLoRA: true, Dropout: 0.1, Targets: []string{"v_proj", "fc_in"}}
	_, err := m.AttachLoRA(cfg, 1)
	require.NoError(t, err)
	for _, p := range m.MethodParams() {
		w := ops.Floats(p.W)
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
		before, err := f.Weights()
		require.NoError(t, err)
		err = f.ImportLoRA(bytes.NewReader(edit(append([]byte(nil), file...))))
		after, werr := f.Weights()
		require.NoError(t, werr)
		require.Equal(t, before, after, "a refused file leaves the model as it was")
		_, attached := f.LoRA()
		require.False(t, attached, "a refused file attaches nothing")
		return err
	}
	// A tensor's entry in the header, to move its data offsets.
	entry := regexp.MustCompile(`"base_model\.model\.blocks\.0\.attn\.v_proj\.lora_A\.weight":\{[^}]*"data_offsets":\[\d+,\d+\]`)
	offsets := func(b []byte, start, end string) []byte {
		return editHeader(b, func(h []byte) []byte {
			return entry.ReplaceAllFunc(h, func(m []byte) []byte {
				i := bytes.LastIndexByte(m, '[')
				return append(append([]byte(nil), m[:i]...), []byte("["+start+","+end+"]")...)
			})
		})
	}
	wider, _ := tinyModel(t, 0)
	widerCfg := wider.Cfg
	widerCfg.Dim = 16
	wider, err = NewModel(ops.NewCPU(), widerCfg)
	require.NoError(t, err)
	_, err = wider.AttachLoRA(cfg, 1)
	require.NoError(t, err)
	var widerFile bytes.Buffer
	require.NoError(t, wider.ExportLoRA(&widerFile))
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want error
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-4] }, ErrLoRADamaged},
		{"short", func(b []byte) []byte { return b[:5] }, ErrLoRADamaged},
		{"huge header", func(b []byte) []byte { b[7] = 0x7f; return b }, ErrLoRADamaged},
		{"not json", func(b []byte) []byte { b[8] = '['; return b }, ErrLoRADamaged},
		{"nan", func(b []byte) []byte { copy(b[len(b)-4:], []byte{0, 0, 0xc0, 0x7f}); return b }, ErrLoRADamaged},
		// A start near the int64 limit wraps start+4n round to a small end: it must be refused,
		// not read past the data.
		{"offsets wrap", func(b []byte) []byte { return offsets(b, "9223372036854775800", "-9223372036854775752") }, ErrLoRADamaged},
		{"offsets outside", func(b []byte) []byte { return offsets(b, "0", "99999") }, ErrLoRADamaged},
		{"a whole model", func(b []byte) []byte {
			return safetensorsOf(`{"__metadata__":{"format":"pt"},"wte.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)
		}, ErrLoRANotAdapter},
		{"another method", func(b []byte) []byte { return bytes.Replace(b, []byte(`"LORA"`), []byte(`"IA3X"`), 1) }, ErrLoRANotAdapter},
		{"wrong rank", func(b []byte) []byte { return bytes.Replace(b, []byte(`\"r\":2`), []byte(`\"r\":3`), 1) }, ErrLoRAMismatch},
		{"missing tensor", func(b []byte) []byte {
			return bytes.Replace(b, []byte("blocks.0.attn.v_proj.lora_A"), []byte("blocks.0.attn.v_proj.lora_X"), 1)
		}, ErrLoRAMismatch},
		{"extra layer", func(b []byte) []byte {
			return bytes.Replace(b, []byte("blocks.1.mlp.fc_in.lora_A"), []byte("blocks.2.mlp.fc_in.lora_A"), 1)
		}, ErrLoRAMismatch},
		{"another model's width", func([]byte) []byte { return widerFile.Bytes() }, ErrLoRAMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := bad(tc.edit)
			require.ErrorIs(t, err, tc.want)
			for _, other := range []error{ErrLoRADamaged, ErrLoRANotAdapter, ErrLoRAMismatch} {
				if other != tc.want {
					require.NotErrorIs(t, err, other, "one kind of refusal")
				}
			}
		})
	}
	// A model with a different LoRA refuses the file.
	other, _ := tinyModel(t, 0)
	_, err = other.AttachLoRA(LoRAConfig{Rank: 1, Alpha: 1, Targets: []string{"q_proj"}}, 1)
	require.NoError(t, err)
	require.ErrorIs(t, other.ImportLoRA(bytes.NewReader(file)), ErrLoRAMismatch)
}

// editHeader rewrites a safetensors file's JSON header and frames it again with its length, so
// an edit reaches the checks after the framing.
func editHeader(file []byte, edit func([]byte) []byte) []byte {
	n := binary.LittleEndian.Uint64(file)
	h := bytes.TrimRight(file[8:8+n], " ")
	out := safetensorsOf(string(edit(append([]byte(nil), h...))), 0)
	return append(out, file[8+n:]...)
}

// safetensorsOf frames a header (padded to 8 bytes) and n zero bytes of data as a file.
func safetensorsOf(header string, n int) []byte {
	for len(header)%8 != 0 {
		header += " "
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), make([]byte, n)...)
}

// FuzzImportLoRA: no input may panic; every refusal wraps exactly one of the three kinds and
// leaves the model untouched; a file accepted exports and imports back to the same weights.
func FuzzImportLoRA(f *testing.F) {
	m, _ := tinyModel(f, 0)
	_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "fc_out"}}, 1)
	require.NoError(f, err)
	var buf bytes.Buffer
	require.NoError(f, m.ExportLoRA(&buf))
	file := buf.Bytes()
	f.Add(file)
	f.Add(file[:len(file)/2])
	f.Add(file[:12])
	f.Add(editHeader(file, func(h []byte) []byte { // a start that wraps start+4n round
		return bytes.Replace(h, []byte(`"data_offsets":[0,64]`), []byte(`"data_offsets":[9223372036854775800,-9223372036854775752]`), 1)
	}))
	f.Add(safetensorsOf(`{"__metadata__":{"lora_config":"{\"r\":1,\"lora_alpha\":1,\"target_modules\":[\"q_proj\"]}"}}`, 0))
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00null    "))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		fresh, _ := tinyModel(t, 0)
		before, err := fresh.Weights()
		require.NoError(t, err)
		if err := fresh.ImportLoRA(bytes.NewReader(data)); err != nil {
			requireOneAdapterErrorKind(t, err)
			after, werr := fresh.Weights()
			require.NoError(t, werr)
			require.Equal(t, before, after)
			return
		}
		var out bytes.Buffer
		require.NoError(t, fresh.ExportLoRA(&out))
		again, _ := tinyModel(t, 0)
		require.NoError(t, again.ImportLoRA(bytes.NewReader(out.Bytes())))
		w1, err := fresh.Weights()
		require.NoError(t, err)
		w2, err := again.Weights()
		require.NoError(t, err)
		require.Equal(t, w1, w2)
	})
}

// TestBakeLoRA: a baked model computes exactly what the merged model computes (bit for bit: both
// forward passes use the same weights, W + s·B·A from MergeLoRA's MatMul, with no branch),
// which is the unmerged LoRA model's output up to float32 rounding; it is a plain model (no
// method tensors, nothing frozen, no LoRA), its clone computes the same, and a new LoRA attaches
// to it and starts exactly at it. Baking a plain or switched-off model is refused.
func TestBakeLoRA(t *testing.T) {
	cfg := LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj", "fc_out"}}
	tuned := func() *Model {
		m, _ := tinyModel(t, 0)
		_, err := m.AttachLoRA(cfg, 1)
		require.NoError(t, err)
		for _, p := range m.MethodParams() { // B = 0 would make baking trivially exact
			w := ops.Floats(p.W)
			for i := range w {
				w[i] = float32(math.Sin(float64(i+1))) * 0.3
			}
		}
		return m
	}
	merged, baked := tuned(), tuned()
	in := fixedInput(merged)
	unmerged := logitsOf(t, merged, in)
	merged.MergeLoRA()
	want := logitsOf(t, merged, in)
	base, _ := tinyModel(t, 0)
	require.NotEqual(t, logitsOf(t, base, in), want, "the update must change the outputs")

	require.NoError(t, baked.BakeLoRA())
	got := logitsOf(t, baked, in)
	require.Equal(t, want, got, "baked and merged: the same weights, bit for bit")
	for i := range unmerged {
		require.InDelta(t, unmerged[i], got[i], 1e-4+1e-4*math.Abs(float64(unmerged[i])), "logit %d", i)
	}
	for i, p := range baked.Params {
		require.Equal(t, ops.Floats(merged.Params[i].W), ops.Floats(p.W), p.Name)
	}
	_, has := baked.LoRA()
	require.False(t, has)
	require.False(t, baked.LoRAMerged())
	require.Empty(t, baked.MethodParams())
	require.Equal(t, base.ParamCount(), baked.ParamCount())
	require.Equal(t, baked.ParamCount(), baked.TrainableCount(), "a plain model trains all of itself")
	require.True(t, baked.CanGenerate())
	require.Equal(t, base.ActivationBytes(), baked.ActivationBytes(), "the LoRA branch's activations are gone")

	clone, err := baked.Clone()
	require.NoError(t, err)
	require.Equal(t, got, logitsOf(t, clone, in), "a clone is the baked model")

	added, err := baked.AttachLoRA(LoRAConfig{Rank: 1, Alpha: 2, Targets: AttentionTargets()}, 9)
	require.NoError(t, err)
	require.Equal(t, added, baked.TrainableCount())
	require.Equal(t, got, logitsOf(t, baked, in), "a new LoRA starts exactly at the baked model")

	require.ErrorContains(t, base.BakeLoRA(), "no LoRA")
	off := tuned()
	off.SetLoRAEnabled(false)
	require.ErrorContains(t, off.BakeLoRA(), "switched off")
	_, has = off.LoRA()
	require.True(t, has, "a refused bake leaves the model as it was")
}

// requireOneAdapterErrorKind: a refused adapter file's error is exactly one of the kinds the page
// tells apart (damaged, not an adapter, made for another model).
func requireOneAdapterErrorKind(t *testing.T, err error) {
	t.Helper()
	kinds := 0
	for _, k := range []error{ErrLoRADamaged, ErrLoRANotAdapter, ErrLoRAMismatch} {
		if errors.Is(err, k) {
			kinds++
		}
	}
	require.Equal(t, 1, kinds, "%v", err)
}
