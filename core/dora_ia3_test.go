package core

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// DoRA, IA3, BitFit and LayerNorm tuning: where each starts, what each trains.

func TestDoRAStartsAtBaseMergesAndSwitches(t *testing.T) {
	m, _ := tinyModel(t, 0)
	in := fixedInput(m)
	base := logitsOf(t, m, in)
	C, L := m.Cfg.Dim, m.Cfg.Layers
	added, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, UseDoRA: true, Targets: []string{"q_proj", "v_proj", "fc_in", "fc_out"}}, 1)
	require.NoError(t, err)
	// A and B as LoRA's, plus one magnitude per output row.
	lora := 2 * (2*C + 2*C) // q, v: A 2×C, B C×2
	lora += 2*C + 4*C*2     // fc_in: A 2×C, B 4C×2
	lora += 2*4*C + C*2     // fc_out: A 2×4C, B C×2
	require.Equal(t, L*(lora+C+C+4*C+C), added)
	require.Equal(t, added, m.TrainableCount())
	require.Equal(t, base, logitsOf(t, m, in), "with B = 0 and m = ||W|| the outputs must equal the base's bit for bit")

	for _, p := range m.MethodParams() {
		w := ops.Floats(p.W)
		for i := range w {
			w[i] += float32(math.Sin(float64(i+1))) * 0.3
		}
	}
	tuned := logitsOf(t, m, in)
	require.NotEqual(t, base, tuned)
	updates, err := m.LoRAUpdates()
	require.NoError(t, err)
	require.Len(t, updates, 4*L)

	m.MergeLoRA()
	merged := logitsOf(t, m, in)
	for i := range tuned {
		require.InDelta(t, tuned[i], merged[i], 1e-4+1e-4*math.Abs(float64(tuned[i])), "logit %d", i)
	}
	// The update is what merging added to the weight.
	w := ops.Floats(m.Param("blocks.1.mlp.fc_in.weight").W)
	bk := m.blocks[1].lora[loraFcIn].backup
	u := updates[4*1+2]
	require.Equal(t, "fc_in", u.Target)
	for i, d := range u.Delta {
		require.InDelta(t, w[i]-ops.Floats(bk)[i], d, 1e-6, "delta %d", i)
	}
	m.UnmergeLoRA()
	require.Equal(t, tuned, logitsOf(t, m, in), "unmerging restores the unmerged model exactly")
	m.SetLoRAEnabled(false)
	require.Equal(t, base, logitsOf(t, m, in), "off is the base exactly")
	m.SetLoRAEnabled(true)
	require.Equal(t, tuned, logitsOf(t, m, in))

	_, err = tinyModelWith(t).AttachLoRA(LoRAConfig{Rank: 1, Alpha: 1, UseDoRA: true, Dropout: 0.1, Targets: []string{"q_proj"}}, 1)
	require.ErrorContains(t, err, "dora")
}

func tinyModelWith(t *testing.T) *Model {
	m, _ := tinyModel(t, 0)
	return m
}

