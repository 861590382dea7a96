package feedback

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"pretune/core"
	"pretune/core/ops"
)

// rewardModel trains the reward model: a clone of the SFT model with a score head, its whole
// body trained with the Bradley-Terry loss on the pairs, PairsPerStep a step in an order drawn
// from the data stream. It reports the held-out pairs' loss and accuracy at every evaluation.
type rewardModel struct {
	*model
	opt     *core.Optimizer
	train   [][2]sequence // chosen, rejected
	held    [][2]sequence
	heldLab []labelled
	order   []int
	pos     int
	data    *core.RNG
	curve   []float64 // training losses, for the fingerprint
	elapsed time.Duration
}

func pairSequences(tk *core.Tokenizer, pairs []labelled, context int) ([][2]sequence, error) {
	out := make([][2]sequence, len(pairs))
	for i, p := range pairs {
		c, err := textSequence(tk, p.Prompt, p.Chosen, context)
		if err == nil {
			var r sequence
			r, err = textSequence(tk, p.Prompt, p.Rejected, context)
			out[i] = [2]sequence{c, r}
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func newRewardModel(sft *core.Model, tk *core.Tokenizer, train, held []labelled, cfg Config) (*rewardModel, error) {
	m, err := sft.Clone()
	if err != nil {
		return nil, err
	}
	m.Cfg.Steps, m.Cfg.LR, m.Cfg.MinLR, m.Cfg.Warmup, m.Cfg.Seed = cfg.RewardSteps, cfg.RewardLR, cfg.RewardLR/10, min(20, cfg.RewardSteps/10), cfg.Seed
	if err := m.SetBatchShape(2*cfg.PairsPerStep, 0); err != nil {
		m.Free()
		return nil, err
	}
	if _, err := m.AttachScoreHead(true, cfg.Seed); err != nil {
		m.Free()
		return nil, err
	}
	r := &rewardModel{model: newModel(m, tk), heldLab: held, data: core.NewRNG(cfg.Seed, core.StreamData+"/reward")}
	if r.train, err = pairSequences(tk, train, m.Cfg.Context); err == nil {
		r.held, err = pairSequences(tk, held, m.Cfg.Context)
	}
	if err != nil {
		r.free()
		return nil, err
	}
	r.opt = core.NewOptimizer(m)
	return r, nil
}

// next returns the next n training pairs: epochs of permutations from the data stream.
func (r *rewardModel) next(n int) [][2]sequence {
	out := make([][2]sequence, n)
	for i := range out {
		if r.pos == len(r.order) {
			r.order = permutation(len(r.train), r.data)
			r.pos = 0
		}
		out[i] = r.train[r.order[r.pos]]
		r.pos++
	}
	return out
}

// permutation is a Fisher-Yates shuffle of 0..n-1 drawn from rng.
func permutation(n int, rng *core.RNG) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := rng.Intn(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}

func interleave(pairs [][2]sequence) []sequence {
	out := make([]sequence, 0, 2*len(pairs))
	for _, p := range pairs {
		out = append(out, p[0], p[1])
	}
	return out
}

// step trains one step and returns its mean Bradley-Terry loss.
func (r *rewardModel) step(s int) (float64, error) {
	start := time.Now()
	m := r.m
	lengths := fillScore(m.Dev, r.batch, interleave(r.next(r.m.Cfg.Batch/2)))
	m.ZeroGrads()
	loss, _, err := m.PairLoss(r.batch, lengths, core.Pass{})
	if err != nil {
		return 0, err
	}
	m.PairBackward(r.batch, core.Pass{})
	if err := r.opt.Update(m.Params, core.LearningRate(m.Cfg, s)); err != nil {
		return 0, err
	}
	r.curve = append(r.curve, loss)
	r.elapsed += time.Since(start)
	return loss, nil
}

// evaluate returns the held-out pairs' mean Bradley-Terry loss, their accuracy against the
// labels they carry (ties count half) and, for a taste's pairs or pairs a taste judges, against
// the taste itself (a flipped label counted the other way round, an undecided pair not at all).
func (r *rewardModel) evaluate() (loss, acc, gold float64, err error) {
	decided := 0
	seqs := interleave(r.held)
	sc, err := r.scores(seqs)
	if err != nil {
		return 0, 0, 0, err
	}
	for i := range r.held {
		c, w := sc[2*i], sc[2*i+1]
		loss += float64(softplus(w - c))
		right := 0.0
		switch {
		case c > w:
			right = 1
		case c == w:
			right = 0.5
		}
		acc += right
		if r.heldLab[i].Undecided {
			continue
		}
		if r.heldLab[i].Flipped {
			right = 1 - right
		}
		gold += right
		decided++
	}
	n := float64(len(r.held))
	if decided > 0 { // else the taste told no held-out pair apart: no gold accuracy (0)
		gold /= float64(decided)
	}
	return loss / n, acc / n, gold, nil
}

// trainReward trains the reward model for cfg.RewardSteps steps, reporting its events as the
// method RewardModel, and returns it with its result.
func trainReward(ctx context.Context, sft *core.Model, tk *core.Tokenizer, train, held []labelled, cfg Config, on func(Event), between func()) (*rewardModel, *Result, error) {
	if len(held) == 0 {
		return nil, nil, fmt.Errorf("feedback: no held-out pairs to measure the reward model on")
	}
	r, err := newRewardModel(sft, tk, train, held, cfg)
	if err != nil {
		return nil, nil, err
	}
	res := &Result{Method: RewardModel, Kind: RewardModel, TrainableParams: r.m.TrainableCount(), OptimizerBytes: r.opt.Bytes()}
	emitEval := func(step int, trainLoss float64) error {
		loss, acc, gold, err := r.evaluate()
		if err != nil {
			return err
		}
		res.RMAccuracy, res.RMGoldAccuracy = acc, gold
		res.RMCurve = append(res.RMCurve, Point{step, acc})
		on(Event{Event: core.Event{Kind: "eval", Step: step, Steps: cfg.RewardSteps, TrainLoss: trainLoss, ValLoss: loss}, Method: RewardModel, Accuracy: acc})
		return nil
	}
	if err := emitEval(0, 0); err != nil {
		r.free()
		return nil, nil, err
	}
	evalEvery := max(1, cfg.RewardSteps/10)
	for s := 0; s < cfg.RewardSteps; s++ {
		if err := ctx.Err(); err != nil {
			r.free()
			return nil, nil, fmt.Errorf("stopped at step %d: %w", s, err)
		}
		loss, err := r.step(s)
		if err != nil {
			r.free()
			return nil, nil, err
		}
		on(Event{Event: core.Event{Kind: "progress", Step: s + 1, Steps: cfg.RewardSteps, TrainLoss: loss}, Method: RewardModel})
		if between != nil {
			between()
		}
		if (s+1)%evalEvery == 0 || s+1 == cfg.RewardSteps {
			if err := emitEval(s+1, loss); err != nil {
				r.free()
				return nil, nil, err
			}
		}
	}
	res.MsPerStep = float64(r.elapsed.Microseconds()) / 1000 / float64(cfg.RewardSteps)
	hash, err := r.m.WeightsHash()
	if err != nil {
		r.free()
		return nil, nil, err
	}
	res.Fingerprint = fingerprintOf(r.m, r.curve, hash)
	var file bytes.Buffer
	if err := ExportReward(&file, r.m, tk); err != nil {
		r.free()
		return nil, nil, err
	}
	res.File = file.Bytes()
	return r, res, nil
}

// softplus is log(1 + e^x) in float32 with core's own exp and log: -log σ(z) = softplus(-z).
func softplus(x float32) float32 {
	if x > 0 {
		return x + log1pExp(-x)
	}
	return log1pExp(x)
}

// log1pExp is log(1 + e^x) for x <= 0.
func log1pExp(x float32) float32 { return ops.Log32(1 + ops.Exp32(x)) }

// sigmoid is σ(x) = 1/(1+e^-x), written so that the exponential never overflows.
func sigmoid(x float32) float32 {
	if x >= 0 {
		return 1 / (1 + ops.Exp32(-x))
	}
	e := ops.Exp32(x)
	return e / (1 + e)
}

// PairScore is a trained reward model's score of one preference pair's two answers; Held says
// the pair was held out (measured, not learned from).
type PairScore struct {
	Chosen, Rejected float32
	Held             bool
}

// TrainRewardModel trains a reward model from sft (with its tokenizer tk) on a learner's pairs,
// as Run does (the same checks, one pair in five held out, the same steps and seeds from cfg),
// reporting its "progress" and "eval" events as the method RewardModel (BetweenSteps-style
// between, optional, runs after every step). With cfg.Taste set the taste judges the pairs:
// the result's RMGoldAccuracy is the reward model's agreement with the taste on the held-out
// pairs it tells apart. It returns the reward model as a Scorer, its result (Run's reward-model result) and
// every pair's two scores in the order of pairs. Cancelling ctx stops it between two steps.
func TrainRewardModel(ctx context.Context, sft *core.Model, tk *core.Tokenizer, pairs []Pair, cfg Config, on func(Event), between func()) (*Scorer, *Result, []PairScore, error) {
	if on == nil {
		on = func(Event) {}
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, nil, fmt.Errorf("feedback: %w", err)
	}
	if sft == nil || tk == nil {
		return nil, nil, nil, fmt.Errorf("feedback: no model to start from")
	}
	var taste *Taste
	if cfg.Taste != "" {
		var err error
		if taste, err = BuiltinTaste(cfg.Taste); err != nil {
			return nil, nil, nil, err
		}
	}
	train, held, err := learnerPairs(pairs, tk, sft.Cfg.Context, taste)
	if err != nil {
		return nil, nil, nil, err
	}
	r, res, err := trainReward(ctx, sft, tk, train, held, cfg, on, between)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("feedback: reward model: %w", err)
	}
	trainScores, err := r.scores(interleave(r.train))
	var heldScores []float32
	if err == nil {
		heldScores, err = r.scores(interleave(r.held))
	}
	if err != nil {
		r.free()
		return nil, nil, nil, err
	}
	// splitPairs holds out pair i when i%5 == 4: walk both lists back into the pairs' order.
	out := make([]PairScore, len(pairs))
	t, h := 0, 0
	for i := range out {
		if i%5 == 4 {
			out[i] = PairScore{Chosen: heldScores[2*h], Rejected: heldScores[2*h+1], Held: true}
			h++
		} else {
			out[i] = PairScore{Chosen: trainScores[2*t], Rejected: trainScores[2*t+1]}
			t++
		}
	}
	r.opt.Free() // it trains no more: only the model is kept, to score
	return &Scorer{m: r.model}, res, out, nil
}
