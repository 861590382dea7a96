package app

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/fingerprint"
	"pretune/core/protocol"
	"pretune/core/runspec"
	"pretune/core/task"
)

// Compare is the "fine-tune and compare" view: pick a base (the model just pretrained, or a
// built-in one), a task and methods, then every method fine-tunes the same base side by side,
// one Web Worker each; the chart overlays their task losses and the table, the answers and the
// share link follow. A #r= link with a comparison opens here and runs. What it knows and what
// happens to it is compareState (compare_state.go); this file draws it and is its host in the
// browser.
type Compare struct {
	app.Compo
	Lang Lang
	// Lesson is the teacher's link's options: the controls it hides ("cmp.base", "cmp.task",
	// "cmp.methods", "cmp.steps", "cmp.seed") are not drawn, and their defaults run; the steps
	// and seed it fixes show read-only.
	Lesson Lesson

	ctx app.Context
	compareState
	published string // the key of the tunedModel last published for the feedback view
	redraw    redrawThrottle
	specs     specMemo
	// heatFilling are the LoRA heatmaps (by element id) whose cells are being added
	// (heatmapLater); heatSerial numbers the fills.
	heatFilling map[string]bool
	heatSerial  int
}

// OnMount starts the form from the built-in base of the page's language and follows the
// pretraining view's run.
func (c *Compare) OnMount(ctx app.Context) {
	c.ctx, c.host = ctx, c
	if c.form.Base == "" {
		c.form = defaultCompareSetup(c.Lang)
	}
	ctx.ObserveState(pretrainedState).OnChange(c.pretrainedChanged).Value(&c.pretrained)
}

// OnDismount ends the workers: nothing trains for a page that is gone.
func (c *Compare) OnDismount() { c.closeWorkers() }

// OnNav opens a comparison's share link: #r=CODE shows its setup and runs it.
func (c *Compare) OnNav(ctx app.Context) {
	c.ctx, c.host = ctx, c
	if c.form.Base == "" {
		c.form = defaultCompareSetup(c.Lang)
	}
	frag := ctx.Page().URL().Fragment
	if !isLinkFragment(frag) || frag == c.linkCode {
		return
	}
	c.openLink(frag)
}

// startWorker starts a trainer whose messages come back on the UI goroutine for this view.
func (c *Compare) startWorker(handle func(protocol.Message)) worker {
	return newTrainer(c.ctx.ResolveStaticResource("/web/worker.js"), func(m protocol.Message) {
		c.redraw.dispatch(c.ctx, func() {
			handle(m)
			c.publishTuned()
		})
	})
}

// publishTuned tells the feedback view of a finished comparison it may start from, once per
// change (a worker's message may finish it), a moment later.
func (c *Compare) publishTuned() {
	m := c.tuned()
	if k := m.key(); k != c.published {
		c.published = k
		// In a task of its own: the views that follow it (feedback, path, teacher) redraw then,
		// not in the task of the comparison's last redraw (the two were 60 ms under load).
		quietlyAfter(c.ctx, 50*time.Millisecond, func(ctx app.Context) { ctx.SetState(tunedState, m) })
	}
}

// fetchBase fetches a built-in base, kept on the server as web/base/<name>.ckpt.
func (c *Compare) fetchBase(name string, done func(data []byte, err error)) {
	fetchBytes(c.ctx, c.ctx.ResolveStaticResource("/web/base/"+name+".ckpt"), func(_ app.Context, data []byte, err error) {
		done(data, err)
	})
}

// dispatch runs fn on the UI goroutine for this component (from any goroutine or callback).
func (c *Compare) dispatch(fn func()) { c.ctx.Dispatch(func(app.Context) { fn() }) }

func (c *Compare) setLang(l Lang) { setLang(c.ctx, l) }

func (c *Compare) speed(key string) float64         { return storedSpeed(key) }
func (c *Compare) keepSpeed(key string, ms float64) { keepStoredSpeed(key, ms) }

// renderLongRun asks before a comparison estimated at more than two minutes here.
func (c *Compare) renderLongRun() app.UI {
	if c.measure != nil {
		return app.P().ID("cmp-measuring").Text(c.Lang.T("long.measuring"))
	}
	if c.ask == nil {
		return nil
	}
	return longRunDialog(c.Lang, "cmp-long", c.ask.q.lines(c.Lang, true), c.startAnyway, c.cancelLong)
}

