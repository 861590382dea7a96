package app

import (
	"slices"
	"strconv"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/compare"
	"pretune/core/runspec"
)

// Path is the guided path's view, "How a language model is made" (path.go has its plain Go).
// It stays mounted whatever view shows, so it hears the runs its buttons started end: in the
// path view it draws the steps; in the view a step's run trains it draws a guide strip saying
// what to look at (the part outlined on the page: the strip's data-watch, web/pretune.css) with
// the way back to the step's question and the next step.
type Path struct {
	app.Compo
	Lang Lang
	View string // the view Home shows

	ctx        app.Context
	short      bool     // the test-only short settings (?path=short in the page's URL)
	allowed    []string // lessonStepsState: the steps a teacher's link allows (nil: all)
	pretrained pretrainedModel
	tuned      tunedModel
	fbDone     int64 // pathFeedbackDoneState: the N of the feedback run that ended
	prog       pathProgress
	started    string // the step whose run the path started in this tab ("": none)
	fbRun      int64  // the N of the feedback run the path asked for
}

// OnMount reads the progress kept in this browser and follows the runs and a teacher's link.
func (p *Path) OnMount(ctx app.Context) {
	p.ctx = ctx
	p.prog = pathProgress{Step: stepPretrain}
	if !app.IsClient {
		return
	}
	p.short = ctx.Page().URL().Query().Get("path") == "short"
	if ls := app.Window().Get("localStorage"); ls.Truthy() {
		if v := ls.Call("getItem", pathKey); v.Type() == app.TypeString {
			p.prog = parseProgress(v.String())
		}
	}
	ctx.ObserveState(lessonStepsState).Value(&p.allowed)
	ctx.ObserveState(pretrainedState).OnChange(p.check).Value(&p.pretrained)
	ctx.ObserveState(tunedState).OnChange(p.check).Value(&p.tuned)
	ctx.ObserveState(pathFeedbackDoneState).OnChange(p.check).Value(&p.fbDone)
}

// check marks the steps whose run finished: the pretraining view's run of step 1's spec, a
// comparison of a step's methods on the facts task, the feedback run the path asked for.
func (p *Path) check() {
	changed := false
	if m := p.pretrained; m.Status == statusDone && !m.FromBase && samePretraining(m.Spec, pretrainSpec(p.Lang, p.short)) {
		changed = p.prog.done(stepPretrain) || changed
	}
	if t := p.tuned; t.Ready && t.Spec.Task != nil && t.Spec.Task.ID == pathLang(p.Lang)+"-facts" {
		for _, step := range []string{stepSFT, stepPEFT} {
			if sameMethods(t.Spec.Methods, stepMethods(step)) {
				changed = p.prog.done(step) || changed
			}
		}
	}
	if p.fbRun != 0 && p.fbDone == p.fbRun {
		changed = p.prog.done(stepFeedback) || changed
	}
	if changed {
		p.keep()
	}
}

// keep writes the progress to localStorage.
func (p *Path) keep() {
	if ls := app.Window().Get("localStorage"); ls.Truthy() {
		ls.Call("setItem", pathKey, p.prog.encode())
	}
}

// navigate opens a fragment: a #r= link in its view, or a view. The nonce makes the same
// fragment again a change the views hear (the built-in runs tab's way).
func (p *Path) navigate(ctx app.Context, frag string) {
	ctx.NavigateTo(linkURL(ctx.Page().URL(), frag+"~"+strconv.FormatInt(time.Now().UnixMilli(), 36)))
}

// fromTuned says whether step 4 starts from the compare view's full fine-tuning: when the last
// comparison the path ran fine-tuned the learner's own model and it is still here.
func (p *Path) fromTuned() bool {
	return p.prog.FromOwn && p.tuned.Ready && slices.Contains(p.tuned.Methods, compare.Full)
}

