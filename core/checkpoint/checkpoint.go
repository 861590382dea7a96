package checkpoint

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"unicode/utf8"

	"pretune/core"
	"pretune/core/ops"
)

// Format constants. The layout of a version-1 file:
//
//	offset  size  field
//	0       8     Magic, "PRETUNE\x00"
//	8       2     format version, uint16 little endian (1)
//	10      8     total file length in bytes, checksum included, uint64 LE
//	18      4     header length in bytes, uint32 LE
//	22      n     header: UTF-8 JSON, padded with spaces so the data starts at a multiple of 8
//	22+n    ...   data: float32 little endian, each tensor at its header offset (relative to
//	              the start of the data); the weights, then the AdamW moments if saved
//	end-32  32    SHA-256 of every byte before it
//
// The total length in the preamble lets Load tell a truncated file (and by how much) from a
// damaged one before it parses anything; the checksum covers the header too, so a flipped byte
// anywhere is reported as corruption rather than as whatever the damaged header now says.
const (
	Magic   = "PRETUNE\x00"
	Version = 1

	// MaxFileBytes bounds a checkpoint (weights and moments): far above the largest preset,
	// small enough for a browser tab to hold twice (file bytes plus the model).
	MaxFileBytes = 256 << 20
	// MaxHeaderBytes bounds the JSON header (and a safetensors header). The largest legitimate
	// one, a 65,533-character alphabet plus a 12-layer table, is under 1 MiB.
	MaxHeaderBytes = 8 << 20
	// MaxOptimizerSteps bounds the saved update count (SetSteps loops over it).
	MaxOptimizerSteps = 1 << 24

	preambleBytes = 8 + 2 + 8 + 4
	checksumBytes = sha256.Size
)

// Checkpoint is a loaded model with its tokenizer and, optionally, the optimizer state to resume
// training from.
type Checkpoint struct {
	Model *core.Model
	Tok   *core.Tokenizer
	// OptimizerSteps is the saved optimizer's update count; HasOptimizer says whether moments
	// were saved (RestoreOptimizer needs them).
	OptimizerSteps int
	HasOptimizer   bool
	// Meta is the free-form string map saved with SaveWithMeta (method names and the like; for
	// an imported safetensors file, its __metadata__ other than pretune's own keys).
	Meta map[string]string
	// Format says what was read: "pretune/1" or "safetensors".
	Format string

	moments map[string]moments // by parameter name
}

type moments struct{ m, v []float32 }

// header is the JSON header. Fields are pointers where "missing" must be told from "zero".
type header struct {
	Config    *core.Config     `json:"config"`
	Tokenizer *tokenizerHeader `json:"tokenizer"`
	// Mask is the model's attention mask, "causal" (a GPT) or "bidirectional" (a masked-LM
	// base); missing means causal.
	Mask      string            `json:"mask,omitempty"`
	Tensors   []tensorEntry     `json:"tensors"`
	Optimizer *optimizerHeader  `json:"optimizer,omitempty"`
	Meta      map[string]string `json:"meta,omitempty"`
}

type tokenizerHeader struct {
	// Alphabet is core.Tokenizer.Alphabet: the vocabulary's code points in id order.
	Alphabet string `json:"alphabet"`
	// Specials are the reserved tokens' names, ids 0.. in order; a reader checks they are its own.
	Specials []string `json:"specials"`
}

type tensorEntry struct {
	Name   string  `json:"name"`
	Shape  []int64 `json:"shape"`
	Offset int64   `json:"offset"` // bytes from the start of the data
}

type optimizerHeader struct {
	Steps   int           `json:"steps"`
	Moments []momentEntry `json:"moments"` // one per trainable tensor
}

type momentEntry struct {
	Name    string `json:"name"`
	MOffset int64  `json:"m_offset"`
	VOffset int64  `json:"v_offset"`
}

