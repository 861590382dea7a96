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
	"pretune/core/runspec"
	"pretune/core/task"
)

// A kept SFT checkpoint (SaveSFT) records in its meta the SFT spec (runspec.Spec.SFT: the
// comparison of one full fine-tuning that made it) under MetaSpec, the SFT training's
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
// (compare.Train), so its fingerprint is the one a comparison of that method reports. Events
// are the method's evaluations, named feedback.SFT. The caller frees the model.
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
	return compare.Train(ctx, base, tk, t, c, CompareConfig(spec), spec.Methods[0], func(e compare.Event) {
		if e.Kind == "eval" {
			emit(evalEvent(feedback.SFT, class, e.Event))
		}
	})
}

// SaveSFT writes a feedback spec's SFT model (TrainSFT's, from base, the kept base checkpoint
// SaveBase wrote) as a kept SFT model: weights and tokenizer without optimizer state, the SFT
// spec's code, the SFT training's fingerprint, and the pretraining's fingerprint and held-out
// loss from base. Nothing in it depends on the time or the machine: `make base` relies on it.
func SaveSFT(w io.Writer, spec runspec.Spec, base *checkpoint.Checkpoint, m *core.Model, tk *core.Tokenizer, res *compare.Result) error {
	if m == nil || tk == nil || res == nil {
		return fmt.Errorf("job: no SFT model to save")
	}
	code, err := runspec.Encode(spec.SFT())
	if err != nil {
		return err
	}
	meta := map[string]string{MetaSpec: code, MetaFingerprint: res.Fingerprint}
	if base != nil && IsBaseOf(base, spec) {
		meta[MetaPretrainFingerprint] = base.Meta[MetaFingerprint]
		meta[MetaPretrainValLoss] = base.Meta[MetaValLoss]
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

// runFeedback is a feedback spec's run from a loaded checkpoint (a kept SFT model or a base) or
// from the model pretraining made (pretrained, with its tokenizer): the SFT model, then the
// feedback stage.
// With a loaded checkpoint it first reports it as the pretraining's result, which it returns.
func runFeedback(ctx context.Context, spec runspec.Spec, st *feedbackStage, loaded *checkpoint.Checkpoint, pretrained *core.Model, c *corpus.Corpus, emit func(Event), between func()) (Event, []feedback.Result, error) {
	var (
		sft *core.Model
		pre Event
	)
	switch {
	case loaded != nil && IsSFTOf(loaded, spec):
		pre = pretrainFromSFT(spec, loaded)
		emit(pre)
		sft = loaded.Model
	default:
		base := pretrained
		if loaded != nil {
			pre = pretrainFromBase(spec, loaded)
			emit(pre)
			base = loaded.Model
		}
		if err := ctx.Err(); err != nil {
			return pre, nil, fmt.Errorf("run stopped before fine-tuning: %w", err)
		}
		m, _, err := trainSFT(ctx, spec, base, st.tk, st.task, c, emit)
		if err != nil {
			return pre, nil, err
		}
		defer m.Free()
		sft = m
	}
	class := sft.Dev.Name()
	in := feedback.Inputs{SFT: sft, Tok: st.tk, Pairs: st.pairs, Task: st.task, Pretrain: c, BetweenSteps: between}
	results, err := feedback.Run(ctx, in, *spec.Feedback, func(e feedback.Event) {
		switch e.Kind {
		case "eval":
			emit(feedbackEval(e, class))
		case "result":
			r := FeedbackResultEvent(e.Result, class)
			if spec.Feedback.Taste == "" {
				r.RMGoldAccuracy = nil // no taste to measure it against
			}
			r.Expected = spec.Fingerprints[r.Method]
			r.Match = fingerprint.Verdict(r.Expected, r.Fingerprint)
			emit(r)
		}
	})
	return pre, results, err
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
