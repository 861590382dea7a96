// Package compare runs several fine-tuning methods from one base model on one task, with the
// same data order, seed and number of steps, and measures each the same way: task loss curves,
// held-out task accuracy, forgetting of the pretraining text, trainable parameters, optimizer
// and activation memory, speed, the answers to fixed prompts, and a fingerprint.
//
// Methods run one after another, each on its own clone of the base, so each one's speed is
// measured with it running alone (on the cores the caller leaves free).
package compare

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/fingerprint"
	"pretune/core/ops"
	"pretune/core/task"
)

// Config is a comparison.
type Config struct {
	Steps     int     `json:"steps"`       // fine-tuning steps per method
	Batch     int     `json:"batch"`       // examples per step; 0 keeps the base's
	Dropout   float32 `json:"dropout"`     // dropout while fine-tuning (the base's rate is not kept)
	Warmup    int     `json:"warmup"`      // steps of warm-up
	MinLRFrac float32 `json:"min_lr_frac"` // the cosine ends at LR·MinLRFrac
	EvalEvery int     `json:"eval_every"`  // steps between held-out task losses
	Seed      uint64  `json:"seed"`        // data order, dropout and the methods' initialisation
	// PromptLoss counts the prompt's tokens in the SFT loss too.
	PromptLoss bool `json:"prompt_loss,omitempty"`
	// ReplayRows of each SFT batch are windows of the pretraining text (rehearsal); 0 is off.
	ReplayRows int `json:"replay_rows,omitempty"`
	// Prompts are answered by every model (generate tasks; texts to label for classify tasks);
	// empty means the first four held-out prompts.
	Prompts []string `json:"prompts,omitempty"`
	Methods []Method `json:"methods"`
}

// DefaultConfig is the default lesson for a task kind.
func DefaultConfig(kind string) Config {
	warmup, evalEvery := Schedule(DefaultSteps)
	return Config{Steps: DefaultSteps, Warmup: warmup, MinLRFrac: 0.1, EvalEvery: evalEvery, Seed: 1, Methods: DefaultMethods(kind)}
}

// DefaultSteps are a comparison's fine-tuning steps per method unless the learner says otherwise.
const DefaultSteps = 500

// Schedule is the warm-up and the steps between held-out losses of a comparison of steps steps:
// a tenth of the run as warm-up, at most 20, and ten held-out losses in all. The default lesson,
// the presets and the page's form all take it from here.
func Schedule(steps int) (warmup, evalEvery int) {
	return min(20, steps/10), max(1, steps/10)
}

// Point is one point of a loss curve.
type Point struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
}

// Answer is a model's answer to one fixed prompt.
type Answer struct {
	Prompt string `json:"prompt"`
	Answer string `json:"answer"`
}

// Result is one method's (or the base's) measurements.
type Result struct {
	Method string `json:"method"`
	Kind   string `json:"kind"`
	// TaskAccuracy in [0, 1]: exact match of greedy answers, or label accuracy.
	TaskAccuracy float64 `json:"task_accuracy"`
	// Forgetting is the held-out pretraining-text loss after minus before, nats per token (for
	// prompt tuning both on windows short enough to leave room for its soft tokens).
	Forgetting      float64  `json:"forgetting"`
	PretrainLoss    float64  `json:"pretrain_loss"` // after
	TrainableParams int      `json:"trainable_params"`
	TrainableShare  float64  `json:"trainable_share"` // of the base model's parameters
	OptimizerBytes  int      `json:"optimizer_bytes"`
	ActivationBytes int      `json:"activation_bytes"` // estimate for one training step
	MsPerStep       float64  `json:"ms_per_step"`
	TokensPerS      float64  `json:"tokens_per_s"`
	TrainCurve      []Point  `json:"train_curve,omitempty"`
	ValCurve        []Point  `json:"val_curve,omitempty"` // held-out task loss; step 0 is before training
	Answers         []Answer `json:"answers"`
	Fingerprint     string   `json:"fingerprint"`

	// A LoRA method's extras, for the playground's LoRA view: the learned updates ΔW = s·B·A,
	// the answers with the adapter switched off (the base's, exactly) and merged into the
	// weights (the same model, folded), and the adapter alone as a PEFT-style safetensors file.
	LoRAUpdates   []core.LoRAUpdate `json:"lora_updates,omitempty"`
	AnswersOff    []Answer          `json:"answers_off,omitempty"`
	AnswersMerged []Answer          `json:"answers_merged,omitempty"`
	AdapterFile   []byte            `json:"-"`
}

