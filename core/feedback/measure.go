package feedback

import (
	"context"
	"fmt"
	"unicode/utf8"

	"pretune/core"
	"pretune/core/task"
)

// overTimePrompts is how many held-out prompts' answers each evaluation keeps, to show how a
// method's answers change as it trains.
const overTimePrompts = 3

// measured are a model's answers to the held-out prompts and its measures on them.
type measured struct {
	reward, kl, taste float64
	seqs              []sequence
	scores            []float32
	samples           []Sample
}

// measure samples k answers to every held-out prompt from x, from a sampling stream started
// afresh (every model draws the same random numbers, so their answers differ only by what they
// learned), scores them with the reward model and the taste, and takes their mean per-token KL
// to the reference.
func (st *stage) measure(x *model, k int) (measured, error) {
	var prompts []string
	for _, p := range st.heldPrompts {
		for i := 0; i < k; i++ {
			prompts = append(prompts, p)
		}
	}
	seqs, err := x.sample(prompts, st.cfg.Tokens, core.NewRNG(st.cfg.Seed, core.StreamSampling+"/eval"))
	if err != nil {
		return measured{}, err
	}
	ms := measured{seqs: seqs}
	if ms.scores, err = st.rm.scores(seqs); err != nil {
		return ms, err
	}
	logp, _, err := x.logProbs(seqs)
	if err != nil {
		return ms, err
	}
	ref := logp // the SFT model measured against itself: KL 0 without a second pass
	if x != st.sft {
		if ref, _, err = st.sft.logProbs(seqs); err != nil {
			return ms, err
		}
	}
	var klSum float64
	tokens := 0
	for i, s := range seqs {
		for t := range logp[i] {
			klSum += float64(logp[i][t] - ref[i][t])
		}
		tokens += len(logp[i])
		smp := Sample{Prompt: s.prompt, Answer: s.answerText(st.tk), Reward: ms.scores[i]}
		if st.taste != nil {
			smp.Taste = st.taste.Score(s.prompt, smp.Answer)
			ms.taste += float64(smp.Taste)
		}
		ms.reward += float64(ms.scores[i])
		ms.samples = append(ms.samples, smp)
	}
	n := float64(len(seqs))
	ms.reward, ms.taste, ms.kl = ms.reward/n, ms.taste/n, klSum/float64(tokens)
	return ms, nil
}

// measureSFT measures the SFT model, whose answers every method's are judged against.
func (st *stage) measureSFT() (*Result, error) {
	ms, err := st.measure(st.sft, st.cfg.EvalSamples)
	if err != nil {
		return nil, err
	}
	st.sftSamples, st.sftScores = ms.seqs, ms.scores
	res := &Result{Method: SFT, Kind: SFT, Reward: ms.reward, TasteScore: ms.taste, GoldWinRate: 0.5, WinJudge: st.winJudge(), Samples: ms.samples}
	if res.TaskAccuracy, err = st.taskAccuracy(st.sft.m); err != nil {
		return nil, err
	}
	if res.Fingerprint, err = WeightsFingerprint(st.sft.m); err != nil {
		return nil, err
	}
	return res, nil
}

func (st *stage) winJudge() string {
	if st.taste != nil {
		return JudgeTaste
	}
	return JudgeRewardModel
}

// winRate is how often the judge prefers the answers seqs (scored scores by the reward model)
// to the SFT model's answers to the same prompts: 1 a win, ½ a tie.
func (st *stage) winRate(seqs []sequence, scores []float32) float64 {
	var wins float64
	for i, s := range seqs {
		a, b := scores[i], st.sftScores[i]
		if st.taste != nil {
			a, b = st.taste.Score(s.prompt, s.answerText(st.tk)), st.taste.Score(s.prompt, st.sftSamples[i].answerText(st.tk))
		}
		switch {
		case a > b:
			wins++
		case a == b:
			wins += 0.5
		}
	}
	return wins / float64(len(seqs))
}

