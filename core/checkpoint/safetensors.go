package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"pretune/core"
	"pretune/core/ops"
	"pretune/core/safetensors"
)

// Keys pretune writes in a safetensors file's __metadata__ (all values are strings, as the
// format requires).
const (
	metaFormat   = "format"           // "pt": PyTorch layout, for tools that look at it
	metaVersion  = "pretune.version"  // this exporter's version, "1"
	metaConfig   = "pretune.config"   // core.Config as JSON
	metaAlphabet = "pretune.alphabet" // core.Tokenizer.Alphabet: ids numSpecial.. in order
	metaSpecials = "pretune.specials" // JSON array of the reserved tokens' names, ids 0..
	metaMask     = "pretune.mask"     // attention mask: "causal" or "bidirectional"
	metaHead     = "pretune.head"     // "score" for a reward model (score.weight, read at the last token); absent otherwise
	headScore    = "score"
	// SafetensorsVersion is the version of pretune's metadata in a safetensors file.
	SafetensorsVersion = 1
)

// ExportSafetensors writes m's weights as a safetensors file: every parameter as an F32 tensor
// under its core.Param name, in Params order with contiguous offsets, and in __metadata__ the
// config and tokenizer that give the weights their meaning. Optimizer state is not exported.
// A reward model (core.Model.IsRewardModel) is written with its score head, as Hugging Face
// names it ("score.weight"), and pretune.head "score"; any other fine-tuning tensor is refused.
func ExportSafetensors(w io.Writer, m *core.Model, tk *core.Tokenizer) error {
	if m == nil || tk == nil {
		return fmt.Errorf("safetensors: export needs a model and its tokenizer")
	}
	if err := checkPair(m, tk); err != nil {
		return err
	}
	var ws [][]float32
	var err error
	if m.IsRewardModel() {
		ws, err = weightsOf(m, rewardTensors(m.Cfg))
	} else {
		ws, err = baseWeights(m)
	}
	if err != nil {
		return fmt.Errorf("safetensors: %w", unprefix(err))
	}
	cfgJSON, err := json.Marshal(m.Cfg)
	if err != nil {
		return err
	}
	specJSON, err := json.Marshal(specials(tk))
	if err != nil {
		return err
	}
	meta := map[string]string{
		metaFormat:   "pt",
		metaVersion:  strconv.Itoa(SafetensorsVersion),
		metaConfig:   string(cfgJSON),
		metaAlphabet: tk.Alphabet(),
		metaSpecials: string(specJSON),
		metaMask:     m.Mask.String(),
	}
	if m.IsRewardModel() {
		meta[metaHead] = headScore
	}
	tensors := make([]safetensors.Tensor, len(m.Params))
	for i, p := range m.Params {
		tensors[i] = safetensors.Tensor{Name: p.Name, Shape: p.Shape, Data: ws[i]}
	}
	header, size, err := safetensors.Size(meta, tensors)
	if err != nil {
		return err
	}
	if header > MaxHeaderBytes || size > MaxFileBytes {
		return fmt.Errorf("safetensors: not exported: %w: it would be %d bytes, more than the limit of %d", ErrTooLarge, size, MaxFileBytes)
	}
	if err := safetensors.Write(w, meta, tensors); err != nil {
		return fmt.Errorf("safetensors: writing: %w", err)
	}
	return nil
}

