package core

import (
	"fmt"

	"pretune/core/ops"
)

// A reward model is the model with a score head: one output read at the last token of the
// prompt and response (the only position that has read all of it), Hugging Face's
// sequence-classification head with one label ("score.weight", 1×C, no bias). It learns from
// preference pairs with the Bradley-Terry loss -log σ(r_chosen - r_rejected).
//
// The loss needs no op of its own: a batch holds the pairs interleaved, chosen in row 2i and
// rejected in row 2i+1, so the head's B×1 scores are a P×2 matrix whose row i is
// (r_chosen, r_rejected), and the cross-entropy of that row with target 0 is
// -log(e^{r_c} / (e^{r_c} + e^{r_r})) = -log σ(r_c - r_r), exactly Bradley-Terry.

// AttachScoreHead replaces the LM head by a score head (the weight drawn N(0, 0.02) from the
// init stream of seed) and returns the number of parameters added. With trainBody the whole
// body learns with it, as reward models are usually trained; else only the head does.
func (m *Model) AttachScoreHead(trainBody bool, seed uint64) (int, error) {
	if m.Mask != ops.Causal {
		return 0, fmt.Errorf("score head: a reward model reads the last token of a causal model")
	}
	return m.attachHead(1, false, trainBody, seed)
}

// IsRewardModel reports whether the model carries a score head.
func (m *Model) IsRewardModel() bool { return m.head != nil && m.head.labels == 1 }

// Scores returns the score of each of the batch's B rows (lengths gives each row's real
// length; rows are right-padded), without dropout.
func (m *Model) Scores(b *Batch, lengths []int) ([]float32, error) {
	if !m.IsRewardModel() {
		return nil, fmt.Errorf("scores: the model has no score head")
	}
	m.classForward(m.train, b, lengths, nil, Pass{})
	out := make([]float32, m.train.head.logits.Len())
	if err := m.Dev.Download(m.train.head.logits, out); err != nil {
		return nil, err
	}
	return out[:b.B], nil
}

// PairLoss runs the reward model on a batch of 2P rows holding P pairs (chosen in row 2i,
// rejected in 2i+1) with pass and returns the mean Bradley-Terry loss and every row's score.
func (m *Model) PairLoss(b *Batch, lengths []int, pass Pass) (loss float64, scores []float32, err error) {
	if !m.IsRewardModel() {
		return 0, nil, fmt.Errorf("pair loss: the model has no score head")
	}
	if b.B < 2 || b.B%2 != 0 {
		return 0, nil, fmt.Errorf("pair loss: %d rows do not hold whole pairs", b.B)
	}
	a, ha, P := m.train, m.train.head, b.B/2
	m.classForward(a, b, lengths, nil, pass)
	tg, wt := make([]int32, ha.targets.Len()), make([]float32, ha.weights.Len())
	for i := range wt[:P] {
		wt[i] = 1
	}
	m.Dev.UploadInts(ha.targets, tg)
	m.Dev.Upload(ha.weights, wt)
	m.Dev.CrossEntropy(ha.losses, ha.probs, ha.logits, ha.targets, ha.weights, P, 2)
	losses, logits := make([]float32, ha.losses.Len()), make([]float32, ha.logits.Len())
	if err := m.Dev.Download(ha.losses, losses); err != nil {
		return 0, nil, err
	}
	if err := m.Dev.Download(ha.logits, logits); err != nil {
		return 0, nil, err
	}
	var sum float64
	for _, l := range losses[:P] {
		sum += float64(l)
	}
	return sum / float64(P), logits[:b.B], nil
}

// PairBackward adds the gradients of the mean Bradley-Terry loss of the last PairLoss (same
// batch and pass) into the trainable parameters' gradients.
func (m *Model) PairBackward(b *Batch, pass Pass) {
	a, ha, P := m.train, m.train.head, b.B/2
	m.Dev.Zero(ha.dlogits)
	m.Dev.CrossEntropyBackward(ha.dlogits, ha.probs, ha.targets, ha.weights, P, 2, 1/float32(P))
	m.headBackward(a, b, pass)
}