// cores is the browser's count of logical cores (navigator.hardwareConcurrency; 1 when it
// does not say): how many methods' workers train side by side.
func (c *Compare) cores() int {
	if n := app.Window().Get("navigator").Get("hardwareConcurrency"); n.Type() == app.TypeNumber {
		return max(n.Int(), 1)
	}
	return 1
}

// Render draws the view.
func (c *Compare) Render() app.UI {
	l := c.Lang
	if c.form.Base == "" {
		c.form = defaultCompareSetup(l)
	}
	c.fixed = c.Lesson.Fix
	fixCompare(&c.form, c.fixed)
	return app.Div().ID("compare").Body(
		c.renderLink(),
		app.P().Class("explain").Body(
			app.Text(l.T("explain.compare")+" "),
			c.tryLinks(),
		),
		app.Div().Class("columns").Body(
			&part{Name: partForm, Key: c.formKey(), host: c},
			c.renderLive(),
		),
	)
}

func (c *Compare) renderLink() app.UI {
	l := c.Lang
	s := c.link
	if s == nil {
		return nil
	}
	var changed app.UI
	if c.linkErr != nil {
		changed = app.P().Class("error").Body(
			app.Text(l.T("link.corpus_changed")+" "),
			app.Button().ID("cmp-run-anyway").Text(l.T("link.run_anyway")).OnClick(func(ctx app.Context, e app.Event) { c.runAnyway() }),
		)
	}
	var names []string
	for _, m := range s.Methods {
		names = append(names, methodName(l, m.Label()))
	}
	exp := s.Fingerprint
	if exp == "" {
		exp = l.T("link.no_fingerprint")
	}
	var each []string // the results' fingerprints the link carries (version 4), base first
	for _, name := range append([]string{compare.Base}, methodLabels(s.Methods)...) {
		if fp, ok := s.Fingerprints[name]; ok {
			each = append(each, methodName(l, name)+": "+fp)
		}
	}
	cfg := s.Config
	return app.Section().ID("cmp-link").Class("notice").Body(
		app.H2().Text(l.T("cmp.link_title")),
		app.Dl().Body(
			dlRow(l.T("cmp.base"), baseLabel(l, c.linkBase(*s))+" · "+corpusLabel(l, s.Corpus.ID, s.Corpus.Name)+" · "+
				l.T("model.shape", cfg.Layers, cfg.Dim, cfg.Heads, cfg.Context)+" · "+l.T("model.training", cfg.Steps, cfg.Batch, cfg.LR, cfg.Seed)),
			dlRow(l.T("cmp.task"), taskLabel(l, s.Task.ID)),
			dlRow(l.T("cmp.methods"), strings.Join(names, ", ")),
			dlRow(l.T("cmp.schedule"), l.T("cmp.schedule_text", s.FineTune.Steps, s.FineTune.Warmup, s.FineTune.EvalEvery, s.FineTuneSeed())),
			app.Div().Body(app.Dt().Text(l.T("label.expected")), app.Dd().Body(app.Code().Class("data").Text(exp))),
			app.If(len(each) > 0, app.Div().ID("cmp-link-each").Body(app.Dt().Text(l.T("cmp.expected_each")),
				app.Dd().Body(app.Code().Class("data").Text(strings.Join(each, " · "))))),
		),
		changed,
	)
}

// methodLabels are the methods' names in results.
func methodLabels(ms []compare.Method) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Label())
	}
	return out
}

