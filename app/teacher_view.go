package app

import (
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/runspec"
)

// Teacher is the "Make a link for my class" panel: the teacher ticks the views, the path's
// steps and the controls the students see, fixes values, picks the language, and copies the
// link (teacherForm makes it). The link carries the pretraining view's current run or the
// compare view's comparison when there is one, so it reproduces it as a share link does.
type Teacher struct {
	app.Compo
	Lang Lang

	form       teacherForm
	pretrained pretrainedModel
	tuned      tunedModel
	copied     bool
}

// OnMount starts from every view and control shown, and follows the runs the other views
// publish.
func (t *Teacher) OnMount(ctx app.Context) {
	if t.form.Modes == nil {
		t.form = newTeacherForm()
	}
	ctx.ObserveState(pretrainedState).OnChange(t.runsChanged).Value(&t.pretrained)
	ctx.ObserveState(tunedState).OnChange(t.runsChanged).Value(&t.tuned)
	t.runsChanged()
}

// runsChanged picks the run to embed once one exists (the teacher may untick it).
func (t *Teacher) runsChanged() {
	runs := t.runs()
	if t.form.Run == runNone && runs.Pretrain != nil {
		t.form.Run = runPretrain
	}
	if t.form.Run == runCompare && runs.Compare == nil || (t.form.Run == runPretrain || t.form.Run == runOpen) && runs.Pretrain == nil {
		t.form.Run = runNone
	}
}

// runs are the runs there are to embed, as their share links would carry them.
func (t *Teacher) runs() teacherRunsNow {
	var r teacherRunsNow
	if m := t.pretrained; m.Spec.Version != 0 && !m.FromBase {
		s := m.Spec
		s.Fingerprint = m.Fingerprint
		r.Pretrain = &s
	}
	if m := t.tuned; m.Ready {
		s := m.Spec
		r.Compare = &s
	}
	return r
}

// pageBase is this page's address without a fragment.
func pageBase() string {
	if !app.IsClient {
		return "/"
	}
	loc := app.Window().Get("location")
	return loc.Get("origin").String() + loc.Get("pathname").String()
}

// Render draws the panel.
func (t *Teacher) Render() app.UI {
	l := t.Lang
	if t.form.Modes == nil {
		t.form = newTeacherForm()
	}
	f := &t.form
	runs := t.runs()
	u, changed, bad, err := f.link(pageBase(), runs)
	check := func(id string, on bool, label string, set func(bool)) app.UI {
		return app.Span().Class("tick").Body(
			app.Input().Type("checkbox").ID(id).Checked(on).OnChange(func(ctx app.Context, e app.Event) {
				set(ctx.JSSrc().Get("checked").Bool())
				t.copied = false
			}),
			app.Label().For(id).Class("inline").Text(label),
		)
	}
	return app.Section().ID("teacher").Class("panel").Body(
		app.H2().Text(l.T("teacher.title")),
		app.P().Class("explain").Text(l.T("teacher.explain")),
		app.FieldSet().ID("t-views").Body(
			app.Legend().Text(l.T("teacher.views")),
			app.Range(views).Slice(func(i int) app.UI {
				v := views[i]
				return check("t-view-"+v, slices.Contains(f.Views, v), l.T("nav."+v), func(on bool) { f.Views = tick(f.Views, views, v, on) })
			}),
		),
		app.FieldSet().ID("t-steps").Body(
			app.Legend().Text(l.T("teacher.steps")),
			app.Range(lessonStepIDs).Slice(func(i int) app.UI {
				s := lessonStepIDs[i]
				return check("t-step-"+s, slices.Contains(f.Steps, s), l.T("lesson.step."+s), func(on bool) { f.Steps = tick(f.Steps, lessonStepIDs, s, on) })
			}),
		),
		app.FieldSet().ID("t-controls").Body(
			app.Legend().Text(l.T("teacher.controls")),
			app.P().Class("hint").Text(l.T("teacher.controls_hint")),
			app.Div().Class("table-scroll").Body(app.Table().Body(
				app.THead().Body(app.Tr().Body(
					app.Th().Text(l.T("teacher.control")), app.Th().Text(l.T("teacher.students")), app.Th().Text(l.T("teacher.value")),
				)),
				app.TBody().Body(t.controlRows()...),
			)),
		),
		app.FieldSet().ID("t-more").Body(
			app.Legend().Text(l.T("teacher.more")),
			app.Div().Class("field").Body(
				app.Label().For("t-lang").Text(l.T("teacher.lang")),
				app.Select().ID("t-lang").OnChange(func(ctx app.Context, e app.Event) {
					f.Lang, t.copied = Lang(ctx.JSSrc().Get("value").String()), false
				}).Body(
					app.Option().Value("").Selected(f.Lang == "").Text(l.T("teacher.lang_own")),
					app.Option().Value(string(EN)).Selected(f.Lang == EN).Text("English"),
					app.Option().Value(string(ZH)).Selected(f.Lang == ZH).Text("简体中文"),
				),
			),
			check("t-projector", f.Projector, l.T("teacher.projector"), func(on bool) { f.Projector = on }),
			app.Div().Class("field").Body(
				app.Label().For("t-run").Text(l.T("teacher.run")),
				app.Select().ID("t-run").OnChange(func(ctx app.Context, e app.Event) {
					f.Run, t.copied = ctx.JSSrc().Get("value").String(), false
				}).Body(app.Range(teacherRuns).Slice(func(i int) app.UI {
					r := teacherRuns[i]
					return app.Option().Value(r).Selected(f.Run == r).Disabled(!runAvailable(r, runs)).Text(l.T("teacher.run." + r))
				})),
			),
		),
		app.Div().ID("t-result").Body(
			app.Label().For("t-link").Text(l.T("teacher.link")),
			app.Input().ID("t-link").Class("data").ReadOnly(true).Value(u),
			app.Div().Class("controls").Body(
				app.Button().ID("t-copy").Class("primary").Text(l.T("teacher.copy")).OnClick(func(ctx app.Context, e app.Event) {
					copyText(u)
					t.copied = true
				}),
				app.A().ID("t-open").Href(u).Target("_blank").Rel("noopener").Text(l.T("teacher.open")),
			),
			app.If(t.copied, app.P().ID("t-copied").Role("status").Text(l.T("teacher.copied"))),
			app.If(changed, app.P().ID("t-run-changed").Class("hint").Text(l.T("teacher.run_changed"))),
			app.If(err != nil, app.P().ID("t-run-error").Class("error").Text(linkErrText(l, err))),
			app.If(len(bad) > 0, app.P().ID("t-bad").Class("error").Role("alert").Text(l.T("teacher.bad", strings.Join(bad, ", ")))),
		),
	)
}