// Save writes m, its tokenizer and (if opt is not nil) the optimizer's moments and step count.
func Save(w io.Writer, m *core.Model, tk *core.Tokenizer, opt *core.Optimizer) error {
	return SaveWithMeta(w, m, tk, opt, nil)
}

// SaveWithMeta is Save with a free-form string map stored in the header and returned by Load as
// Checkpoint.Meta.
func SaveWithMeta(w io.Writer, m *core.Model, tk *core.Tokenizer, opt *core.Optimizer, meta map[string]string) error {
	if m == nil || tk == nil {
		return fmt.Errorf("checkpoint: save needs a model and its tokenizer")
	}
	if err := checkPair(m, tk); err != nil {
		return err
	}
	ws, err := baseWeights(m)
	if err != nil {
		return err
	}
	cfg := m.Cfg
	h := header{Config: &cfg, Tokenizer: tokHeader(tk), Mask: m.Mask.String(), Meta: meta}
	var off int64
	for _, p := range m.Params {
		h.Tensors = append(h.Tensors, tensorEntry{Name: p.Name, Shape: shape64(p.Shape), Offset: off})
		off += 4 * int64(p.Size())
	}
	var mom [][]float32 // m then v for each entry of h.Optimizer.Moments
	if opt != nil {
		h.Optimizer = &optimizerHeader{Steps: opt.Steps(), Moments: []momentEntry{}}
		for _, p := range m.BaseParams() {
			mb, vb := opt.Moments(p)
			if mb == nil || vb == nil {
				continue
			}
			mh, vh := make([]float32, p.Size()), make([]float32, p.Size())
			if err := m.Dev.Download(mb, mh); err != nil {
				return fmt.Errorf("checkpoint: reading the optimizer state: %w", err)
			}
			if err := m.Dev.Download(vb, vh); err != nil {
				return fmt.Errorf("checkpoint: reading the optimizer state: %w", err)
			}
			size := 4 * int64(p.Size())
			h.Optimizer.Moments = append(h.Optimizer.Moments, momentEntry{Name: p.Name, MOffset: off, VOffset: off + size})
			off += 2 * size
			mom = append(mom, mh, vh)
		}
		if len(mom) == 0 && m.TrainableCount() > 0 {
			return fmt.Errorf("checkpoint: the optimizer has no moments for this model's parameters: it belongs to another model")
		}
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("checkpoint: encoding the header: %w", err)
	}
	// Pad with spaces (valid trailing JSON whitespace) so the data starts 8-byte aligned.
	for (preambleBytes+len(hj))%8 != 0 {
		hj = append(hj, ' ')
	}
	total := int64(preambleBytes) + int64(len(hj)) + off + checksumBytes
	if len(hj) > MaxHeaderBytes || total > MaxFileBytes {
		return fmt.Errorf("checkpoint: not saved: %w: it would be %d bytes, more than the limit of %d", ErrTooLarge, total, MaxFileBytes)
	}

	sum := sha256.New()
	bw := bufio.NewWriter(io.MultiWriter(w, sum))
	var pre [preambleBytes]byte
	copy(pre[:], Magic)
	binary.LittleEndian.PutUint16(pre[8:], Version)
	binary.LittleEndian.PutUint64(pre[10:], uint64(total))
	binary.LittleEndian.PutUint32(pre[18:], uint32(len(hj)))
	bw.Write(pre[:])
	bw.Write(hj)
	for _, t := range append(ws, mom...) {
		writeFloats(bw, t)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("checkpoint: writing: %w", err)
	}
	if _, err := w.Write(sum.Sum(nil)); err != nil {
		return fmt.Errorf("checkpoint: writing: %w", err)
	}
	return nil
}