func (c *Compare) renderForm() app.UI {
	l := c.Lang
	f := &c.form
	running := c.running()
	def := defaultCompareSetup(l)
	sched := runspec.ScheduleFor(f.Steps)
	// The setup folds away once a comparison starts, so its results, chart and share button sit
	// at the top of the page; the learner opens it again to change something.
	// Every change and click in the form bubbles here: the view redraws with the form in the
	// same frame (the form is a part, which would tell it a frame later), so the Run button
	// follows what the learner just did.
	return app.Details().Class("panel setup").ID("cmp-setup").Open(c.cmp == nil).
		OnChange(func(app.Context, app.Event) { c.partChanged() }).
		OnClick(func(app.Context, app.Event) { c.partChanged() }).Body(
		app.Summary().Body(app.H2().Text(l.T("setup.title"))),
		app.If(!c.Lesson.hides("cmp.base"), app.FieldSet().Body(
			app.Legend().Text(l.T("cmp.base")),
			app.Label().For("cmp-base").Text(l.T("cmp.base_pick")),
			app.Select().ID("cmp-base").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
				c.pickBase(ctx.JSSrc().Get("value").String())
			}).Body(
				app.Option().Value(basePretrained).Disabled(!c.pretrained.Ready).Selected(f.Base == basePretrained).Text(c.pretrainedLabel()),
				app.Range(builtinBases()).Slice(func(i int) app.UI {
					name := builtinBases()[i]
					return app.Option().Value(name).Selected(f.Base == name).Text(baseLabel(l, name))
				}),
				app.If(c.link != nil, app.Option().Value(baseLink).Selected(f.Base == baseLink).Text(baseLabel(l, baseLink))),
			),
			pickerDefault(l, "cmp-base", baseLabel(l, def.Base), running || f.Base == def.Base, func() {
				f.SetBase(def.Base, def.Pre)
			}),
			app.If(!c.pretrained.Ready, app.P().ID("cmp-pretrained-hint").Class("hint").Text(c.pretrainedHint())),
			app.P().ID("cmp-base-info").Class("hint").Text(c.baseInfo()),
		)),
		app.If(!c.Lesson.hides("cmp.task"), app.FieldSet().Body(
			app.Legend().Text(l.T("cmp.task")),
			app.Label().For("cmp-task").Text(l.T("cmp.task_pick")),
			app.Select().ID("cmp-task").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
				f.SetTask(ctx.JSSrc().Get("value").String())
			}).Body(app.Range(f.Tasks()).Slice(func(i int) app.UI {
				id := f.Tasks()[i]
				return app.Option().Value(id).Selected(f.Task == id).Text(taskLabel(l, id))
			})),
			pickerDefault(l, "cmp-task", taskLabel(l, f.FirstTask()), running || f.Task == f.FirstTask(), func() {
				f.SetTask(f.FirstTask())
			}),
			app.If(f.Masked(), app.P().ID("cmp-masked").Class("hint").Text(l.T("cmp.masked_base"))),
			app.If(f.Task == runspec.UserTask, c.renderUserTask(running)),
			app.P().Class("hint").Text(l.T("task.kind."+f.TaskKind())),
			c.renderSFT(),
		)),
		app.If(!c.Lesson.hides("cmp.methods"), app.FieldSet().ID("cmp-methods").Body(
			app.Legend().Text(l.T("cmp.methods")),
			app.Range(f.Methods).Slice(func(i int) app.UI { return c.renderMethod(&f.Methods[i], running) }),
		)),
		app.FieldSet().Body(
			app.Legend().Text(l.T("cmp.schedule")),
			c.lessonNumber("cmp.steps", "cmp-steps", l.T("field.steps"), float64(f.Steps), c.renderNumber("cmp-steps", l.T("field.steps"), float64(f.Steps), compare.DefaultSteps, running,
				func(text string) error { return f.SetSteps(text) }, func() { f.Steps = compare.DefaultSteps })),
			c.lessonNumber("cmp.seed", "cmp-seed", l.T("field.seed"), float64(f.Seed), c.renderNumber("cmp-seed", l.T("field.seed"), float64(f.Seed), float64(f.Pre.Config.Seed), running,
				func(text string) error { return f.SetSeed(text) }, func() { f.Seed = f.Pre.Config.Seed })),
			app.P().ID("cmp-schedule").Class("hint").Text(l.T("cmp.schedule_hint", sched.Warmup, sched.EvalEvery)),
		),
		c.renderCheck(),
	)
}

// lessonNumber is a number as the lesson has it: ui, nothing when the lesson hides control id,
// or value read-only (in an <output> with the input's element id) when it fixes it.
func (c *Compare) lessonNumber(id, elemID, label string, value float64, ui app.UI) app.UI {
	if c.Lesson.hides(id) {
		return nil
	}
	if _, ok := c.Lesson.fixed(id); ok {
		return fixedRow(c.Lang, elemID, label, fmtNum(value))
	}
	return ui
}