// Event is what Run reports, one stream for every method: the method's trainer events
// ("progress" after each step, "eval" after each held-out evaluation) as core.Trainer reports
// them, with the method's name, and "result" with its Result when a method (or the base) is
// measured.
type Event struct {
	core.Event
	Method string
	Result *Result
}

// Run measures the base model, then every method of cfg from its own clone of base, on task t.
// pre is the base's pretraining corpus: its held-out part measures forgetting, its training part
// feeds replay. The base model is left unchanged. Results come back in order: the base's first,
// then one per method. Cancelling ctx stops the comparison between two steps with ctx's error.
func Run(ctx context.Context, base *core.Model, tk *core.Tokenizer, t *task.Task, pre *corpus.Corpus, cfg Config, on func(Event)) ([]Result, error) {
	if on == nil {
		on = func(Event) {}
	}
	if cfg.Steps < 1 || len(cfg.Methods) == 0 {
		return nil, fmt.Errorf("compare: need at least one step and one method")
	}
	if t.Kind == task.KindGenerate && base.Mask != ops.Causal {
		return nil, fmt.Errorf("compare: a masked-LM base cannot be fine-tuned on a generate task (it cannot generate)")
	}
	valTokens := tk.Encode(pre.Val)
	before, err := pretrainLoss(base, valTokens)
	if err != nil {
		return nil, err
	}
	baseRes, err := measureBase(base, tk, t, cfg, pre.Train, valTokens, before)
	if err != nil {
		return nil, err
	}
	on(Event{Event: core.Event{Kind: "result"}, Method: Base, Result: baseRes})
	results := []Result{*baseRes}
	for _, meth := range cfg.Methods {
		r, err := runMethod(ctx, base, tk, t, cfg, meth, pre.Train, valTokens, before, on)
		if err != nil {
			return nil, fmt.Errorf("compare: method %s: %w", meth.Label(), err)
		}
		on(Event{Event: core.Event{Kind: "result"}, Method: r.Method, Result: r})
		results = append(results, *r)
	}
	return results, nil
}

// pretrainLoss is the mean loss over held-out pretraining text (the trainer's evaluation
// windows), using a throwaway batch.
func pretrainLoss(m *core.Model, tokens []int32) (float64, error) {
	b := core.NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	defer b.Free(m.Dev)
	return m.MeanLoss(tokens, b, m.Cfg.EvalBatches)
}

// pretrainLossWithin is pretrainLoss on windows of at most context tokens.
func pretrainLossWithin(m *core.Model, tokens []int32, context int) (float64, error) {
	b := core.NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	defer b.Free(m.Dev)
	return m.MeanLossWithin(tokens, b, m.Cfg.EvalBatches, context)
}

