package app

import (
	"slices"
	"strconv"
	"strings"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/runspec"
)

// A teacher's link is a share link with lesson options after it, in the URL fragment:
//
//	#r=CODE&views=pretrain,compare&hide=lr,seed&fix=steps:200&lang=zh&projector=1
//
// The fragment is an optional base, the forms links always had ("r=CODE" opens a run and starts
// it, "o=CODE" only fills its setup in, "class=CODE" joins a class, "view=ID" opens a view),
// then options, each "&name=value", then an optional "~NONCE" (the built-in runs tab's, which
// only makes the URL change). None of '&', '~' is in a run code's alphabet (base64url) or a
// class code's, so a fragment without options reads exactly as before, and a link with options
// still carries its run: runspec.Decode takes the r= of an "a=b&r=CODE" list.
//
// The options (README "Teacher links"):
//
//	views=ID,...      the views the nav offers, in the app's order (a link's run adds its own view)
//	steps=ID,...      the guided path's steps shown (lessonStepIDs)
//	hide=ID,...       controls not drawn at all (lessonControls)
//	fix=ID:VALUE,...  values set and shown read-only (the fixable lessonControls)
//	lang=en|zh        the interface language
//	projector=1       projector mode (0 leaves it as it was)
//
// An option this page does not know, or a value it cannot use, is ignored and reported in the
// page (fragment.Ignored): an old page opening a newer teacher's link still shows the run.

// lessonStepIDs are the guided path's steps (path.go's, state lessonStepsState).
var lessonStepIDs = pathSteps

// Go-app states the lesson options are published in, for views drawn by other components.
const (
	// lessonStepsState is the path steps a link allows ([]string; nil: every step).
	lessonStepsState = "lesson.steps"
)

// lessonControl is a control a teacher may hide or fix: its stable id (the link's name for it),
// the view it is on (the panel groups them so) and, when it can be fixed, how a value is checked.
type lessonControl struct {
	ID    string
	View  string
	check func(v string) bool // nil: hide only
}

// lessonControls are the controls a link may hide, in the teacher panel's order. The ids are
// part of the link format: never rename one.
var lessonControls = func() []lessonControl {
	cs := []lessonControl{
		{ID: "presets", View: viewPretrain},
		{ID: "corpus", View: viewPretrain, check: func(v string) bool { return slices.Contains(corpus.Builtins(), v) }},
		{ID: "size", View: viewPretrain, check: func(v string) bool { _, err := core.SizePreset(v); return err == nil }},
		{ID: "objective", View: viewPretrain},
	}
	for _, f := range fields {
		f := f
		cs = append(cs, lessonControl{ID: f.Key, View: viewPretrain, check: func(v string) bool {
			var s setup
			return s.SetField(f.Key, v) == nil
		}})
	}
	return append(cs,
		lessonControl{ID: "device", View: viewPretrain, check: func(v string) bool { return slices.Contains(deviceChoices, v) }},
		lessonControl{ID: "prompt", View: viewPretrain},
		lessonControl{ID: "model-file", View: viewPretrain},
		lessonControl{ID: "cmp.base", View: viewCompare},
		lessonControl{ID: "cmp.task", View: viewCompare},
		lessonControl{ID: "cmp.methods", View: viewCompare},
		lessonControl{ID: "cmp.steps", View: viewCompare, check: func(v string) bool { var s compareSetup; return s.SetSteps(v) == nil }},
		lessonControl{ID: "cmp.seed", View: viewCompare, check: func(v string) bool { var s compareSetup; return s.SetSeed(v) == nil }},
	)
}()

// lessonControlIDs are the controls' ids in their order.
func lessonControlIDs() []string {
	var ids []string
	for _, c := range lessonControls {
		ids = append(ids, c.ID)
	}
	return ids
}

func lessonControlByID(id string) (lessonControl, bool) {
	i := slices.IndexFunc(lessonControls, func(c lessonControl) bool { return c.ID == id })
	if i < 0 {
		return lessonControl{}, false
	}
	return lessonControls[i], true
}

// fixedValue is one control's value a link fixes, as written ("0.01", "cpu", "small").
type fixedValue struct {
	ID, Value string
}

// Lesson is what a teacher's link asks of the page. The zero Lesson asks nothing: every view,
// step and control, the learner's language.
type Lesson struct {
	Views     []string // nil: every view
	Steps     []string // nil: every step
	Hide      []string
	Fix       []fixedValue
	Lang      Lang // "": the learner's
	Projector bool
}

// IsZero says the lesson asks nothing.
func (l Lesson) IsZero() bool {
	return l.Views == nil && l.Steps == nil && l.Hide == nil && l.Fix == nil && l.Lang == "" && !l.Projector
}

// hides says whether the control id is not to be drawn.
func (l Lesson) hides(id string) bool { return slices.Contains(l.Hide, id) }

