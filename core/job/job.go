// Package job runs a share link's setup (a runspec.Spec) from start to result: it resolves the
// corpus, builds the trainer on a device, trains, and reports events and a fingerprinted result.
// A spec with a comparison (runspec version 2) then fine-tunes that base with each method
// (core/compare) and reports each one's evaluations and result, and the base's.
// The command line and the browser's trainer worker both use it, so a link means the same run
// everywhere.
package job

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"slices"
	"time"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/corpus"
	"pretune/core/feedback"
	"pretune/core/fingerprint"
	"pretune/core/ops"
	"pretune/core/runspec"
	"pretune/core/task"
)

// Event is one line of a run's report: JSON field names are a public interface (the CLI's -json
// output), so fields may be added but never renamed.
type Event struct {
	Event           string  `json:"event"` // "eval", "progress", "device" or "result"
	Method          string  `json:"method"`
	Step            int     `json:"step,omitempty"`
	Steps           int     `json:"steps,omitempty"`
	TrainLoss       float64 `json:"train_loss,omitempty"`
	ValLoss         float64 `json:"val_loss"`
	TokensPerS      float64 `json:"tokens_per_s,omitempty"`
	TrainableParams int     `json:"trainable_params,omitempty"`
	Params          int     `json:"params,omitempty"`
	Device          string  `json:"device,omitempty"`
	Fingerprint     string  `json:"fingerprint,omitempty"`
	// Expected and Match compare the fingerprint with the one the link carried, if any (the
	// pretraining's, or a comparison's result's from runspec.Spec.Fingerprints): Match is
	// fingerprint.Verdict's ("matches", "differs" or "other-device").
	Expected string `json:"expected_fingerprint,omitempty"`
	Match    string `json:"match,omitempty"`
	// Note explains a "device" event (why the run changed device).
	Note string `json:"note,omitempty"`
	// FillBlank is a pretraining result's fill-in-the-blank probe (core.FillBlankAccuracy: the
	// share of 15% blanked held-out characters the model restores), measured the same way for
	// both objectives so the class can compare them.
	FillBlank *float64 `json:"fill_blank_accuracy,omitempty"`
	// Workers is a sharded pretraining's result's number of workers that computed its shards
	// (goroutines natively; in the browser the leader worker and the helpers that answered).
	// The fingerprint does not depend on it.
	Workers int `json:"workers,omitempty"`

	// A comparison's "result" events (one per method, and one with Method "base" for the
	// untouched base) also carry these; pointers, so that a measured 0 is still written. The
	// base trains nothing, so its trainable_params and tokens_per_s are absent (0).
	Kind            string           `json:"kind,omitempty"` // the method's kind (compare.Full, ...)
	TaskAccuracy    *float64         `json:"task_accuracy,omitempty"`
	Forgetting      *float64         `json:"forgetting,omitempty"` // pretraining-text loss after minus before
	TrainableShare  *float64         `json:"trainable_share,omitempty"`
	OptimizerBytes  *int             `json:"optimizer_bytes,omitempty"`
	ActivationBytes *int             `json:"activation_bytes,omitempty"` // estimate for one step
	MsPerStep       *float64         `json:"ms_per_step,omitempty"`
	Answers         []compare.Answer `json:"answers,omitempty"` // to the task's first held-out prompts
	// A LoRA method's learned updates and its answers with the adapter off and merged
	// (compare.Result's fields of the same names); the command line leaves the updates out of
	// its JSON (thousands of numbers each), the playground draws them.
	LoRAUpdates   []core.LoRAUpdate `json:"lora_updates,omitempty"`
	AnswersOff    []compare.Answer  `json:"answers_off,omitempty"`
	AnswersMerged []compare.Answer  `json:"answers_merged,omitempty"`

	// A feedback stage's events (feedback.Result's fields of the same names): an "eval" of a
	// method carries reward and kl, of the reward model rm_accuracy; a "result" of a policy
	// (the SFT model, each method) reward, kl, gold_win_rate with its win_judge and, with a
	// taste, taste_score; of the reward model rm_accuracy and rm_gold_accuracy. Pointers, so
	// that a measured 0 is still written.
	Reward         *float64 `json:"reward,omitempty"`
	KL             *float64 `json:"kl,omitempty"`
	GoldWinRate    *float64 `json:"gold_win_rate,omitempty"`
	WinJudge       string   `json:"win_judge,omitempty"`
	TasteScore     *float64 `json:"taste_score,omitempty"`
	RMAccuracy     *float64 `json:"rm_accuracy,omitempty"`
	RMGoldAccuracy *float64 `json:"rm_gold_accuracy,omitempty"`
	// OverTime is a feedback method's result's samples over time (feedback.Result.OverTime: a
	// few held-out prompts' answers at every evaluation, each with its step).
	OverTime []feedback.Sample `json:"over_time,omitempty"`
}

