package core

import "time"

// progress is the bookkeeping every trainer shares (pretraining, masked LM, fine-tuning): the
// steps done, the training throughput, and the event cadence: "progress" after every step,
// "eval" every EvalEvery steps and after the last one.
type progress struct {
	step    int
	elapsed time.Duration // training steps only: evaluation is not counted
	tokens  int
}

// finishStep records a step that began at start and trained tokens positions, reports it, and
// evaluates when an evaluation is due.
func (p *progress) finishStep(m *Model, opt *Optimizer, onEvent func(Event), start time.Time, tokens int, loss float64, evaluate func() (float64, error)) error {
	p.elapsed += time.Since(start)
	p.tokens += tokens
	p.step++
	p.emit(m, opt, onEvent, Event{Kind: "progress", TrainLoss: loss})
	if p.step%m.Cfg.EvalEvery == 0 || p.step >= m.Cfg.Steps {
		val, err := evaluate()
		if err != nil {
			return err
		}
		p.emit(m, opt, onEvent, Event{Kind: "eval", TrainLoss: loss, ValLoss: val})
	}
	return nil
}

func (p *progress) emit(m *Model, opt *Optimizer, onEvent func(Event), e Event) {
	if onEvent == nil {
		return
	}
	e.Step, e.Steps = p.step, m.Cfg.Steps
	e.LR = LearningRate(m.Cfg, max(p.step-1, 0))
	e.GradNorm = opt.LastGradNorm
	e.TokensPerS = p.TokensPerSecond()
	onEvent(e)
}

// TokensPerSecond is the training throughput so far (training steps only, evaluation excluded).
func (p *progress) TokensPerSecond() float64 {
	if s := p.elapsed.Seconds(); s > 0 {
		return float64(p.tokens) / s
	}
	return 0
}