// fixed is the value the lesson fixes for control id, if any.
func (l Lesson) fixed(id string) (string, bool) {
	for _, f := range l.Fix {
		if f.ID == id {
			return f.Value, true
		}
	}
	return "", false
}

// locked says whether the learner may not change control id (hidden or fixed).
func (l Lesson) locked(id string) bool {
	_, ok := l.fixed(id)
	return ok || l.hides(id)
}

// navViews are the views the nav offers: the lesson's in the app's order, plus view (the one a
// link's run opens in, which must show), or every view.
func (l Lesson) navViews(all []string, view string) []string {
	if l.Views == nil {
		return all
	}
	var out []string
	for _, v := range all {
		if slices.Contains(l.Views, v) || v == view {
			out = append(out, v)
		}
	}
	return out
}

// fragment is a URL fragment read by parseFragment.
type fragment struct {
	Base   string // "r", "o", "class", "view", or "" (options only, or nothing)
	Value  string // the code or view id after "Base="
	Nonce  string // after "~"
	Lesson Lesson
	// HasLesson says the fragment carried at least one option (even one that asks nothing, such
	// as "projector=0"): its lesson replaces the page's.
	HasLesson bool
	Ignored   []string // options or values not understood, as written
}

// fragment bases, the forms a fragment had before lesson options.
var fragmentBases = []string{"r", "o", "class", "view"}

// parseFragment reads a URL fragment (without the '#'). It never fails: what it cannot use is
// listed in Ignored.
func parseFragment(s string) fragment {
	var f fragment
	s, f.Nonce, _ = strings.Cut(s, "~")
	parts := strings.Split(s, "&")
	if k, v, ok := strings.Cut(parts[0], "="); ok && slices.Contains(fragmentBases, k) {
		f.Base, f.Value = k, v
		parts = parts[1:]
	}
	for _, p := range parts {
		if p == "" {
			continue
		}
		k, v, _ := strings.Cut(p, "=")
		if !f.option(k, v) {
			f.Ignored = append(f.Ignored, p)
		}
	}
	return f
}

// option reads one option into the lesson; false when the option, or a part of its value, was
// not understood (the parts understood still count).
func (f *fragment) option(k, v string) bool {
	l := &f.Lesson
	// list reads a comma list of ids from order, kept in order's order (one lesson, one link).
	list := func(order []string) ([]string, bool) {
		out, ok := []string{}, true
		for _, x := range strings.Split(v, ",") {
			if x != "" && !slices.Contains(order, x) {
				ok = false
			}
		}
		for _, x := range order {
			if slices.Contains(strings.Split(v, ","), x) {
				out = append(out, x)
			}
		}
		return out, ok
	}
	var ok bool
	switch k {
	case "views":
		l.Views, ok = list(views)
	case "steps":
		l.Steps, ok = list(lessonStepIDs)
	case "hide":
		var hide []string
		hide, ok = list(lessonControlIDs())
		l.Hide = tick(append(l.Hide, hide...), lessonControlIDs(), "", false)
	case "fix":
		ok = true
		for _, x := range strings.Split(v, ",") {
			id, val, _ := strings.Cut(x, ":")
			c, known := lessonControlByID(id)
			if !known || c.check == nil || !c.check(val) {
				ok = false
				continue
			}
			l.Fix = slices.DeleteFunc(l.Fix, func(fv fixedValue) bool { return fv.ID == id })
			l.Fix = append(l.Fix, fixedValue{id, val})
		}
		ids := lessonControlIDs()
		slices.SortStableFunc(l.Fix, func(a, b fixedValue) int { return slices.Index(ids, a.ID) - slices.Index(ids, b.ID) })
	case "lang":
		ok = v == string(EN) || v == string(ZH)
		if ok {
			l.Lang = Lang(v)
		}
	case "projector":
		ok = v == "1" || v == "0"
		l.Projector = v == "1"
	default:
		return false
	}
	f.HasLesson = true
	return ok
}

// String writes the fragment back: the base, the lesson's options in a fixed order (so one
// lesson has one link), the nonce.
func (f fragment) String() string {
	var parts []string
	if f.Base != "" {
		parts = append(parts, f.Base+"="+f.Value)
	}
	l := f.Lesson
	if l.Views != nil {
		parts = append(parts, "views="+strings.Join(l.Views, ","))
	}
	if l.Steps != nil {
		parts = append(parts, "steps="+strings.Join(l.Steps, ","))
	}
	if len(l.Hide) > 0 {
		parts = append(parts, "hide="+strings.Join(l.Hide, ","))
	}
	if len(l.Fix) > 0 {
		var fs []string
		for _, x := range l.Fix {
			fs = append(fs, x.ID+":"+x.Value)
		}
		parts = append(parts, "fix="+strings.Join(fs, ","))
	}
	if l.Lang != "" {
		parts = append(parts, "lang="+string(l.Lang))
	}
	if l.Projector {
		parts = append(parts, "projector=1")
	}
	s := strings.Join(parts, "&")
	if f.Nonce != "" {
		s += "~" + f.Nonce
	}
	return s
}

