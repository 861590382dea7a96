package feedback

import (
	"bytes"
	"fmt"
	"io"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/ops"
)

// A reward model is saved as a safetensors file that PyTorch and Hugging Face read:
// checkpoint.ExportSafetensors writes a model with a score head with it, named as Hugging Face
// names a sequence-classification head ("score.weight", [1, C], no bias, as
// GPT2ForSequenceClassification with num_labels=1), and ImportSafetensors reads it back.

// ExportReward writes the reward model m (a model with a score head) and its tokenizer.
func ExportReward(w io.Writer, m *core.Model, tk *core.Tokenizer) error {
	if !m.IsRewardModel() {
		return fmt.Errorf("reward model: the model has no score head")
	}
	return checkpoint.ExportSafetensors(w, m, tk)
}

// Scorer scores answers with a reward model read from a file.
type Scorer struct{ m *model }

// OpenReward reads a reward model written by ExportReward onto dev, with every check of
// checkpoint.ImportSafetensors.
func OpenReward(data []byte, dev ops.Device) (*Scorer, error) {
	ck, err := checkpoint.ImportSafetensors(bytes.NewReader(data), dev)
	if err != nil {
		return nil, fmt.Errorf("reward model: %w", err)
	}
	if !ck.Model.IsRewardModel() {
		ck.Model.Free()
		return nil, fmt.Errorf("reward model: this safetensors file is not a pretune reward model (it has no score head)")
	}
	return &Scorer{m: newModel(ck.Model, ck.Tok)}, nil
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