// MethodPretrain names pretraining in events.
const MethodPretrain = "pretrain"

// probeRate is the fill-in-the-blank probe's share of blanked positions: BERT's 15%, whatever
// rate a masked run trained with, so every run answers the same questions.
const probeRate = 0.15

// Result is a finished run: its trainer (model, tokenizer) and the final event.
type Result struct {
	Trainer *core.Trainer
	Final   Event
	// Compare is a comparison's results: the base's first, then one per method.
	Compare []compare.Result
	// Feedback is a feedback stage's results (feedback.Run's: the SFT model's, the reward
	// model's, then one per method); Compare stays empty.
	Feedback []feedback.Result
}

// Options are a run's callbacks and policies; the zero value is a plain run.
type Options struct {
	// OnEvent receives every evaluation, a "device" event if the run changes device, and then
	// the result.
	OnEvent func(Event)
	// BetweenSteps runs after every step; the browser worker blocks in it while a run is paused
	// and yields to the event loop there.
	BetweenSteps func()
	// FallbackToCPU continues a run on the CPU device when its device fails (a lost GPU): the
	// trainer snapshots its state at every evaluation, and the run resumes from the last
	// snapshot on the CPU. The result's device is then "mixed".
	FallbackToCPU bool
	// AfterEval runs after each evaluation's event with the trainer in use, between steps (the
	// browser worker writes a sample with the model there).
	AfterEval func(tr *core.Trainer)
	// Base, when set, is the model to train instead of a fresh one: a checkpoint loaded on the
	// run's device. Its shape, tokenizer and batch size are kept; the spec gives the corpus and
	// the schedule (steps, learning rates, warm-up, evaluation, seed), and the optimizer starts
	// afresh.
	Base *checkpoint.Checkpoint
	// OnSnapshot, when set, receives at each evaluation (after its event) everything needed to
	// resume the run exactly from there; the browser keeps it so a closed tab can carry on.
	OnSnapshot func(*Resume)
	// Resume continues a run from a snapshot OnSnapshot gave, for the same spec: the result
	// and its fingerprint are those of the run never interrupted.
	Resume *Resume
	// AsSFT takes Base, for a feedback spec, as the SFT model as it is (a learner's file): no
	// SFT fine-tuning runs on it, unless it is the spec's kept SFT model anyway (IsSFTOf).
	AsSFT bool
	// Progress also reports every step of a feedback stage (the reward model's and each
	// method's) as a "progress" event, so that a page's lanes move at every step.
	Progress bool
	// ProgressEvery, when positive, also reports the pretraining's and a comparison's methods'
	// steps as "progress" events (step, steps, the step's training loss, the speed so far): each
	// trainer's first step, then at most one per ProgressEvery, so a page shows something move
	// every second without redrawing at every step.
	ProgressEvery time.Duration
	// Clock is the time ProgressEvery is measured with (time.Now when nil); tests pass a fake.
	Clock func() time.Time
	// Workers is how many goroutines compute a sharded pretraining's shards (Config.Shards > 1;
	// 0: one per core). It never changes the result.
	Workers int
	// Shards, when set, makes the pretraining's shard runner instead (the browser's trainer
	// hands shards to helper workers); a run that falls back to the CPU uses goroutines.
	Shards func(m *core.Model) (core.ShardRunner, error)
}

// emit hands e to OnEvent, if set.
func (o Options) emit(e Event) {
	if o.OnEvent != nil {
		o.OnEvent(e)
	}
}

