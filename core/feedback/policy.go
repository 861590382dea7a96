package feedback

import (
	"fmt"
	"time"

	"pretune/core"
)

// policyRun trains one method: the policy (a clone of the SFT model, with LoRA when the method
// has a rank, and a value head for PPO) against the frozen reference (the SFT model itself) and
// the reward model.
type policyRun struct {
	cfg    Config
	meth   Method
	policy *model
	ref    *model
	rm     *model
	taste  *Taste
	opt    *core.Optimizer

	prompts  []string      // the training prompts (PPO, GRPO)
	pairs    [][2]sequence // the training pairs (DPO)
	refPairs [][2]float32  // DPO: the reference's log-probability of each pair's answers
	data     *core.RNG     // order of prompts or pairs
	sampling *core.RNG     // rollouts
	order    []int
	pos      int

	losses  []float64
	elapsed time.Duration
	tokens  int
}

// newPolicyRun clones the SFT model and attaches what the method trains.
func newPolicyRun(st *stage, meth Method) (*policyRun, error) {
	cfg := st.cfg
	m, err := st.sft.m.Clone()
	if err != nil {
		return nil, err
	}
	// A constant rate after a short warm-up, as TRL's PPOTrainer keeps it: a run of a few dozen
	// steps has no time to anneal.
	m.Cfg.Steps, m.Cfg.LR, m.Cfg.MinLR, m.Cfg.Warmup, m.Cfg.Seed = cfg.Steps, meth.LR, meth.LR/10, min(10, cfg.Steps/10), cfg.Seed
	if err := m.SetBatchShape(max(cfg.Batch, 2*cfg.PairsPerStep), 0); err != nil {
		m.Free()
		return nil, err
	}
	if meth.Rank > 0 {
		if _, err := m.AttachLoRA(meth.loraConfig(), cfg.Seed); err != nil {
			m.Free()
			return nil, err
		}
	}
	if meth.Kind == PPO {
		if _, err := m.AttachValueHead(cfg.Seed); err != nil {
			m.Free()
			return nil, err
		}
	}
	r := &policyRun{cfg: cfg, meth: meth, policy: newModel(m, st.tk), ref: st.sft, rm: st.rm.model, taste: st.taste,
		prompts: st.trainPrompts, data: core.NewRNG(cfg.Seed, core.StreamData+"/"+meth.Kind),
		sampling: core.NewRNG(cfg.Seed, core.StreamSampling+"/"+meth.Kind)}
	if meth.Kind == DPO {
		r.pairs = st.rm.train
		if r.refPairs, err = st.refPairSums(); err != nil {
			r.policy.free()
			return nil, err
		}
	}
	r.opt = core.NewOptimizer(m)
	return r, nil
}

// next returns the next n indices into a list of size items, in epochs of permutations.
func (r *policyRun) next(n, size int) []int {
	out := make([]int, n)
	for i := range out {
		if r.pos == len(r.order) {
			r.order, r.pos = permutation(size, r.data), 0
		}
		out[i] = r.order[r.pos]
		r.pos++
	}
	return out
}

func (r *policyRun) nextPrompts(n int) []string {
	out := make([]string, n)
	for i, j := range r.next(n, len(r.prompts)) {
		out[i] = r.prompts[j]
	}
	return out
}

// step runs the method's step s.
func (r *policyRun) step(s int) (float64, error) {
	start := time.Now()
	var loss float64
	var err error
	switch r.meth.Kind {
	case PPO:
		loss, err = r.ppoStep(s)
	case DPO:
		loss, err = r.dpoStep(s)
	case GRPO:
		loss, err = r.grpoStep(s)
	default:
		err = fmt.Errorf("unknown method kind %q", r.meth.Kind)
	}
	if err != nil {
		return 0, err
	}
	r.elapsed += time.Since(start)
	r.losses = append(r.losses, loss)
	return loss, nil
}

// update runs the policy on seqs, has grad turn the response tokens' log-probabilities and
// values into the loss and its derivatives, and takes one optimizer step at step s's rate.
func (r *policyRun) update(s int, seqs []sequence, grad func(logp, values [][]float32) (loss float64, dlogp, dvalues [][]float32)) (float64, error) {
	m, b := r.policy.m, r.policy.batch
	if len(seqs) > m.Cfg.Batch {
		return 0, fmt.Errorf("feedback: %d rows in a step; the policy's batch is %d", len(seqs), m.Cfg.Batch)
	}
	T := fillPolicy(m.Dev, b, seqs)
	m.ZeroGrads()
	lp, v, err := m.TokenLogProbs(b, core.Pass{})
	if err != nil {
		return 0, err
	}
	var values [][]float32
	if v != nil {
		values = responseSlices(v, seqs, T)
	}
	loss, dlogp, dvalues := grad(responseSlices(lp, seqs, T), values)
	var dv []float32
	if dvalues != nil {
		dv = scatter(dvalues, seqs, T)
	}
	m.PolicyBackward(b, core.Pass{}, scatter(dlogp, seqs, T), dv)
	if err := r.opt.Update(m.Params, core.LearningRate(m.Cfg, s)); err != nil {
		return 0, err
	}
	for _, q := range seqs {
		r.tokens += len(q.ids) - 1
	}
	return loss, nil
}

// rewards scores seqs with the reward model, or with the taste for GRPO on the judge.
func (r *policyRun) rewards(seqs []sequence) ([]float32, error) {
	if r.meth.Reward == RewardFromJudge {
		out := make([]float32, len(seqs))
		for i, s := range seqs {
			out[i] = r.taste.Score(s.prompt, s.answerText(r.policy.tk))
		}
		return out, nil
	}
	return r.rm.scores(seqs)
}

// zerosLike allocates one zero slice per row, shaped like v.
func zerosLike(v [][]float32) [][]float32 {
	out := make([][]float32, len(v))
	for i := range v {
		out[i] = make([]float32, len(v[i]))
	}
	return out
}

// meanVar is the mean and the unbiased variance (divided by n-1, as torch.var and torch.std
// take it) of v, in float32; the variance of fewer than two values is 0.
func meanVar(v []float32) (mean, variance float32) {
	n := float32(len(v))
	mean = sum(v) / n
	if len(v) < 2 {
		return mean, 0
	}
	var ss float32
	for _, x := range v {
		d := x - mean
		ss += float32(d * d)
	}
	return mean, ss / (n - 1)
}

// clip limits x to [lo, hi].
func clip(x, lo, hi float32) float32 { return min(max(x, lo), hi) }