// tryLinks are the explanation's "try this" links: each loads a setting worth comparing and
// highlights the control it changed.
func (c *Compare) tryLinks() app.UI {
	l := c.Lang
	f := &c.form
	if c.running() || c.Lesson.hides("cmp.methods") { // they change the methods' settings
		return nil
	}
	return app.Span().Body(
		tryThis(l, "try.lora_rank1", f.tryLoRARank1, "m-lora-rank"),
		app.Text(" · "),
		tryThis(l, "try.lora_mlp", f.tryLoRAMLP, "m-lora-targets"),
		app.Text(" · "),
		tryThisText(tryFullLRText(l), f.tryFullLR, "m-full-lr"),
	)
}

// renderUserTask is the learner's own task: what the file holds, the text (pasted or loaded)
// and the formats it may have.
func (c *Compare) renderUserTask(running bool) app.UI {
	l := c.Lang
	f := &c.form
	return app.Div().ID("cmp-user-task-box").Body(
		app.Label().For("cmp-user-kind").Text(l.T("usertask.kind")),
		app.Select().ID("cmp-user-kind").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
			f.SetUserKind(ctx.JSSrc().Get("value").String())
		}).Body(
			app.Option().Value(task.KindGenerate).Selected(f.TaskKind() == task.KindGenerate).Text(l.T("usertask.kind.generate")),
			app.Option().Value(task.KindClassify).Selected(f.TaskKind() == task.KindClassify).Text(l.T("usertask.kind.classify")),
		),
		app.Label().For("cmp-user-task").Text(l.T("usertask.paste")),
		app.Textarea().ID("cmp-user-task").Class("data").Rows(6).Disabled(running).
			Attr("placeholder", l.T("usertask.placeholder."+f.TaskKind())).Text(f.UserText).
			OnChange(func(ctx app.Context, e app.Event) {
				f.UserText, f.UserName = ctx.JSSrc().Get("value").String(), l.T("usertask.pasted")
			}),
		fileButton("cmp-user-file", l.T("usertask.load"), ".tsv,.jsonl,.txt,text/plain", func(ctx app.Context, e app.Event) {
			readFile(ctx, ctx.JSSrc(), func(ctx app.Context, name string, data []byte) {
				f.UserText, f.UserName = string(data), name
			})
		}),
		app.P().Class("hint").Text(l.T("usertask.formats."+f.TaskKind())),
	)
}

// renderCheck says why the form cannot run, if it cannot.
func (c *Compare) renderCheck() app.UI {
	_, err := c.specs.get(c.form, c.Lang)
	if err == nil {
		return nil
	}
	return app.P().ID("cmp-error").Class("error").Role("alert").Body(c.specErr(err)...)
}

// specErr says why a comparison's setup cannot run, in the page's language, with runspec's own
// words (English) as data.
func (c *Compare) specErr(err error) []app.UI {
	l := c.Lang
	switch {
	case errors.Is(err, errNoMethod):
		return []app.UI{app.Text(l.T("cmp.err.no_method"))}
	case errors.Is(err, errNoTargets):
		return []app.UI{app.Text(l.T("cmp.err.no_targets"))}
	case errors.Is(err, errNoUserTask):
		return []app.UI{app.Text(l.T("usertask.err.none"))}
	}
	var pe *task.ParseError
	if errors.As(err, &pe) {
		return []app.UI{app.Text(taskFileErrText(l, pe))}
	}
	return []app.UI{app.Text(l.T("config.err") + " "), app.Span().Class("data").Text(err.Error())}
}

