package app

import (
	"encoding/json"
	"slices"

	"pretune/core/compare"
	"pretune/core/runspec"
	"pretune/core/task"
)

// The guided path, "How a language model is made", walks a class through the story the
// playground exists to teach, one step a run of a few minutes: pretraining, supervised
// fine-tuning, full fine-tuning against the parameter-efficient methods, and learning from
// feedback. It trains nothing itself: each step's button opens the view that trains (the way a
// share link or the built-in runs tab does: #r=CODE for pretraining and comparisons, a state
// for the feedback view, whose stage starts with picks rather than a link), and the view shows
// the run with the part to watch outlined. This file is the path's plain Go (which steps, which
// runs, which model flows on, the progress kept); path_view.go draws it.

// viewPath is the path's view id (first in the nav).
const viewPath = "path"

// The path's steps, in order.
const (
	stepPretrain = "pretrain"
	stepSFT      = "sft"
	stepPEFT     = "peft"
	stepFeedback = "feedback"
)

var pathSteps = []string{stepPretrain, stepSFT, stepPEFT, stepFeedback}

// visibleSteps are the path's steps a teacher's link allows, in the path's order. Unknown ids
// are ignored; nil or an empty list allows every step, and so does a list with no known id (a
// link from a newer pretune should not empty the page).
func visibleSteps(allowed []string) []string {
	var out []string
	for _, s := range pathSteps {
		if slices.Contains(allowed, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return pathSteps
	}
	return out
}

// pathLang is the language whose corpora, tasks and kept models the path uses: the page's.
func pathLang(l Lang) string {
	if l == ZH {
		return "zh"
	}
	return "en"
}

// shortSteps is what the test-only short path (?path=short) trains instead of the real
// settings: long enough to draw a curve and fill a table, short enough for an end-to-end test.
const shortSteps = 8

// pretrainSpec is step 1's run: the small model on the language's world stories (en-small,
// 1000 steps, or zh-small, 600), the presets the README times. Short: shortSteps*2 steps.
func pretrainSpec(l Lang, short bool) runspec.Spec {
	p, err := runspec.PresetByName(pathLang(l) + "-small")
	if err != nil {
		panic(err) // a built-in preset for each language of the page
	}
	s := p.Spec
	s.Lang = string(l)
	if short {
		s.Config.Steps, s.Config.Warmup, s.Config.EvalEvery = 2*shortSteps, 4, shortSteps
	}
	return s
}

// keptBaseSpec is the language's kept lesson base's pretraining (web/base/<lang>-base.ckpt).
func keptBaseSpec(l Lang) runspec.Spec {
	p, err := runspec.PresetByName(pathLang(l) + "-base")
	if err != nil {
		panic(err)
	}
	return p.Spec
}

// keptBaseLoss is each kept base's final held-out loss in nats per character, as `go run . -run
// en-lesson` (and zh-lesson) print it: the mark a learner's own model is measured against.
var keptBaseLoss = map[string]float64{"en": 0.2905, "zh": 0.4608}

// goodEnoughMargin is how far above the kept base's held-out loss a learner's pretrained model
// may be and still be fine-tuned on the path. Fine-tuning can only retrieve facts the base
// learned well: full fine-tuning of the English lesson reached 0.21 task accuracy from a
// 600-step base and 0.82 from the kept 20000-step one (runspec's presets note), so a model much
// worse than the kept base would teach the class that fine-tuning fails.
const goodEnoughMargin = 0.1

// Why the path fine-tunes the kept base and not the model pretrained in step 1 (i18n keys).
const (
	whyNone   = "path.why.none"   // nothing pretrained (or its worker is gone)
	whyMasked = "path.why.masked" // a masked-LM model cannot write answers
	whyCorpus = "path.why.corpus" // trained on another text: it never read the facts' world
	whyLoss   = "path.why.loss"   // its held-out loss is too far above the kept base's
)

// pathBase is the pretraining steps 2 and 3 fine-tune: the model pretrained in step 1 (or any
// finished pretraining in the pretraining view) when it is good enough, else the kept base.
// why is the reason for the kept base (an i18n key), "" when the learner's model flows on.
func pathBase(l Lang, m pretrainedModel) (base runspec.Spec, why string) {
	kept := keptBaseSpec(l)
	switch {
	case !m.Ready:
		return kept, whyNone
	case m.Spec.Objective == runspec.ObjectiveMasked:
		return kept, whyMasked
	case m.Spec.Corpus.ID != kept.Corpus.ID:
		return kept, whyCorpus
	case samePretraining(m.Spec, kept): // the kept base itself, pretrained here
		return m.Spec.Pretraining(), ""
	case m.ValLoss <= 0 || m.ValLoss > keptBaseLoss[pathLang(l)]+goodEnoughMargin:
		return kept, whyLoss
	}
	return m.Spec.Pretraining(), ""
}

// compareSpec is a fine-tuning step's comparison: base's pretraining, then the language's
// facts task with methods and core/compare's default lesson schedule (500 steps), as the
// comparison presets build theirs. Short: shortSteps steps a method.
func compareSpec(l Lang, base runspec.Spec, methods []compare.Method, short bool) runspec.Spec {
	return taskSpec(l, pathLang(l)+"-facts", base, methods, short)
}

// taskSpec is compareSpec on the built-in task id.
func taskSpec(l Lang, id string, base runspec.Spec, methods []compare.Method, short bool) runspec.Spec {
	t, err := task.Builtin(id)
	if err != nil {
		panic(err) // a built-in task for each language of the page
	}
	ft := runspec.ScheduleFor(compare.DefaultSteps)
	if short { // two held-out evaluations a method, the fewest that draw a curve
		ft = runspec.FineTune{Steps: shortSteps / 2, Warmup: 1, EvalEvery: shortSteps / 4}
	}
	spec := base.Pretraining()
	spec.Version, spec.Task, spec.FineTune, spec.Methods = runspec.VersionCompare, &runspec.TaskRef{ID: id, Hash: t.Hash()}, &ft, methods
	spec.Device, spec.Lang = runspec.DeviceAuto, string(l)
	return spec
}

// stepMethods are the methods a fine-tuning step compares: full fine-tuning alone (the SFT
// step), or the default lesson's four (full, LoRA, adapter, prefix).
func stepMethods(step string) []compare.Method {
	if step == stepSFT {
		return []compare.Method{compare.Defaults(compare.Full)}
	}
	return compare.DefaultMethods(task.KindGenerate)
}

// stepSpec is the run a pretraining or fine-tuning step's button starts, from base for the
// fine-tuning steps.
func stepSpec(l Lang, step string, base runspec.Spec, short bool) runspec.Spec {
	if step == stepPretrain {
		return pretrainSpec(l, short)
	}
	return compareSpec(l, base, stepMethods(step), short)
}

// trySpec is a step's second, optional run, the comparison its words draw: step 1 pretrained
// with the masked objective (its fill-in-the-blank figure beside the causal run's), step 2 a
// classification head, a new output layer, on the true-or-false statements (alone and with
// the body trained). ok is false for a step without one.
func trySpec(l Lang, step string, base runspec.Spec, short bool) (spec runspec.Spec, ok bool) {
	switch step {
	case stepPretrain:
		spec = pretrainSpec(l, short)
		spec.Objective = runspec.ObjectiveMasked
		return spec, true
	case stepSFT:
		return taskSpec(l, pathLang(l)+"-truth", base, compare.DefaultMethods(task.KindClassify), short), true
	}
	return runspec.Spec{}, false
}

// sameMethods says whether a comparison ran exactly the methods of a step.
func sameMethods(a, b []compare.Method) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Label() != b[i].Label() {
			return false
		}
	}
	return true
}

