package feedback

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/ops"
	"pretune/core/safetensors"
)

// A reward model is saved as a safetensors file that PyTorch and Hugging Face read: the base
// model's tensors and metadata as checkpoint.ExportSafetensors writes them, plus the score
// head under the name Hugging Face gives a sequence-classification head ("score.weight",
// [1, C], no bias, as GPT2ForSequenceClassification with num_labels=1), and a metadata key
// saying which token the score is read at.
const (
	scoreTensor   = "score.weight"
	metaReward    = "pretune.reward_model"
	rewardPooling = "last_token" // the score is the head's output at the last token
)

// ExportReward writes the reward model m (a model with a score head) and its tokenizer.
func ExportReward(w io.Writer, m *core.Model, tk *core.Tokenizer) error {
	head := m.Param(scoreTensor)
	if !m.IsRewardModel() || head == nil {
		return fmt.Errorf("reward model: the model has no score head")
	}
	body, err := m.Clone() // the base tensors alone: what ExportSafetensors writes
	if err != nil {
		return err
	}
	defer body.Free()
	var base bytes.Buffer
	if err := checkpoint.ExportSafetensors(&base, body, tk); err != nil {
		return err
	}
	meta, tensors, err := readTensors(base.Bytes())
	if err != nil {
		return err
	}
	hw := make([]float32, head.Size())
	if err := m.Dev.Download(head.W, hw); err != nil {
		return err
	}
	meta[metaReward] = rewardPooling
	tensors = append(tensors, safetensors.Tensor{Name: scoreTensor, Shape: head.Shape, Data: hw})
	return safetensors.Write(w, meta, tensors)
}

// Scorer scores answers with a reward model read from a file.
type Scorer struct {
	m  *model
	ck *checkpoint.Checkpoint
}

// OpenReward reads a reward model written by ExportReward onto dev. Every check of
// checkpoint.ImportSafetensors applies to its body; the score head must be there with its shape.
func OpenReward(data []byte, dev ops.Device) (*Scorer, error) {
	meta, tensors, err := readTensors(data)
	if err != nil {
		return nil, err
	}
	if meta[metaReward] != rewardPooling {
		return nil, fmt.Errorf("reward model: this safetensors file is not a pretune reward model (no %s in its metadata)", metaReward)
	}
	var head []float32
	body := tensors[:0]
	for _, t := range tensors {
		if t.Name == scoreTensor {
			head = t.Data
			continue
		}
		body = append(body, t)
	}
	delete(meta, metaReward)
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, meta, body); err != nil {
		return nil, err
	}
	ck, err := checkpoint.ImportSafetensors(&buf, dev)
	if err != nil {
		return nil, fmt.Errorf("reward model: %w", err)
	}
	if len(head) != ck.Model.Cfg.Dim {
		ck.Model.Free()
		return nil, fmt.Errorf("reward model: %s has %d values; a model of %d channels needs %d", scoreTensor, len(head), ck.Model.Cfg.Dim, ck.Model.Cfg.Dim)
	}
	if _, err := ck.Model.AttachScoreHead(false, 0); err != nil {
		ck.Model.Free()
		return nil, err
	}
	dev.Upload(ck.Model.Param(scoreTensor).W, head)
	return &Scorer{m: newModel(ck.Model, ck.Tok), ck: ck}, nil
}

// Score is the reward model's score of answer to prompt (a question, without the chat markers).
func (s *Scorer) Score(prompt, answer string) (float32, error) {
	seq, err := textSequence(s.m.tk, prompt, answer, s.m.m.Cfg.Context)
	if err != nil {
		return 0, err
	}
	sc, err := s.m.scores([]sequence{seq})
	if err != nil {
		return 0, err
	}
	return sc[0], nil
}

// Close frees the model.
func (s *Scorer) Close() { s.m.free() }

// readTensors reads a whole safetensors file's metadata and tensors, in file order. Its input
// is one ExportSafetensors or ExportReward wrote (OpenReward's caller's file is checked again by
// ImportSafetensors), so it only guards against reading past the end.
func readTensors(data []byte) (map[string]string, []safetensors.Tensor, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("reward model: %w: %d bytes are not a safetensors file", checkpoint.ErrTruncated, len(data))
	}
	hl := binary.LittleEndian.Uint64(data)
	if hl > uint64(checkpoint.MaxHeaderBytes) || 8+hl > uint64(len(data)) {
		return nil, nil, fmt.Errorf("reward model: %w: the header does not fit in the file", checkpoint.ErrTruncated)
	}
	meta, entries, err := safetensors.DecodeHeader(data[8 : 8+hl])
	if err != nil {
		return nil, nil, fmt.Errorf("reward model: %w: %v", checkpoint.ErrHeader, err)
	}
	if meta == nil {
		meta = map[string]string{}
	}
	payload := data[8+hl:]
	names := make([]string, 0, len(entries))
	for n, e := range entries {
		ok := e.Dtype == "F32" && len(e.DataOffsets) == 2 && e.DataOffsets[0] >= 0 && e.DataOffsets[0] <= e.DataOffsets[1] && e.DataOffsets[1] <= int64(len(payload))
		count := int64(1)
		for _, d := range e.Shape {
			ok = ok && d >= 0 && d <= 1<<28
			count *= max(d, 0)
		}
		if !ok || 4*count != e.DataOffsets[1]-e.DataOffsets[0] {
			return nil, nil, fmt.Errorf("reward model: %w: tensor %q is not an F32 tensor of its shape inside the file", checkpoint.ErrTensors, n)
		}
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return entries[names[i]].DataOffsets[0] < entries[names[j]].DataOffsets[0] })
	var out []safetensors.Tensor
	for _, n := range names {
		e := entries[n]
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			shape[i] = int(d)
		}
		count := int(e.DataOffsets[1]-e.DataOffsets[0]) / 4
		out = append(out, safetensors.Tensor{Name: n, Shape: shape, Data: safetensors.Floats(payload[e.DataOffsets[0]:], count)})
	}
	return meta, out, nil
}
