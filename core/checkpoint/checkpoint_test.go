package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// TestExpectedTensorsMatchModel keeps the loader's table in step with core.NewModel.
func TestExpectedTensorsMatchModel(t *testing.T) {
	for _, shape := range [][4]int{{8, 1, 1, 4}, {8, 2, 2, 8}, {16, 3, 4, 12}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 11, shape[0], shape[1], shape[2], shape[3]
			m, err := core.NewModel(ops.NewCPU(), cfg)
			require.NoError(t, err)
			specs := expectedTensors(cfg)
			require.Len(t, specs, len(m.Params))
			for i, p := range m.Params {
				require.Equal(t, p.Name, specs[i].name)
				require.Equal(t, p.Shape, specs[i].shape, p.Name)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	for _, withOpt := range []bool{false, true} {
		t.Run(fmt.Sprintf("optimizer=%v", withOpt), func(t *testing.T) {
			m, tk := tinyModel(t)
			opt := core.NewOptimizer(m)
			newTrainer(m, opt, tk).steps(t, 0, 3)
			saveOpt := opt
			if !withOpt {
				saveOpt = nil
			}
			var buf bytes.Buffer
			meta := map[string]string{"method": "lora", "base": "en-small"}
			require.NoError(t, SaveWithMeta(&buf, m, tk, saveOpt, meta))

			c, err := Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
			require.NoError(t, err)
			require.Equal(t, hash(t, m), hash(t, c.Model))
			want, err := m.Weights()
			require.NoError(t, err)
			got, err := c.Model.Weights()
			require.NoError(t, err)
			for i := range want {
				for j := range want[i] {
					require.Equal(t, math.Float32bits(want[i][j]), math.Float32bits(got[i][j]), "%s[%d]", m.Params[i].Name, j)
				}
			}
			require.Equal(t, m.Cfg, c.Model.Cfg)
			require.Equal(t, tk.Alphabet(), c.Tok.Alphabet())
			require.Equal(t, tk.Encode(testText), c.Tok.Encode(testText))
			require.Equal(t, meta, c.Meta)
			require.Equal(t, "pretune/1", c.Format)
			require.Equal(t, withOpt, c.HasOptimizer)
			if !withOpt {
				requireKind(t, c.RestoreOptimizer(core.NewOptimizer(c.Model)), ErrNoOptimizer, "without optimizer state")
				return
			}
			require.Equal(t, 3, c.OptimizerSteps)
			o2 := core.NewOptimizer(c.Model)
			require.NoError(t, c.RestoreOptimizer(o2))
			require.Equal(t, 3, o2.Steps())
			for i, p := range m.Params {
				wm, wv := opt.Moments(p)
				gm, gv := o2.Moments(c.Model.Params[i])
				require.Equal(t, download(t, m, wm), download(t, c.Model, gm), p.Name)
				require.Equal(t, download(t, m, wv), download(t, c.Model, gv), p.Name)
				require.NotEqual(t, make([]float32, wv.Len()), download(t, m, wv), "moments of %s are still zero: the test would not see a lost moment", p.Name)
			}
		})
	}
}

// TestResumeIdentical: saving with the optimizer and loading must continue training exactly
// as the uninterrupted run does, loss for loss and bit for bit.
func TestResumeIdentical(t *testing.T) {
	m, tk := tinyModel(t)
	opt := core.NewOptimizer(m)
	tr := newTrainer(m, opt, tk)
	tr.steps(t, 0, 3)
	var buf bytes.Buffer
	require.NoError(t, Save(&buf, m, tk, opt))
	want := tr.steps(t, 3, 3)

	c, err := Load(&buf, ops.NewCPU())
	require.NoError(t, err)
	o2 := core.NewOptimizer(c.Model)
	require.NoError(t, c.RestoreOptimizer(o2))
	got := newTrainer(c.Model, o2, c.Tok).steps(t, 3, 3)
	for i := range want {
		require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "loss of step %d: %v vs %v", 4+i, want[i], got[i])
	}
	require.Equal(t, hash(t, m), hash(t, c.Model))

	// The check has teeth: without the moments the same steps give other losses.
	c2, err := Load(bytes.NewReader(mustSave(t, m, tk, nil)), ops.NewCPU())
	require.NoError(t, err)
	fresh := newTrainer(c2.Model, core.NewOptimizer(c2.Model), c2.Tok).steps(t, 3, 1)
	require.NotEqual(t, want[0], fresh[0])
}

func mustSave(t *testing.T, m *core.Model, tk *core.Tokenizer, opt *core.Optimizer) []byte {
	var buf bytes.Buffer
	require.NoError(t, Save(&buf, m, tk, opt))
	return buf.Bytes()
}

func TestRestoreOptimizerMismatch(t *testing.T) {
	c, err := Load(bytes.NewReader(trainedFile(t, true)), ops.NewCPU())
	require.NoError(t, err)
	tests := []struct {
		name string
		opt  func() *core.Optimizer
		msg  string
	}{
		{"frozen here, trained there", func() *core.Optimizer {
			c.Model.Params[0].Frozen = true
			defer func() { c.Model.Params[0].Frozen = false }()
			return core.NewOptimizer(c.Model)
		}, "wte.weight has saved moments but is frozen"},
		{"another model's optimizer", func() *core.Optimizer {
			m, _ := tinyModel(t)
			return core.NewOptimizer(m)
		}, "not for this checkpoint's model"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opt()
			requireKind(t, c.RestoreOptimizer(o), ErrNoOptimizer, tc.msg)
			require.Equal(t, 0, o.Steps(), "a refused restore must leave the optimizer alone")
		})
	}
	t.Run("trained here, frozen there", func(t *testing.T) {
		m, tk := tinyModel(t)
		m.Params[1].Frozen = true
		opt := core.NewOptimizer(m)
		c, err := Load(bytes.NewReader(mustSave(t, m, tk, opt)), ops.NewCPU())
		require.NoError(t, err)
		requireKind(t, c.RestoreOptimizer(core.NewOptimizer(c.Model)), ErrNoOptimizer, "wpe.weight is trainable in this optimizer but has no saved moments")
		c.Model.Params[1].Frozen = true
		require.NoError(t, c.RestoreOptimizer(core.NewOptimizer(c.Model)))
	})
}