func TestIA3StartsAtBase(t *testing.T) {
	m, _ := tinyModel(t, 0)
	in := fixedInput(m)
	base := logitsOf(t, m, in)
	C, L := m.Cfg.Dim, m.Cfg.Layers
	added, err := m.AttachIA3(DefaultIA3())
	require.NoError(t, err)
	require.Equal(t, L*(C+C+4*C), added, "a vector for keys and values (C each) and the MLP's hidden units (4C)")
	require.Equal(t, added, m.TrainableCount())
	require.Equal(t, []int{C, 1}, m.Param("blocks.0.attn.k_proj.ia3_l").Shape)
	require.Equal(t, []int{1, 4 * C}, m.Param("blocks.0.mlp.fc_out.ia3_l").Shape, "a feedforward vector scales the input")
	require.Equal(t, base, logitsOf(t, m, in), "with vectors of ones the outputs must equal the base's bit for bit")
	for name, want := range map[string]string{"blocks.1.attn.v_proj.ia3_l": "value", "blocks.0.mlp.fc_out.ia3_l": "hidden", "blocks.1.attn.k_proj.ia3_l": "key"} {
		v := ops.Floats(m.Param(name).W)
		v[1] = 1.5
		require.NotEqual(t, base, logitsOf(t, m, in), "a %s scale changes nothing", want)
		v[1] = 1
	}
	_, err = m.AttachIA3(DefaultIA3())
	require.Error(t, err)
	for name, c := range map[string]IA3Config{
		"none":            {},
		"unknown":         {Targets: []string{"c_attn"}},
		"twice":           {Targets: []string{"k_proj", "k_proj"}},
		"ff not a target": {Targets: []string{"k_proj"}, Feedforward: []string{"fc_out"}},
		"ff listed twice": {Targets: []string{"fc_out"}, Feedforward: []string{"fc_out", "fc_out"}},
	} {
		require.Error(t, c.Validate(), name)
	}
}

func TestBitFitAndLNTuningTrainOnlyTheirTensors(t *testing.T) {
	m, _ := tinyModel(t, 0)
	C, L := m.Cfg.Dim, m.Cfg.Layers
	n := m.AttachBitFit()
	// q, k, v, o (C each), fc_in (4C), fc_out (C), ln1 and ln2 (C each) per block, and ln_f's.
	require.Equal(t, L*(4*C+4*C+C+2*C)+C, n)
	require.Equal(t, n, m.TrainableCount())
	require.Empty(t, m.MethodParams(), "BitFit adds no tensors")
	require.False(t, m.Param("blocks.0.attn.q_proj.bias").Frozen)
	require.True(t, m.Param("blocks.0.ln1.weight").Frozen)

	n = m.AttachLNTuning()
	require.Equal(t, 2*C*(2*L+1), n)
	require.Equal(t, n, m.TrainableCount())
	require.True(t, m.Param("blocks.0.attn.q_proj.bias").Frozen)
	require.False(t, m.Param("ln_f.weight").Frozen)
	require.False(t, m.Param("blocks.1.ln2.bias").Frozen)
}