// Load reads a checkpoint written by Save and builds its model on dev. It checks the whole file
// (length, checksum, header, config, tokenizer, tensor table, finite weights) before it
// allocates the model, and never allocates from a length it has not checked: the only buffer
// sized by the input is the input itself, read up to MaxFileBytes. Every error wraps one of the
// package's sentinel errors.
func Load(r io.Reader, dev ops.Device) (*Checkpoint, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	h, body, err := parse(data)
	if err != nil {
		return nil, err
	}
	cfg, tk, err := checkModelHeader(h.Config, h.Tokenizer)
	if err != nil {
		return nil, err
	}
	mask, err := parseMask(h.Mask)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w: %v", ErrHeader, err)
	}
	if need := TrainingBytes(cfg); need > MaxTrainingBytes {
		return nil, fmt.Errorf("checkpoint: %w: a model of this config needs about %.1f GiB to train; the limit is %d GiB", ErrTooLarge, float64(need)/(1<<30), MaxTrainingBytes>>30)
	}
	specs := expectedTensors(cfg)
	// Ranges of the data every table entry claims; together they must tile the data exactly.
	var ranges []span
	weights := make([]int64, len(specs)) // byte offset of each expected tensor
	seen := make([]bool, len(specs))
	byName := map[string]int{}
	for i, s := range specs {
		byName[s.name] = i
	}
	for _, e := range h.Tensors {
		i, ok := byName[e.Name]
		switch {
		case !ok:
			return nil, fmt.Errorf("checkpoint: %w: it has a tensor %q that a model of this config does not", ErrTensors, e.Name)
		case seen[i]:
			return nil, fmt.Errorf("checkpoint: %w: tensor %q appears twice", ErrTensors, e.Name)
		case !sameShape(e.Shape, specs[i].shape):
			return nil, fmt.Errorf("checkpoint: %w: tensor %q has shape %v; the config needs %v", ErrTensors, e.Name, e.Shape, specs[i].shape)
		}
		weights[i], seen[i] = e.Offset, true
		ranges = append(ranges, span{e.Name, e.Offset, 4 * int64(specs[i].size())})
	}
	for i, s := range specs {
		if !seen[i] {
			return nil, fmt.Errorf("checkpoint: %w: tensor %q is missing", ErrTensors, s.name)
		}
	}
	var moms []momentEntry
	c := &Checkpoint{Meta: h.Meta, Format: fmt.Sprintf("pretune/%d", Version)}
	if h.Optimizer != nil {
		if h.Optimizer.Steps < 0 || h.Optimizer.Steps > MaxOptimizerSteps {
			return nil, fmt.Errorf("checkpoint: %w: optimizer steps %d is outside 0..%d", ErrHeader, h.Optimizer.Steps, MaxOptimizerSteps)
		}
		seenMoments := map[string]bool{}
		for _, e := range h.Optimizer.Moments {
			i, ok := byName[e.Name]
			switch {
			case !ok:
				return nil, fmt.Errorf("checkpoint: %w: optimizer moments for an unknown tensor %q", ErrTensors, e.Name)
			case seenMoments[e.Name]:
				return nil, fmt.Errorf("checkpoint: %w: optimizer moments for %q appear twice", ErrTensors, e.Name)
			}
			seenMoments[e.Name] = true
			size := 4 * int64(specs[i].size())
			ranges = append(ranges, span{e.Name + " (m)", e.MOffset, size}, span{e.Name + " (v)", e.VOffset, size})
		}
		moms = h.Optimizer.Moments
		c.OptimizerSteps, c.HasOptimizer = h.Optimizer.Steps, true
	}
	if err := tile(ranges, int64(len(body))); err != nil {
		return nil, err
	}

	// Everything is consistent; check the numbers before building anything.
	for i, s := range specs {
		if err := checkFinite(s.name, body[weights[i]:weights[i]+4*int64(s.size())], false); err != nil {
			return nil, err
		}
	}
	for _, e := range moms {
		n := 4 * int64(specs[byName[e.Name]].size())
		if err := checkFinite(e.Name+" (optimizer m)", body[e.MOffset:e.MOffset+n], false); err != nil {
			return nil, err
		}
		if err := checkFinite(e.Name+" (optimizer v)", body[e.VOffset:e.VOffset+n], true); err != nil {
			return nil, err
		}
	}

	tensors := make([][]byte, len(specs))
	for i, s := range specs {
		tensors[i] = body[weights[i] : weights[i]+4*int64(s.size())]
	}
	if err := c.build(dev, cfg, mask, tk, specs, tensors, false); err != nil {
		return nil, err
	}
	if len(moms) > 0 {
		c.moments = map[string]moments{}
		for _, e := range moms {
			n := 4 * int64(specs[byName[e.Name]].size())
			c.moments[e.Name] = moments{decodeFloats(body[e.MOffset : e.MOffset+n]), decodeFloats(body[e.VOffset : e.VOffset+n])}
		}
	}
	return c, nil
}