// prepare clones base, attaches the method (its defaults filled) and sets the optimisation
// fields of its config.
func prepare(base *core.Model, t *task.Task, cfg Config, meth Method, valTokens []int32) (*core.Model, error) {
	m, err := base.Clone()
	if err != nil {
		return nil, err
	}
	meth = meth.Filled()
	lr := meth.LR
	m.Cfg.Steps, m.Cfg.LR, m.Cfg.Warmup, m.Cfg.Seed = cfg.Steps, lr, min(cfg.Warmup, cfg.Steps), cfg.Seed
	m.Cfg.MinLR = lr * cfg.MinLRFrac
	m.Cfg.EvalEvery = max(cfg.EvalEvery, 1)
	batch := m.Cfg.Batch
	if cfg.Batch > 0 {
		batch = cfg.Batch
	}
	if err := m.SetBatchShape(batch, cfg.Dropout); err != nil {
		m.Free()
		return nil, err
	}
	var attachErr error
	switch meth.Kind {
	case Full:
	case LoRA, DoRA:
		_, attachErr = m.AttachLoRA(meth.LoRAConfig(), cfg.Seed)
	case IA3:
		_, attachErr = m.AttachIA3(core.DefaultIA3())
	case BitFit, LNTuning:
		// They choose which base tensors train: after the class head below, which would
		// freeze the body again.
	case Adapter:
		_, attachErr = m.AttachAdapters(core.AdapterConfig{Size: meth.Size}, cfg.Seed)
	case Prefix:
		init := valTokens
		if len(init) < meth.Len {
			init = nil
		}
		_, attachErr = m.AttachPrefix(core.PrefixConfig{Len: meth.Len}, init, cfg.Seed)
	case Head:
		if t.Kind != task.KindClassify {
			attachErr = fmt.Errorf("a class head needs a classify task")
		}
	case LoRAPlus:
		_, attachErr = m.AttachLoRAPlus(meth.LoRAConfig(), meth.Ratio, cfg.Seed)
	case PiSSA:
		_, attachErr = m.AttachPiSSA(meth.LoRAConfig())
	case Prompt:
		// The soft tokens start as the embeddings of the start of the held-out pretraining
		// text, as the prefix starts as its keys and values.
		init := valTokens
		if len(init) < meth.Len {
			init = nil
		}
		_, attachErr = m.AttachPrompt(core.PromptConfig{Len: meth.Len}, init, cfg.Seed)
	default:
		attachErr = fmt.Errorf("unknown method kind %q", meth.Kind)
	}
	if attachErr == nil && t.Kind == task.KindClassify {
		// A parameter-efficient method under a class head keeps the body frozen (its own
		// tensors train); full fine-tuning and "head+body" train the body.
		_, attachErr = m.AttachClassHead(len(t.Labels), meth.Kind == Full || (meth.Kind == Head && meth.TrainBody), cfg.Seed)
	}
	if attachErr != nil {
		m.Free()
		return nil, attachErr
	}
	switch meth.Kind {
	case BitFit:
		m.AttachBitFit()
	case LNTuning:
		m.AttachLNTuning()
	}
	return m, nil
}

func measureBase(base *core.Model, tk *core.Tokenizer, t *task.Task, cfg Config, replayText string, valTokens []int32, before float64) (*Result, error) {
	// The base is measured on a clone, so that nothing (a class head) is attached to it.
	m, err := prepare(base, t, cfg, Method{Kind: Full}, valTokens)
	if err != nil {
		return nil, err
	}
	defer m.Free()
	ft, err := core.NewFineTuner(m, tk, t, core.FineTuneOptions{PromptLoss: cfg.PromptLoss, ReplayRows: cfg.ReplayRows, ReplayText: replayText})
	if err != nil {
		return nil, err
	}
	r := &Result{Method: Base, Kind: Base, PretrainLoss: before}
	if err := finish(r, ft, t, cfg, valTokens, before, nil); err != nil {
		return nil, err
	}
	// The base does not train: no trainable parameters, optimizer, activations or speed.
	r.TrainableParams, r.TrainableShare, r.OptimizerBytes, r.ActivationBytes, r.MsPerStep, r.TokensPerS = 0, 0, 0, 0, 0, 0
	return r, nil
}

