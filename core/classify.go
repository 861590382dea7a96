package core

import (
	"fmt"

	"pretune/core/ops"
)

// A classification head replaces the LM head: the final hidden states (after ln_f) of each
// sequence are pooled into one vector, the last real token's for a causal model (the only
// position that has read the whole text) and the mean over real tokens for a masked-LM model
// (every position has read everything), then a linear layer C→L gives one logit per label,
// trained with cross-entropy. Pooling is a MatMul with a B×(B·T) matrix of pooling weights built
// on the host from the sequences' lengths (1 at the last token, or 1/len over the tokens), so
// the head needs no device op of its own; its backward is the transposed product.

// classHead is the linear layer of a class head.
type classHead struct {
	W, B      *Param // L×C and L
	labels    int
	trainBody bool
}

// headActs are the head's activations for one batch shape.
type headActs struct {
	pool            ops.Buf // B×(B·T) pooling weights
	pooled          ops.Buf // B×C
	logits, probs   ops.Buf // B×L
	losses, weights ops.Buf // B
	targets         ops.Buf // B labels (int32)
	dpooled         ops.Buf
	dlogits         ops.Buf
}

func (h *headActs) bufs() []ops.Buf {
	return []ops.Buf{h.pool, h.pooled, h.logits, h.probs, h.losses, h.weights, h.targets, h.dpooled, h.dlogits}
}

func (m *Model) newHeadActs(B, T int) *headActs {
	C, L, f := m.Cfg.Dim, m.head.labels, m.Dev.Alloc
	return &headActs{pool: f(B * B * T), pooled: f(B * C), logits: f(B * L), probs: f(B * L),
		losses: f(B), weights: f(B), targets: m.Dev.AllocInts(B), dpooled: f(B * C), dlogits: f(B * L)}
}

// AttachClassHead replaces the LM head by a head over labels classes ("score.weight",
// "score.bias"; the weight drawn N(0, 0.02) from the init stream of seed, the bias zero) and
// returns the number of parameters added. With trainBody false the whole base model is frozen
// and only the head learns; with trainBody true everything but the unused LM head learns.
func (m *Model) AttachClassHead(labels int, trainBody bool, seed uint64) (int, error) {
	if labels < 2 || labels > 1024 {
		return 0, fmt.Errorf("class head: %d labels is outside 2..1024", labels)
	}
	return m.attachHead(labels, true, trainBody, seed)
}

// attachHead attaches a head of labels outputs, with a bias or without.
func (m *Model) attachHead(labels int, bias, trainBody bool, seed uint64) (int, error) {
	if m.head != nil {
		return 0, fmt.Errorf("class head: the model already has one")
	}
	if m.value != nil {
		return 0, fmt.Errorf("class head: the model has a value head, which reads the LM head's body")
	}
	if trainBody && m.prompt != nil {
		return 0, fmt.Errorf("class head: prompt tuning keeps the body frozen; it cannot train with the head")
	}
	if trainBody {
		for _, p := range m.BaseParams() {
			p.Frozen = false
		}
	} else {
		m.FreezeBase()
	}
	m.lmHead.Frozen = true // unused from now on
	C := m.Cfg.Dim
	h := &classHead{labels: labels, trainBody: trainBody}
	h.W = m.addParam("score.weight", true, labels, C)
	n := h.W.Size()
	if bias {
		h.B = m.addParam("score.bias", false, labels)
		n += labels
	}
	rng := NewRNG(seed, StreamInit+"/head")
	host := make([]float32, h.W.Size())
	for i := range host {
		host[i] = rng.Normal() * 0.02
	}
	m.Dev.Upload(h.W.W, host)
	m.head = h
	m.allocActs()
	return n, nil
}

// ClassLabels is the number of labels of the class head, 0 without one.
func (m *Model) ClassLabels() int {
	if m.head == nil {
		return 0
	}
	return m.head.labels
}

// Pooling names how the head pools a sequence for this model's mask mode.
func (m *Model) Pooling() string {
	if m.Mask == ops.Bidirectional {
		return "mean"
	}
	return "last"
}