// Resume is a run's state at an evaluation: the trainer's snapshot and every training loss so
// far (the fingerprint hashes them all).
type Resume struct {
	Snapshot *core.Snapshot
	Losses   []float64
}

// Bytes encodes r for storage (gob: compact, and exact for every float).
func (r *Resume) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		return nil, fmt.Errorf("job: encoding the resume state: %w", err)
	}
	return buf.Bytes(), nil
}

// UnmarshalResume decodes what Bytes wrote and checks it is consistent.
func UnmarshalResume(data []byte) (*Resume, error) {
	var r Resume
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&r); err != nil {
		return nil, fmt.Errorf("job: the saved run state is damaged: %v", err)
	}
	if r.Snapshot == nil || len(r.Losses) != r.Snapshot.Step {
		return nil, fmt.Errorf("job: the saved run state is inconsistent")
	}
	return &r, nil
}

// MixedDevice is the device class of a run that changed device part way.
const MixedDevice = "mixed"

// Run trains spec on dev and stops early with ctx's error when ctx is cancelled.
func Run(ctx context.Context, spec runspec.Spec, dev ops.Device, o Options) (*Result, error) {
	emit := o.emit
	if o.AsSFT && (!spec.Feeds() || o.Base == nil) {
		return nil, fmt.Errorf("job: a model taken as the SFT model needs a feedback link and the model (a base)")
	}
	c, err := spec.Resolve()
	if err != nil {
		return nil, err
	}
	var fb *feedbackStage
	if spec.Feeds() {
		// Checked before anything trains: a bad preference file is refused at once.
		if fb, err = prepareFeedback(spec, o.Base, c); err != nil {
			return nil, err
		}
		if o.Base != nil {
			if o.Resume != nil {
				return nil, fmt.Errorf("job: a run resumes from its snapshot or starts from a base, not both")
			}
			pre, results, err := runFeedback(ctx, spec, fb, o.Base, nil, c, emit, o)
			if err != nil {
				return nil, err
			}
			return &Result{Final: pre, Feedback: results}, nil
		}
	}
	if spec.Compares() && o.Base != nil {
		return compareFromBase(ctx, spec, o.Base, c, emit, newPace(o))
	}
	res, err := pretrain(ctx, spec, dev, c, o, emit)
	if err != nil {
		return nil, err
	}
	if fb != nil {
		if _, res.Feedback, err = runFeedback(ctx, spec, fb, nil, res, c, emit, o); err != nil {
			return nil, err
		}
		return res, nil
	}
	if spec.Compares() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("run stopped before fine-tuning: %w", err)
		}
		if res.Compare, err = runCompare(ctx, spec, res.Trainer.Model, res.Trainer.Tok, c, emit, newPace(o)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// pretrain trains the spec's pretraining on dev (or o.Base under its schedule), with o's
// resume, snapshots, evaluation hook and CPU fallback, and reports its evaluations and result.
func pretrain(ctx context.Context, spec runspec.Spec, dev ops.Device, c *corpus.Corpus, o Options, emit func(Event)) (*Result, error) {
	var (
		tr  *core.Trainer
		err error
	)
	if o.Base != nil {
		tr, err = trainerFromBase(o.Base, spec, c)
	} else {
		tr, err = newPretrainer(dev, spec, c)
	}
	if err != nil {
		return nil, err
	}
	if tr.Model.Cfg.Shards > 1 {
		if o.Shards != nil {
			if tr.Runner, err = o.Shards(tr.Model); err != nil {
				return nil, err
			}
		} else {
			tr.Runner = core.NewLocalShards(tr.Model, o.Workers)
		}
	}
	fallback := o.FallbackToCPU && dev.Name() != "cpu"
	var (
		losses   []float64
		snapshot *core.Snapshot
		class    = dev.Name()
		paced    = newPace(o)
	)
	if o.Resume != nil {
		switch {
		case o.Base != nil:
			return nil, fmt.Errorf("job: a run resumes from its snapshot or starts from a base, not both")
		case o.Resume.Snapshot == nil || len(o.Resume.Losses) != o.Resume.Snapshot.Step || o.Resume.Snapshot.Step > spec.Config.Steps:
			return nil, fmt.Errorf("job: the resume state does not fit this run")
		}
		if err := tr.Restore(o.Resume.Snapshot); err != nil {
			return nil, fmt.Errorf("job: resuming: %w", err)
		}
		losses = append(losses, o.Resume.Losses...)
	}
	takeSnapshot := func() {
		if fallback {
			// A snapshot that fails (the device died while reading it) keeps the previous one:
			// the next step fails too, and the run resumes from the last good state.
			if s, err := tr.Snapshot(); err == nil {
				snapshot = s
			}
		}
	}
	listen := func(tr *core.Trainer) {
		tr.OnEvent = func(e core.Event) {
			switch e.Kind {
			case "progress":
				losses = append(losses, e.TrainLoss)
				if paced.due(false) {
					emit(Event{Event: "progress", Method: MethodPretrain, Step: e.Step, Steps: e.Steps,
						TrainLoss: e.TrainLoss, TokensPerS: e.TokensPerS, Device: class})
				}
			case "eval":
				takeSnapshot()
				ev := evalEvent(MethodPretrain, class, e)
				ev.TokensPerS = e.TokensPerS // the page shows the pretraining's speed as it goes
				emit(ev)
				if o.AfterEval != nil {
					o.AfterEval(tr)
				}
				if o.OnSnapshot != nil {
					if s, err := tr.Snapshot(); err == nil {
						o.OnSnapshot(&Resume{Snapshot: s, Losses: append([]float64(nil), losses...)})
					}
				}
			}
		}
	}
	listen(tr)
	takeSnapshot() // step 0, so a failure before the first evaluation restarts on the CPU
	for !tr.Done() {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("run stopped at step %d: %w", tr.StepsDone(), err)
		}
		if _, err := tr.Step(); err != nil {
			if !fallback || snapshot == nil {
				return nil, err
			}
			// The device failed: continue on the CPU from the last snapshot, exactly as the run
			// would have gone on from there.
			cpuTr, ferr := resumeOnCPU(tr, snapshot, spec, c)
			if ferr != nil {
				return nil, fmt.Errorf("%v; and the CPU fallback failed: %v", err, ferr)
			}
			losses = losses[:snapshot.Step]
			emit(Event{Event: "device", Method: MethodPretrain, Step: snapshot.Step, Steps: spec.Config.Steps,
				Device: "cpu", Note: fmt.Sprintf("%s failed (%v); continuing on the CPU from step %d", dev.Name(), err, snapshot.Step)})
			tr, dev, class, fallback = cpuTr, cpuTr.Model.Dev, MixedDevice, false
			tr.Runner = core.NewLocalShards(tr.Model, o.Workers) // used only when sharded
			listen(tr)
			continue
		}
		if o.BetweenSteps != nil {
			o.BetweenSteps()
		}
	}
	workers := 0
	if w, ok := tr.Runner.(interface{ Workers() int }); ok && tr.Model.Cfg.Shards > 1 {
		workers = w.Workers()
	}
	if f, ok := tr.Runner.(interface{ Free() }); ok {
		f.Free() // the shard replicas; the trainer's own model stays for saving and inspecting
	}
	hash, err := tr.Model.WeightsHash()
	if err != nil {
		return nil, err
	}
	_, val := tr.LastLosses()
	final := Event{
		Event: "result", Method: MethodPretrain, Steps: spec.Config.Steps, ValLoss: val,
		TrainableParams: tr.Model.TrainableCount(), Params: tr.Model.ParamCount(),
		Device: class, Fingerprint: fingerprint.Of(class, losses, hash),
	}
	final.TokensPerS = tr.TokensPerSecond()
	final.Workers = workers
	if acc, err := core.FillBlankAccuracy(tr.Model, tr.Tok, c.Val, tr.Model.Cfg.EvalBatches, probeRate); err == nil {
		final.FillBlank = &acc
	}
	final.Expected, final.Match = spec.Fingerprint, fingerprint.Verdict(spec.Fingerprint, final.Fingerprint)
	emit(final)
	return &Result{Trainer: tr, Final: final}, nil
}