// runAvailable says whether the run choice r has a run to embed.
func runAvailable(r string, runs teacherRunsNow) bool {
	switch r {
	case runPretrain, runOpen:
		return runs.Pretrain != nil
	case runCompare:
		return runs.Compare != nil
	}
	return true
}

// controlRows are the controls' rows, each view's under a row with the view's name.
func (t *Teacher) controlRows() []app.UI {
	var rows []app.UI
	for i, c := range lessonControls {
		if i == 0 || lessonControls[i-1].View != c.View {
			rows = append(rows, app.Tr().Class("group").Body(app.Th().ColSpan(3).Scope("colgroup").Text(t.Lang.T("nav."+c.View))))
		}
		rows = append(rows, t.renderControl(c))
	}
	return rows
}

// renderControl is one control's row: its name, shown/hidden/fixed, and the fixed value.
func (t *Teacher) renderControl(c lessonControl) app.UI {
	l := t.Lang
	f := &t.form
	mode := f.Modes[c.ID]
	name := controlName(l, c.ID)
	sel := app.Select().ID("t-ctl-"+c.ID).Aria("label", name).OnChange(func(ctx app.Context, e app.Event) {
		m := ctx.JSSrc().Get("value").String()
		f.Modes[c.ID], t.copied = m, false
		if m == modeFix && f.Values[c.ID] == "" {
			f.Values[c.ID] = t.currentValue(c.ID)
		}
	}).Body(
		app.Option().Value("").Selected(mode == "").Text(l.T("teacher.mode.show")),
		app.Option().Value(modeHide).Selected(mode == modeHide).Text(l.T("teacher.mode.hide")),
		app.If(c.check != nil, app.Option().Value(modeFix).Selected(mode == modeFix).Text(l.T("teacher.mode.fix"))),
	)
	var value app.UI
	if mode == modeFix {
		value = t.renderValue(c, name)
	}
	return app.Tr().Body(app.Th().Scope("row").Text(name), app.Td().Body(sel), app.Td().Body(value))
}

// renderValue is a fixed control's value: a list for the pickers, a box for the numbers.
func (t *Teacher) renderValue(c lessonControl, name string) app.UI {
	l := t.Lang
	f := &t.form
	id := "t-val-" + c.ID
	v := f.Values[c.ID]
	set := func(ctx app.Context, e app.Event) {
		f.Values[c.ID], t.copied = ctx.JSSrc().Get("value").String(), false
	}
	var opts []string
	label := func(x string) string { return x }
	switch c.ID {
	case "corpus":
		opts, label = corpus.Builtins(), func(x string) string { return corpusLabel(l, x, "") }
	case "size":
		for _, p := range core.SizePresets() {
			opts = append(opts, p.Name)
		}
		label = func(x string) string { return l.T("size." + x) }
	case "device":
		opts, label = deviceChoices, func(x string) string { return deviceChoiceLabel(l, x) }
	}
	if opts != nil {
		return app.Select().ID(id).Aria("label", l.T("teacher.value_of", name)).OnChange(set).Body(app.Range(opts).Slice(func(i int) app.UI {
			return app.Option().Value(opts[i]).Selected(opts[i] == v).Text(label(opts[i]))
		}))
	}
	return app.Input().Type("text").ID(id).Attr("inputmode", "decimal").Aria("label", l.T("teacher.value_of", name)).Value(v).OnChange(set)
}

// currentValue is what a control shows now: the embedded run's value, else the first run's.
func (t *Teacher) currentValue(id string) string {
	s, err := setupFromSpec(runspec.Presets()[0].Spec)
	if r := t.runs().Pretrain; r != nil {
		if s2, err2 := setupFromSpec(*r); err2 == nil {
			s, err = s2, nil
		}
	}
	if err != nil {
		return ""
	}
	switch id {
	case "corpus":
		if slices.Contains(corpus.Builtins(), s.CorpusID) {
			return s.CorpusID
		}
		return corpus.Builtins()[0]
	case "size":
		if s.Size != "" {
			return s.Size
		}
		return core.SizePresets()[0].Name
	case "device":
		return s.Device
	}
	if fd, ok := fieldByKey(id); ok {
		return fmtNum(fd.Get(s.Cfg))
	}
	return ""
}

// controlName names a control as the panel lists it.
func controlName(l Lang, id string) string { return l.T(controlKey(id)) }

// controlKey is a control's name's key: the form's own label for its numbers.
func controlKey(id string) string {
	if _, ok := fieldByKey(id); ok {
		return "field." + id
	}
	return "lesson.ctl." + id
}
