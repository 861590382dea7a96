package app

import (
	"slices"

	"pretune/core/runspec"
)

// teacherForm is the "Make a link for my class" panel's state: what the teacher ticked. It is
// plain Go, so the link it makes is tested without a browser; Teacher (teacher_view.go) draws it.
type teacherForm struct {
	Views []string // the views ticked, in the app's order
	Steps []string // the path steps ticked
	// Modes is each control's choice: "" (shown), "hide" or "fix"; Values the fixed values as
	// typed.
	Modes     map[string]string
	Values    map[string]string
	Lang      Lang // "": the learner's language
	Projector bool
	Run       string // which run the link carries: one of teacherRuns
}

// The runs a teacher's link may carry.
const (
	runNone     = "none"     // no run: the views open with their own defaults
	runPretrain = "pretrain" // the pretraining view's current run, started on opening (r=)
	runOpen     = "open"     // the same, only filled in (o=): the students press Start
	runCompare  = "compare"  // the compare view's finished comparison, started on opening
)

var teacherRuns = []string{runNone, runPretrain, runOpen, runCompare}

// Control modes.
const (
	modeHide = "hide"
	modeFix  = "fix"
)

// newTeacherForm ticks every view but the teacher's own panel and every step, and shows every
// control.
func newTeacherForm() teacherForm {
	f := teacherForm{Steps: slices.Clone(lessonStepIDs), Modes: map[string]string{}, Values: map[string]string{}, Run: runNone}
	for _, v := range views {
		if v != viewTeacher {
			f.Views = append(f.Views, v)
		}
	}
	return f
}

// tick sets whether id is in list, keeping order's order.
func tick(list []string, order []string, id string, on bool) []string {
	var out []string
	for _, x := range order {
		if x == id && on || x != id && slices.Contains(list, x) {
			out = append(out, x)
		}
	}
	return out
}

// lesson is the lesson the ticks describe; bad lists the fixed values that cannot be used (they
// are left out of the link, and the panel says so).
func (f teacherForm) lesson() (l Lesson, bad []string) {
	if len(f.Views) < len(views) {
		l.Views = slices.Clone(f.Views)
		if l.Views == nil {
			l.Views = []string{}
		}
	}
	if len(f.Steps) < len(lessonStepIDs) {
		l.Steps = slices.Clone(f.Steps)
		if l.Steps == nil {
			l.Steps = []string{}
		}
	}
	for _, c := range lessonControls {
		switch f.Modes[c.ID] {
		case modeHide:
			l.Hide = append(l.Hide, c.ID)
		case modeFix:
			if v := f.Values[c.ID]; c.check != nil && c.check(v) {
				l.Fix = append(l.Fix, fixedValue{c.ID, v})
			} else {
				bad = append(bad, c.ID)
			}
		}
	}
	l.Lang, l.Projector = f.Lang, f.Projector
	return l, bad
}

// runs are what the panel may embed: the pretraining view's current run and the compare view's
// finished comparison, as their share links carry them (language and fingerprint included).
type teacherRunsNow struct {
	Pretrain *runspec.Spec
	Compare  *runspec.Spec
}

// link is the teacher's link on base (the page's address without its fragment). changed says
// the fixed values changed the embedded run (its fingerprint was dropped: it is another run);
// err says why the run could not be embedded (the link is then made without it).
func (f teacherForm) link(base string, runs teacherRunsNow) (u string, changed bool, bad []string, err error) {
	l, bad := f.lesson()
	fr := fragment{Lesson: l}
	var spec *runspec.Spec
	switch f.Run {
	case runPretrain, runOpen:
		spec = runs.Pretrain
	case runCompare:
		spec = runs.Compare
	}
	if spec != nil {
		s := *spec
		s, changed = fixSpec(s, l.Fix)
		if l.Lang != "" {
			s.Lang = string(l.Lang)
		}
		code, e := runspec.Encode(s)
		if e != nil {
			err, changed = e, false
		} else {
			fr.Base, fr.Value = "r", code
			if f.Run == runOpen {
				fr.Base = "o"
			}
		}
	}
	frag := fr.String()
	if frag == "" {
		return base, changed, bad, err
	}
	return base + "#" + frag, changed, bad, err
}