// ImportSafetensors reads a safetensors file written by ExportSafetensors (or by any tool that
// kept its __metadata__ and tensor names, such as safetensors.torch.save_file after editing the
// weights in PyTorch) and builds the model on dev. It validates the header length, every
// tensor's dtype, shape and offsets (inside the file, contiguous, not overlapping), the config
// and tokenizer, and that every weight is finite, before it allocates the model.
func ImportSafetensors(r io.Reader, dev ops.Device) (*Checkpoint, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	n := len(data)
	switch {
	case n >= len(Magic) && string(data[:len(Magic)]) == Magic:
		return nil, fmt.Errorf("safetensors: %w: it is a pretune checkpoint (load it as one, not as safetensors)", ErrNotSafetensors)
	case n == 0:
		return nil, fmt.Errorf("safetensors: %w: the file is empty", ErrNotSafetensors)
	case n >= 9 && data[8] != '{':
		return nil, fmt.Errorf("safetensors: %w: %s", ErrNotSafetensors, describe(data))
	case n < 9:
		return nil, fmt.Errorf("safetensors: %w: it ends after %d bytes, before its header", ErrTruncated, n)
	}
	hl := binary.LittleEndian.Uint64(data)
	switch {
	case hl < 2:
		return nil, fmt.Errorf("safetensors: %w: the header length %d is too small", ErrHeader, hl)
	case hl > MaxHeaderBytes:
		return nil, fmt.Errorf("safetensors: %w: the header length %d is more than the limit of %d", ErrTooLarge, hl, MaxHeaderBytes)
	case 8+hl > uint64(n):
		return nil, fmt.Errorf("safetensors: %w: the header alone needs %d bytes; the file has %d (%d bytes missing)", ErrTruncated, 8+hl, n, 8+hl-uint64(n))
	}
	hj, body := data[8:8+hl], data[8+hl:]
	meta, raw, err := safetensors.DecodeHeader(hj)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w: %v", ErrHeader, err)
	}
	if _, ok := meta[metaConfig]; !ok {
		return nil, fmt.Errorf("safetensors: %w: its __metadata__ has no %q: only a file exported by pretune (config and tokenizer included) can be imported", ErrHeader, metaConfig)
	}
	if v, ok := meta[metaVersion]; ok {
		ver, err := strconv.Atoi(v)
		switch {
		case err != nil || ver < 1:
			return nil, fmt.Errorf("safetensors: %w: %s is %q, not a version number", ErrHeader, metaVersion, v)
		case ver > SafetensorsVersion:
			return nil, fmt.Errorf("safetensors: %w (version %d; this one reads up to %d): update pretune to import it", ErrNewerVersion, ver, SafetensorsVersion)
		}
	}
	var cfg core.Config
	if err := json.Unmarshal([]byte(meta[metaConfig]), &cfg); err != nil {
		return nil, fmt.Errorf("safetensors: %w: %s is not a config: %v", ErrHeader, metaConfig, err)
	}
	th := &tokenizerHeader{Alphabet: meta[metaAlphabet]}
	if err := json.Unmarshal([]byte(meta[metaSpecials]), &th.Specials); err != nil {
		return nil, fmt.Errorf("safetensors: %w: %s is not a JSON list of names: %v", ErrTokenizer, metaSpecials, err)
	}
	cfg, tk, err := checkModelHeader(&cfg, th)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", unprefix(err))
	}

	if need := TrainingBytes(cfg); need > MaxTrainingBytes {
		return nil, fmt.Errorf("safetensors: %w: a model of this config needs about %.1f GiB to train; the limit is %d GiB", ErrTooLarge, float64(need)/(1<<30), MaxTrainingBytes>>30)
	}
	mask, err := parseMask(meta[metaMask])
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w: %v", ErrHeader, err)
	}
	specs, scoreHead := expectedTensors(cfg), meta[metaHead] == headScore
	switch meta[metaHead] {
	case "":
	case headScore:
		specs = rewardTensors(cfg)
	default:
		return nil, fmt.Errorf("safetensors: %w: %s is %q; this pretune knows only %q (a reward model)", ErrHeader, metaHead, meta[metaHead], headScore)
	}
	var want int64
	for _, s := range specs {
		want += 4 * int64(s.size())
	}
	tensors := make([][]byte, len(specs))
	spans := make([]span, 0, len(specs))
	for i, s := range specs {
		e, ok := raw[s.name]
		if !ok {
			return nil, fmt.Errorf("safetensors: %w: tensor %q is missing", ErrTensors, s.name)
		}
		size := 4 * int64(s.size())
		switch {
		case e.Dtype != "F32":
			return nil, fmt.Errorf("safetensors: %w: tensor %q has dtype %q; only F32 can be imported (convert with tensor.float())", ErrTensors, s.name, e.Dtype)
		case !sameShape(e.Shape, s.shape):
			return nil, fmt.Errorf("safetensors: %w: tensor %q has shape %v; the config needs %v", ErrTensors, s.name, e.Shape, s.shape)
		case len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1] < e.DataOffsets[0]:
			return nil, fmt.Errorf("safetensors: %w: tensor %q has data_offsets %v, not [begin, end]", ErrTensors, s.name, e.DataOffsets)
		case e.DataOffsets[1]-e.DataOffsets[0] != size:
			return nil, fmt.Errorf("safetensors: %w: tensor %q spans %d bytes; its shape needs %d", ErrTensors, s.name, e.DataOffsets[1]-e.DataOffsets[0], size)
		}
		delete(raw, s.name)
		spans = append(spans, span{s.name, e.DataOffsets[0], size})
		if e.DataOffsets[1] <= int64(len(body)) {
			tensors[i] = body[e.DataOffsets[0]:e.DataOffsets[1]]
		}
	}
	if len(raw) > 0 {
		extra := make([]string, 0, len(raw))
		for name := range raw {
			extra = append(extra, name)
		}
		sort.Strings(extra)
		return nil, fmt.Errorf("safetensors: %w: it has a tensor %q that a model of this config does not", ErrTensors, extra[0])
	}
	if int64(len(body)) < want {
		return nil, fmt.Errorf("safetensors: %w: its tensors need %d bytes of data; the file has %d (%d bytes missing)", ErrTruncated, want, len(body), want-int64(len(body)))
	}
	if err := tile(spans, int64(len(body))); err != nil {
		return nil, fmt.Errorf("safetensors: %w", unprefix(err))
	}
	for i, s := range specs {
		if err := checkFinite(s.name, tensors[i], false); err != nil {
			return nil, fmt.Errorf("safetensors: %w", unprefix(err))
		}
	}
	for _, k := range []string{metaFormat, metaVersion, metaConfig, metaAlphabet, metaSpecials, metaMask, metaHead} {
		delete(meta, k)
	}
	if len(meta) == 0 {
		meta = nil
	}
	c := &Checkpoint{Meta: meta, Format: "safetensors"}
	if err := c.build(dev, cfg, mask, tk, specs, tensors, scoreHead); err != nil {
		return nil, fmt.Errorf("safetensors: %w", unprefix(err))
	}
	return c, nil
}

// unprefix drops the "checkpoint: " prefix of an error from a shared check, so the safetensors
// message does not name the other format; errors.Is still sees the sentinel.
func unprefix(err error) error { return prefixless{err} }

type prefixless struct{ err error }

func (p prefixless) Error() string { return strings.TrimPrefix(p.err.Error(), "checkpoint: ") }
func (p prefixless) Unwrap() error { return p.err }
