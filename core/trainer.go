package core

import (
	"fmt"
	"time"

	"pretune/core/ops"
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

// Trainer runs pretraining: Step does one optimizer step on a batch of random windows of the
// training tokens; every EvalEvery steps (and at the last) it measures the held-out loss on a
// fixed set of windows, so successive evaluations are comparable. The objective is causal LM
// (predict each next token), or masked LM for a trainer made by NewMLMTrainerFor (mlm.go).
type Trainer struct {
	Model   *Model
	Opt     *Optimizer
	Tok     *Tokenizer
	OnEvent func(Event)

	train, val  []int32
	data        *RNG
	dropoutSeed uint64
	batch       *Batch
	// Runner computes a sharded step's shard gradients (Config.Shards > 1): goroutines in this
	// process (LocalShards, made at the first sharded step when nil) or, in the browser,
	// helper workers. Whichever it is, the step's result is the same.
	Runner ShardRunner
	// shardWeights and shardSum are a sharded step's host copies of the weights and of the
	// summed gradient, kept from step to step.
	shardWeights, shardSum [][]float32
	// shardAcc is the device buffers an in-place sharded step sums shard gradients in.
	shardAcc  []ops.Buf
	lastTrain float64
	lastVal   float64
	// masked is the masked-LM objective's options (nil for causal LM) and maskRNG its
	// corruption stream.
	masked  *MLMOptions
	maskRNG *RNG
	progress
}

// Masked returns the masked-LM options of a masked-LM trainer, or nil for causal LM.
func (t *Trainer) Masked() *MLMOptions { return t.masked }

// NewTrainer builds the tokenizer from the training text, the model on dev and its optimizer.
// cfg.Vocab is set from the tokenizer.
func NewTrainer(dev ops.Device, cfg Config, trainText, valText string) (*Trainer, error) {
	tk, err := NewTokenizer(trainText)
	if err != nil {
		return nil, err
	}
	cfg.Vocab = tk.VocabSize()
	if err := CheckFits(dev, cfg); err != nil {
		return nil, err
	}
	m, err := NewModel(dev, cfg)
	if err != nil {
		return nil, err
	}
	return NewTrainerFor(m, tk, trainText, valText)
}

// CheckFits refuses a config whose largest buffer exceeds what dev can hold in one buffer.
func CheckFits(dev ops.Device, cfg Config) error {
	l, ok := dev.(ops.Limiter)
	if !ok {
		return nil
	}
	need, limit := cfg.LargestBuffer(cfg.Vocab), l.MaxBufferElements()
	if need > limit {
		return fmt.Errorf("the model is too large for %s: one of its buffers needs %d MiB and the device allows %d MiB in one buffer; lower the batch, the context or the heads",
			dev.Name(), (need*4)>>20, (limit*4)>>20)
	}
	return nil
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
	var B, T int
	var inputs, targets []int32
	var weights []float32 // nil: every position weighs 1
	if t.masked != nil {
		B, T, inputs, targets, weights = t.maskedBatch()
	} else {
		B, T = cfg.Batch, seqLen(t.train, cfg.Context)
		inputs, targets = make([]int32, B*T), make([]int32, B*T)
		for b := 0; b < B; b++ {
			off := t.data.Intn(len(t.train) - T)
			window(t.train, off, T, inputs[b*T:(b+1)*T], targets[b*T:(b+1)*T])
		}
	}
	pass, lr := Pass{Train: true, DropoutSeed: t.dropoutSeed, Step: t.step}, LearningRate(cfg, t.step)
	var loss float64
	var err error
	if cfg.Shards > 1 {
		loss, err = t.shardedStep(B, T, inputs, targets, weights, pass, lr)
	} else {
		t.batch.Set(t.Model.Dev, B, T, inputs, targets, weights)
		loss, err = t.Model.TrainStep(t.Opt, t.batch, pass, lr)
	}
	if err != nil {
		return 0, err
	}
	t.lastTrain = loss
	if err := t.finishStep(t.Model, t.Opt, t.OnEvent, start, B*T, loss, t.Evaluate); err != nil {
		return 0, err
	}
	return loss, nil
}

// Evaluate returns the mean loss over the fixed held-out windows: EvalBatches batches of windows
// spread evenly over the held-out text.
func (t *Trainer) Evaluate() (float64, error) {
	if t.masked != nil {
		return t.maskedEvaluate()
	}
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
	return m.MeanLossWithin(tokens, b, batches, m.TokenContext())
}

// MeanLossWithin is MeanLoss with windows of at most context tokens (at most TokenContext):
// a model that reads fewer tokens (prompt tuning's) is compared with its base on equal windows.
func (m *Model) MeanLossWithin(tokens []int32, b *Batch, batches, context int) (float64, error) {
	if context < 1 || context > m.TokenContext() {
		return 0, fmt.Errorf("model: windows of %d tokens are outside 1..%d", context, m.TokenContext())
	}
	B, T := m.Cfg.Batch, seqLen(tokens, context)
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

// Snapshot is everything a run needs to continue exactly from a step, on any device: the weights,
// the optimizer's moments and step count, and the data stream's position. The trainer takes one
// at each evaluation when asked (the browser keeps it; a lost GPU resumes from it on the CPU).
type Snapshot struct {
	Step       int
	Weights    [][]float32 // in Model.Params order
	M, V       [][]float32 // nil for frozen parameters
	OptSteps   int
	DataState  uint64
	MaskState  uint64 // the masked-LM corruption stream (0 for causal LM)
	LastTrain  float64
	LastVal    float64
	Tokens     int
	ElapsedSec float64
}

// Snapshot reads the trainer's state back from its device.
func (t *Trainer) Snapshot() (*Snapshot, error) {
	s := &Snapshot{Step: t.step, OptSteps: t.Opt.Steps(), DataState: t.data.state,
		LastTrain: t.lastTrain, LastVal: t.lastVal, Tokens: t.tokens, ElapsedSec: t.elapsed.Seconds()}
	if t.maskRNG != nil {
		s.MaskState = t.maskRNG.state
	}
	var err error
	if s.Weights, err = t.Model.Weights(); err != nil {
		return nil, err
	}
	for _, p := range t.Model.Params {
		m, v := t.Opt.Moments(p)
		if m == nil {
			s.M, s.V = append(s.M, nil), append(s.V, nil)
			continue
		}
		hm, hv := make([]float32, m.Len()), make([]float32, v.Len())
		if err := t.Model.Dev.Download(m, hm); err != nil {
			return nil, err
		}
		if err := t.Model.Dev.Download(v, hv); err != nil {
			return nil, err
		}
		s.M, s.V = append(s.M, hm), append(s.V, hv)
	}
	return s, nil
}

// Restore puts a snapshot of a trainer with the same config and tokenizer into this one (which
// may be on another device), so the next Step continues the run exactly where the snapshot was.
func (t *Trainer) Restore(s *Snapshot) error {
	ps := t.Model.Params
	if len(s.Weights) != len(ps) || len(s.M) != len(ps) || len(s.V) != len(ps) {
		return fmt.Errorf("trainer: the snapshot has %d tensors; the model has %d", len(s.Weights), len(ps))
	}
	for i, p := range ps {
		if len(s.Weights[i]) != p.Size() {
			return fmt.Errorf("trainer: snapshot tensor %s has %d values; want %d", p.Name, len(s.Weights[i]), p.Size())
		}
		m, v := t.Opt.Moments(p)
		if (m == nil) != (s.M[i] == nil) || (m != nil && (len(s.M[i]) != m.Len() || len(s.V[i]) != v.Len())) {
			return fmt.Errorf("trainer: snapshot moments of %s do not match the model", p.Name)
		}
	}
	for i, p := range ps {
		t.Model.Dev.Upload(p.W, s.Weights[i])
		if m, v := t.Opt.Moments(p); m != nil {
			t.Model.Dev.Upload(m, s.M[i])
			t.Model.Dev.Upload(v, s.V[i])
		}
	}
	t.Opt.SetSteps(s.OptSteps)
	t.step, t.data.state = s.Step, s.DataState
	if t.maskRNG != nil {
		t.maskRNG.state = s.MaskState
	}
	t.lastTrain, t.lastVal, t.tokens = s.LastTrain, s.LastVal, s.Tokens
	t.elapsed = time.Duration(s.ElapsedSec * float64(time.Second))
	return t.Model.Dev.Flush()
}
