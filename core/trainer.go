package core

import (
	"fmt"
	"time"
)

// Event is what a Trainer reports as it goes; the browser worker and the command line both
// forward these.
type Event struct {
	Kind       string  `json:"event"` // "progress" after each step, "eval" after each evaluation
	Step       int     `json:"step"`  // steps done
	Steps      int     `json:"steps"` // steps in the run
	TrainLoss  float64 `json:"train_loss"`
	ValLoss    float64 `json:"val_loss,omitempty"`
	LR         float32 `json:"lr"`
	GradNorm   float64 `json:"grad_norm"`
	TokensPerS float64 `json:"tokens_per_s"`
}

// Trainer runs causal-LM pretraining: Step does one optimizer step on a batch of random windows of
// the training tokens; every EvalEvery steps (and at the last) it measures the held-out loss on a
// fixed set of windows, so successive evaluations are comparable.
type Trainer struct {
	Model   *Model
	Opt     *Optimizer
	Tok     *Tokenizer
	OnEvent func(Event)

	train, val  []int32
	data        *RNG
	dropoutSeed uint64
	batch       *Batch
	step        int
	lastTrain   float64
	lastVal     float64
	elapsed     time.Duration
	tokens      int
}

// NewTrainer builds the tokenizer from the training text, the model on dev and its optimizer.
// cfg.Vocab is set from the tokenizer.
func NewTrainer(dev Device, cfg Config, trainText, valText string) (*Trainer, error) {
	tk, err := NewTokenizer(trainText)
	if err != nil {
		return nil, err
	}
	cfg.Vocab = tk.VocabSize()
	m, err := NewModel(dev, cfg)
	if err != nil {
		return nil, err
	}
	return NewTrainerFor(m, tk, trainText, valText)
}

// NewTrainerFor trains an existing model (a loaded checkpoint, say) with its tokenizer.
func NewTrainerFor(m *Model, tk *Tokenizer, trainText, valText string) (*Trainer, error) {
	t := &Trainer{Model: m, Tok: tk, Opt: NewOptimizer(m)}
	t.train, t.val = tk.Encode(trainText), tk.Encode(valText)
	if len(t.train) < 2 {
		return nil, fmt.Errorf("trainer: the training text has %d characters; it needs at least 2", len(t.train))
	}
	if len(t.val) < 2 {
		return nil, fmt.Errorf("trainer: the held-out text has %d characters; it needs at least 2", len(t.val))
	}
	t.data = NewRNG(m.Cfg.Seed, StreamData)
	t.dropoutSeed = NewRNG(m.Cfg.Seed, StreamDropout).Uint64()
	t.batch = NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	return t, nil
}

// StepsDone is the number of optimizer steps taken.
func (t *Trainer) StepsDone() int { return t.step }

// Done reports whether the configured number of steps has run.
func (t *Trainer) Done() bool { return t.step >= t.Model.Cfg.Steps }

// LastLosses are the most recent training and held-out losses (NaN-free; 0 before any).
func (t *Trainer) LastLosses() (train, val float64) { return t.lastTrain, t.lastVal }

// window fills inputs/targets with a window of tokens starting at off, of length T.
func window(tokens []int32, off, T int, inputs, targets []int32) {
	copy(inputs, tokens[off:off+T])
	copy(targets, tokens[off+1:off+T+1])
}

// seqLen is the window length the text allows: the context, or less for a short text.
func seqLen(tokens []int32, context int) int { return min(context, len(tokens)-1) }

