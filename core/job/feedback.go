package job

import (
	"context"
	"fmt"
	"io"
	"strconv"

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

// A kept SFT checkpoint (SaveSFT) records in its meta the SFT spec (runspec.Spec.SFT: the
// comparison of the one full or LoRA fine-tuning that made it) under MetaSpec, the SFT training's
// fingerprint under MetaFingerprint, and the pretraining it started from under these.
const (
	MetaPretrainFingerprint = "pretune.pretrain_fingerprint" // the base's pretraining fingerprint
	MetaPretrainValLoss     = "pretune.pretrain_val_loss"    // and its final held-out loss
)

// feedbackStage is what a feedback spec needs before anything trains: its task, the learner's
// pairs (if any) and the tokenizer the SFT model has, all checked, so a bad preference file or
// a character the model never saw is refused before minutes of pretraining.
type feedbackStage struct {
	task  *task.Task
	pairs []feedback.Pair
	tk    *core.Tokenizer
}

// prepareFeedback checks a feedback spec against the tokenizer of the model it will start from:
// the loaded base's or SFT model's, else the one pretraining makes (core.PretrainTokenizer).
func prepareFeedback(spec runspec.Spec, base *checkpoint.Checkpoint, c *corpus.Corpus) (*feedbackStage, error) {
	st := &feedbackStage{}
	if base != nil {
		if base.Model == nil || base.Tok == nil {
			return nil, fmt.Errorf("job: the base checkpoint has no model")
		}
		st.tk = base.Tok
	} else {
		var err error
		if st.tk, err = core.PretrainTokenizer(c); err != nil {
			return nil, err
		}
	}
	var err error
	if st.task, err = taskFor(spec, st.tk); err != nil {
		return nil, err
	}
	if spec.Prefs != nil {
		if st.pairs, err = spec.Prefs.Resolve(); err != nil {
			return nil, err
		}
		if err := feedback.CheckVocab(st.pairs, st.tk.Knows); err != nil {
			return nil, fmt.Errorf("job: your preference file: %w", err)
		}
	}
	return st, nil
}

// IsSFTOf says whether ck was saved by SaveSFT from the SFT model spec's feedback stage starts
// from (runspec.SameSFT: the same pretraining, task, schedule and method).
func IsSFTOf(ck *checkpoint.Checkpoint, spec runspec.Spec) bool {
	if ck == nil || ck.Meta[MetaSpec] == "" || !spec.Compares() {
		return false
	}
	saved, err := runspec.Decode(ck.Meta[MetaSpec])
	if err != nil || !saved.Compares() {
		return false
	}
	return runspec.SameSFT(saved, spec)
}

// KeptSFT returns the first of kept that is the SFT model of spec's feedback stage, or nil.
func KeptSFT(spec runspec.Spec, kept []*checkpoint.Checkpoint) *checkpoint.Checkpoint {
	for _, k := range kept {
		if IsSFTOf(k, spec) {
			return k
		}
	}
	return nil
}

// TrainSFT makes the SFT model of a feedback spec from its pretrained base (a kept base, or a
// model pretraining just made): the comparison's one method, trained as compare.Run trains it
// (compare.Train), so its fingerprint is the one a comparison of that method reports. A LoRA
// method's model comes back baked (core.Model.BakeLoRA: the update folded into the weights, the
// adapter gone), a plain model like full fine-tuning's. Events are the method's evaluations,
// named feedback.SFT. The caller frees the model.
func TrainSFT(ctx context.Context, spec runspec.Spec, base *core.Model, tk *core.Tokenizer, emit func(Event)) (*core.Model, *compare.Result, error) {
	if !spec.Feeds() {
		return nil, nil, fmt.Errorf("job: the link has no feedback stage")
	}
	c, err := spec.Resolve()
	if err != nil {
		return nil, nil, err
	}
	t, err := taskFor(spec, tk)
	if err != nil {
		return nil, nil, err
	}
	return trainSFT(ctx, spec, base, tk, t, c, emit)
}

func trainSFT(ctx context.Context, spec runspec.Spec, base *core.Model, tk *core.Tokenizer, t *task.Task, c *corpus.Corpus, emit func(Event)) (*core.Model, *compare.Result, error) {
	if emit == nil {
		emit = func(Event) {}
	}
	class := base.Dev.Name()
	m, res, err := compare.Train(ctx, base, tk, t, c, CompareConfig(spec), spec.Methods[0], func(e compare.Event) {
		if e.Kind == "eval" {
			emit(evalEvent(feedback.SFT, class, e.Event))
		}
	})
	if err != nil {
		return nil, nil, err
	}
	if _, ok := m.LoRA(); ok {
		// A LoRA method's update is folded into the weights and the adapter dropped, so the SFT
		// model is a plain one: it saves as a checkpoint, clones (as the feedback stage's
		// reference and every policy) with its update, and a policy can attach its own LoRA.
		// res keeps compare.Train's fingerprint: the SFT model is that method's lane.
		if err := m.BakeLoRA(); err != nil {
			m.Free()
			return nil, nil, fmt.Errorf("job: the SFT model's LoRA: %w", err)
		}
	}
	return m, res, nil
}

// SaveSFT writes a feedback spec's SFT model (TrainSFT's, from base, the kept base checkpoint
// SaveBase wrote) as a kept SFT model: weights and tokenizer without optimizer state, the SFT
// spec's code, the SFT training's fingerprint, and the pretraining's fingerprint and held-out
// loss from base. Nothing in it depends on the time or the machine: `make base` relies on it.
func SaveSFT(w io.Writer, spec runspec.Spec, base *checkpoint.Checkpoint, m *core.Model, tk *core.Tokenizer, res *compare.Result) error {
	if m == nil || tk == nil || res == nil {
		return fmt.Errorf("job: no SFT model to save")
	}
	var preFingerprint, preValLoss string
	if base != nil && IsBaseOf(base, spec) {
		preFingerprint, preValLoss = base.Meta[MetaFingerprint], base.Meta[MetaValLoss]
	}
	return saveSFT(w, spec, m, tk, res.Fingerprint, preFingerprint, preValLoss)
}

// saveSFT writes a kept SFT model: the SFT spec's code and the SFT training's fingerprint, and
// the pretraining's fingerprint and held-out loss when they are known ("" leaves them out).
func saveSFT(w io.Writer, spec runspec.Spec, m *core.Model, tk *core.Tokenizer, fp, preFingerprint, preValLoss string) error {
	code, err := runspec.Encode(spec.SFT())
	if err != nil {
		return err
	}
	meta := map[string]string{MetaSpec: code, MetaFingerprint: fp}
	if preFingerprint != "" {
		meta[MetaPretrainFingerprint] = preFingerprint
		meta[MetaPretrainValLoss] = preValLoss
	}
	return checkpoint.SaveWithMeta(w, m, tk, nil, meta)
}

// pretrainFromSFT is the pretraining's result as a kept SFT model recorded it.
func pretrainFromSFT(spec runspec.Spec, sft *checkpoint.Checkpoint) Event {
	m := sft.Model
	e := Event{Event: "result", Method: MethodPretrain, Params: m.ParamCount(), TrainableParams: m.ParamCount(), Device: m.Dev.Name(),
		Fingerprint: sft.Meta[MetaPretrainFingerprint],
		Note:        "started from a kept copy of the SFT model (the same bytes the run writes): pretraining and fine-tuning did not run again"}
	e.Steps = spec.Config.Steps
	e.ValLoss, _ = strconv.ParseFloat(sft.Meta[MetaPretrainValLoss], 64)
	e.Expected, e.Match = spec.Fingerprint, fingerprint.Verdict(spec.Fingerprint, e.Fingerprint)
	return e
}

// SFT is a feedback spec's SFT model, the model the feedback stage improves, as OpenSFT or a
// run gets it: a kept copy, a learner's file taken as it is, or trained here (from a base or from
// the pretraining run first). Free releases it.
type SFT struct {
	Spec  runspec.Spec
	Model *core.Model
	Tok   *core.Tokenizer
	// Trained is the SFT fine-tuning's result when it ran here (nil for a loaded model).
	Trained *compare.Result
	// OfSpec says the model is the spec's own SFT model (IsSFTOf's sense): trained here by its
	// method, or a kept copy. A learner's file taken as it is is not.
	OfSpec bool
	// The SFT training's fingerprint, and the pretraining's with its held-out loss, for a kept
	// copy (SaveSFT's meta); "" where unknown.
	fingerprint, preFingerprint, preValLoss string
	owned                                   bool // trained here: Free frees the model
}

// Free releases the model if it was trained here (a loaded one belongs to its checkpoint's
// owner).
func (s *SFT) Free() {
	if s != nil && s.owned && s.Model != nil {
		s.Model.Free()
		s.Model = nil
	}
}

// Save writes the SFT model for a method worker's Base: as SaveSFT writes it when it is the
// spec's own SFT model (the worker then knows it with IsSFTOf), else its weights and tokenizer
// without optimizer state (a learner's file: the method worker takes it with Options.AsSFT).
func (s *SFT) Save(w io.Writer) error {
	if s == nil || s.Model == nil || s.Tok == nil {
		return fmt.Errorf("job: no SFT model to save")
	}
	if !s.OfSpec {
		return checkpoint.SaveWithMeta(w, s.Model, s.Tok, nil, nil)
	}
	return saveSFT(w, s.Spec, s.Model, s.Tok, s.fingerprint, s.preFingerprint, s.preValLoss)
}

// OpenSFT gets the SFT model of the feedback spec: from o.Base when it is the spec's kept SFT
// model (IsSFTOf) or when o.AsSFT takes it as it is, else by the spec's SFT fine-tuning of o.Base
// (a pretrained base) or, without a base, of the spec's pretraining run here first on dev
// (with o's fallback, snapshots and evaluation hook, as Run pretrains). It reports what Run's
// feedback path reports up to the feedback stage (the pretraining's evaluations and result, or
// a loaded model as the pretraining's result; the SFT fine-tuning's evaluations), then a
// "result" event named feedback.SFT: the model's parameters and the fingerprint the feedback
// stage's SFT result will carry, with a note for a learner's file. The caller frees the SFT.
func OpenSFT(ctx context.Context, spec runspec.Spec, dev ops.Device, o Options) (*SFT, error) {
	emit := o.emit
	if !spec.Feeds() {
		return nil, fmt.Errorf("job: the link has no feedback stage")
	}
	if o.Resume != nil {
		return nil, fmt.Errorf("job: the SFT model is made afresh, never resumed")
	}
	c, err := spec.Resolve()
	if err != nil {
		return nil, err
	}
	st, err := prepareFeedback(spec, o.Base, c)
	if err != nil {
		return nil, err
	}
	var pretrained *Result
	if o.Base == nil {
		if pretrained, err = pretrain(ctx, spec, dev, c, o, emit); err != nil {
			return nil, err
		}
		// The SFT model trains from a clone (compare.Train): the pretrained one is let go.
		defer pretrained.Trainer.Model.Free()
	}
	sft, _, err := sftFrom(ctx, spec, st, o.Base, o.AsSFT, pretrained, c, emit)
	if err != nil {
		return nil, err
	}
	e, err := sftEvent(sft)
	if err != nil {
		sft.Free()
		return nil, err
	}
	emit(e)
	return sft, nil
}

// sftFrom is the one way a feedback spec's SFT model is got, for Run and OpenSFT: from a loaded
// checkpoint (the spec's kept SFT model, a learner's file taken as it is with asSFT, or a base
// to fine-tune), or from the model pretraining just made (pretrained). A loaded checkpoint is
// first reported as the pretraining's result, which it returns.
func sftFrom(ctx context.Context, spec runspec.Spec, st *feedbackStage, loaded *checkpoint.Checkpoint, asSFT bool, pretrained *Result, c *corpus.Corpus, emit func(Event)) (*SFT, Event, error) {
	var pre Event
	switch {
	case loaded != nil && IsSFTOf(loaded, spec):
		pre = pretrainFromSFT(spec, loaded)
		emit(pre)
		return &SFT{Spec: spec, Model: loaded.Model, Tok: loaded.Tok, OfSpec: true, fingerprint: loaded.Meta[MetaFingerprint],
			preFingerprint: loaded.Meta[MetaPretrainFingerprint], preValLoss: loaded.Meta[MetaPretrainValLoss]}, pre, nil
	case loaded != nil && asSFT:
		var err error
		if pre, err = pretrainAsSFT(loaded); err != nil {
			return nil, pre, err
		}
		emit(pre)
		return &SFT{Spec: spec, Model: loaded.Model, Tok: loaded.Tok}, pre, nil
	}
	base, sft := (*core.Model)(nil), &SFT{Spec: spec, OfSpec: true, owned: true}
	if loaded != nil {
		pre = pretrainFromBase(spec, loaded)
		emit(pre)
		base = loaded.Model
		if IsBaseOf(loaded, spec) {
			sft.preFingerprint, sft.preValLoss = loaded.Meta[MetaFingerprint], loaded.Meta[MetaValLoss]
		}
	} else {
		base = pretrained.Trainer.Model
		sft.preFingerprint, sft.preValLoss = pretrained.Final.Fingerprint, strconv.FormatFloat(pretrained.Final.ValLoss, 'g', -1, 64)
	}
	if err := ctx.Err(); err != nil {
		return nil, pre, fmt.Errorf("run stopped before fine-tuning: %w", err)
	}
	m, res, err := trainSFT(ctx, spec, base, st.tk, st.task, c, emit)
	if err != nil {
		return nil, pre, err
	}
	sft.Model, sft.Tok, sft.Trained, sft.fingerprint = m, st.tk, res, res.Fingerprint
	return sft, pre, nil
}

// pretrainAsSFT reports a learner's file, taken as the SFT model as it is, as the pretraining's
// result: the link's pretraining and fine-tuning did not run, and the fingerprint is the file's
// weights' (on the device class, with no training losses).
func pretrainAsSFT(ck *checkpoint.Checkpoint) (Event, error) {
	m := ck.Model
	hash, err := m.WeightsHash()
	if err != nil {
		return Event{}, err
	}
	return Event{Event: "result", Method: MethodPretrain, Params: m.ParamCount(), TrainableParams: m.ParamCount(), Device: m.Dev.Name(),
		Fingerprint: fingerprint.Of(m.Dev.Name(), nil, hash),
		Note:        "started from your model, taken as the model to improve: the link's pretraining and fine-tuning did not run here"}, nil
}

// sftEvent is OpenSFT's last event: the SFT model as a "result" named feedback.SFT, with the
// fingerprint the feedback stage's SFT result carries (its weights', feedback's way), checked
// against the link's, and the SFT fine-tuning's task accuracy when it ran here.
func sftEvent(s *SFT) (Event, error) {
	m := s.Model
	fp, err := feedback.WeightsFingerprint(m)
	if err != nil {
		return Event{}, err
	}
	e := Event{Event: "result", Method: feedback.SFT, Kind: feedback.SFT, Params: m.ParamCount(), TrainableParams: m.ParamCount(),
		Device: m.Dev.Name(), Fingerprint: fp}
	e.Expected = s.Spec.Fingerprints[feedback.SFT]
	e.Match = fingerprint.Verdict(e.Expected, e.Fingerprint)
	switch {
	case s.Trained != nil:
		e.Steps, e.TaskAccuracy = len(s.Trained.TrainCurve), ptr(s.Trained.TaskAccuracy)
		if n := len(s.Trained.ValCurve); n > 0 {
			e.ValLoss = s.Trained.ValCurve[n-1].Loss
		}
	case s.OfSpec:
		e.Note = "a kept copy of this SFT model (the same bytes the run writes): fine-tuning did not run again"
	default:
		e.Note = "your model, taken as the model to improve"
	}
	return e, nil
}

// runFeedback is a feedback spec's run from a loaded checkpoint (a kept SFT model, a learner's
// file with asSFT, or a base) or from the model pretraining made (pretrained): the SFT model
// (sftFrom), then the feedback stage. With a loaded checkpoint it first reports it as the
// pretraining's result, which it returns. With o.Progress every step of the feedback stage is
// reported too.
func runFeedback(ctx context.Context, spec runspec.Spec, st *feedbackStage, loaded *checkpoint.Checkpoint, pretrained *Result, c *corpus.Corpus, emit func(Event), o Options) (Event, []feedback.Result, error) {
	sft, pre, err := sftFrom(ctx, spec, st, loaded, o.AsSFT, pretrained, c, emit)
	if err != nil {
		return pre, nil, err
	}
	defer sft.Free()
	class := sft.Model.Dev.Name()
	in := feedback.Inputs{SFT: sft.Model, Tok: st.tk, Pairs: st.pairs, Task: st.task, Pretrain: c, BetweenSteps: o.BetweenSteps}
	results, err := feedback.Run(ctx, in, *spec.Feedback, func(e feedback.Event) {
		if e.Kind == "result" {
			emit(feedbackResult(spec, e.Result, class))
		} else if ev, ok := feedbackStep(e, class, o.Progress); ok {
			emit(ev)
		}
	})
	return pre, results, err
}

// TrainReward trains the reward model of a feedback spec's stage on its preference file (Prefs)
// from the SFT model (OpenSFT's), as the stage's run trains it (feedback.TrainRewardModel, the
// spec's feedback config: the same model, bit for bit), reporting its evaluations (and, with
// o.Progress, its steps) and then its result, as a run reports them; o.BetweenSteps runs after
// every step. It returns the reward model, which scores any answer, and every pair's two scores
// in the file's order. Characters the SFT model never saw and too few pairs are refused first.
func TrainReward(ctx context.Context, spec runspec.Spec, sft *SFT, o Options) (*feedback.Scorer, []feedback.PairScore, error) {
	emit := o.emit
	switch {
	case !spec.Feeds():
		return nil, nil, fmt.Errorf("job: the link has no feedback stage")
	case spec.Prefs == nil:
		return nil, nil, fmt.Errorf("job: the link carries no preference pairs to train the reward model on")
	case sft == nil || sft.Model == nil:
		return nil, nil, fmt.Errorf("job: no SFT model to start the reward model from")
	}
	pairs, err := spec.Prefs.Resolve()
	if err != nil {
		return nil, nil, err
	}
	if err := feedback.CheckVocab(pairs, sft.Tok.Knows); err != nil {
		return nil, nil, fmt.Errorf("job: your preference pairs: %w", err)
	}
	class := sft.Model.Dev.Name()
	scorer, res, scores, err := feedback.TrainRewardModel(ctx, sft.Model, sft.Tok, pairs, *spec.Feedback, func(e feedback.Event) {
		if ev, ok := feedbackStep(e, class, o.Progress); ok {
			emit(ev)
		}
	}, o.BetweenSteps)
	if err != nil {
		return nil, nil, err
	}
	emit(feedbackResult(spec, res, class))
	return scorer, scores, nil
}

// feedbackStep is a feedback stage's step or evaluation as an event (progress only when asked).
func feedbackStep(e feedback.Event, class string, progress bool) (Event, bool) {
	switch e.Kind {
	case "progress":
		return Event{Event: "progress", Method: e.Method, Step: e.Step, Steps: e.Steps, TrainLoss: e.TrainLoss, Device: class}, progress
	case "eval":
		return feedbackEval(e, class), true
	}
	return Event{}, false
}

// feedbackResult is a feedback result as the run reports it: without a taste no gold accuracy,
// and its fingerprint checked against the link's.
func feedbackResult(spec runspec.Spec, res *feedback.Result, class string) Event {
	r := FeedbackResultEvent(res, class)
	if spec.Feedback.Taste == "" {
		r.RMGoldAccuracy = nil // no taste to measure it against
	}
	r.Expected = spec.Fingerprints[r.Method]
	r.Match = fingerprint.Verdict(r.Expected, r.Fingerprint)
	return r
}

// feedbackEval is a feedback evaluation as an event: a method's held-out reward and KL, or the
// reward model's held-out loss and accuracy.
func feedbackEval(e feedback.Event, class string) Event {
	ev := Event{Event: "eval", Method: e.Method, Step: e.Step, Steps: e.Steps, TrainLoss: e.TrainLoss, ValLoss: e.ValLoss, Device: class}
	if e.Method == feedback.RewardModel {
		ev.RMAccuracy = ptr(e.Accuracy)
	} else {
		ev.Reward, ev.KL = ptr(e.Reward), ptr(e.KL)
	}
	return ev
}

func ptr[T any](v T) *T { return &v }

// answersShown is how many of a feedback result's samples its event carries as answers.
const answersShown = 4

// FeedbackResultEvent is a feedback result (the SFT model's, the reward model's or a method's)
// as a "result" event.
func FeedbackResultEvent(r *feedback.Result, device string) Event {
	e := Event{
		Event: "result", Method: r.Method, Kind: r.Kind, Device: device, Fingerprint: r.Fingerprint,
		TrainableParams: r.TrainableParams, TokensPerS: r.TokensPerS,
		TaskAccuracy: ptr(r.TaskAccuracy), Forgetting: ptr(r.Forgetting),
		OptimizerBytes: ptr(r.OptimizerBytes), MsPerStep: ptr(r.MsPerStep),
	}
	if r.Kind == feedback.RewardModel {
		e.RMAccuracy, e.RMGoldAccuracy = ptr(r.RMAccuracy), ptr(r.RMGoldAccuracy)
		e.TaskAccuracy, e.Forgetting = nil, nil // a reward model answers nothing
	} else {
		e.Reward, e.KL, e.GoldWinRate, e.WinJudge = ptr(r.Reward), ptr(r.KL), ptr(r.GoldWinRate), r.WinJudge
		if r.WinJudge == feedback.JudgeTaste {
			e.TasteScore = ptr(r.TasteScore)
		}
	}
	if n := len(r.LossCurve); n > 0 {
		e.Steps = r.LossCurve[n-1].Step
	}
	e.OverTime = r.OverTime
	for _, s := range r.Samples[:min(len(r.Samples), answersShown)] {
		e.Answers = append(e.Answers, compare.Answer{Prompt: s.Prompt, Answer: s.Answer})
	}
	return e
}

// pretrainFromBase reports a loaded base as the pretraining's result: with the fingerprint the
// base recorded when it is the very pretraining the spec embeds (so a link's results are the
// same either way), else with a note that the spec's pretraining did not run.
func pretrainFromBase(spec runspec.Spec, base *checkpoint.Checkpoint) Event {
	m := base.Model
	pre := Event{Event: "result", Method: MethodPretrain, Steps: m.Cfg.Steps, Params: m.ParamCount(),
		TrainableParams: m.ParamCount(), Device: m.Dev.Name()}
	if IsBaseOf(base, spec) {
		pre.Fingerprint = base.Meta[MetaFingerprint]
		pre.Expected, pre.Match = spec.Fingerprint, fingerprint.Verdict(spec.Fingerprint, pre.Fingerprint)
		pre.ValLoss, _ = strconv.ParseFloat(base.Meta[MetaValLoss], 64)
		pre.Note = "started from a kept copy of this pretraining (the same bytes the run writes)"
	} else {
		pre.Note = "started from a loaded base model: the link's pretraining did not run here"
	}
	return pre
}