// Train fine-tunes a clone of base with one method exactly as Run trains it (the same seed,
// data order, steps and measures, so its result and fingerprint are those Run reports for it)
// and returns the trained model with its result, reporting the method's events but no "result"
// event. The feedback stage starts from a model made this way. The caller frees the model; base
// is left unchanged.
func Train(ctx context.Context, base *core.Model, tk *core.Tokenizer, t *task.Task, pre *corpus.Corpus, cfg Config, meth Method, on func(Event)) (*core.Model, *Result, error) {
	if on == nil {
		on = func(Event) {}
	}
	if cfg.Steps < 1 {
		return nil, nil, fmt.Errorf("compare: need at least one step")
	}
	if t.Kind == task.KindGenerate && base.Mask != ops.Causal {
		return nil, nil, fmt.Errorf("compare: a masked-LM base cannot be fine-tuned on a generate task (it cannot generate)")
	}
	valTokens := tk.Encode(pre.Val)
	before, err := pretrainLoss(base, valTokens)
	if err != nil {
		return nil, nil, err
	}
	m, r, err := trainMethod(ctx, base, tk, t, cfg, meth, pre.Train, valTokens, before, on)
	if err != nil {
		return nil, nil, fmt.Errorf("compare: method %s: %w", meth.Label(), err)
	}
	return m, r, nil
}

func runMethod(ctx context.Context, base *core.Model, tk *core.Tokenizer, t *task.Task, cfg Config, meth Method, replayText string, valTokens []int32, before float64, on func(Event)) (*Result, error) {
	m, r, err := trainMethod(ctx, base, tk, t, cfg, meth, replayText, valTokens, before, on)
	if err != nil {
		return nil, err
	}
	m.Free()
	return r, nil
}

// trainMethod trains and measures one method on its own clone of base, which it returns (the
// caller frees it) unless it fails.
func trainMethod(ctx context.Context, base *core.Model, tk *core.Tokenizer, t *task.Task, cfg Config, meth Method, replayText string, valTokens []int32, before float64, on func(Event)) (_ *core.Model, _ *Result, err error) {
	m, err := prepare(base, t, cfg, meth, valTokens)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			m.Free()
		}
	}()
	ft, err := core.NewFineTuner(m, tk, t, core.FineTuneOptions{PromptLoss: cfg.PromptLoss, ReplayRows: cfg.ReplayRows, ReplayText: replayText})
	if err != nil {
		return nil, nil, err
	}
	if m.TokenContext() < base.TokenContext() {
		// Prompt tuning reads fewer real tokens per window: its forgetting is measured
		// against the base on windows of the same length.
		if before, err = pretrainLossWithin(base, valTokens, m.TokenContext()); err != nil {
			return nil, nil, err
		}
	}
	r := &Result{Method: meth.Label(), Kind: meth.Kind}
	v0, err := ft.Evaluate()
	if err != nil {
		return nil, nil, err
	}
	r.ValCurve = append(r.ValCurve, Point{0, v0})
	var losses []float64
	ft.OnEvent = func(e core.Event) {
		switch e.Kind {
		case "progress":
			r.TrainCurve = append(r.TrainCurve, Point{e.Step, e.TrainLoss})
			losses = append(losses, e.TrainLoss)
		case "eval":
			r.ValCurve = append(r.ValCurve, Point{e.Step, e.ValLoss})
		}
		on(Event{Event: e, Method: r.Method})
	}
	for !ft.Done() {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("stopped at step %d: %w", ft.StepsDone(), err)
		}
		if _, err := ft.Step(); err != nil {
			return nil, nil, err
		}
	}
	r.MsPerStep, r.TokensPerS = ft.MsPerStep(), ft.TokensPerSecond()
	r.TrainableParams = m.TrainableCount()
	r.TrainableShare = float64(r.TrainableParams) / float64(baseCount(m))
	r.OptimizerBytes = ft.Opt.Bytes()
	if err := finish(r, ft, t, cfg, valTokens, before, losses); err != nil {
		return nil, nil, err
	}
	// PiSSA's base tensors hold residuals: "adapter off" would not be the base, and its
	// adapter file belongs on the residual, so the LoRA view's extras would mislead.
	if _, ok := m.LoRA(); ok && !m.PiSSA() {
		if err := loraExtras(r, ft, t, cfg); err != nil {
			return nil, nil, err
		}
	}
	if _, ok := m.IA3(); ok {
		var buf bytes.Buffer
		if err := m.ExportIA3(&buf); err != nil {
			return nil, nil, err
		}
		r.AdapterFile = buf.Bytes()
	}
	return m, r, nil
}