// Step runs one training step and returns its training loss.
func (t *Trainer) Step() (float64, error) {
	if t.Done() {
		return t.lastTrain, fmt.Errorf("trainer: all %d steps are done", t.Model.Cfg.Steps)
	}
	start := time.Now()
	cfg := t.Model.Cfg
	B, T := cfg.Batch, seqLen(t.train, cfg.Context)
	inputs, targets := make([]int32, B*T), make([]int32, B*T)
	for b := 0; b < B; b++ {
		off := t.data.Intn(len(t.train) - T)
		window(t.train, off, T, inputs[b*T:(b+1)*T], targets[b*T:(b+1)*T])
	}
	t.batch.Set(t.Model.Dev, B, T, inputs, targets, nil)
	loss, err := t.Model.TrainStep(t.Opt, t.batch, Pass{Train: true, DropoutSeed: t.dropoutSeed, Step: t.step}, LearningRate(cfg, t.step))
	if err != nil {
		return 0, err
	}
	t.elapsed += time.Since(start)
	t.tokens += B * T
	t.step++
	t.lastTrain = loss
	t.emit(Event{Kind: "progress", TrainLoss: loss})
	if t.step%cfg.EvalEvery == 0 || t.Done() {
		val, err := t.Evaluate()
		if err != nil {
			return 0, err
		}
		t.emit(Event{Kind: "eval", TrainLoss: loss, ValLoss: val})
	}
	return loss, nil
}

func (t *Trainer) emit(e Event) {
	if t.OnEvent == nil {
		return
	}
	e.Step, e.Steps = t.step, t.Model.Cfg.Steps
	e.LR = LearningRate(t.Model.Cfg, max(t.step-1, 0))
	e.GradNorm = t.Opt.LastGradNorm
	e.TokensPerS = t.TokensPerSecond()
	t.OnEvent(e)
}

// TokensPerSecond is the training throughput so far (training steps only, evaluation excluded).
func (t *Trainer) TokensPerSecond() float64 {
	if s := t.elapsed.Seconds(); s > 0 {
		return float64(t.tokens) / s
	}
	return 0
}

// Evaluate returns the mean loss over the fixed held-out windows: EvalBatches batches of windows
// spread evenly over the held-out text.
func (t *Trainer) Evaluate() (float64, error) {
	loss, err := t.Model.MeanLoss(t.val, t.batch, t.Model.Cfg.EvalBatches)
	if err != nil {
		return 0, err
	}
	t.lastVal = loss
	return loss, nil
}

// TrainStep runs forward, backward and one optimizer update on a batch already on the device,
// at learning rate lr, and returns the batch's mean loss.
func (m *Model) TrainStep(opt *Optimizer, b *Batch, pass Pass, lr float32) (float64, error) {
	for _, p := range m.Params {
		if !p.Frozen {
			m.Dev.Zero(p.DW)
		}
	}
	m.forward(m.train, b, pass)
	loss, weight, err := m.loss(m.train, b)
	if err != nil {
		return 0, err
	}
	if weight == 0 {
		return 0, fmt.Errorf("trainer: the batch has no position with a loss weight")
	}
	m.backward(m.train, b, pass, weight)
	if err := opt.Update(m.Params, lr); err != nil {
		return 0, err
	}
	return loss, nil
}

// MeanLoss is the model's mean next-token loss (nats per token) over batches×B windows spread
// evenly across tokens, without dropout. It reuses b's buffers.
func (m *Model) MeanLoss(tokens []int32, b *Batch, batches int) (float64, error) {
	B, T := m.Cfg.Batch, seqLen(tokens, m.Cfg.Context)
	if T < 1 {
		return 0, fmt.Errorf("model: %d tokens are too few to evaluate", len(tokens))
	}
	count := batches * B
	span := len(tokens) - T - 1 // last valid offset
	inputs, targets := make([]int32, B*T), make([]int32, B*T)
	var sum, weight float64
	for k := 0; k < batches; k++ {
		for i := 0; i < B; i++ {
			off := 0
			if count > 1 {
				off = (k*B + i) * span / (count - 1)
			}
			window(tokens, off, T, inputs[i*T:(i+1)*T], targets[i*T:(i+1)*T])
		}
		b.Set(m.Dev, B, T, inputs, targets, nil)
		m.forward(m.train, b, Pass{})
		loss, w, err := m.loss(m.train, b)
		if err != nil {
			return 0, err
		}
		sum += float64(loss * w)
		weight += w
	}
	return sum / weight, nil
}
