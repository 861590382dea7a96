package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/feedback"
)

// tuningSetup is the feedback view's methods form ("tune against it"): PPO, DPO and GRPO, each a
// tick box with its few settings, defaults from core/feedback. It is plain Go, so the config the
// workers get (and a link's) is tested without a browser; the Feedback view embeds it and draws
// it with render.
type tuningSetup struct {
	Methods []tuningMethod // one row per kind, in feedback.Kinds' order
	// Steps and Batch are every method's schedule: optimizer steps, and responses a step (GRPO:
	// num_generations of them per prompt). A class short on time lowers the steps.
	Steps, Batch int
	// ref is the feedback config the form was made from (the language's lesson, or a link's):
	// the form checks its methods against it as it is edited (a GRPO group must divide its
	// batch), before the view asks for Config with the stage's own.
	ref  feedback.Config
	errs fieldErrs // a field's element id -> why its typed value was refused
	// triedNoLeash says the "try this" link loaded PPO without its leash: the form then says
	// what to look at.
	triedNoLeash bool
}

// tuningMethod is one row of the form: whether it is ticked, and the method as a link carries
// it, every setting spelled out (settings the form does not show keep the link's or the
// defaults).
type tuningMethod struct {
	On bool
	feedback.Method
}

// tuningField is one number of a row (number_field.go's table, shared with the compare view).
type tuningField = numberField[tuningMethod, *tuningMethod]

// tuningFields are the settings the form shows. The ranges are feedback.Method.Validate's, so
// a value the form takes is one a link carries; β has two rows because DPO needs a pull to the
// reference (β > 0) where GRPO may drop its KL term.
var tuningFields = []tuningField{
	{Key: "kl_coef", Kinds: []string{feedback.PPO}, Min: 0, Max: 10,
		Get: func(m tuningMethod) float64 { return float64(m.KLCoef) },
		Set: func(m *tuningMethod, v float64) { m.KLCoef = float32(v) }},
	{Key: "cliprange", Kinds: []string{feedback.PPO}, Min: 0.01, Max: 10,
		Get: func(m tuningMethod) float64 { return float64(m.ClipRange) },
		Set: func(m *tuningMethod, v float64) { m.ClipRange = float32(v) }},
	{Key: "ppo_epochs", Kinds: []string{feedback.PPO}, Min: 1, Max: feedback.MaxPPOEpochs, Int: true,
		Get: func(m tuningMethod) float64 { return float64(m.PPOEpochs) },
		Set: func(m *tuningMethod, v float64) { m.PPOEpochs = int(v) }},
	{Key: "beta", Kinds: []string{feedback.DPO}, Min: 0.001, Max: 10,
		Get: func(m tuningMethod) float64 { return float64(m.Beta) },
		Set: func(m *tuningMethod, v float64) { m.Beta = float32(v) }},
	{Key: "num_generations", Kinds: []string{feedback.GRPO}, Min: 2, Max: feedback.MaxGenerations, Int: true,
		Get: func(m tuningMethod) float64 { return float64(m.NumGenerations) },
		Set: func(m *tuningMethod, v float64) { m.NumGenerations = int(v) }},
	{Key: "beta", Kinds: []string{feedback.GRPO}, Min: 0, Max: 10,
		Get: func(m tuningMethod) float64 { return float64(m.Beta) },
		Set: func(m *tuningMethod, v float64) { m.Beta = float32(v) }},
	{Key: "lr", Kinds: feedback.Kinds, Min: 1e-7, Max: 1,
		Get: func(m tuningMethod) float64 { return float64(m.LR) },
		Set: func(m *tuningMethod, v float64) { m.LR = float32(v) }},
	{Key: "r", Kinds: feedback.Kinds, Min: 0, Max: feedback.MaxRank, Int: true,
		Get: func(m tuningMethod) float64 { return float64(m.Rank) },
		Set: func(m *tuningMethod, v float64) { m.Rank = int(v) }},
}

// tuningFieldsOf lists the number fields of a kind, in the form's order.
func tuningFieldsOf(kind string) []tuningField { return fieldsFor(tuningFields, kind) }

// Reset puts one of the row's settings back to the kind's default (feedback.Defaults).
func (m *tuningMethod) Reset(key string) {
	d := tuningMethod{Method: feedback.Defaults(m.Kind)}
	for _, f := range tuningFieldsOf(m.Kind) {
		if f.Key == key {
			f.Set(m, f.Get(d))
		}
	}
}

// SetField parses and range-checks one of the row's numbers; a refused value leaves the row as
// it was and returns a *fieldError the page translates.
func (m *tuningMethod) SetField(key, text string) error {
	return setFieldOf(tuningFields, m.Kind, m, key, text)
}

