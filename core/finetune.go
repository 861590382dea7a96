package core

import (
	"fmt"
	"time"
	"unicode/utf8"

	"pretune/core/ops"
	"pretune/core/task"
)

// Fine-tuning runs on a model that may carry methods (LoRA, adapters, a prefix, a class head;
// none at all is full fine-tuning). Its optimisation settings are the model's Cfg fields (Steps,
// Batch, LR, MinLR, Warmup, WeightDecay, GradClip, EvalEvery, Seed): set them before creating
// the FineTuner, whose optimizer holds moments for the trainable tensors only.
//
// Which methods apply to which base: a causal base takes every method; a masked-LM base
// (Mask == Bidirectional) takes a class head (mean pooling), with the body frozen or trained,
// LoRA or adapters under it; it cannot generate, so generate tasks (SFT, exact-match accuracy)
// do not apply to it.

// newMethodActs allocates the methods' activations for a batch shape.
func (m *Model) newMethodActs(a *acts) {
	B, T, C, N := a.B, a.T, m.Cfg.Dim, a.B*a.T
	f := m.Dev.Alloc
	a.lora, a.adapter = map[*loraLayer]*loraActs{}, map[*adapter]*adapterActs{}
	a.prefix = make([]*prefixActs, len(m.blocks))
	for l, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo == nil {
				continue
			}
			r := m.loraCfg.Rank
			la := &loraActs{u: f(N * r), du: f(N * r)}
			if m.loraCfg.Dropout > 0 {
				la.xd, la.dxd = f(N*lo.in), f(N*lo.in)
			}
			if lo.M != nil {
				la.dora = m.newDoRAActs(lo, N)
			}
			a.lora[lo] = la
		}
		for _, ad := range bl.adapters {
			if ad != nil {
				a.adapter[ad] = &adapterActs{h: f(N * ad.size), g: f(N * ad.size), e: f(N * C),
					dg: f(N * ad.size), dh: f(N * ad.size), dbranch: f(N * C)}
			}
		}
		if bl.prefix != nil {
			a.prefix[l] = m.newPrefixActs(B, T)
		}
	}
	if m.prompt != nil {
		a.prompt = m.newPromptActs(B, T)
	}
	if m.head != nil {
		a.head = m.newHeadActs(B, T)
	}
	if m.value != nil {
		a.value = &valueActs{values: f(N), dvalues: f(N)}
	}
	m.newIA3Acts(a)
}

// FineTuneOptions are the fine-tuning switches that are not optimiser settings.
type FineTuneOptions struct {
	// PromptLoss counts the prompt's tokens in the SFT loss too (default: the response's only).
	PromptLoss bool
	// ReplayRows of every SFT batch are windows of ReplayText (pretraining text) with every
	// token counted, the rest task pairs: rehearsal, which holds forgetting down. 0 turns it off.
	ReplayRows int
	ReplayText string
}

// FineTuner trains a model on a task: SFT for a generate task, the class head for a classify
// task. Like Trainer it exposes Step and reports Events.
type FineTuner struct {
	Model   *Model
	Opt     *Optimizer
	Tok     *Tokenizer
	Task    *task.Task
	OnEvent func(Event)

	train, val  *sftSet  // generate tasks
	ctrain      classSet // classify tasks
	cval        classSet
	order       []int // this epoch's order of training examples
	pos         int
	data        *RNG
	dropoutSeed uint64
	batch       *Batch
	maxAnswer   int // runes of the longest response, for greedy decoding
	replay      []int32
	replayRows  int
	replayRNG   *RNG
	progress
}

// classSet is a classify task's texts, tokenized and cut to the context.
type classSet struct {
	tokens [][]int32
	labels []int32
}