// run starts a step: the pretraining and fine-tuning steps open their run as a share link does
// (its view shows it and starts it); the feedback step asks the feedback view to run the stage.
func (p *Path) run(ctx app.Context, step string) {
	l := p.Lang
	p.started = step
	switch step {
	case stepFeedback:
		p.fbRun = time.Now().UnixNano()
		ctx.SetState(pathFeedbackState, pathFeedbackRun{N: p.fbRun, FromTuned: p.fromTuned(), Short: p.short})
		p.navigate(ctx, "view="+viewFeedback)
		return
	case stepSFT, stepPEFT:
		_, why := pathBase(l, p.pretrained)
		p.prog.FromOwn = why == ""
		p.keep()
	}
	base, _ := pathBase(l, p.pretrained)
	code, err := runspec.Encode(stepSpec(l, step, base, p.short))
	if err != nil {
		panic(err) // built from the presets, which encode
	}
	p.navigate(ctx, "r="+code)
}

// try starts a step's optional second run (trySpec) in its view, as run does the first.
func (p *Path) try(ctx app.Context, step string) {
	base, _ := pathBase(p.Lang, p.pretrained)
	spec, ok := trySpec(p.Lang, step, base, p.short)
	if !ok {
		return
	}
	code, err := runspec.Encode(spec)
	if err != nil {
		panic(err) // built from the presets, which encode
	}
	p.started = step
	p.navigate(ctx, "r="+code)
}

// show makes step the one shown, and keeps that.
func (p *Path) show(step string) {
	p.prog.Step = step
	p.keep()
	app.Window().Call("scrollTo", 0, 0)
}

// Render draws the path in its view, else the guide strip while a step's run shows.
func (p *Path) Render() app.UI {
	if p.View != viewPath {
		return p.renderGuide()
	}
	l := p.Lang
	visible := visibleSteps(p.allowed)
	cur := p.prog.current(visible)
	return app.Section().ID("path").Class("panel").Body(
		app.H2().Text(l.T("path.title")),
		app.P().Class("explain").Text(l.T("path.intro")),
		app.Nav().Aria("label", l.T("path.steps_label")).Body(
			app.Ol().ID("path-steps").Class("path-steps").Body(app.Range(visible).Slice(func(i int) app.UI {
				id := visible[i]
				label := l.T("path." + id + ".short")
				if p.prog.isDone(id) {
					label += " ✓"
				}
				b := app.Button().ID("path-nav-" + id).Class("chip").Text(label).OnClick(func(ctx app.Context, e app.Event) { p.show(id) })
				if id == cur {
					b = b.Aria("current", "step")
				}
				return app.Li().Body(b)
			})),
		),
		app.Range(visible).Slice(func(i int) app.UI { return p.renderStep(visible, i, cur) }),
	)
}

// renderStep is one step: what it teaches, its button, what to watch, the question with its
// answer behind a click (and, for print, a space to write one), and the way on. Every allowed
// step is drawn; the screen shows the current one (web/pretune.css), print shows them all.
func (p *Path) renderStep(visible []string, i int, cur string) app.UI {
	l := p.Lang
	id := visible[i]
	class := "path-step"
	if id == cur {
		class += " current"
	}
	status := ""
	switch {
	case p.prog.isDone(id):
		status = l.T("path.status.done")
	case p.started == id:
		status = l.T("path.status.started", l.T("nav."+pathWatch[id].View))
	}
	prev, next := neighbour(visible, id, -1), neighbour(visible, id, +1)
	return app.Section().ID("path-step-"+id).Class(class).DataSet("step", id).DataSet("done", p.prog.isDone(id)).
		Aria("labelledby", "path-title-"+id).Body(
		app.H3().ID("path-title-"+id).Text(l.T("path.step_of", i+1, len(visible))+" "+l.T("path."+id+".title")),
		app.P().Text(l.T("path."+id+".text")),
		app.P().Text(l.T("path."+id+".text2")),
		p.renderExtra(id),
		p.renderModel(id),
		app.Div().Class("controls path-do").Body(
			app.Button().ID("path-go-"+id).Class("primary").Text(p.buttonText(id)).OnClick(func(ctx app.Context, e app.Event) { p.run(ctx, id) }),
			app.If(hasTry(id), app.Button().ID("path-try-"+id).Text(l.T("path."+id+".try")).OnClick(func(ctx app.Context, e app.Event) { p.try(ctx, id) })),
			app.Span().ID("path-status-"+id).Class("path-status").Role("status").Text(status),
		),
		app.Div().Class("path-watch").Body(
			app.H4().Text(l.T("path.watch")),
			app.P().Text(l.T("path."+id+".watch")),
		),
		app.Div().ID("path-question-"+id).Class("path-question").Body(
			app.H4().Text(l.T("path.question")),
			app.P().Class("path-q").Text(l.T("path."+id+".q")),
			app.Details().ID("path-answer-"+id).Class("path-answer").Body(
				app.Summary().Text(l.T("path.show_answer")),
				app.P().Text(l.T("path."+id+".a")),
			),
			// Room for a written answer on a printed page (the print stylesheet shows it; empty, it
			// says nothing to a screen reader).
			app.Div().Class("path-answer-space"),
		),
		app.Div().Class("controls path-move").Body(
			app.If(prev != "", app.Button().ID("path-prev-"+id).Text(l.T("path.prev")).OnClick(func(ctx app.Context, e app.Event) { p.show(prev) })),
			app.If(next != "", app.Button().ID("path-next-"+id).Text(l.T("path.next")).OnClick(func(ctx app.Context, e app.Event) { p.show(next) })),
			app.If(next == "", app.P().Class("hint").Text(l.T("path.end"))),
		),
	)
}