// loraExtras fills a LoRA method's updates, its answers with the adapter off and merged, and
// its adapter file. The model is left as it was: on and unmerged.
func loraExtras(r *Result, ft *core.FineTuner, t *task.Task, cfg Config) error {
	m := ft.Model
	var err error
	if r.LoRAUpdates, err = m.LoRAUpdates(); err != nil {
		return err
	}
	m.SetLoRAEnabled(false)
	r.AnswersOff, err = answer(ft, t, cfg)
	m.SetLoRAEnabled(true)
	if err != nil {
		return err
	}
	m.MergeLoRA()
	r.AnswersMerged, err = answer(ft, t, cfg)
	m.UnmergeLoRA()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := m.ExportLoRA(&buf); err != nil {
		return err
	}
	r.AdapterFile = buf.Bytes()
	return nil
}

// baseCount is the number of the base model's parameters.
func baseCount(m *core.Model) int {
	n := 0
	for _, p := range m.BaseParams() {
		n += p.Size()
	}
	return n
}

// finish measures accuracy, forgetting, the fixed prompts' answers and the fingerprint.
func finish(r *Result, ft *core.FineTuner, t *task.Task, cfg Config, valTokens []int32, before float64, losses []float64) error {
	m := ft.Model
	acc, err := ft.Accuracy()
	if err != nil {
		return err
	}
	r.TaskAccuracy = acc
	after, err := pretrainLoss(m, valTokens)
	if err != nil {
		return err
	}
	r.PretrainLoss, r.Forgetting = after, after-before
	r.ActivationBytes = m.ActivationBytes()
	if r.Answers, err = answer(ft, t, cfg); err != nil {
		return err
	}
	hash, err := m.WeightsHash()
	if err != nil {
		return err
	}
	r.Fingerprint = fingerprint.Of(m.Dev.Name(), losses, hash)
	return nil
}

// answer is the model's answers to the comparison's fixed prompts: generated text for a
// generate task, the predicted label for a classify task.
func answer(ft *core.FineTuner, t *task.Task, cfg Config) ([]Answer, error) {
	prompts := cfg.Prompts
	if len(prompts) == 0 {
		prompts = defaultPrompts(t)
	}
	var out []Answer
	if t.Kind == task.KindGenerate {
		answers, err := ft.Answers(prompts)
		if err != nil {
			return nil, err
		}
		for i, p := range prompts {
			out = append(out, Answer{p, answers[i]})
		}
		return out, nil
	}
	ex := make([]task.Example, len(prompts))
	for i, p := range prompts {
		ex[i] = task.Example{Text: p}
	}
	labels, err := ft.Predict(ex)
	if err != nil {
		return nil, err
	}
	for i, p := range prompts {
		out = append(out, Answer{p, t.Labels[labels[i]]})
	}
	return out, nil
}

func defaultPrompts(t *task.Task) []string {
	var out []string
	for _, p := range t.ValPairs {
		if len(out) < 4 {
			out = append(out, p.Prompt)
		}
	}
	for _, e := range t.ValExamples {
		if len(out) < 4 {
			out = append(out, e.Text)
		}
	}
	return out
}

// Markdown formats results as a table: accuracy, forgetting, parameters, memory and speed per
// method (the README's table).
func Markdown(results []Result) string {
	var sb strings.Builder
	sb.WriteString("| method | task accuracy | forgetting (nats/token) | trainable params | share | optimizer memory | activations | ms/step | tokens/s |\n")
	sb.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range results {
		fmt.Fprintf(&sb, "| %s | %.3f | %+.3f | %d | %.2f%% | %.1f KB | %.1f KB | %.1f | %.0f |\n",
			r.Method, r.TaskAccuracy, r.Forgetting, r.TrainableParams, 100*r.TrainableShare,
			float64(r.OptimizerBytes)/1024, float64(r.ActivationBytes)/1024, r.MsPerStep, r.TokensPerS)
	}
	return sb.String()
}