// renderMethod is one method's row: its tick box, then its settings with their defaults and
// reset buttons.
func (c *Compare) renderMethod(m *methodSetup, running bool) app.UI {
	l := c.Lang
	id := "m-" + m.Kind
	headOff := m.Kind == compare.Head && c.form.TaskKind() != task.KindClassify
	disabled := running || !m.On || headOff
	var settings []app.UI
	for _, fd := range fieldsOf(m.Kind) {
		fd := fd
		settings = append(settings, c.renderNumber(id+"-"+fd.Key, l.T("mfield."+fd.Key), fd.Get(*m), fd.Default(*m), disabled,
			func(text string) error { return m.SetField(fd.Key, text) }, func() { m.Reset(fd.Key) }))
	}
	if compare.LoRALike(m.Kind) {
		settings = append(settings, c.renderTargets(m, disabled))
	}
	if m.Kind == compare.Head {
		settings = append(settings, app.Div().Class("field").Body(
			app.Input().Type("checkbox").ID(id+"-train_body").Checked(m.TrainBody).Disabled(disabled).OnChange(func(ctx app.Context, e app.Event) {
				m.TrainBody = ctx.JSSrc().Get("checked").Bool()
			}),
			app.Label().For(id+"-train_body").Class("inline").Text(l.T("mfield.train_body")),
			app.Span().Class("default").Text(l.T("field.default", l.T("cmp.no"))),
			resetButton(l, id+"-train_body", l.T("mfield.train_body"), disabled || m.IsDefault("train_body"), func() { m.Reset("train_body") }),
		))
	}
	var note app.UI
	if headOff {
		note = app.P().Class("hint").Text(l.T("cmp.head_needs_classify"))
	}
	return app.Div().Class("method").ID(id+"-row").Body(
		app.Div().Class("method-pick").Body(
			app.Input().Type("checkbox").ID(id).Checked(m.On && !headOff).Disabled(running || headOff).
				Attr("aria-describedby", id+"-about").OnChange(func(ctx app.Context, e app.Event) {
				m.On = ctx.JSSrc().Get("checked").Bool()
			}),
			app.Label().For(id).Class("inline").Text(methodName(l, m.Kind)),
		),
		app.P().ID(id+"-about").Class("hint").Text(l.T("method.about."+m.Kind)),
		note,
		app.Div().Class("fields").Body(settings...),
	)
}

// renderTargets is LoRA's choice of layers (or a LoRA-like kind's: LoRA+, PiSSA): a box for
// each, with the default set's reset.
func (c *Compare) renderTargets(m *methodSetup, disabled bool) app.UI {
	l := c.Lang
	chosen := m.targets()
	pre := "m-" + m.Kind // m-lora-targets, m-lora-target-q_proj, ...: LoRA's ids as they were
	return app.FieldSet().ID(pre+"-targets").Class("targets").Body(
		app.Legend().Text(l.T("mfield.targets")),
		app.Range(core.LoRATargets[:]).Slice(func(i int) app.UI {
			name := core.LoRATargets[i]
			id := pre + "-target-" + name
			return app.Span().Class("target").Body(
				app.Input().Type("checkbox").ID(id).Checked(slices.Contains(chosen, name)).Disabled(disabled).
					OnChange(func(ctx app.Context, e app.Event) { m.SetTarget(name, ctx.JSSrc().Get("checked").Bool()) }),
				app.Label().For(id).Class("inline").Body(app.Span().Class("data").Text(name)),
			)
		}),
		app.Div().Body(
			app.Span().Class("default").Text(l.T("field.default", l.T("mfield.targets_default"))),
			resetButton(l, pre+"-targets", l.T("mfield.targets"), disabled || m.IsDefault("targets"), func() { m.Reset("targets") }),
		),
	)
}

// renderNumber is one number input with its label, its default and a reset button (numberInput,
// shared with the other methods forms); refusals are kept in the state's errs.
func (c *Compare) renderNumber(id, label string, value, def float64, disabled bool, set func(string) error, reset func()) app.UI {
	return numberInput(c.Lang, &c.errs, id, label, value, def, disabled, set, reset)
}

// pretrainedLabel names the "model just pretrained" choice, with the run's name once there is one.
func (c *Compare) pretrainedLabel() string {
	l := c.Lang
	if c.pretrained.Ready {
		return l.T("base.pretrained_named", runLabel(l, c.pretrained.Name))
	}
	return baseLabel(l, basePretrained)
}

// pretrainedHint says why the model just pretrained cannot be chosen yet.
func (c *Compare) pretrainedHint() string {
	l := c.Lang
	switch {
	case c.pretrained.FromBase:
		return l.T("base.hint.from_base")
	case c.pretrained.Status == statusStarting || c.pretrained.Status == statusRunning || c.pretrained.Status == statusPaused:
		return l.T("base.hint.running")
	}
	return l.T("base.hint.none")
}

// baseInfo describes the chosen base: its text, shape and pretraining.
func (c *Compare) baseInfo() string {
	l := c.Lang
	s := c.form.Pre
	cfg := s.Config
	return corpusLabel(l, s.Corpus.ID, s.Corpus.Name) + " · " + l.T("model.shape", cfg.Layers, cfg.Dim, cfg.Heads, cfg.Context) +
		" · " + l.T("model.training", cfg.Steps, cfg.Batch, cfg.LR, cfg.Seed)
}