// TestDoRAAndIA3FilesLoadBack: a DoRA or IA3 adapter saved in PEFT's naming loads onto a fresh
// copy of the base with the same outputs, bit for bit; a file of one kind is refused by the
// other's importer, and a damaged one is refused without touching the model.
func TestDoRAAndIA3FilesLoadBack(t *testing.T) {
	tweak := func(m *Model) {
		for _, p := range m.MethodParams() {
			w := ops.Floats(p.W)
			for i := range w {
				w[i] += float32(i%5)*0.1 - 0.2
			}
		}
	}
	dora, _ := tinyModel(t, 0)
	doraCfg := LoRAConfig{Rank: 2, Alpha: 4, UseDoRA: true, Targets: []string{"q_proj", "fc_out"}}
	_, err := dora.AttachLoRA(doraCfg, 1)
	require.NoError(t, err)
	tweak(dora)
	var doraFile bytes.Buffer
	require.NoError(t, dora.ExportLoRA(&doraFile))
	require.Contains(t, doraFile.String(), `"base_model.model.blocks.1.mlp.fc_out.lora_magnitude_vector":{"dtype":"F32","shape":[8]`)
	require.Contains(t, doraFile.String(), `\"use_dora\":true`)

	ia3, _ := tinyModel(t, 0)
	_, err = ia3.AttachIA3(DefaultIA3())
	require.NoError(t, err)
	tweak(ia3)
	var ia3File bytes.Buffer
	require.NoError(t, ia3.ExportIA3(&ia3File))
	require.Contains(t, ia3File.String(), `"base_model.model.blocks.0.mlp.fc_out.ia3_l":{"dtype":"F32","shape":[1,32]`)
	require.Contains(t, ia3File.String(), `"base_model.model.blocks.1.attn.v_proj.ia3_l":{"dtype":"F32","shape":[8,1]`)
	require.Contains(t, ia3File.String(), `"peft_type":"IA3"`)

	in := fixedInput(dora)
	fresh, _ := tinyModel(t, 0)
	base := logitsOf(t, fresh, in)
	require.NoError(t, fresh.ImportLoRA(bytes.NewReader(doraFile.Bytes())))
	got, ok := fresh.LoRA()
	require.True(t, ok)
	require.Equal(t, doraCfg, got)
	require.Equal(t, logitsOf(t, dora, in), logitsOf(t, fresh, in))
	require.NotEqual(t, base, logitsOf(t, fresh, in))

	fresh, _ = tinyModel(t, 0)
	require.NoError(t, fresh.ImportIA3(bytes.NewReader(ia3File.Bytes())))
	gotIA3, ok := fresh.IA3()
	require.True(t, ok)
	require.Equal(t, DefaultIA3(), gotIA3)
	require.Equal(t, logitsOf(t, ia3, in), logitsOf(t, fresh, in))
	require.NotEqual(t, base, logitsOf(t, fresh, in))

	for _, tc := range []struct {
		name   string
		load   func(*Model, []byte) error
		file   []byte
		want   error
		attach func(*Model) bool
	}{
		{"ia3 file as lora", func(m *Model, b []byte) error { return m.ImportLoRA(bytes.NewReader(b)) }, ia3File.Bytes(), ErrLoRANotAdapter, nil},
		{"lora file as ia3", func(m *Model, b []byte) error { return m.ImportIA3(bytes.NewReader(b)) }, doraFile.Bytes(), ErrLoRANotAdapter, nil},
		{"dora without a magnitude", func(m *Model, b []byte) error { return m.ImportLoRA(bytes.NewReader(b)) },
			bytes.Replace(doraFile.Bytes(), []byte("blocks.0.attn.q_proj.lora_magnitude_vector"), []byte("blocks.0.attn.q_proj.lora_magnitude_vectoX"), 1), ErrLoRAMismatch, nil},
		{"dora file read as plain lora", func(m *Model, b []byte) error { return m.ImportLoRA(bytes.NewReader(b)) },
			bytes.Replace(doraFile.Bytes(), []byte(`,\"use_dora\":true`), []byte(`,\"use_dorX\":true`), 1), ErrLoRAMismatch, nil},
		{"ia3 vector cut short", func(m *Model, b []byte) error { return m.ImportIA3(bytes.NewReader(b)) }, ia3File.Bytes()[:ia3File.Len()-4], ErrLoRADamaged, nil},
		{"ia3 with another target", func(m *Model, b []byte) error { return m.ImportIA3(bytes.NewReader(b)) },
			bytes.Replace(ia3File.Bytes(), []byte("blocks.0.attn.k_proj.ia3_l"), []byte("blocks.0.attn.q_proj.ia3_l"), 1), ErrLoRAMismatch, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := tinyModel(t, 0)
			before, err := f.Weights()
			require.NoError(t, err)
			err = tc.load(f, tc.file)
			require.ErrorIs(t, err, tc.want)
			after, err := f.Weights()
			require.NoError(t, err)
			require.Equal(t, before, after, "a refused file leaves the model as it was")
			_, hasLoRA := f.LoRA()
			_, hasIA3 := f.IA3()
			require.False(t, hasLoRA || hasIA3, "a refused file attaches nothing")
		})
	}
}