// RestoreOptimizer copies the saved moments and step count into o, which must be a fresh
// core.NewOptimizer(c.Model) with the same parameters frozen as when the checkpoint was saved.
// Training then continues exactly as if it had not been interrupted.
func (c *Checkpoint) RestoreOptimizer(o *core.Optimizer) error {
	if !c.HasOptimizer {
		return fmt.Errorf("checkpoint: %w: the checkpoint was saved without optimizer state", ErrNoOptimizer)
	}
	// Check everything first, so a mismatch leaves o untouched.
	for _, p := range c.Model.Params {
		mb, vb := o.Moments(p)
		saved, ok := c.moments[p.Name]
		switch {
		case ok && (mb == nil || vb == nil):
			return fmt.Errorf("checkpoint: %w: %s has saved moments but is frozen in this optimizer (or the optimizer is not for this checkpoint's model)", ErrNoOptimizer, p.Name)
		case !ok && mb != nil:
			return fmt.Errorf("checkpoint: %w: %s is trainable in this optimizer but has no saved moments", ErrNoOptimizer, p.Name)
		case ok && (mb.Len() != len(saved.m) || vb.Len() != len(saved.v)):
			return fmt.Errorf("checkpoint: %w: %s's moments have %d elements; the optimizer's have %d", ErrNoOptimizer, p.Name, len(saved.m), mb.Len())
		}
	}
	for _, p := range c.Model.Params {
		if saved, ok := c.moments[p.Name]; ok {
			mb, vb := o.Moments(p)
			c.Model.Dev.Upload(mb, saved.m)
			c.Model.Dev.Upload(vb, saved.v)
		}
	}
	o.SetSteps(c.OptimizerSteps)
	if err := c.Model.Dev.Flush(); err != nil {
		return fmt.Errorf("checkpoint: restoring the optimizer: %w", err)
	}
	return nil
}

// readAll reads the whole input, at most MaxFileBytes of it. The buffer grows with the bytes
// that actually arrive, so a short input that claims a huge length costs nothing.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("checkpoint: reading: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("checkpoint: %w: it is more than %d bytes (256 MiB), the limit", ErrTooLarge, MaxFileBytes)
	}
	return data, nil
}