// NewFineTuner prepares fine-tuning m (with its methods already attached) on t.
func NewFineTuner(m *Model, tk *Tokenizer, t *task.Task, o FineTuneOptions) (*FineTuner, error) {
	if err := m.Cfg.Validate(); err != nil {
		return nil, err
	}
	f := &FineTuner{Model: m, Tok: tk, Task: t}
	switch t.Kind {
	case task.KindGenerate:
		if m.head != nil || m.Mask != ops.Causal {
			return nil, fmt.Errorf("fine-tune: a generate task needs a causal model with its LM head")
		}
		if len(t.TrainPairs) == 0 || len(t.ValPairs) == 0 {
			return nil, fmt.Errorf("fine-tune: task %s needs training and held-out pairs", t.ID)
		}
		f.train, f.val = newSFTSet(tk, t.TrainPairs, o.PromptLoss), newSFTSet(tk, t.ValPairs, false)
		if err := m.promptFits(max(f.train.maxLen, f.val.maxLen) - 1); err != nil { // inputs: all but the last token
			return nil, err
		}
		if o.ReplayRows > 0 {
			f.replay, f.replayRows = tk.Encode(o.ReplayText), o.ReplayRows
			if o.ReplayRows >= m.Cfg.Batch || len(f.replay) < m.Cfg.Context+2 {
				return nil, fmt.Errorf("fine-tune: replay needs fewer rows (%d) than the batch (%d) and a text longer than the context", o.ReplayRows, m.Cfg.Batch)
			}
			f.replayRNG = NewRNG(m.Cfg.Seed, StreamData+"/replay")
		}
		for _, p := range append(append([]task.Pair(nil), t.TrainPairs...), t.ValPairs...) {
			f.maxAnswer = max(f.maxAnswer, utf8.RuneCountInString(p.Response))
		}
	case task.KindClassify:
		if m.head == nil || m.head.labels != len(t.Labels) {
			return nil, fmt.Errorf("fine-tune: a classify task with %d labels needs a class head with as many (AttachClassHead)", len(t.Labels))
		}
		if len(t.TrainExamples) == 0 || len(t.ValExamples) == 0 {
			return nil, fmt.Errorf("fine-tune: task %s needs training and held-out examples", t.ID)
		}
		longest := 0
		for _, e := range append(append([]task.Example(nil), t.TrainExamples...), t.ValExamples...) {
			longest = max(longest, len(tk.Encode(e.Text)))
		}
		if err := m.promptFits(longest); err != nil {
			return nil, err
		}
		f.ctrain, f.cval = newClassSet(tk, t.TrainExamples, m.TokenContext()), newClassSet(tk, t.ValExamples, m.TokenContext())
	default:
		return nil, fmt.Errorf("fine-tune: unknown task kind %q", t.Kind)
	}
	f.Opt = NewOptimizer(m)
	f.data = NewRNG(m.Cfg.Seed, StreamData)
	f.dropoutSeed = NewRNG(m.Cfg.Seed, StreamDropout).Uint64()
	f.batch = NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	return f, nil
}

func newClassSet(tk *Tokenizer, ex []task.Example, context int) classSet {
	var s classSet
	for _, e := range ex {
		tok := tk.Encode(e.Text)
		if len(tok) > context {
			tok = tok[:context]
		}
		if len(tok) == 0 {
			tok = []int32{TokPad}
		}
		s.tokens, s.labels = append(s.tokens, tok), append(s.labels, int32(e.Label))
	}
	return s
}

// fill builds a batch of the examples idx and returns their lengths and labels.
func (s classSet) fill(dev ops.Device, b *Batch, idx []int) (lengths []int, labels []int32) {
	T := 1
	for _, i := range idx {
		T = max(T, len(s.tokens[i]))
	}
	B := len(idx)
	in := make([]int32, B*T)
	for r, i := range idx {
		row := in[r*T : (r+1)*T]
		copy(row, s.tokens[i])
		for t := len(s.tokens[i]); t < T; t++ {
			row[t] = TokPad
		}
		lengths, labels = append(lengths, len(s.tokens[i])), append(labels, s.labels[i])
	}
	b.Set(dev, B, T, in, make([]int32, B*T), nil)
	return lengths, labels
}

func (f *FineTuner) trainSize() int {
	if f.train != nil {
		return len(f.train.tokens)
	}
	return len(f.ctrain.tokens)
}

// next returns the next B training examples: epochs of a permutation drawn from the data
// stream, so every method run with the same seed sees the same examples in the same order.
func (f *FineTuner) next(B int) []int {
	idx := make([]int, B)
	for i := range idx {
		if f.pos == len(f.order) {
			n := f.trainSize()
			f.order = make([]int, n)
			for j := range f.order {
				f.order[j] = j
			}
			for j := n - 1; j > 0; j-- {
				k := f.data.Intn(j + 1)
				f.order[j], f.order[k] = f.order[k], f.order[j]
			}
			f.pos = 0
		}
		idx[i] = f.order[f.pos]
		f.pos++
	}
	return idx
}

// StepsDone is the number of optimizer steps taken; Done reports whether all have run.
func (f *FineTuner) StepsDone() int { return f.step }

// Done reports whether the configured number of steps has run.
func (f *FineTuner) Done() bool { return f.step >= f.Model.Cfg.Steps }

// Step runs one fine-tuning step and returns its training loss.
func (f *FineTuner) Step() (float64, error) {
	m := f.Model
	if f.Done() {
		return 0, fmt.Errorf("fine-tune: all %d steps are done", m.Cfg.Steps)
	}
	if m.LoRAMerged() {
		return 0, fmt.Errorf("fine-tune: the LoRA update is merged; unmerge it before training")
	}
	start := time.Now()
	pass := Pass{Train: true, DropoutSeed: f.dropoutSeed, Step: f.step}
	lr := LearningRate(m.Cfg, f.step)
	idx := f.next(m.Cfg.Batch - f.replayRows)
	var loss float64
	var err error
	if f.train != nil {
		offsets := make([]int, f.replayRows)
		for i := range offsets {
			offsets[i] = f.replayRNG.Intn(len(f.replay) - m.Cfg.Context - 1)
		}
		f.train.fill(m.Dev, f.batch, idx, m.TokenContext(), f.replay, offsets)
		loss, err = m.TrainStep(f.Opt, f.batch, pass, lr)
	} else {
		loss, err = f.classStep(idx, pass, lr)
	}
	if err != nil {
		return 0, err
	}
	if err := f.finishStep(m, f.Opt, f.OnEvent, start, f.batch.B*f.batch.T, loss, f.Evaluate); err != nil {
		return 0, err
	}
	return loss, nil
}