// baseLabel names a base choice.
func baseLabel(l Lang, name string) string {
	return l.T("base." + name)
}

// taskLabel names a built-in task.
func taskLabel(l Lang, id string) string { return l.T("task." + id) }

func (c *Compare) renderLive() app.UI {
	l := c.Lang
	running := c.running()
	_, formErr := c.specs.get(c.form, l)
	return app.Section().Class("panel").ID("cmp-live").Body(
		app.H2().Text(l.T("cmp.live_title")),
		app.Div().Class("controls").Body(
			app.Button().ID("cmp-run").Class("primary").Text(l.T("cmp.run")).Disabled(running || formErr != nil || c.ask != nil || c.measure != nil).
				OnClick(func(ctx app.Context, e app.Event) { c.runForm(c.Lang) }),
			app.Button().ID("cmp-stop").Text(l.T("btn.stop")).Disabled(!running).
				OnClick(func(ctx app.Context, e app.Event) { c.stop() }),
		),
		c.renderLongRun(),
		c.renderStatus(),
		c.renderLanes(),
		// The results first, with the share button and the exports under them: what a class reads
		// out and sends on, before the chart and the answers.
		c.tablePart(),
		c.renderShare(),
		c.renderExports(),
		app.Div().ID("cmp-chart-box").Body(&chartFigure{Lang: c.Lang, Plot: c.chartPlot()}),
		c.answersPart(),
		c.renderLoRA(),
	)
}

// chartPlot is the comparison's chart, or an empty one before any run.
func (c *Compare) chartPlot() plot {
	if c.cmp == nil {
		return newComparison(runspec.Spec{FineTune: &runspec.FineTune{}}).plot(c.Lang)
	}
	return c.cmp.plot(c.Lang)
}

func (c *Compare) renderStatus() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil {
		return app.P().ID("cmp-status").Class("hint").Text(l.T("cmp.idle"))
	}
	var errP, pre, base app.UI
	if cmp.Phase == phaseFailed && cmp.ErrKey != "" {
		why := l.T(cmp.ErrKey)
		if cmp.ErrCheckpoint != nil {
			why += " " + checkpointErrText(l, cmp.ErrCheckpoint)
		}
		errP = app.Div().ID("cmp-run-error").Class("error").Role("alert").Body(
			app.Text(why),
			app.If(cmp.ErrDetail != "", app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(cmp.ErrDetail))),
		)
	}
	if r := cmp.Pretraining; r != nil && cmp.Phase == phasePretrain {
		pre = app.P().ID("cmp-pretraining").Body(
			app.Text(l.T("cmp.pretraining", r.Step, r.Steps)+" "),
			app.Progress().Max(max(r.Steps, 1)).Value(r.Step).Aria("label", l.T("cmp.pretraining_label")),
		)
	}
	if cmp.BaseNote != "" {
		fp := ""
		var match app.UI
		if pr := cmp.PretrainResult; pr != nil {
			fp = pr.Fingerprint
			if m := fingerprint.Verdict(cmp.Spec.Fingerprint, fp); m != "" {
				match = app.Span().ID("cmp-match").Attr("data-match", m).Text(" · " + l.T("cmp.match."+m))
			}
		}
		base = app.P().ID("cmp-base-line").Body(
			app.Text(l.T(cmp.BaseNote)),
			app.If(fp != "", app.Text(" · "+l.T("label.fingerprint")+" "), app.Code().ID("cmp-base-fingerprint").Class("data").Text(fp)),
			match,
		)
	}
	return app.Div().ID("cmp-status-box").Body(
		app.P().ID("cmp-status").Attr("data-phase", cmp.Phase).Body(app.Strong().Text(l.T("phase."+cmp.Phase))),
		pre, base, errP,
	)
}