// newTuningSetup is the form as the lesson in language l starts it: every method ticked with
// its defaults (feedback.DefaultConfig of the language's taste).
func newTuningSetup(l Lang) tuningSetup {
	return setupFromConfig(feedback.DefaultConfig(feedback.DefaultTaste(string(l))))
}

// setupFromConfig fills the form from a feedback config (a link's): its methods become the rows,
// the kinds it does not use stay unticked with their defaults. The form has one row a kind, so a
// second method of a kind is left out, and a method's name is dropped: a row is its kind.
func setupFromConfig(cfg feedback.Config) tuningSetup {
	s := tuningSetup{ref: cfg, Steps: cfg.Steps, Batch: cfg.Batch}
	for _, k := range feedback.Kinds {
		s.Methods = append(s.Methods, tuningMethod{Method: feedback.Defaults(k)})
	}
	for _, cm := range cfg.Methods {
		m := s.method(cm.Kind)
		if m == nil || m.On {
			continue
		}
		m.On, m.Method = true, cm
		m.Name = ""
	}
	return s
}

// method returns the row of kind, or nil.
func (s *tuningSetup) method(kind string) *tuningMethod {
	for i := range s.Methods {
		if s.Methods[i].Kind == kind {
			return &s.Methods[i]
		}
	}
	return nil
}

// errRefused says a ticked method's field holds a value the form refused: the row keeps the
// value before it, which is not what the learner sees typed, so nothing runs until it is fixed.
var errRefused = errors.New("a setting's value was refused: fix it or reset it")

// Config is base with the ticked methods in place of its own, checked as a link is
// (feedback.Config.Validate): an error when no method is ticked, a ticked method's field holds
// a refused value, or the methods do not fit base (a GRPO group that does not divide the batch).
func (s *tuningSetup) Config(base feedback.Config) (feedback.Config, error) {
	cfg := base
	cfg.Methods = nil
	if s.Steps > 0 { // a form made before the schedule was known keeps base's
		cfg.Steps, cfg.Batch = s.Steps, s.Batch
		cfg.EvalEvery = min(base.EvalEvery, cfg.Steps) // the last step is always measured
	}
	for id := range s.errs {
		if strings.HasPrefix(id, tuningScheduleID) {
			return feedback.Config{}, errRefused
		}
	}
	for _, m := range s.Methods {
		if !m.On {
			continue
		}
		for id := range s.errs {
			if strings.HasPrefix(id, tuningRowID(m.Kind)+"-") {
				return feedback.Config{}, errRefused
			}
		}
		cfg.Methods = append(cfg.Methods, m.Method)
	}
	if len(cfg.Methods) == 0 {
		return feedback.Config{}, errNoMethod
	}
	if err := cfg.Validate(); err != nil {
		return feedback.Config{}, err
	}
	return cfg, nil
}

// tryNoLeash loads the "try this" setting: PPO ticked with kl_coef 0, its other settings kept.
// Nothing then holds the policy near the SFT model, so the reward climbs while the KL runs away
// and the answers drift to whatever the reward model scores high.
func (s *tuningSetup) tryNoLeash() {
	ppo := s.method(feedback.PPO)
	ppo.On, ppo.KLCoef = true, feedback.NoLeash().KLCoef
	delete(s.errs, tuningRowID(feedback.PPO)+"-kl_coef")
	s.triedNoLeash = true
}

// The schedule's fields: element ids, keys and ranges (feedback.Config.Validate's).
const tuningScheduleID = "fbt-sched-"

var tuningSchedule = []struct {
	Key      string
	Min, Max float64
	Get      func(s *tuningSetup) *int
	Default  func(d feedback.Config) int
}{
	{"steps", 1, feedback.MaxSteps, func(s *tuningSetup) *int { return &s.Steps }, func(d feedback.Config) int { return d.Steps }},
	{"batch", 2, core.MaxBatch, func(s *tuningSetup) *int { return &s.Batch }, func(d feedback.Config) int { return d.Batch }},
}

// setSchedule parses and range-checks a schedule field's typed text; a refused value leaves the
// setting as it was.
func (s *tuningSetup) setSchedule(key, text string) error {
	for _, f := range tuningSchedule {
		if f.Key == key {
			n, err := parseNumber(f.Key, text, f.Min, f.Max, true)
			if err == nil {
				*f.Get(s) = int(n)
			}
			return err
		}
	}
	return fmt.Errorf("the schedule has no field %q", key)
}

