package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
	"pretune/core/safetensors"
)

// stParts is a safetensors file taken apart: metadata, tensor entries and data.
type stParts struct {
	meta    map[string]string
	entries map[string]safetensors.Entry
	body    []byte
}

func stSplit(t testing.TB, file []byte) stParts {
	hl := binary.LittleEndian.Uint64(file)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(file[8:8+hl], &raw))
	p := stParts{entries: map[string]safetensors.Entry{}, body: bytes.Clone(file[8+hl:])}
	require.NoError(t, json.Unmarshal(raw["__metadata__"], &p.meta))
	delete(raw, "__metadata__")
	for k, v := range raw {
		var e safetensors.Entry
		require.NoError(t, json.Unmarshal(v, &e))
		p.entries[k] = e
	}
	return p
}

// join writes the parts back with Go's map order (sorted by name), unlike the exporter.
func (p stParts) join(t testing.TB) []byte {
	h := map[string]any{}
	if p.meta != nil {
		h["__metadata__"] = p.meta
	}
	for k, e := range p.entries {
		h[k] = e
	}
	hj, err := json.Marshal(h)
	require.NoError(t, err)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
	return append(append(out, hj...), p.body...)
}

func stEdit(t testing.TB, file []byte, edit func(p *stParts)) []byte {
	p := stSplit(t, file)
	edit(&p)
	return p.join(t)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	m, tk := tinyModel(t)
	newTrainer(m, core.NewOptimizer(m), tk).steps(t, 0, 2)
	var buf bytes.Buffer
	require.NoError(t, ExportSafetensors(&buf, m, tk))
	file := buf.Bytes()

	t.Run("layout", func(t *testing.T) {
		hl := binary.LittleEndian.Uint64(file)
		require.Zero(t, (8+hl)%8, "data must start 8-byte aligned")
		p := stSplit(t, file)
		require.Equal(t, "pt", p.meta["format"])
		require.Equal(t, tk.Alphabet(), p.meta["pretune.alphabet"])
		require.JSONEq(t, `["<unk>","<pad>","<mask>"]`, p.meta["pretune.specials"])
		var cfg core.Config
		require.NoError(t, json.Unmarshal([]byte(p.meta["pretune.config"]), &cfg))
		require.Equal(t, m.Cfg, cfg)
		require.Len(t, p.entries, len(m.Params))
		var at int64
		ws, err := m.Weights()
		require.NoError(t, err)
		for i, prm := range m.Params { // contiguous, in Params order, raw little-endian float32
			e := p.entries[prm.Name]
			require.Equal(t, "F32", e.Dtype)
			require.Equal(t, shape64(prm.Shape), e.Shape)
			require.Equal(t, []int64{at, at + 4*int64(prm.Size())}, e.DataOffsets)
			require.Equal(t, math.Float32bits(ws[i][1]), binary.LittleEndian.Uint32(p.body[at+4:]))
			at += 4 * int64(prm.Size())
		}
		require.Equal(t, at, int64(len(p.body)))
	})
	t.Run("import", func(t *testing.T) {
		c, err := ImportSafetensors(bytes.NewReader(file), ops.NewCPU())
		require.NoError(t, err)
		require.Equal(t, hash(t, m), hash(t, c.Model))
		require.Equal(t, m.Cfg, c.Model.Cfg)
		require.Equal(t, tk.Alphabet(), c.Tok.Alphabet())
		require.False(t, c.HasOptimizer)
		require.Equal(t, "safetensors", c.Format)
		require.Nil(t, c.Meta)
	})
	t.Run("reordered by another writer", func(t *testing.T) {
		// Python's writer orders tensors its own way: put them in name order, offsets too, and
		// add metadata of its own; the import must give the same weights and keep that metadata.
		p := stSplit(t, file)
		names := make([]string, 0, len(p.entries))
		for k := range p.entries {
			names = append(names, k)
		}
		sort.Strings(names)
		var body []byte
		for _, k := range names {
			e := p.entries[k]
			chunk := p.body[e.DataOffsets[0]:e.DataOffsets[1]]
			e.DataOffsets = []int64{int64(len(body)), int64(len(body) + len(chunk))}
			p.entries[k] = e
			body = append(body, chunk...)
		}
		require.NotEqual(t, p.body, body)
		p.body = body
		p.meta["note"] = "edited in PyTorch"
		c, err := ImportSafetensors(bytes.NewReader(p.join(t)), ops.NewCPU())
		require.NoError(t, err)
		require.Equal(t, hash(t, m), hash(t, c.Model))
		require.Equal(t, map[string]string{"note": "edited in PyTorch"}, c.Meta)
	})
}

