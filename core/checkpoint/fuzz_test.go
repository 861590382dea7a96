package checkpoint

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// FuzzLoad: no input may panic; every refusal wraps exactly one sentinel; anything accepted
// saves and loads back to the same weights.
func FuzzLoad(f *testing.F) {
	with, without := trainedFile(f, true), trainedFile(f, false)
	hj, body := split(f, with)
	f.Add(with)
	f.Add(without)
	f.Add(with[:len(with)/2])
	f.Add(with[:preambleBytes+3])
	f.Add(flip(with, preambleBytes+20))
	f.Add(assemble(Version, hj[:len(hj)/2], body)) // a valid frame around a broken header
	f.Add(assemble(Version, []byte(`{"config":{"vocab":4,"context":2,"layers":1,"heads":1,"dim":4,"batch":1,"steps":1,"lr":0.1,"eps":0.1,"eval_every":1,"eval_batches":1},"tokenizer":{"alphabet":"a","specials":["<unk>","<pad>","<mask>"]},"tensors":[]}`), nil))
	f.Add(stFile(f))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(bytes.NewReader(data), ops.NewCPU())
		if err != nil {
			require.Nil(t, c)
			kind(t, err)
			return
		}
		var buf bytes.Buffer
		require.NoError(t, SaveWithMeta(&buf, c.Model, c.Tok, nil, c.Meta))
		c2, err := Load(&buf, ops.NewCPU())
		require.NoError(t, err)
		require.Equal(t, hash(t, c.Model), hash(t, c2.Model))
		if c.HasOptimizer {
			require.NoError(t, c.RestoreOptimizer(core.NewOptimizer(c.Model)))
		}
	})
}

// FuzzImportSafetensors: the same discipline for safetensors input.
func FuzzImportSafetensors(f *testing.F) {
	file := stFile(f)
	f.Add(file)
	f.Add(file[:len(file)/3])
	f.Add(file[:20])
	f.Add(flip(file, 40))
	f.Add(stEdit(f, file, func(p *stParts) { // offsets that overlap
		e := p.entries["ln_f.bias"]
		e.DataOffsets = []int64{0, 32}
		p.entries["ln_f.bias"] = e
	}))
	f.Add(stEdit(f, file, func(p *stParts) { p.meta["pretune.version"] = "9" }))
	f.Add(trainedFile(f, false))
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ImportSafetensors(bytes.NewReader(data), ops.NewCPU())
		if err != nil {
			require.Nil(t, c)
			kind(t, err)
			return
		}
		var buf bytes.Buffer
		require.NoError(t, ExportSafetensors(&buf, c.Model, c.Tok))
		c2, err := ImportSafetensors(&buf, ops.NewCPU())
		require.NoError(t, err)
		require.Equal(t, hash(t, c.Model), hash(t, c2.Model))
	})
}

// FuzzLoadHeader mutates only the JSON header and frames it with a correct checksum, so the
// fuzzer reaches the header, config, tokenizer and table checks that a checksum would otherwise
// shield from random damage.
func FuzzLoadHeader(f *testing.F) {
	with := trainedFile(f, true)
	hj, body := split(f, with)
	_, plainBody := split(f, trainedFile(f, false))
	f.Add(hj, true)
	f.Add(editHeaderJSON(f, with, func(h *header) { h.Optimizer = nil }), false)
	f.Add(editHeaderJSON(f, with, func(h *header) { h.Tensors[3].Offset = h.Tensors[2].Offset }), true)
	f.Add(editHeaderJSON(f, with, func(h *header) { h.Tokenizer.Alphabet = "zyx" }), true)
	f.Fuzz(func(t *testing.T, hj []byte, withOpt bool) {
		b := plainBody
		if withOpt {
			b = body
		}
		c, err := Load(bytes.NewReader(assemble(Version, hj, b)), ops.NewCPU())
		if err != nil {
			require.Nil(t, c)
			kind(t, err)
			return
		}
		if c.HasOptimizer {
			require.NoError(t, c.RestoreOptimizer(core.NewOptimizer(c.Model)))
		}
	})
}

func editHeaderJSON(t testing.TB, file []byte, edit func(h *header)) []byte {
	hj, _ := split(t, editHeader(t, file, edit))
	return hj
}