// renderSchedule draws the steps and responses a step every method trains with; the default is
// the lesson's (feedback.DefaultConfig).
func (s *tuningSetup) renderSchedule(l Lang, disabled bool) app.UI {
	def := feedback.DefaultConfig("")
	var fields []app.UI
	for _, f := range tuningSchedule {
		f := f
		v := f.Get(s)
		fields = append(fields, numberInput(l, &s.errs, tuningScheduleID+f.Key, l.T("fbt.sched."+f.Key), float64(*v), float64(f.Default(def)), disabled,
			func(text string) error { return s.setSchedule(f.Key, text) }, func() { *v = f.Default(def) }))
	}
	return app.Div().ID("fbt-schedule").Body(
		app.H3().Text(l.T("fbt.sched.title")),
		app.Div().Class("fields").Body(fields...),
	)
}

// tuningRowID is a method row's element id (its tick box); its fields' ids add "-<key>".
func tuningRowID(kind string) string { return "fbt-m-" + kind }

// tuningKindName is a method kind's name as the page shows it: an acronym, the same in every
// language (so it is data, not a translation).
func tuningKindName(kind string) string { return strings.ToUpper(kind) }

// tuningKeys are the i18n keys the form builds from values (kinds, field keys, win judges), for
// the i18n test's check that every key used exists.
func tuningKeys() []string {
	var out []string
	for _, k := range feedback.Kinds {
		out = append(out, "fbt.about."+k)
	}
	for _, f := range tuningFields {
		if !slices.Contains(out, "fbt.field."+f.Key) {
			out = append(out, "fbt.field."+f.Key)
		}
	}
	for _, j := range []string{feedback.JudgeTaste, feedback.JudgeRewardModel} {
		out = append(out, "fbt.col.win."+j, "fbt.judge."+j)
	}
	for _, st := range []string{feedback.SFT, feedback.RewardModel} {
		out = append(out, "fbt.stage."+st)
	}
	for _, f := range tuningSchedule {
		out = append(out, "fbt.sched."+f.Key)
	}
	return out
}

// render draws the form; disabled while the methods run (or before the view can run them).
func (s *tuningSetup) render(l Lang, disabled bool) app.UI {
	var check app.UI
	if _, err := s.Config(s.ref); err != nil && !disabled {
		check = app.P().ID("fbt-setup-error").Class("error").Role("alert").Body(tuningErrText(l, err)...)
	}
	var tried app.UI
	if s.triedNoLeash {
		tried = app.P().ID("fbt-try-noleash-note").Class("hint").Text(l.T("fbt.try.noleash_watch"))
	}
	return app.FieldSet().ID("fbt-methods").Body(
		app.Legend().Text(l.T("fbt.methods")),
		app.P().Class("explain").Body(
			app.Text(l.T("fbt.methods_explain")+" "),
			app.If(!disabled, tryThis(l, "fbt.try.noleash", s.tryNoLeash, tuningRowID(feedback.PPO)+"-kl_coef").ID("fbt-try-noleash")),
		),
		tried,
		app.Range(s.Methods).Slice(func(i int) app.UI { return s.renderMethod(l, &s.Methods[i], disabled) }),
		s.renderSchedule(l, disabled),
		check,
	)
}

// renderMethod is one method's row: its tick box, what it does, then its settings with their
// defaults and reset buttons.
func (s *tuningSetup) renderMethod(l Lang, m *tuningMethod, disabled bool) app.UI {
	id := tuningRowID(m.Kind)
	off := disabled || !m.On
	var settings []app.UI
	for _, fd := range tuningFieldsOf(m.Kind) {
		fd := fd
		settings = append(settings, numberInput(l, &s.errs, id+"-"+fd.Key, l.T("fbt.field."+fd.Key), fd.Get(*m), fd.Default(*m), off,
			func(text string) error { return m.SetField(fd.Key, text) }, func() { m.Reset(fd.Key) }))
	}
	return app.Div().Class("method").ID(id+"-row").Body(
		app.Div().Class("method-pick").Body(
			app.Input().Type("checkbox").ID(id).Checked(m.On).Disabled(disabled).
				Attr("aria-describedby", id+"-about").OnChange(func(ctx app.Context, e app.Event) {
				m.On = ctx.JSSrc().Get("checked").Bool()
			}),
			app.Label().For(id).Class("inline").Body(app.Span().Class("data").Text(tuningKindName(m.Kind))),
		),
		app.P().ID(id+"-about").Class("hint").Text(l.T("fbt.about."+m.Kind)),
		app.Div().Class("fields").Body(settings...),
	)
}

// tuningErrText says why the form cannot run, in the page's language; a check of core/feedback
// (a GRPO group that does not divide the batch) keeps its own words (English) as data.
func tuningErrText(l Lang, err error) []app.UI {
	switch {
	case errors.Is(err, errNoMethod):
		return []app.UI{app.Text(l.T("fbt.err.no_method"))}
	case errors.Is(err, errRefused):
		return []app.UI{app.Text(l.T("fbt.err.refused"))}
	}
	return []app.UI{app.Text(l.T("config.err") + " "), app.Span().Class("data").Text(err.Error())}
}