// parse checks the framing (magic, version, length, checksum) and decodes the header; it
// returns the header and the data region.
func parse(data []byte) (*header, []byte, error) {
	n := len(data)
	if n < len(Magic) || string(data[:len(Magic)]) != Magic {
		if n > 0 && n < len(Magic) && Magic[:n] == string(data) {
			return nil, nil, fmt.Errorf("checkpoint: %w: it ends after %d bytes, inside the signature", ErrTruncated, n)
		}
		return nil, nil, fmt.Errorf("checkpoint: %w: %s", ErrNotCheckpoint, describe(data))
	}
	if n < preambleBytes {
		return nil, nil, fmt.Errorf("checkpoint: %w: it ends after %d bytes, inside the %d-byte preamble", ErrTruncated, n, preambleBytes)
	}
	switch v := binary.LittleEndian.Uint16(data[8:]); {
	case v > Version:
		return nil, nil, fmt.Errorf("checkpoint: %w (format %d; this one reads up to %d): update pretune to open it", ErrNewerVersion, v, Version)
	case v == 0:
		return nil, nil, fmt.Errorf("checkpoint: %w: format version 0 does not exist", ErrCorrupt)
	}
	total := binary.LittleEndian.Uint64(data[10:])
	switch {
	case total < preambleBytes+checksumBytes:
		return nil, nil, fmt.Errorf("checkpoint: %w: the length field says %d bytes, less than the smallest checkpoint", ErrCorrupt, total)
	case total > MaxFileBytes:
		return nil, nil, fmt.Errorf("checkpoint: %w: the length field says %d bytes, more than the limit of %d", ErrTooLarge, total, MaxFileBytes)
	case uint64(n) < total:
		// A damaged length field is told from a real truncation by the checksum at the end.
		if n >= preambleBytes+checksumBytes && checksumOKWithLength(data) {
			return nil, nil, fmt.Errorf("checkpoint: %w: the length field says %d bytes but the file is a complete %d bytes", ErrCorrupt, total, n)
		}
		return nil, nil, fmt.Errorf("checkpoint: %w: it has %d of its %d bytes (%d bytes missing)", ErrTruncated, n, total, total-uint64(n))
	case uint64(n) > total:
		return nil, nil, fmt.Errorf("checkpoint: %w: %d extra bytes follow the end of the checkpoint", ErrCorrupt, uint64(n)-total)
	}
	if !checksumOK(data) {
		return nil, nil, fmt.Errorf("checkpoint: %w: the SHA-256 checksum does not match (the file was damaged after it was saved)", ErrCorrupt)
	}
	hl := uint64(binary.LittleEndian.Uint32(data[18:]))
	if hl > MaxHeaderBytes || preambleBytes+hl > total-checksumBytes {
		return nil, nil, fmt.Errorf("checkpoint: %w: the header length %d does not fit in the file", ErrHeader, hl)
	}
	hj := data[preambleBytes : preambleBytes+hl]
	h, err := decodeHeader(hj)
	if err != nil {
		return nil, nil, err
	}
	return h, data[preambleBytes+hl : total-checksumBytes], nil
}

// checksumOKWithLength reports whether data would be a valid file if its length field said
// len(data): then the file is whole and only the length field is damaged.
func checksumOKWithLength(data []byte) bool {
	var pre [preambleBytes]byte
	copy(pre[:], data)
	binary.LittleEndian.PutUint64(pre[10:], uint64(len(data)))
	h := sha256.New()
	h.Write(pre[:])
	h.Write(data[preambleBytes : len(data)-checksumBytes])
	return bytes.Equal(h.Sum(nil), data[len(data)-checksumBytes:])
}

func checksumOK(data []byte) bool {
	sum := sha256.Sum256(data[:len(data)-checksumBytes])
	return bytes.Equal(sum[:], data[len(data)-checksumBytes:])
}

func decodeHeader(hj []byte) (*header, error) {
	if !utf8.Valid(hj) {
		return nil, fmt.Errorf("checkpoint: %w: it is not valid UTF-8", ErrHeader)
	}
	// Unknown fields are ignored: within a format version a writer may only add fields that
	// older readers can safely skip; anything else gets a new version number.
	var h header
	dec := json.NewDecoder(bytes.NewReader(hj))
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("checkpoint: %w: %v", ErrHeader, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("checkpoint: %w: something follows the JSON object", ErrHeader)
	}
	switch {
	case h.Config == nil:
		return nil, fmt.Errorf("checkpoint: %w: it has no config", ErrHeader)
	case h.Tokenizer == nil:
		return nil, fmt.Errorf("checkpoint: %w: it has no tokenizer", ErrHeader)
	}
	return &h, nil
}