// TestDecodeMatchesForwardWithDoRAAndIA3: both live inside the linear layers, so the cached
// decoder runs them (canDecode), and its logits at every appended position equal the full
// forward pass's (a DoRA or IA3 scratch buffer sized for the batch, or a skipped scale, would not).
func TestDecodeMatchesForwardWithDoRAAndIA3(t *testing.T) {
	for name, attach := range map[string]func(m *Model) error{
		"dora": func(m *Model) error {
			_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, UseDoRA: true, Targets: LoRATargets[:]}, 7)
			return err
		},
		"ia3": func(m *Model) error { _, err := m.AttachIA3(DefaultIA3()); return err },
	} {
		t.Run(name, func(t *testing.T) {
			m, _ := decodeModel(t)
			probe := []int32{4, 9, 5, 12}
			base := fullLogits(t, m, probe)
			require.NoError(t, attach(m))
			perturb(m.MethodParams(), 0.3)
			require.NotEqual(t, base, fullLogits(t, m, probe))
			require.True(t, m.canDecode())
			dc := m.newDecoder()
			defer dc.free()
			seq := []int32{4, 9}
			got, err := dc.prefill(seq)
			require.NoError(t, err)
			for len(seq) < m.Cfg.Context {
				require.LessOrEqual(t, maxRelDiff(got, fullLogits(t, m, seq)), 1e-5, "position %d", len(seq)-1)
				next := int32(numSpecial + len(seq)%(m.Cfg.Vocab-numSpecial))
				seq = append(seq, next)
				got, err = dc.step(next)
				require.NoError(t, err)
			}
		})
	}
}

// FuzzImportAdapter: any bytes given to ImportAdapter (the compare view's and the worker's load
// path, DoRA and IA3 files included) are either refused with exactly one kind of refusal,
// leaving the model as it was, or loaded into a model that exports a file loading back to the
// same weights.
func FuzzImportAdapter(f *testing.F) {
	dora, _ := tinyModel(f, 0)
	_, err := dora.AttachLoRA(LoRAConfig{Rank: 1, Alpha: 2, UseDoRA: true, Targets: []string{"v_proj"}}, 1)
	require.NoError(f, err)
	var doraFile bytes.Buffer
	require.NoError(f, dora.ExportLoRA(&doraFile))
	ia3, _ := tinyModel(f, 0)
	_, err = ia3.AttachIA3(IA3Config{Targets: []string{"v_proj", "fc_out"}, Feedforward: []string{"fc_out"}})
	require.NoError(f, err)
	var ia3File bytes.Buffer
	require.NoError(f, ia3.ExportIA3(&ia3File))
	for _, file := range [][]byte{doraFile.Bytes(), ia3File.Bytes()} {
		f.Add(file)
		f.Add(file[:len(file)-3])
		f.Add(bytes.Replace(file, []byte(`[1,32]`), []byte(`[32,1]`), 1))
	}
	f.Add(safetensorsOf(`{"__metadata__":{"peft_type":"IA3","ia3_config":"{\"target_modules\":[\"k_proj\"],\"feedforward_modules\":[]}"}}`, 0))
	f.Add(safetensorsOf(`{"__metadata__":{"peft_type":"IA3","ia3_config":"{\"target_modules\":[]}"}}`, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		fresh, _ := tinyModel(t, 0)
		before, err := fresh.Weights()
		require.NoError(t, err)
		kind, err := fresh.ImportAdapter(data)
		if err != nil {
			requireOneAdapterErrorKind(t, err)
			after, werr := fresh.Weights()
			require.NoError(t, werr)
			require.Equal(t, before, after)
			_, hasLoRA := fresh.LoRA()
			_, hasIA3 := fresh.IA3()
			require.False(t, hasLoRA || hasIA3, "a refused file attaches nothing")
			return
		}
		var out bytes.Buffer
		if kind == "IA3" {
			require.NoError(t, fresh.ExportIA3(&out))
		} else {
			require.NoError(t, fresh.ExportLoRA(&out))
		}
		again, _ := tinyModel(t, 0)
		_, err = again.ImportAdapter(out.Bytes())
		require.NoError(t, err)
		w1, err := fresh.Weights()
		require.NoError(t, err)
		w2, err := again.Weights()
		require.NoError(t, err)
		require.Equal(t, w1, w2)
	})
}
