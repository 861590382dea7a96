package checkpoint

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

const testText = "the cat sat on the mat. a dog ran to the park, and the cat ran too!\n" +
	"my friend paints the river; the old man likes some bread.\n"

// tinyConfig is a model small enough that the fuzz targets load it thousands of times a second.
func tinyConfig(tk *core.Tokenizer) core.Config {
	cfg := core.DefaultConfig()
	cfg.Vocab = tk.VocabSize()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 8, 2, 2, 8
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.Dropout, cfg.Seed = 2, 20, 2, 0.1, 7
	return cfg
}

func tinyModel(t testing.TB) (*core.Model, *core.Tokenizer) {
	tk, err := core.NewTokenizer(testText)
	require.NoError(t, err)
	m, err := core.NewModel(ops.NewCPU(), tinyConfig(tk))
	require.NoError(t, err)
	return m, tk
}

// trainer runs steps on batches that depend only on the step number, so a resumed run sees the
// same batches as an uninterrupted one.
type trainer struct {
	m     *core.Model
	opt   *core.Optimizer
	ids   []int32
	batch *core.Batch
}

func newTrainer(m *core.Model, opt *core.Optimizer, tk *core.Tokenizer) *trainer {
	return &trainer{m: m, opt: opt, ids: tk.Encode(testText), batch: core.NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)}
}

func (tr *trainer) steps(t testing.TB, from, n int) []float64 {
	B, T := tr.m.Cfg.Batch, tr.m.Cfg.Context
	var losses []float64
	for s := from; s < from+n; s++ {
		in, tg := make([]int32, B*T), make([]int32, B*T)
		for b := 0; b < B; b++ {
			off := (s*7 + b*13) % (len(tr.ids) - T - 1)
			copy(in[b*T:], tr.ids[off:off+T])
			copy(tg[b*T:], tr.ids[off+1:off+T+1])
		}
		tr.batch.Set(tr.m.Dev, B, T, in, tg, nil)
		loss, err := tr.m.TrainStep(tr.opt, tr.batch, core.Pass{Train: true, DropoutSeed: 99, Step: s}, core.LearningRate(tr.m.Cfg, s))
		require.NoError(t, err)
		losses = append(losses, loss)
	}
	return losses
}

// trainedFile is a checkpoint of the tiny model after 3 steps, with its optimizer if withOpt.
func trainedFile(t testing.TB, withOpt bool) []byte {
	m, tk := tinyModel(t)
	opt := core.NewOptimizer(m)
	newTrainer(m, opt, tk).steps(t, 0, 3)
	if !withOpt {
		opt = nil
	}
	var buf bytes.Buffer
	require.NoError(t, SaveWithMeta(&buf, m, tk, opt, map[string]string{"method": "pretrain"}))
	return buf.Bytes()
}

// split returns a valid file's header JSON and data region.
func split(t testing.TB, file []byte) ([]byte, []byte) {
	hl := binary.LittleEndian.Uint32(file[18:])
	return file[preambleBytes : preambleBytes+int(hl)], file[preambleBytes+int(hl) : len(file)-checksumBytes]
}

// assemble builds a file with correct length fields and checksum around any header and data,
// so a test can reach the checks that come after the checksum.
func assemble(version uint16, hj, body []byte) []byte {
	out := make([]byte, preambleBytes, preambleBytes+len(hj)+len(body)+checksumBytes)
	copy(out, Magic)
	binary.LittleEndian.PutUint16(out[8:], version)
	binary.LittleEndian.PutUint64(out[10:], uint64(preambleBytes+len(hj)+len(body)+checksumBytes))
	binary.LittleEndian.PutUint32(out[18:], uint32(len(hj)))
	out = append(append(out, hj...), body...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// editHeader decodes a valid file's header, lets edit change it and reassembles the file.
func editHeader(t testing.TB, file []byte, edit func(h *header)) []byte {
	hj, body := split(t, file)
	var h header
	require.NoError(t, json.Unmarshal(hj, &h))
	edit(&h)
	out, err := json.Marshal(h)
	require.NoError(t, err)
	return assemble(Version, out, body)
}

// editJSON edits a valid file's header as generic JSON (for fields the struct cannot express).
func editJSON(t testing.TB, file []byte, edit func(h map[string]any)) []byte {
	hj, body := split(t, file)
	var h map[string]any
	require.NoError(t, json.Unmarshal(hj, &h))
	edit(h)
	out, err := json.Marshal(h)
	require.NoError(t, err)
	return assemble(Version, out, body)
}

// editData changes a valid file's data region and fixes the checksum.
func editData(t testing.TB, file []byte, edit func(body []byte)) []byte {
	hj, body := split(t, file)
	body = bytes.Clone(body)
	edit(body)
	return assemble(Version, hj, body)
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0x40
	return out
}

var sentinels = []error{ErrNotCheckpoint, ErrNotSafetensors, ErrNewerVersion, ErrTruncated, ErrCorrupt, ErrHeader,
	ErrConfig, ErrTokenizer, ErrTensors, ErrBadWeights, ErrTooLarge, ErrNoOptimizer}

// kind names the one sentinel err wraps, or fails.
func kind(t testing.TB, err error) error {
	t.Helper()
	var found []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("error %q wraps %d sentinel errors, want exactly 1", err, len(found))
	}
	return found[0]
}

func requireKind(t testing.TB, err error, want error, msg string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want, "got %q", err)
	kind(t, err)
	require.True(t, strings.Contains(err.Error(), msg), "error %q does not say %q", err, msg)
}

func hash(t testing.TB, m *core.Model) string {
	h, err := m.WeightsHash()
	require.NoError(t, err)
	return h
}

func download(t testing.TB, m *core.Model, b ops.Buf) []float32 {
	out := make([]float32, b.Len())
	require.NoError(t, m.Dev.Download(b, out))
	return out
}

func sha256sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// stFile is the tiny trained model exported as safetensors.
func stFile(t testing.TB) []byte {
	c, err := Load(bytes.NewReader(trainedFile(t, false)), ops.NewCPU())
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, ExportSafetensors(&buf, c.Model, c.Tok))
	return buf.Bytes()
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func mustJSON(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// alphabet is n distinct letters in increasing order, starting at 'A'.
func alphabet(n int) string {
	r := make([]rune, n)
	for i := range r {
		r[i] = rune('A' + i)
	}
	return string(r)
}