// newPretrainer is the trainer of a fresh model: core.PretrainTokenizer puts the built-in tasks'
// characters in the vocabulary beside the corpus's, so every pretrained model can then be
// fine-tuned on the tasks (its base for a comparison, or the playground's "fine-tune this").
func newPretrainer(dev ops.Device, spec runspec.Spec, c *corpus.Corpus) (*core.Trainer, error) {
	tk, err := core.PretrainTokenizer(c)
	if err != nil {
		return nil, err
	}
	cfg := spec.Config
	cfg.Vocab = tk.VocabSize()
	if err := core.CheckFits(dev, cfg); err != nil {
		return nil, err
	}
	m, err := core.NewModel(dev, cfg)
	if err != nil {
		return nil, err
	}
	return trainerFor(m, tk, spec, c)
}

// trainerFor trains m with the spec's objective on the corpus.
func trainerFor(m *core.Model, tk *core.Tokenizer, spec runspec.Spec, c *corpus.Corpus) (*core.Trainer, error) {
	if o := spec.MLM(); o != nil {
		return core.NewMLMTrainerFor(m, tk, c.Train, c.Val, *o)
	}
	return core.NewTrainerFor(m, tk, c.Train, c.Val)
}

// CompareConfig is the core/compare config of a spec's comparison: its schedule, its seed (the
// pretraining's unless the link gives its own), and its methods.
func CompareConfig(spec runspec.Spec) compare.Config {
	cfg := compare.Config{MinLRFrac: 0.1, Seed: spec.FineTuneSeed()}
	if ft := spec.FineTune; ft != nil {
		cfg.Steps, cfg.Warmup, cfg.EvalEvery = ft.Steps, ft.Warmup, ft.EvalEvery
	}
	cfg.Methods = slices.Clone(spec.Methods)
	return cfg
}