func TestImportSafetensorsDamage(t *testing.T) {
	file := stFile(t)
	hl := int(binary.LittleEndian.Uint64(file))
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrNotSafetensors, "empty"},
		{"pretune checkpoint", trainedFile(t, false), ErrNotSafetensors, "load it as one"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrNotSafetensors, "PNG image"},
		{"header length huge", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint64(b, 1<<40)
			return b
		}(), ErrTooLarge, "more than the limit"},
		{"header length past the end", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint64(b, uint64(len(file)))
			return b
		}(), ErrTruncated, "(8 bytes missing)"},
		{"header not JSON", func() []byte {
			b := bytes.Clone(file)
			b[8+bytes.LastIndexByte(b[8:8+hl], '}')] = ']'
			return b
		}(), ErrHeader, "header is invalid"},
		{"no metadata", stEdit(t, file, func(p *stParts) { p.meta = nil }), ErrHeader, `no "pretune.config"`},
		{"metadata not strings", func() []byte {
			hj := []byte(`{"__metadata__":{"a":1}}`)
			return append(binary.LittleEndian.AppendUint64(nil, uint64(len(hj))), hj...)
		}(), ErrHeader, "strings to strings"},
		{"newer version", stEdit(t, file, func(p *stParts) { p.meta["pretune.version"] = "2" }), ErrNewerVersion, "made by a newer pretune (version 2; this one reads up to 1)"},
		{"bad version", stEdit(t, file, func(p *stParts) { p.meta["pretune.version"] = "x" }), ErrHeader, "not a version number"},
		{"config not JSON", stEdit(t, file, func(p *stParts) { p.meta["pretune.config"] = "{" }), ErrHeader, "not a config"},
		{"config invalid", stEdit(t, file, func(p *stParts) {
			p.meta["pretune.config"] = strings.Replace(p.meta["pretune.config"], `"layers":2`, `"layers":13`, 1)
		}), ErrConfig, "layers 13 is outside"},
		{"alphabet changed", stEdit(t, file, func(p *stParts) { p.meta["pretune.alphabet"] += "\U0001F600" }), ErrConfig, "but the tokenizer has"},
		{"specials missing", stEdit(t, file, func(p *stParts) { delete(p.meta, "pretune.specials") }), ErrTokenizer, "pretune.specials"},
		{"dtype F16", stEdit(t, file, func(p *stParts) {
			e := p.entries["ln_f.bias"]
			e.Dtype = "F16"
			p.entries["ln_f.bias"] = e
		}), ErrTensors, `"ln_f.bias" has dtype "F16"; only F32`},
		{"mis-shaped", stEdit(t, file, func(p *stParts) {
			e := p.entries["wpe.weight"]
			e.Shape = []int64{4, 16}
			p.entries["wpe.weight"] = e
		}), ErrTensors, `"wpe.weight" has shape [4 16]`},
		{"missing tensor", stEdit(t, file, func(p *stParts) { delete(p.entries, "blocks.1.mlp.fc_out.bias") }), ErrTensors, `"blocks.1.mlp.fc_out.bias" is missing`},
		{"extra tensor", stEdit(t, file, func(p *stParts) { p.entries["blocks.9.lora_a"] = p.entries["ln_f.bias"] }), ErrTensors, `"blocks.9.lora_a" that a model`},
		{"offsets reversed", stEdit(t, file, func(p *stParts) {
			e := p.entries["ln_f.bias"]
			e.DataOffsets = []int64{e.DataOffsets[1], e.DataOffsets[0]}
			p.entries["ln_f.bias"] = e
		}), ErrTensors, "not [begin, end]"},
		{"offsets wrong size", stEdit(t, file, func(p *stParts) {
			e := p.entries["ln_f.bias"]
			e.DataOffsets[1] += 4
			p.entries["ln_f.bias"] = e
		}), ErrTensors, "spans 36 bytes; its shape needs 32"},
		{"offsets overlap", stEdit(t, file, func(p *stParts) {
			e := p.entries["ln_f.bias"]
			e.DataOffsets = []int64{0, 32}
			p.entries["ln_f.bias"] = e
		}), ErrTensors, "overlaps"},
		{"offsets outside the file", stEdit(t, file, func(p *stParts) {
			e := p.entries["ln_f.bias"]
			e.DataOffsets = []int64{1 << 50, 1<<50 + 32}
			p.entries["ln_f.bias"] = e
		}), ErrTensors, "outside"},
		{"data truncated", file[:len(file)-10], ErrTruncated, "(10 bytes missing)"},
		{"trailing data", append(bytes.Clone(file), 0, 0, 0, 0), ErrTensors, "4 bytes of data follow"},
		{"NaN weight", func() []byte {
			b := bytes.Clone(file)
			binary.LittleEndian.PutUint32(b[8+hl+4*3:], math.Float32bits(float32(math.NaN())))
			return b
		}(), ErrBadWeights, "wte.weight[3] is NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ImportSafetensors(bytes.NewReader(tc.data), ops.NewCPU())
			require.Nil(t, c)
			requireKind(t, err, tc.want, tc.msg)
			require.NotContains(t, err.Error(), "checkpoint:", "a safetensors error should not name the other format")
		})
	}
	t.Run("truncated anywhere", func(t *testing.T) {
		for n := 1; n < len(file); n += 1 + n/50 {
			_, err := ImportSafetensors(bytes.NewReader(file[:n]), ops.NewCPU())
			msg := "before its header"
			if n > 8 {
				msg = "bytes missing"
			}
			requireKind(t, err, ErrTruncated, msg)
		}
	})
}

