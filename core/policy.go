package core

import (
	"fmt"

	"pretune/core/ops"
)

// The feedback stage (package feedback) trains a policy on losses that are functions of the
// log-probability the model gives each token of a sampled response: PPO's clipped ratio, DPO's
// log-ratio margin, GRPO's group-relative objective, each with a KL term to a frozen
// reference. All of them need only two things from the model, which is why they need no device
// op of their own:
//
//   - the forward pass's per-token log-probability log p(target_t), which the cross-entropy op
//     already computes (its loss at weight 1 is -log p(target_t));
//   - the backward pass of a loss L given its derivative g_t = ∂L/∂log p(target_t) at each
//     token. Since ∂log p(target)/∂logits = onehot(target) - probs, the cross-entropy backward
//     at weight -g_t is exactly ∂L/∂logits; the rest is the ordinary backward pass.
//
// The losses themselves are a few float32 operations per token, done on the host in a fixed
// order (package feedback), so a run is bit-identical wherever the device is.
//
// PPO also learns a value per token: a value head (a linear layer C→1 on the final hidden
// state, TRL's "v_head.summary") on the policy's own body, whose loss enters the same backward
// pass through ∂L/∂value_t.

// valueHead is the PPO value head's linear layer.
type valueHead struct {
	W, B *Param // 1×C and 1
}

// valueActs are the value head's activations for one batch shape.
type valueActs struct {
	values, dvalues ops.Buf // B·T
}

// AttachValueHead adds a value head ("v_head.summary.weight" 1×C drawn N(0, 0.02) from the
// init stream of seed, "v_head.summary.bias" zero), trainable whatever else is frozen, and
// returns the number of parameters added.
func (m *Model) AttachValueHead(seed uint64) (int, error) {
	if m.value != nil {
		return 0, fmt.Errorf("value head: the model already has one")
	}
	if m.head != nil || m.Mask != ops.Causal {
		return 0, fmt.Errorf("value head: it needs a causal model with its LM head")
	}
	C := m.Cfg.Dim
	h := &valueHead{W: m.addParam("v_head.summary.weight", true, 1, C), B: m.addParam("v_head.summary.bias", false, 1)}
	rng := NewRNG(seed, StreamInit+"/value")
	host := make([]float32, C)
	for i := range host {
		host[i] = rng.Normal() * 0.02
	}
	m.Dev.Upload(h.W.W, host)
	m.value = h
	m.allocActs()
	return C + 1, nil
}

// HasValueHead reports whether AttachValueHead ran.
func (m *Model) HasValueHead() bool { return m.value != nil }

// ZeroGrads clears the gradient of every trainable parameter: PolicyBackward and ScoreBackward
// add into them.
func (m *Model) ZeroGrads() {
	for _, p := range m.Params {
		if !p.Frozen {
			m.Dev.Zero(p.DW)
		}
	}
}

// TokenLogProbs runs the model on the batch (B rows of T tokens and their targets) with pass
// and returns log p(target) for each of the B·T positions and, with a value head, each
// position's value (nil without one). The batch's weights are overwritten.
func (m *Model) TokenLogProbs(b *Batch, pass Pass) (logp, values []float32, err error) {
	if m.Mask != ops.Causal || m.head != nil {
		return nil, nil, fmt.Errorf("log-probabilities: only a causal model with its LM head gives them")
	}
	a, N, V := m.train, b.B*b.T, m.Cfg.Vocab
	if N > a.B*a.T {
		return nil, nil, fmt.Errorf("log-probabilities: a batch of %d positions is larger than the model's %d", N, a.B*a.T)
	}
	ones := make([]float32, b.Weights.Len())
	for i := range ones[:N] {
		ones[i] = 1
	}
	m.Dev.Upload(b.Weights, ones)
	m.forward(a, b, pass)
	m.Dev.CrossEntropy(a.losses, a.probs, a.logits, b.Targets, b.Weights, N, V)
	losses := make([]float32, a.losses.Len())
	if err := m.Dev.Download(a.losses, losses); err != nil {
		return nil, nil, err
	}
	logp = make([]float32, N)
	for i := range logp {
		logp[i] = -losses[i]
	}
	if m.value != nil {
		C := m.Cfg.Dim
		m.linear(a.value.values, a.lnf, m.value.W, m.value.B, N, C, 1)
		values = make([]float32, a.value.values.Len())
		if err := m.Dev.Download(a.value.values, values); err != nil {
			return nil, nil, err
		}
		values = values[:N]
	}
	return logp, values, nil
}

// PolicyBackward adds into the trainable parameters' gradients those of a loss L whose
// derivatives with respect to the last TokenLogProbs' outputs are dlogp (∂L/∂log p, B·T
// values) and dvalues (∂L/∂value, nil without a value head or when L does not use the
// values). It must follow TokenLogProbs on the same batch and pass; the batch's weights are
// overwritten.
func (m *Model) PolicyBackward(b *Batch, pass Pass, dlogp, dvalues []float32) {
	a, N, C, V := m.train, b.B*b.T, m.Cfg.Dim, m.Cfg.Vocab
	if len(dlogp) != N || (dvalues != nil && (m.value == nil || len(dvalues) != N)) {
		panic(fmt.Sprintf("core: PolicyBackward: %d log-probability and %d value gradients for %d positions", len(dlogp), len(dvalues), N))
	}
	w := make([]float32, b.Weights.Len())
	for i, g := range dlogp {
		w[i] = -g
	}
	m.Dev.Upload(b.Weights, w)
	m.Dev.Zero(a.dlogits)
	m.Dev.CrossEntropyBackward(a.dlogits, a.probs, b.Targets, b.Weights, N, V, 1)
	m.linearBackward(a.dln, a.dlogits, a.lnf, m.lmHead, nil, N, C, V, false)
	if dvalues != nil {
		dv := make([]float32, a.value.dvalues.Len())
		copy(dv, dvalues)
		m.Dev.Upload(a.value.dvalues, dv)
		m.linearBackward(a.dln, a.value.dvalues, a.lnf, m.value.W, m.value.B, N, C, 1, true)
	}
	m.backwardBody(a, b, pass)
}