// hasTry says whether a step has an optional second run.
func hasTry(step string) bool {
	_, ok := trySpec(EN, step, keptBaseSpec(EN), true)
	return ok
}

// buttonText is a step's button, with the run's size in steps (the real or the short one).
func (p *Path) buttonText(id string) string {
	l := p.Lang
	switch id {
	case stepPretrain:
		return l.T("path.pretrain.go", pretrainSpec(l, p.short).Config.Steps)
	case stepSFT, stepPEFT:
		return l.T("path."+id+".go", stepSpec(l, id, keptBaseSpec(l), p.short).FineTune.Steps)
	}
	return l.T("path.feedback.go")
}

// renderExtra is what a step shows beside its words: the SFT step, one training example in the
// chat format with the characters the loss counts marked (the compare view's own rendering).
func (p *Path) renderExtra(id string) app.UI {
	if id != stepSFT {
		return nil
	}
	chars, err := sftExample(pathLang(p.Lang)+"-facts", false)
	if err != nil {
		return nil
	}
	return app.Pre().ID("path-sft-example").Class("data sample sft").Body(app.Range(chars).Slice(func(i int) app.UI {
		ch := chars[i]
		if ch.Counted {
			return app.Span().Class("ch counted").Text(ch.Text)
		}
		return app.Span().Class("ch ignored").Text(ch.Text)
	}))
}

// renderModel says which model a fine-tuning or feedback step starts from, and why.
func (p *Path) renderModel(id string) app.UI {
	l := p.Lang
	var text string
	switch id {
	case stepSFT, stepPEFT:
		base, why := pathBase(l, p.pretrained)
		if why == "" {
			text = l.T("path.model.own", p.pretrained.ValLoss)
			break
		}
		lang := pathLang(l)
		reason := l.T(why)
		if why == whyLoss {
			reason = l.T(why, p.pretrained.ValLoss, keptBaseLoss[lang]+goodEnoughMargin)
		}
		text = l.T("path.model.kept", base.Config.Steps, keptBaseLoss[lang]) + " " + reason
	case stepFeedback:
		if p.fromTuned() {
			text = l.T("path.model.tuned")
		} else {
			text = l.T("path.model.sft")
		}
	default:
		return nil
	}
	return app.P().ID("path-model-" + id).Class("path-model notice").Text(text)
}

// renderGuide is the strip above a view while a step the path started shows there: the step,
// what to watch (outlined on the page; a live region, so a screen reader hears it), and the way
// back to the step's question.
func (p *Path) renderGuide() app.UI {
	id := p.started
	if id == "" || p.View != pathWatch[id].View {
		return app.Div().ID("path-guide-none").Hidden(true) // a component draws something
	}
	l := p.Lang
	return app.Aside().ID("path-guide").Class("path-guide notice").DataSet("watch", id).Aria("label", l.T("path.guide_label")).Body(
		app.Strong().Text(l.T("path."+id+".title")),
		app.P().ID("path-watch-note").Aria("live", "polite").Text(l.T("path.watching")+" "+l.T("path."+id+".watch")),
		app.Button().ID("path-back").Text(l.T("path.back")).OnClick(func(ctx app.Context, e app.Event) {
			p.show(id)
			p.navigate(ctx, "view="+viewPath)
		}),
	)
}