func TestSaveRefuses(t *testing.T) {
	m, tk := tinyModel(t)
	other, err := core.NewTokenizer("xyz")
	require.NoError(t, err)
	requireKind(t, Save(&bytes.Buffer{}, m, other, nil), ErrConfig, "the tokenizer has 6 tokens")

	w := make([]float32, m.Params[3].Size())
	w[2] = float32(math.Inf(-1))
	m.Dev.Upload(m.Params[3].W, w)
	requireKind(t, Save(&bytes.Buffer{}, m, tk, nil), ErrBadWeights, m.Params[3].Name+"[2] is -Inf")
	requireKind(t, ExportSafetensors(&bytes.Buffer{}, m, tk), ErrBadWeights, m.Params[3].Name+"[2] is -Inf")
}

// TestLoadDamage: every kind of damage gets its own error, saying what is wrong.
func TestLoadDamage(t *testing.T) {
	file := trainedFile(t, true)
	hj, body := split(t, file)
	last := len(file) - 1
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrNotCheckpoint, "the file is empty"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrNotCheckpoint, "PNG image"},
		{"safetensors", stFile(t), ErrNotCheckpoint, "safetensors file"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), ErrNotCheckpoint, "ZIP archive"},
		{"text", []byte("once upon a time"), ErrNotCheckpoint, "text file"},
		{"json", []byte(` {"config": {}}`), ErrNotCheckpoint, "JSON file"},
		{"binary junk", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ErrNotCheckpoint, "signature"},
		{"newer version", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint16(b[8:], 3)
			return b
		}(), ErrNewerVersion, "made by a newer pretune (format 3; this one reads up to 1)"},
		{"version 0", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint16(b[8:], 0)
			return b
		}(), ErrCorrupt, "version 0"},
		{"header byte flipped", flip(file, preambleBytes+10), ErrCorrupt, "checksum does not match"},
		{"data byte flipped", flip(file, preambleBytes+len(hj)+5), ErrCorrupt, "checksum does not match"},
		{"checksum byte flipped", flip(file, last), ErrCorrupt, "checksum does not match"},
		{"header length flipped", flip(file, 19), ErrCorrupt, "checksum does not match"},
		{"length field damaged", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint64(b[10:], uint64(len(file)+100))
			return b
		}(), ErrCorrupt, "the file is a complete"},
		{"length field huge", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint64(b[10:], 1<<62)
			return b
		}(), ErrTooLarge, "more than the limit"},
		{"length field tiny", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint64(b[10:], 3)
			return b
		}(), ErrCorrupt, "less than the smallest"},
		{"extra bytes", append(bytes.Clone(file), 1, 2, 3), ErrCorrupt, "3 extra bytes"},
		{"header not JSON", assemble(Version, []byte(`{"config": `), body), ErrHeader, "header is invalid"},
		{"header not UTF-8", assemble(Version, []byte("{\"meta\":{\"a\":\"\xff\"}}"), body), ErrHeader, "UTF-8"},
		{"header trailing junk", assemble(Version, append(bytes.Clone(hj), "{}"...), body), ErrHeader, "follows the JSON"},
		{"header length beyond file", func() []byte {
			b := assemble(Version, hj, body)
			binary.LittleEndian.PutUint32(b[18:], uint32(len(hj)+len(body)+1))
			sum := sha256sum(b[:len(b)-checksumBytes])
			copy(b[len(b)-checksumBytes:], sum)
			return b
		}(), ErrHeader, "does not fit"},
		{"no config", editJSON(t, file, func(h map[string]any) { delete(h, "config") }), ErrHeader, "no config"},
		{"no tokenizer", editJSON(t, file, func(h map[string]any) { delete(h, "tokenizer") }), ErrHeader, "no tokenizer"},
		{"config invalid", editHeader(t, file, func(h *header) { h.Config.Heads = 3 }), ErrConfig, "heads 3 must divide dim 8"},
		{"config layers 0", editHeader(t, file, func(h *header) { h.Config.Layers = 0 }), ErrConfig, "layers 0 is outside"},
		{"vocab disagrees", editHeader(t, file, func(h *header) { h.Config.Vocab++ }), ErrConfig, "but the tokenizer has"},
		{"alphabet unsorted", editHeader(t, file, func(h *header) { h.Tokenizer.Alphabet = "ba" }), ErrTokenizer, "increasing"},
		{"alphabet empty", editHeader(t, file, func(h *header) { h.Tokenizer.Alphabet = "" }), ErrTokenizer, "empty"},
		{"other specials", editHeader(t, file, func(h *header) { h.Tokenizer.Specials = []string{"<s>", "</s>", "<mask>"} }), ErrTokenizer, "reserved tokens"},
		{"missing tensor", editHeader(t, file, func(h *header) { h.Tensors = h.Tensors[:len(h.Tensors)-1] }), ErrTensors, `tensor "lm_head.weight" is missing`},
		{"extra tensor", editHeader(t, file, func(h *header) {
			h.Tensors = append(h.Tensors, tensorEntry{Name: "blocks.2.ln1.weight", Shape: []int64{8}})
		}), ErrTensors, `"blocks.2.ln1.weight" that a model of this config does not`},
		{"duplicate tensor", editHeader(t, file, func(h *header) { h.Tensors[1] = h.Tensors[0] }), ErrTensors, `"wte.weight" appears twice`},
		{"mis-shaped tensor", editHeader(t, file, func(h *header) { h.Tensors[0].Shape = []int64{8, 8} }), ErrTensors, "has shape [8 8]; the config needs"},
		{"transposed tensor", editHeader(t, file, func(h *header) {
			s := h.Tensors[0].Shape
			h.Tensors[0].Shape = []int64{s[1], s[0]}
		}), ErrTensors, "has shape"},
		{"overlapping offsets", editHeader(t, file, func(h *header) { h.Tensors[2].Offset = h.Tensors[1].Offset }), ErrTensors, "overlaps"},
		{"offset outside", editHeader(t, file, func(h *header) { h.Tensors[2].Offset = 1 << 40 }), ErrTensors, "outside"},
		{"negative offset", editHeader(t, file, func(h *header) { h.Tensors[2].Offset = -4 }), ErrTensors, "outside"},
		{"unaligned offset", editHeader(t, file, func(h *header) { h.Tensors[2].Offset++ }), ErrTensors, "outside"},
		{"gap in data", editHeader(t, file, func(h *header) { h.Optimizer.Moments = h.Optimizer.Moments[1:] }), ErrTensors, "unclaimed bytes"},
		{"moments left out", editHeader(t, file, func(h *header) { h.Optimizer = nil }), ErrTensors, "bytes of data follow the last tensor"},
		{"data after tensors", assemble(Version, hj, append(bytes.Clone(body), 0, 0, 0, 0)), ErrTensors, "4 bytes of data follow"},
		{"moments of unknown tensor", editHeader(t, file, func(h *header) { h.Optimizer.Moments[0].Name = "nope" }), ErrTensors, `unknown tensor "nope"`},
		{"moments twice", editHeader(t, file, func(h *header) { h.Optimizer.Moments[1].Name = h.Optimizer.Moments[0].Name }), ErrTensors, "appear twice"},
		{"negative optimizer steps", editHeader(t, file, func(h *header) { h.Optimizer.Steps = -1 }), ErrHeader, "optimizer steps -1"},
		{"NaN weight", editData(t, file, func(b []byte) {
			binary.LittleEndian.PutUint32(b[4*5:], math.Float32bits(float32(math.NaN())))
		}), ErrBadWeights, "wte.weight[5] is NaN"},
		{"Inf weight", editData(t, file, func(b []byte) {
			binary.LittleEndian.PutUint32(b[4*(3*8+1):], math.Float32bits(float32(math.Inf(1))))
		}), ErrBadWeights, "wte.weight[25] is +Inf"},
		{"Inf moment", editData(t, file, func(b []byte) {
			var h header
			require.NoError(t, jsonUnmarshal(hj, &h))
			binary.LittleEndian.PutUint32(b[h.Optimizer.Moments[0].MOffset:], math.Float32bits(float32(math.Inf(1))))
		}), ErrBadWeights, "(optimizer m)[0] is +Inf"},
		{"negative second moment", editData(t, file, func(b []byte) {
			var h header
			require.NoError(t, jsonUnmarshal(hj, &h))
			binary.LittleEndian.PutUint32(b[h.Optimizer.Moments[2].VOffset+8:], math.Float32bits(-1))
		}), ErrBadWeights, "cannot be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(bytes.NewReader(tc.data), ops.NewCPU())
			require.Nil(t, c)
			requireKind(t, err, tc.want, tc.msg)
		})
	}
	t.Run("unknown header fields are ignored", func(t *testing.T) {
		c, err := Load(bytes.NewReader(editJSON(t, file, func(h map[string]any) { h["added_later"] = []int{1, 2} })), ops.NewCPU())
		require.NoError(t, err)
		require.True(t, c.HasOptimizer)
	})
}