// poolWeights is the B×(B·T) pooling matrix for sequences of the given lengths (1..T).
func (m *Model) poolWeights(n, B, T int, lengths []int) []float32 {
	w := make([]float32, n)
	N := B * T
	for b, L := range lengths {
		if m.Mask == ops.Bidirectional {
			for t := 0; t < L; t++ {
				w[b*N+b*T+t] = 1 / float32(L)
			}
		} else {
			w[b*N+b*T+L-1] = 1
		}
	}
	return w
}

// classForward runs the body and the head on the batch's inputs (B sequences of up to T tokens,
// right-padded; lengths gives each one's real length) and, with labels, the cross-entropy.
func (m *Model) classForward(a *acts, b *Batch, lengths []int, labels []int32, pass Pass) {
	if len(lengths) != b.B {
		panic(fmt.Sprintf("core: %d lengths for a batch of %d", len(lengths), b.B))
	}
	for _, L := range lengths {
		if L < 1 || L > b.T {
			panic(fmt.Sprintf("core: sequence length %d outside 1..%d", L, b.T))
		}
	}
	h, ha := m.head, a.head
	B, T, C := b.B, b.T, m.Cfg.Dim
	m.forwardBody(a, b, pass)
	m.Dev.Upload(ha.pool, m.poolWeights(ha.pool.Len(), B, T, lengths))
	m.Dev.MatMul(ha.pooled, ha.pool, a.lnf, ops.MatMulArgs{M: B, N: C, K: B * T})
	m.linear(ha.logits, ha.pooled, h.W, h.B, B, C, h.labels)
	if labels != nil {
		tg, wt := make([]int32, ha.targets.Len()), make([]float32, ha.weights.Len())
		for i, l := range labels {
			tg[i], wt[i] = l, 1
		}
		m.Dev.UploadInts(ha.targets, tg)
		m.Dev.Upload(ha.weights, wt)
		m.Dev.CrossEntropy(ha.losses, ha.probs, ha.logits, ha.targets, ha.weights, B, h.labels)
	}
}

// classLoss reads back the mean loss of the last classForward with labels.
func (m *Model) classLoss(a *acts, B int) (float64, error) {
	losses := make([]float32, a.head.losses.Len())
	if err := m.Dev.Download(a.head.losses, losses); err != nil {
		return 0, err
	}
	var sum float64
	for _, l := range losses[:B] {
		sum += float64(l)
	}
	return sum / float64(B), nil
}

// classBackward adds the gradients of the mean class loss of the last classForward; the body's
// backward runs only when some body tensor (or method tensor in it) is trainable.
func (m *Model) classBackward(a *acts, b *Batch, pass Pass) {
	h, ha := m.head, a.head
	m.Dev.Zero(ha.dlogits)
	m.Dev.CrossEntropyBackward(ha.dlogits, ha.probs, ha.targets, ha.weights, b.B, h.labels, 1/float32(b.B))
	m.headBackward(a, b, pass)
}

// headBackward continues a class head's backward pass from ha.dlogits, the gradient of its
// outputs, through the head, the pooling and (when anything in it trains) the body.
func (m *Model) headBackward(a *acts, b *Batch, pass Pass) {
	h, ha := m.head, a.head
	B, T, C := b.B, b.T, m.Cfg.Dim
	m.linearBackward(ha.dpooled, ha.dlogits, ha.pooled, h.W, h.B, B, C, h.labels, false)
	if !m.bodyTrainable() {
		return
	}
	m.Dev.MatMul(a.dln, ha.pool, ha.dpooled, ops.MatMulArgs{M: B * T, N: C, K: B, TransA: true})
	m.backwardBody(a, b, pass)
}

// bodyTrainable reports whether any tensor other than the class head's is trainable.
func (m *Model) bodyTrainable() bool {
	for _, p := range m.Params {
		if !p.Frozen && (m.head == nil || (p != m.head.W && p != m.head.B)) {
			return true
		}
	}
	return false
}

// classPredict returns the argmax label of each of the B rows of the last classForward.
func (m *Model) classPredict(a *acts, B int) ([]int, error) {
	L := m.head.labels
	logits := make([]float32, a.head.logits.Len())
	if err := m.Dev.Download(a.head.logits, logits); err != nil {
		return nil, err
	}
	out := make([]int, B)
	for b := range out {
		row := logits[b*L : (b+1)*L]
		for j := range row {
			if row[j] > row[out[b]] {
				out[b] = j
			}
		}
	}
	return out, nil
}