// runCompare fine-tunes the pretrained base with each of the spec's methods and reports every
// method's evaluations and results, and the base's result, as events; a result the link carries
// a fingerprint for says whether it matches.
// With paced, each method's steps are reported as "progress" events at its pace.
func runCompare(ctx context.Context, spec runspec.Spec, base *core.Model, tk *core.Tokenizer, c *corpus.Corpus, emit func(Event), paced *pace) ([]compare.Result, error) {
	t, err := taskFor(spec, tk)
	if err != nil {
		return nil, err
	}
	class := base.Dev.Name()
	return compare.Run(ctx, base, tk, t, c, CompareConfig(spec), func(e compare.Event) {
		switch e.Kind {
		case "progress":
			if paced.due(e.Step == 1) {
				emit(Event{Event: "progress", Method: e.Method, Step: e.Step, Steps: e.Steps,
					TrainLoss: e.TrainLoss, TokensPerS: e.TokensPerS, Device: class})
			}
		case "eval":
			emit(evalEvent(e.Method, class, e.Event))
		case "result":
			r := ResultEvent(e.Result, class)
			r.Expected = spec.Fingerprints[r.Method]
			r.Match = fingerprint.Verdict(r.Expected, r.Fingerprint)
			emit(r)
		}
	})
}

// taskFor is a comparison's task, refused when the base's vocabulary (tk) lacks characters it
// needs: such a model could never write its answers.
func taskFor(spec runspec.Spec, tk *core.Tokenizer) (*task.Task, error) {
	if spec.Task == nil {
		return nil, fmt.Errorf("job: the link carries no task")
	}
	t, err := spec.Task.Resolve()
	if err != nil {
		return nil, err
	}
	if missing := core.MissingRunes(tk, t); len(missing) > 0 {
		what := "task " + t.ID
		if t.ID == runspec.UserTask {
			what = "your task"
		}
		return nil, fmt.Errorf("job: the base model cannot write %q, which %s needs: its vocabulary holds only the characters of its pretraining text and of the built-in tasks (use those, or pretrain on a text that has them)", string(missing), what)
	}
	return t, nil
}