// TestLoadTruncated cuts the file at many lengths: each must say it is truncated and, once the
// preamble is there, by exactly how many bytes.
func TestLoadTruncated(t *testing.T) {
	file := trainedFile(t, true)
	var cuts []int
	for n := 1; n < len(file); n++ {
		if n < 64 || n%97 == 0 || n > len(file)-40 {
			cuts = append(cuts, n)
		}
	}
	for _, n := range cuts {
		_, err := Load(bytes.NewReader(file[:n]), ops.NewCPU())
		requireKind(t, err, ErrTruncated, "")
		if n >= preambleBytes {
			require.Contains(t, err.Error(), fmt.Sprintf("(%d bytes missing)", len(file)-n))
		}
	}
	require.Greater(t, len(cuts), 100)
}

func TestLoadLimit(t *testing.T) {
	// A reader that never ends: Load must stop at the limit rather than read (and hold) it all.
	_, err := Load(endless{}, ops.NewCPU())
	requireKind(t, err, ErrTooLarge, "256 MiB")
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	copy(p, Magic)
	return len(p), nil
}

// TestMaskRoundTrip: a masked-LM base keeps its bidirectional mask in both formats.
func TestMaskRoundTrip(t *testing.T) {
	m, tk := tinyModel(t)
	m.Mask = ops.Bidirectional
	var own, st bytes.Buffer
	require.NoError(t, Save(&own, m, tk, nil))
	require.NoError(t, ExportSafetensors(&st, m, tk))
	c, err := Load(&own, ops.NewCPU())
	require.NoError(t, err)
	require.Equal(t, ops.Bidirectional, c.Model.Mask)
	c, err = ImportSafetensors(&st, ops.NewCPU())
	require.NoError(t, err)
	require.Equal(t, ops.Bidirectional, c.Model.Mask)

	c, err = Load(bytes.NewReader(trainedFile(t, false)), ops.NewCPU())
	require.NoError(t, err)
	require.Equal(t, ops.Causal, c.Model.Mask)
	_, err = Load(bytes.NewReader(editHeader(t, trainedFile(t, false), func(h *header) { h.Mask = "sideways" })), ops.NewCPU())
	requireKind(t, err, ErrHeader, `the attention mask "sideways"`)
	_, err = ImportSafetensors(bytes.NewReader(stEdit(t, stFile(t), func(p *stParts) { p.meta["pretune.mask"] = "sideways" })), ops.NewCPU())
	requireKind(t, err, ErrHeader, `the attention mask "sideways"`)
}