// renderLanes is every method's progress: its state, steps, device and any error.
func (c *Compare) renderLanes() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil || !cmp.Started {
		return nil
	}
	return app.Ul().ID("cmp-lanes").Class("lanes").Body(app.Range(cmp.Lanes).Slice(func(i int) app.UI {
		ln := cmp.Lanes[i]
		name := methodName(l, ln.Method.Label())
		dev := l.T("device.waiting")
		if ln.Device != "" {
			dev = ln.Device
		}
		var fallback, errP app.UI
		if ln.Fallback != "" && (i == 0 || cmp.Lanes[i-1].Fallback != ln.Fallback) { // said once for lanes alike
			fallback = fallbackNote(l, fmt.Sprintf("cmp-fallback-%d", i), ln.Fallback)
		}
		if ln.Err != "" {
			errP = app.P().Class("error").Role("alert").Body(app.Text(l.T("status.failed_because")+" "), app.Span().Class("data").Text(ln.Err))
		}
		return app.Li().ID(fmt.Sprintf("cmp-lane-%d", i)).Attr("data-status", ln.Status).Body(
			app.Raw(swatch(i)), app.Text(" "), app.Strong().Text(name),
			app.Span().Class("lane-progress").Text(" · "+l.T("status."+ln.Status)+" · "+laneProgress(l, ln)+" "),
			app.Progress().Max(max(ln.Steps, 1)).Value(ln.Step).Aria("label", l.T("cmp.lane_label", name)),
			app.Text(" · "+l.T("label.device")+": "), app.Span().Class("data").Text(dev),
			fallback, errP,
		)
	}))
}

// laneProgress is a method's steps, with its pace and time left while it trains.
func laneProgress(l Lang, ln *lane) string {
	s := l.T("live.step", ln.Step, ln.Steps)
	if ln.Status != statusRunning {
		return s
	}
	if ps := ln.Pace.perSecond(); ps > 0 {
		s += " · " + l.T("live.steps_ps", fmtRate(ps))
	}
	if left, ok := ln.Pace.left(ln.Steps); ok {
		s += " · " + fmtLeft(l, left)
	}
	return s
}

func (c *Compare) renderExports() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil || cmp.BaseResult == nil {
		return nil
	}
	return app.Div().Class("controls").ID("cmp-exports").Body(
		app.Button().ID("cmp-csv").Text(l.T("cmp.export_csv")).OnClick(func(ctx app.Context, e app.Event) {
			download(cmp.CSV(c.Lang), "comparison.csv")
		}),
		app.Button().ID("cmp-svg").Text(l.T("cmp.export_svg")).OnClick(func(ctx app.Context, e app.Event) {
			download([]byte(cmp.chart(c.Lang)), "comparison-loss.svg")
		}),
	)
}

// renderTable is the results: the base first, then each method as it finishes.
func (c *Compare) renderTable() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil || !cmp.Started {
		return nil
	}
	rows := cmp.Rows()
	return app.Div().ID("cmp-results").Body(
		app.H3().Text(l.T("cmp.results")),
		scrollBox("table-scroll", l.T("cmp.results")).Body(app.Table().ID("cmp-table").Body(
			app.THead().Body(app.Tr().Body(
				colHead(l, "table.method", ""),
				colHead(l, "table.accuracy", ""),
				colHead(l, "table.forgetting", ""),
				colHead(l, "table.trainable", ""),
				colHead(l, "table.share", ""),
				colHead(l, "table.optimizer", ""),
				colHead(l, "table.ms", " *").Attr("aria-describedby", "cmp-ms-note"),
				colHead(l, "label.fingerprint", ""),
			)),
			app.TBody().Body(app.Range(rows).Slice(func(i int) app.UI {
				r := rows[i]
				cell := func(class, v string) app.UI { return resultCell(r.Status, class, v) }
				return app.Tr().DataSet("method", r.Name).DataSet("status", r.Status).Body(
					app.Th().Scope("row").Body(
						app.Text(methodName(l, r.Name)),
						app.If(r.Status != statusDone, app.Span().Class("hint").Text(" ("+l.T("status."+r.Status)+")")),
					),
					cell("accuracy", fmtPct(r.Accuracy)),
					cell("forgetting", fmtForgetting(r.Forgetting)),
					cell("trainable", fmtParams(r.Trainable)),
					cell("share", fmtSharePct(r.Share)),
					cell("optimizer", fmtBytes(r.OptBytes)),
					cell("ms", fmtMs(r.MsPerStep)),
					app.Td().Class("fingerprint").Body(app.Code().Class("data").Text(r.Fingerprint), rowMatch(l, r)),
				)
			})),
		)),
		app.P().ID("cmp-ms-note").Class("hint").Text("* "+l.T("cmp.ms_note")),
	)
}