// pathProgress is what the browser keeps of the path (localStorage, pathKey): the step shown
// and the steps whose run finished; FromOwn says the last comparison the path started
// fine-tuned the learner's own model (so step 4 starts from its full fine-tuning).
type pathProgress struct {
	Step    string   `json:"step"`
	Done    []string `json:"done,omitempty"`
	FromOwn bool     `json:"from_own,omitempty"`
}

// pathKey is the localStorage key of the path's progress.
const pathKey = "pretune.path"

// parseProgress reads kept progress; anything unreadable (or a step this build does not have)
// starts the path again rather than failing.
func parseProgress(data string) pathProgress {
	var p pathProgress
	if json.Unmarshal([]byte(data), &p) != nil || !slices.Contains(pathSteps, p.Step) {
		return pathProgress{Step: stepPretrain}
	}
	p.Done = slices.DeleteFunc(p.Done, func(s string) bool { return !slices.Contains(pathSteps, s) })
	return p
}

func (p pathProgress) encode() string {
	b, _ := json.Marshal(p) // plain strings and bools: cannot fail
	return string(b)
}

// done marks a step's run finished; it says whether that changed anything.
func (p *pathProgress) done(step string) bool {
	if slices.Contains(p.Done, step) {
		return false
	}
	p.Done = append(p.Done, step)
	return true
}

func (p pathProgress) isDone(step string) bool { return slices.Contains(p.Done, step) }

// current is the step to show among the visible ones: the kept one when a teacher's link
// allows it, else the first allowed.
func (p pathProgress) current(visible []string) string {
	if slices.Contains(visible, p.Step) {
		return p.Step
	}
	return visible[0]
}

// neighbour is the visible step before (-1) or after (+1) step, or "" at either end.
func neighbour(visible []string, step string, by int) string {
	i := slices.Index(visible, step) + by
	if i < 0 || i >= len(visible) || slices.Index(visible, step) < 0 {
		return ""
	}
	return visible[i]
}

// pathWatch is each step's part of the page to watch while it runs: the elements the path's
// stylesheet outlines (web/pretune.css, "path") and the view they are in.
var pathWatch = map[string]struct {
	View string
	IDs  []string
}{
	stepPretrain: {viewPretrain, []string{"chart-box", "samples", "fill-probe"}},
	stepSFT:      {viewCompare, []string{"cmp-chart-box", "cmp-answers-box"}},
	stepPEFT:     {viewCompare, []string{"cmp-results", "cmp-chart-box"}},
	stepFeedback: {viewFeedback, []string{"fb-rm-chart-box", "fbt-charts"}},
}

// pathKeys are the i18n keys the path builds from its step ids and reasons (the tables'
// completeness test cannot see them in T calls).
func pathKeys() []string {
	keys := []string{whyNone, whyMasked, whyCorpus, whyLoss, "path.pretrain.try", "path.sft.try"}
	for _, s := range pathSteps {
		for _, k := range []string{"short", "title", "text", "text2", "go", "watch", "q", "a"} {
			keys = append(keys, "path."+s+"."+k)
		}
	}
	return keys
}