// TestSaveRefusesMethods: a model with fine-tuning tensors attached is not silently saved
// without them.
func TestSaveRefusesMethods(t *testing.T) {
	m, tk := tinyModel(t)
	// A stand-in for an attached method's tensor: Params past the base ones are MethodParams.
	m.Params = append(m.Params, &core.Param{Name: "blocks.0.attn.q_proj.lora_a", Shape: []int{2, 8},
		W: m.Dev.Alloc(16), DW: m.Dev.Alloc(16)})
	require.Len(t, m.MethodParams(), 1)
	err := Save(&bytes.Buffer{}, m, tk, nil)
	require.ErrorContains(t, err, "1 fine-tuning tensors (blocks.0.attn.q_proj.lora_a, ...)")
	err = ExportSafetensors(&bytes.Buffer{}, m, tk)
	require.ErrorContains(t, err, "1 fine-tuning tensors")
}

// TestSavesBakedLoRA: a LoRA model baked in (core.Model.BakeLoRA) saves as a plain checkpoint
// (format 1 refuses a model with LoRA's tensors still attached) and loads back bit for bit.
func TestSavesBakedLoRA(t *testing.T) {
	m, tk := tinyModel(t)
	_, err := m.AttachLoRA(core.LoRAConfig{Rank: 2, Alpha: 4, Targets: core.AttentionTargets()}, 1)
	require.NoError(t, err)
	for _, p := range m.MethodParams() { // B starts at zero: give it an update to fold in
		vals := make([]float32, p.Size())
		for i := range vals {
			vals[i] = 0.1 * float32(i%5+1)
		}
		m.Dev.Upload(p.W, vals)
	}
	q := m.Param("blocks.0.attn.q_proj.weight")
	before := download(t, m, q.W)
	require.ErrorContains(t, Save(&bytes.Buffer{}, m, tk, nil), "fine-tuning tensors")
	require.NoError(t, m.BakeLoRA())
	require.NotEqual(t, before, download(t, m, q.W), "the update is folded into the weight")
	var buf bytes.Buffer
	require.NoError(t, Save(&buf, m, tk, nil))
	c, err := Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	require.Equal(t, hash(t, m), hash(t, c.Model))
	require.Empty(t, c.Model.MethodParams())
}