// taskAccuracy is m's exact-match accuracy on the held-out questions of the task the SFT model
// was taught (0 without one).
func (st *stage) taskAccuracy(m *core.Model) (float64, error) {
	t := st.in.Task
	if t == nil || t.Kind != task.KindGenerate || len(t.ValPairs) == 0 {
		return 0, nil
	}
	prompts := make([]string, len(t.ValPairs))
	longest := 0
	for i, p := range t.ValPairs {
		prompts[i] = task.PromptText(p.Prompt)
		longest = max(longest, utf8.RuneCountInString(p.Response))
	}
	answers, err := m.GreedyBatch(st.tk, prompts, longest+2, "\n")
	if err != nil {
		return 0, err
	}
	right := 0
	for i, p := range t.ValPairs {
		if task.ExactMatch(answers[i], p.Response) {
			right++
		}
	}
	return float64(right) / float64(len(prompts)), nil
}

// runMethod trains one method from the SFT model and measures it.
func (st *stage) runMethod(ctx context.Context, meth Method, on func(Event)) (*Result, error) {
	r, err := newPolicyRun(st, meth)
	if err != nil {
		return nil, err
	}
	defer r.policy.free()
	m := r.policy.m
	res := &Result{Method: meth.Label(), Kind: meth.Kind, WinJudge: st.winJudge(), TrainableParams: m.TrainableCount(), OptimizerBytes: r.opt.Bytes()}
	var last float64
	evaluate := func(step int) error {
		ms, err := st.measure(r.policy, 1)
		if err != nil {
			return err
		}
		res.RewardCurve = append(res.RewardCurve, Point{step, ms.reward})
		res.KLCurve = append(res.KLCurve, Point{step, ms.kl})
		for _, s := range ms.samples[:min(overTimePrompts, len(ms.samples))] {
			s.Step = step
			res.OverTime = append(res.OverTime, s)
		}
		on(Event{Event: core.Event{Kind: "eval", Step: step, Steps: st.cfg.Steps, TrainLoss: last}, Method: res.Method, Reward: ms.reward, KL: ms.kl})
		return nil
	}
	if err := evaluate(0); err != nil {
		return nil, err
	}
	for s := 0; s < st.cfg.Steps; s++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("stopped at step %d: %w", s, err)
		}
		if last, err = r.step(s); err != nil {
			return nil, err
		}
		res.LossCurve = append(res.LossCurve, Point{s + 1, last})
		on(Event{Event: core.Event{Kind: "progress", Step: s + 1, Steps: st.cfg.Steps, TrainLoss: last}, Method: res.Method})
		if st.in.BetweenSteps != nil {
			st.in.BetweenSteps()
		}
		if (s+1)%st.cfg.EvalEvery == 0 || s+1 == st.cfg.Steps {
			if err := evaluate(s + 1); err != nil {
				return nil, err
			}
		}
	}
	res.MsPerStep = float64(r.elapsed.Microseconds()) / 1000 / float64(st.cfg.Steps)
	if sec := r.elapsed.Seconds(); sec > 0 {
		res.TokensPerS = float64(r.tokens) / sec
	}
	ms, err := st.measure(r.policy, st.cfg.EvalSamples)
	if err != nil {
		return nil, err
	}
	res.Reward, res.KL, res.TasteScore, res.Samples = ms.reward, ms.kl, ms.taste, ms.samples
	res.GoldWinRate = st.winRate(ms.seqs, ms.scores)
	if res.TaskAccuracy, err = st.taskAccuracy(m); err != nil {
		return nil, err
	}
	if st.valTokens != nil {
		after, err := meanLoss(m, st.valTokens)
		if err != nil {
			return nil, err
		}
		res.Forgetting = after - st.sftLoss
	}
	hash, err := m.WeightsHash()
	if err != nil {
		return nil, err
	}
	res.Fingerprint = fingerprintOf(m, r.losses, hash)
	return res, nil
}