// options is the fragment's options alone ("&views=...&hide=..."), to carry them onto another
// fragment.
func (f fragment) options() string {
	g := fragment{Lesson: f.Lesson}
	if s := g.String(); s != "" {
		return "&" + s
	}
	return ""
}

// keepOptions is frag with the lesson options of cur (the URL's fragment now) after it: a
// built-in run opened from a teacher's link keeps the lesson when the page reloads.
func keepOptions(cur, frag string) string {
	f := parseFragment(frag)
	if f.HasLesson {
		return frag
	}
	base, nonce, _ := strings.Cut(frag, "~")
	s := base + parseFragment(cur).options()
	if nonce != "" {
		s += "~" + nonce
	}
	return s
}

// fixSetup sets the pretraining form's fixed values (values parseFragment checked; one it
// cannot use leaves the form as it was).
func fixSetup(s *setup, fix []fixedValue) {
	for _, f := range fix {
		switch f.ID {
		case "corpus":
			if slices.Contains(corpus.Builtins(), f.Value) {
				s.CorpusID = f.Value
			}
		case "size": // the shape only: the other numbers stay the link's or the learner's
			if p, err := core.SizePreset(f.Value); err == nil {
				s.Size = f.Value
				s.Cfg.Layers, s.Cfg.Dim, s.Cfg.Heads, s.Cfg.Context = p.Config.Layers, p.Config.Dim, p.Config.Heads, p.Config.Context
			}
		case "device":
			if slices.Contains(deviceChoices, f.Value) {
				s.Device = f.Value
			}
		default:
			if _, ok := fieldByKey(f.ID); ok {
				_ = s.SetField(f.ID, f.Value)
			}
		}
	}
}

// fixCompare sets the compare form's fixed values ("cmp.steps", "cmp.seed").
func fixCompare(s *compareSetup, fix []fixedValue) {
	for _, f := range fix {
		switch f.ID {
		case "cmp.steps":
			_ = s.SetSteps(f.Value)
		case "cmp.seed":
			_ = s.SetSeed(f.Value)
		}
	}
}

// fixSpec is spec with the lesson's values fixed, for the run a teacher's link embeds: the
// link's run and the form the learners see then agree. A plain run takes the pretraining
// form's values, a comparison the compare form's steps and seed (a feedback stage none).
// changed says the run is no longer the one spec was (its fingerprints no longer apply).
func fixSpec(spec runspec.Spec, fix []fixedValue) (out runspec.Spec, changed bool) {
	switch {
	case len(fix) == 0 || spec.Feeds():
		return spec, false
	case spec.Compares():
		return fixComparison(spec, fix)
	}
	s, err := setupFromSpec(spec)
	if err != nil {
		return spec, false
	}
	fixSetup(&s, fix)
	fixed, err := s.Spec(Lang(spec.Lang))
	if err != nil {
		return spec, false
	}
	fixed.Fingerprint = spec.Fingerprint
	if specKey(fixed) == specKey(spec) {
		return spec, false
	}
	fixed.Fingerprint = ""
	return fixed, true
}

// fixComparison is fixSpec for a comparison: its fine-tuning steps (with their schedule, as the
// form makes it) and seed.
func fixComparison(spec runspec.Spec, fix []fixedValue) (runspec.Spec, bool) {
	var s compareSetup
	s.Steps, s.Seed = spec.FineTune.Steps, spec.FineTuneSeed()
	fixCompare(&s, fix)
	if s.Steps == spec.FineTune.Steps && s.Seed == spec.FineTuneSeed() {
		return spec, false
	}
	ft := *spec.FineTune
	if s.Steps != spec.FineTune.Steps {
		ft = runspec.ScheduleFor(s.Steps)
	}
	ft.Seed = s.Seed
	if s.Seed == spec.Config.Seed { // the pretraining's seed needs no seed of its own (compareSetup.Spec)
		ft.Seed = 0
	}
	// The methods' fingerprints go; the pretraining's (Fingerprint) still holds.
	spec.FineTune, spec.Fingerprints = &ft, nil
	return spec, true
}

// specKey is a spec's code (two specs with one code are one run).
func specKey(s runspec.Spec) string {
	code, err := runspec.Encode(s)
	if err != nil {
		return "error: " + err.Error()
	}
	return code
}

// fixedText is a fixed value as the page shows it.
func fixedText(v string) string {
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return fmtNum(x)
	}
	return v
}

// linkLang is the language a link opens in: its teacher's lang= option, else its run's (specLang,
// "" for none).
func linkLang(frag, specLang string) Lang {
	if l := parseFragment(frag).Lesson.Lang; l != "" {
		return l
	}
	return Lang(specLang)
}