// TestSafetensorsPython reads the exported file with an independent reader: safetensors.torch
// when /usr/bin/python3 has it, else a plain-Python parser of the published format. The
// script prints each tensor's shape and float64 sum in file order, which Go recomputes.
func TestSafetensorsPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	m, tk := tinyModel(t)
	path := filepath.Join(t.TempDir(), "model.safetensors")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, ExportSafetensors(f, m, tk))
	require.NoError(t, f.Close())

	script := `
import json, struct, sys
path = sys.argv[1]
try:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    ws = load_file(path)
    with safe_open(path, "pt") as f:
        meta = f.metadata()
    out = {k: [list(v.shape), sum(float(x) for x in v.flatten().tolist())] for k, v in ws.items()}
    reader = "torch"
except ImportError:
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    out, spans = {}, []
    for k, e in header.items():
        assert e["dtype"] == "F32", e
        b, end = e["data_offsets"]
        count = 1
        for d in e["shape"]:
            count *= d
        assert end - b == 4 * count
        vals = struct.unpack("<%df" % count, data[b:end])
        out[k] = [e["shape"], sum(vals)]
        spans.append((b, end))
    spans.sort()
    at = 0
    for b, end in spans:
        assert b == at, "gap or overlap"
        at = end
    assert at == len(data), "unindexed data"
    reader = "plain"
cfg = json.loads(meta["pretune.config"])
itos = json.loads(meta["pretune.specials"]) + list(meta["pretune.alphabet"])
print(json.dumps({"reader": reader, "format": meta["format"], "dim": cfg["dim"], "vocab": len(itos), "tensors": out}))
`
	outb, err := exec.Command(py, "-c", script, path).CombinedOutput()
	require.NoError(t, err, "%s", outb)
	var got struct {
		Reader, Format string
		Dim, Vocab     int
		Tensors        map[string][2]json.RawMessage
	}
	require.NoError(t, json.Unmarshal(outb, &got), "%s", outb)
	t.Logf("read by the %s reader", got.Reader)
	require.Equal(t, "pt", got.Format)
	require.Equal(t, m.Cfg.Dim, got.Dim)
	require.Equal(t, tk.VocabSize(), got.Vocab)
	ws, err := m.Weights()
	require.NoError(t, err)
	require.Len(t, got.Tensors, len(m.Params))
	for i, p := range m.Params {
		var shape []int
		var sum float64
		require.NoError(t, json.Unmarshal(got.Tensors[p.Name][0], &shape))
		require.NoError(t, json.Unmarshal(got.Tensors[p.Name][1], &sum))
		require.Equal(t, p.Shape, shape, p.Name)
		var want float64
		for _, v := range ws[i] {
			want += float64(v)
		}
		require.Equal(t, want, sum, p.Name)
	}
}