// checkModelHeader validates a stored config and tokenizer and their agreement.
func checkModelHeader(cfg *core.Config, th *tokenizerHeader) (core.Config, *core.Tokenizer, error) {
	if err := cfg.Validate(); err != nil {
		return core.Config{}, nil, fmt.Errorf("checkpoint: %w: %v", ErrConfig, err)
	}
	tk, err := core.TokenizerFromString(th.Alphabet)
	if err != nil {
		return core.Config{}, nil, fmt.Errorf("checkpoint: %w: %v", ErrTokenizer, err)
	}
	if want := specials(tk); !equalStrings(th.Specials, want) {
		return core.Config{}, nil, fmt.Errorf("checkpoint: %w: its reserved tokens are %q; this pretune's are %q", ErrTokenizer, th.Specials, want)
	}
	if cfg.Vocab != tk.VocabSize() {
		return core.Config{}, nil, fmt.Errorf("checkpoint: %w: vocab %d, but the tokenizer has %d tokens", ErrConfig, cfg.Vocab, tk.VocabSize())
	}
	return *cfg, tk, nil
}

// build allocates the model on dev and uploads the (already checked) tensors, in specs order.
func (c *Checkpoint) build(dev ops.Device, cfg core.Config, mask ops.MaskMode, tk *core.Tokenizer, specs []tensorSpec, tensors [][]byte, scoreHead bool) error {
	m, err := core.NewModel(dev, cfg)
	if err != nil {
		return fmt.Errorf("checkpoint: %w: %v", ErrConfig, err)
	}
	m.Mask = mask
	if scoreHead {
		if _, err := m.AttachScoreHead(false, 0); err != nil {
			m.Free()
			return fmt.Errorf("checkpoint: %w: %v", ErrConfig, err)
		}
	}
	if len(m.Params) != len(specs) {
		m.Free()
		return fmt.Errorf("checkpoint: this build's model has %d tensors where the loader expects %d (a pretune bug)", len(m.Params), len(specs))
	}
	for i, p := range m.Params {
		if p.Name != specs[i].name || !sameShape(shape64(p.Shape), specs[i].shape) {
			m.Free()
			return fmt.Errorf("checkpoint: this build's model has %s%v where the loader expects %s%v (a pretune bug)", p.Name, p.Shape, specs[i].name, specs[i].shape)
		}
		dev.Upload(p.W, decodeFloats(tensors[i]))
	}
	if err := dev.Flush(); err != nil {
		m.Free()
		return fmt.Errorf("checkpoint: uploading the weights: %w", err)
	}
	c.Model, c.Tok = m, tk
	return nil
}

// baseWeights downloads a plain model's weights and checks they are finite. Format 1 stores a
// base model (a GPT or a masked-LM body), so a model with fine-tuning tensors attached is
// refused rather than saved without them.
func baseWeights(m *core.Model) ([][]float32, error) {
	if extra := m.MethodParams(); len(extra) > 0 {
		return nil, fmt.Errorf("checkpoint: not saved: the model has %d fine-tuning tensors (%s, ...) and this format stores a base model only", len(extra), extra[0].Name)
	}
	return weightsOf(m, expectedTensors(m.Cfg))
}

// weightsOf downloads m's weights, which must be exactly specs (names in order), and checks
// they are finite.
func weightsOf(m *core.Model, specs []tensorSpec) ([][]float32, error) {
	if len(specs) != len(m.Params) {
		return nil, fmt.Errorf("checkpoint: this build's model has %d tensors where the format expects %d (a pretune bug)", len(m.Params), len(specs))
	}
	ws, err := m.Weights()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: reading the weights: %w", err)
	}
	for i, p := range m.Params {
		if p.Name != specs[i].name {
			return nil, fmt.Errorf("checkpoint: this build's model has %s where the format expects %s (a pretune bug)", p.Name, specs[i].name)
		}
		if j := firstNonFinite(ws[i]); j >= 0 {
			return nil, fmt.Errorf("checkpoint: not saved: %w: %s[%d] is %g (the run diverged)", ErrBadWeights, p.Name, j, ws[i][j])
		}
	}
	return ws, nil
}