func (f *FineTuner) classStep(idx []int, pass Pass, lr float32) (float64, error) {
	m := f.Model
	for _, p := range m.Params {
		if !p.Frozen {
			m.Dev.Zero(p.DW)
		}
	}
	lengths, labels := f.ctrain.fill(m.Dev, f.batch, idx)
	m.classForward(m.train, f.batch, lengths, labels, pass)
	loss, err := m.classLoss(m.train, f.batch.B)
	if err != nil {
		return 0, err
	}
	m.classBackward(m.train, f.batch, pass)
	if err := f.Opt.Update(m.Params, lr); err != nil {
		return 0, err
	}
	return loss, nil
}

// MsPerStep is the mean wall time of a training step so far, in milliseconds.
func (f *FineTuner) MsPerStep() float64 {
	if f.step == 0 {
		return 0
	}
	return float64(f.elapsed.Microseconds()) / 1000 / float64(f.step)
}

// Evaluate is the held-out task loss: for a generate task the mean loss per response token of
// the held-out pairs, for a classify task the mean cross-entropy of the held-out examples.
func (f *FineTuner) Evaluate() (float64, error) {
	m := f.Model
	B := m.Cfg.Batch
	var sum, weight float64
	if f.val != nil {
		for s := 0; s < len(f.val.tokens); s += B {
			idx := seq(s, min(s+B, len(f.val.tokens)))
			f.val.fill(m.Dev, f.batch, idx, m.TokenContext(), nil, nil)
			m.forward(m.train, f.batch, Pass{})
			l, w, err := m.loss(m.train, f.batch)
			if err != nil {
				return 0, err
			}
			sum += float64(l * w)
			weight += w
		}
		return sum / weight, nil
	}
	for s := 0; s < len(f.cval.tokens); s += B {
		idx := seq(s, min(s+B, len(f.cval.tokens)))
		lengths, labels := f.cval.fill(m.Dev, f.batch, idx)
		m.classForward(m.train, f.batch, lengths, labels, Pass{})
		l, err := m.classLoss(m.train, len(idx))
		if err != nil {
			return 0, err
		}
		sum += float64(l * float64(len(idx)))
		weight += float64(len(idx))
	}
	return sum / weight, nil
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// Accuracy is the held-out task accuracy in [0, 1]: exact match of the greedy answer for a
// generate task (task.ExactMatch), the share of correct labels for a classify task.
func (f *FineTuner) Accuracy() (float64, error) {
	if f.val != nil {
		prompts := make([]string, len(f.Task.ValPairs))
		for i, p := range f.Task.ValPairs {
			prompts[i] = task.PromptText(p.Prompt)
		}
		answers, err := f.Model.GreedyBatch(f.Tok, prompts, f.maxAnswer+2, "\n")
		if err != nil {
			return 0, err
		}
		right := 0
		for i, p := range f.Task.ValPairs {
			if task.ExactMatch(answers[i], p.Response) {
				right++
			}
		}
		return float64(right) / float64(len(prompts)), nil
	}
	preds, err := f.Predict(f.Task.ValExamples)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, e := range f.Task.ValExamples {
		if preds[i] == e.Label {
			right++
		}
	}
	return float64(right) / float64(len(preds)), nil
}

// Predict returns the class head's label for each example's text (labels are ignored).
func (f *FineTuner) Predict(ex []task.Example) ([]int, error) {
	m := f.Model
	if m.head == nil {
		return nil, fmt.Errorf("fine-tune: the model has no class head")
	}
	set := newClassSet(f.Tok, ex, m.TokenContext())
	var out []int
	for s := 0; s < len(set.tokens); s += m.Cfg.Batch {
		idx := seq(s, min(s+m.Cfg.Batch, len(set.tokens)))
		lengths, _ := set.fill(m.Dev, f.batch, idx)
		m.classForward(m.train, f.batch, lengths, nil, Pass{})
		p, err := m.classPredict(m.train, len(idx))
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// Answers returns the model's greedy answers (task.Answer of the continuation) to prompts.
func (f *FineTuner) Answers(prompts []string) ([]string, error) {
	ps := make([]string, len(prompts))
	for i, p := range prompts {
		ps[i] = task.PromptText(p)
	}
	gen, err := f.Model.GreedyBatch(f.Tok, ps, f.maxAnswer+2, "\n")
	if err != nil {
		return nil, err
	}
	for i := range gen {
		gen[i] = task.Answer(gen[i])
	}
	return gen, nil
}

// ActivationBytes estimates the memory of the activations and gradient scratch of one training
// step at the configured batch shape: every buffer the forward and backward passes use besides
// the parameters, their gradients and the optimizer's moments (float32 and int32 alike, 4 bytes).
func (m *Model) ActivationBytes() int {
	seen := map[ops.Buf]bool{}
	n := 0
	for _, b := range m.train.bufs() {
		if b != nil && !seen[b] {
			seen[b] = true
			n += b.Len()
		}
	}
	return 4 * n
}