// colHead is a results column's heading: its name with the unit (and a note's mark), its
// one-line explanation shown on hover.
func colHead(l Lang, key, mark string) app.HTMLTh {
	return app.Th().Scope("col").Title(l.T("about." + key)).Text(l.T(key) + mark)
}

// rowMatch says how a result's fingerprint compares with the one the link carried for it, or
// nothing when the link carried none.
func rowMatch(l Lang, r resultRow) app.UI {
	if r.Match == "" {
		return nil
	}
	class := map[string]string{fingerprint.Matches: "good", fingerprint.Differs: "error"}[r.Match]
	text := l.T("cmp.fp."+r.Match, r.Expected)
	if r.Match == fingerprint.Matches {
		text = l.T("cmp.fp.matches")
	}
	return app.Span().Class("match "+class).Attr("data-match", r.Match).Text(" · " + text)
}

// fmtParams and fmtSharePct are the table's forms (the CSV keeps plain numbers); the base
// trains nothing.
func fmtParams(v *int) string {
	if v == nil {
		return "–"
	}
	return groupDigits(*v)
}

func fmtSharePct(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmtShare(v) + "%"
}

// renderAnswers shows the fixed prompts as rows and each model's answer in a column.
func (c *Compare) renderAnswers() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil {
		return nil
	}
	rows := cmp.AnswerRows()
	if len(rows) == 0 {
		return nil
	}
	cols := cmp.AnswerColumns()
	return app.Div().ID("cmp-answers-box").Body(
		app.H3().Text(l.T("cmp.answers")),
		scrollBox("table-scroll", l.T("cmp.answers")).Body(app.Table().ID("cmp-answers").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Scope("col").Text(l.T("cmp.prompt")),
				app.Th().Scope("col").Text(l.T("cmp.expected")),
				app.Range(cols).Slice(func(i int) app.UI {
					return app.Th().Scope("col").DataSet("method", cols[i].Name).Body(answerHeader(l, cols[i], cmp))
				}),
			)),
			app.TBody().Body(app.Range(rows).Slice(func(i int) app.UI {
				r := rows[i]
				return app.Tr().Body(
					app.Th().Scope("row").Body(app.Span().Class("data").Text(r.Prompt)),
					app.Td().Body(app.Span().Class("data").Text(r.Expected)),
					app.Range(r.Answers).Slice(func(j int) app.UI {
						a := r.Answers[j]
						class := "data answer"
						if a != "" && a == r.Expected {
							class += " right"
						}
						return app.Td().DataSet("method", cols[j].Name).Body(app.Span().Class(class).Text(a))
					}),
				)
			})),
		)),
	)
}

// answerHeader names an answers column: the model, and for a LoRA model whose switch is not on,
// which answers it shows.
func answerHeader(l Lang, col answerColumn, cmp *comparison) app.UI {
	var name app.UI = app.Text(methodName(l, col.Name))
	if col.Name == compare.Loaded && cmp.Loaded != nil {
		name = loraPanelName(l, loraPanel{Name: compare.Loaded, File: cmp.Loaded.Name})
	}
	if col.Mode == "" || col.Mode == adapterOn {
		return name
	}
	return app.Span().Body(name, app.Span().Class("hint").Text(" ("+l.T("lora.mode."+col.Mode)+")"))
}

func (c *Compare) renderShare() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil {
		return nil
	}
	return app.Div().Class("share").Body(
		app.Button().ID("cmp-share").Text(l.T("btn.share")).OnClick(func(ctx app.Context, e app.Event) {
			spec := cmp.Spec
			spec.Lang = string(c.Lang)
			if pr := cmp.PretrainResult; pr != nil && pr.Fingerprint != "" {
				spec.Fingerprint = pr.Fingerprint
			}
			if fps := cmp.Fingerprints(); fps != nil {
				spec.Fingerprints = fps
			}
			c.share.make(l, spec)
		}),
		app.Span().Class("hint").Text(" "+l.T("cmp.share_hint")),
		c.share.render(l, "cmp-"),
	)
}

// resultCell is one figure of a results table (the comparison's, the feedback stage's): "–"
// until the row's model finished, or where it has nothing to measure (the base, the SFT model
// trains nothing); its text is data, numbers and units in no language.
func resultCell(status, class, v string) app.UI {
	if status != statusDone || v == "" {
		v = "–"
	}
	return app.Td().Class("num data " + class).Text(v)
}