// parseMask reads a stored mask mode; "" is the default, causal.
func parseMask(s string) (ops.MaskMode, error) {
	switch s {
	case "", ops.Causal.String():
		return ops.Causal, nil
	case ops.Bidirectional.String():
		return ops.Bidirectional, nil
	}
	return 0, fmt.Errorf("the attention mask %q is neither %q nor %q", s, ops.Causal, ops.Bidirectional)
}

// checkPair checks that a model and tokenizer belong together.
func checkPair(m *core.Model, tk *core.Tokenizer) error {
	if err := m.Cfg.Validate(); err != nil {
		return fmt.Errorf("checkpoint: %w: %v", ErrConfig, err)
	}
	if m.Cfg.Vocab != tk.VocabSize() {
		return fmt.Errorf("checkpoint: %w: the model's vocab is %d but the tokenizer has %d tokens", ErrConfig, m.Cfg.Vocab, tk.VocabSize())
	}
	return nil
}

func tokHeader(tk *core.Tokenizer) *tokenizerHeader {
	return &tokenizerHeader{Alphabet: tk.Alphabet(), Specials: specials(tk)}
}

// specials are the reserved tokens' names: the ids below the first alphabet id.
func specials(tk *core.Tokenizer) []string {
	n := tk.VocabSize() - utf8.RuneCountInString(tk.Alphabet())
	out := make([]string, n)
	for i := range out {
		out[i] = tk.Token(i)
	}
	return out
}

// span is a byte range of the data region claimed by one table entry.
type span struct {
	name       string
	start, len int64
}

// tile checks that the spans cover [0, size) exactly: no overlap, no gap, nothing outside. It
// is what makes every later slice of the data safe.
func tile(spans []span, size int64) error {
	for _, s := range spans {
		if s.start < 0 || s.start%4 != 0 || s.start > size || s.len > size-s.start {
			return fmt.Errorf("checkpoint: %w: %s at offset %d (%d bytes) lies outside the %d bytes of data", ErrTensors, s.name, s.start, s.len, size)
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var at int64
	for _, s := range spans {
		if s.start < at {
			return fmt.Errorf("checkpoint: %w: %s at offset %d overlaps the tensor before it", ErrTensors, s.name, s.start)
		}
		if s.start > at {
			return fmt.Errorf("checkpoint: %w: %d unclaimed bytes of data before %s at offset %d", ErrTensors, s.start-at, s.name, s.start)
		}
		at += s.len
	}
	if at != size {
		return fmt.Errorf("checkpoint: %w: %d bytes of data follow the last tensor", ErrTensors, size-at)
	}
	return nil
}

func sameShape(got []int64, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != int64(want[i]) {
			return false
		}
	}
	return true
}

func shape64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, d := range s {
		out[i] = int64(d)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkFinite reports the first NaN or infinity among little-endian float32s (and, with
// nonNegative, the first negative value: a second moment below 0 would make AdamW take a NaN
// square root).
func checkFinite(name string, b []byte, nonNegative bool) error {
	for i := 0; i+4 <= len(b); i += 4 {
		bits := binary.LittleEndian.Uint32(b[i:])
		v := math.Float32frombits(bits)
		if bits&0x7f800000 == 0x7f800000 {
			return fmt.Errorf("checkpoint: %w: %s[%d] is %g", ErrBadWeights, name, i/4, v)
		}
		if nonNegative && v < 0 {
			return fmt.Errorf("checkpoint: %w: %s[%d] is %g, but a second moment cannot be negative", ErrBadWeights, name, i/4, v)
		}
	}
	return nil
}

func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			return i
		}
	}
	return -1
}

func decodeFloats(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func writeFloats(w *bufio.Writer, x []float32) {
	var buf [4]byte
	for _, v := range x {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
		w.Write(buf[:])
	}
}