// LoadAdapter puts an adapter file (LoRA, DoRA or IA3) on a comparison's base (compare.LoadAdapter) and reports
// it as a "result" event named compare.Loaded: its answers to the comparison's fixed prompts
// (on, off and merged), its updates and trainable parameters. Nothing trains, so it has no
// accuracy, forgetting, speed or fingerprint.
func LoadAdapter(spec runspec.Spec, base *checkpoint.Checkpoint, adapter []byte) (Event, error) {
	if !spec.Compares() {
		return Event{}, fmt.Errorf("job: loading an adapter needs a comparison's link: its task and prompts")
	}
	if base == nil || base.Model == nil || base.Tok == nil {
		return Event{}, fmt.Errorf("job: the base checkpoint has no model")
	}
	t, err := taskFor(spec, base.Tok)
	if err != nil {
		return Event{}, err
	}
	r, err := compare.LoadAdapter(base.Model, base.Tok, t, CompareConfig(spec), adapter)
	if err != nil {
		return Event{}, err
	}
	return Event{
		Event: "result", Method: r.Method, Kind: r.Kind, Device: base.Model.Dev.Name(),
		TrainableParams: r.TrainableParams, TrainableShare: &r.TrainableShare,
		Answers: r.Answers, LoRAUpdates: r.LoRAUpdates, AnswersOff: r.AnswersOff, AnswersMerged: r.AnswersMerged,
	}, nil
}

// evalEvent is a trainer's evaluation as an event of the run: the pretraining's or a method's,
// on the device class. A method's evaluations carry no speed: its result does.
func evalEvent(method, class string, e core.Event) Event {
	return Event{Event: "eval", Method: method, Step: e.Step, Steps: e.Steps, TrainLoss: e.TrainLoss, ValLoss: e.ValLoss, Device: class}
}

// ResultEvent is a comparison result as a "result" event.
func ResultEvent(r *compare.Result, device string) Event {
	e := Event{
		Event: "result", Method: r.Method, Kind: r.Kind, Device: device, Fingerprint: r.Fingerprint,
		TrainableParams: r.TrainableParams, TokensPerS: r.TokensPerS,
		TaskAccuracy: &r.TaskAccuracy, Forgetting: &r.Forgetting, TrainableShare: &r.TrainableShare,
		OptimizerBytes: &r.OptimizerBytes, ActivationBytes: &r.ActivationBytes, MsPerStep: &r.MsPerStep,
		Answers: r.Answers, LoRAUpdates: r.LoRAUpdates, AnswersOff: r.AnswersOff, AnswersMerged: r.AnswersMerged,
	}
	if n := len(r.ValCurve); n > 0 {
		e.ValLoss = r.ValCurve[n-1].Loss
	}
	if r.Method != compare.Base {
		e.Steps = len(r.TrainCurve)
	}
	return e
}

// resumeOnCPU builds the failed trainer's model on the CPU device and restores the snapshot.
func resumeOnCPU(failed *core.Trainer, s *core.Snapshot, spec runspec.Spec, c *corpus.Corpus) (*core.Trainer, error) {
	m, err := core.NewModel(ops.NewCPU(), failed.Model.Cfg)
	if err != nil {
		return nil, err
	}
	tr, err := trainerFor(m, failed.Tok, spec, c)
	if err != nil {
		return nil, err
	}
	return tr, tr.Restore(s)
}

// trainerFromBase trains a loaded model under the spec's schedule: the model keeps its shape,
// tokenizer and batch size (its buffers are sized by them); the schedule fields come from cfg.
func trainerFromBase(base *checkpoint.Checkpoint, spec runspec.Spec, c *corpus.Corpus) (*core.Trainer, error) {
	cfg := spec.Config
	m := base.Model
	if base.Model == nil || base.Tok == nil {
		return nil, fmt.Errorf("job: the base checkpoint has no model")
	}
	mc := &m.Cfg
	mc.Steps, mc.LR, mc.MinLR, mc.Warmup, mc.WeightDecay = cfg.Steps, cfg.LR, cfg.MinLR, cfg.Warmup, cfg.WeightDecay
	mc.Beta1, mc.Beta2, mc.Eps, mc.GradClip = cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.GradClip
	mc.EvalEvery, mc.EvalBatches, mc.Seed = cfg.EvalEvery, cfg.EvalBatches, cfg.Seed
	mc.Shards = min(cfg.Shards, mc.Batch) // the model's batch is kept; at most a sequence a shard
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("job: the base model with this schedule: %w", err)
	}
	return trainerFor(m, base.Tok, spec, c)
}
