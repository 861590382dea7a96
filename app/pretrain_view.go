package app

import (
	"bytes"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/fingerprint"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// Pretrain is the pretraining page: the form, the run controls, the live chart, device, speed
// and samples, a look inside the model, the share link, and saving and loading the model. Each run trains in a Web Worker
// of its own, so the page never waits on training. What it knows and what happens to it is
// pretrainState (pretrain_state.go); this file draws it and is its host in the browser.
type Pretrain struct {
	app.Compo
	Lang Lang
	// Lesson is the teacher's link's options: its hidden controls are not drawn, its fixed
	// values are set and shown read-only (lesson_link.go).
	Lesson Lesson

	ctx app.Context
	pretrainState
	loading atomic.Bool    // isLoading, as of the last Render
	redraw  redrawThrottle // spaces the redraws its worker's messages cause
}

// OnMount remembers the context for the workers' messages and looks for an unfinished run
// to offer (unless a link is being opened).
func (p *Pretrain) OnMount(ctx app.Context) {
	p.ctx, p.host = ctx, p
	if app.IsClient {
		if n := app.Window().Get("navigator").Get("hardwareConcurrency"); n.Truthy() {
			cores = max(1, n.Int())
		}
	}
	if p.form.CorpusID == "" {
		p.form = defaultSetup()
	}
	if app.IsClient && !isLinkFragment(ctx.Page().URL().Fragment) {
		loadRun(ctx, func(ctx app.Context, s *savedRun) { p.offerKept(s) })
	}
	if app.IsClient {
		ctx.Async(func() { p.tick(ctx) })
	}
}

// tick redraws the page while a run loads (or the device is measured), so the
// seconds since Start count up until the first step arrives: nothing looks frozen. Once steps
// arrive they move the page themselves, and nothing is redrawn for the clock.
func (p *Pretrain) tick(ctx app.Context) {
	// Four times a second, so each second's count shows within a quarter second of when it
	// is due (the ticker does not start with the run).
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if p.loading.Load() {
				ctx.Dispatch(func(app.Context) {})
			}
		}
	}
}

// isLoading says whether the page waits for a run's first step (Render keeps it in loading
// for tick, which reads it from its own goroutine).
func (p *Pretrain) isLoading() bool {
	if p.measure != nil {
		return true
	}
	r := p.cur
	return r != nil && r.Active() && r.Step == 0 && !r.Began.IsZero()
}

// OnDismount ends the workers: nothing trains for a page that is gone.
func (p *Pretrain) OnDismount() { p.closeWorker() }

// OnNav opens a share link: #r=CODE shows the run's setup and starts it.
func (p *Pretrain) OnNav(ctx app.Context) {
	p.ctx, p.host = ctx, p
	if app.IsClient {
		if n := app.Window().Get("navigator").Get("hardwareConcurrency"); n.Truthy() {
			cores = max(1, n.Int())
		}
	}
	if p.form.CorpusID == "" {
		p.form = defaultSetup()
	}
	frag := ctx.Page().URL().Fragment
	if !isLinkFragment(frag) || frag == p.linkCode {
		return
	}
	p.openLink(frag)
}

// startWorker starts a trainer whose messages come back through the component's own context,
// not a clicked button's: a button that goes away with the click (the resume offer) would take
// its dispatches with it.
func (p *Pretrain) startWorker(handle func(protocol.Message)) worker {
	ctx := p.ctx
	return newTrainer(ctx.ResolveStaticResource("/web/worker.js"), func(m protocol.Message) {
		p.redraw.dispatch(ctx, func() {
			handle(m)
			if m.Kind == protocol.Result { // the whole run's speed, for the built-in runs tab
				noteSpeed(p.cur)
			}
		})
	})
}

func (p *Pretrain) publishModel(m pretrainedModel)    { p.ctx.SetState(pretrainedState, m) }
func (p *Pretrain) setLang(l Lang)                    { setLang(p.ctx, l) }
func (p *Pretrain) keepRun(s savedRun)                { storeRun(s) }
func (p *Pretrain) forgetRun()                        { forgetRun() }
func (p *Pretrain) download(data []byte, name string) { download(data, name) }

func (p *Pretrain) speed(key string) float64         { return storedSpeed(key) }
func (p *Pretrain) keepSpeed(key string, ms float64) { keepStoredSpeed(key, ms) }

// storedSpeed reads a measured speed from localStorage (0 when there is none or it is
// unreadable).
func storedSpeed(key string) float64 {
	ls := app.Window().Get("localStorage")
	if !ls.Truthy() {
		return 0
	}
	v := ls.Call("getItem", key)
	if v.Type() != app.TypeString {
		return 0
	}
	ms, err := strconv.ParseFloat(v.String(), 64)
	if err != nil {
		return 0
	}
	return ms
}

// keepStoredSpeed keeps a measured speed in localStorage for the next estimate on this device.
func keepStoredSpeed(key string, ms float64) {
	if ls := app.Window().Get("localStorage"); ls.Truthy() {
		ls.Call("setItem", key, strconv.FormatFloat(ms, 'g', 4, 64))
	}
}

// Render draws the page.
func (p *Pretrain) Render() app.UI {
	p.loading.Store(p.isLoading())
	l := p.Lang
	if p.form.CorpusID == "" {
		p.form = defaultSetup()
	}
	p.fixed = p.Lesson.Fix
	fixSetup(&p.form, p.fixed)
	return app.Div().ID("pretrain").Body(
		p.renderLink(),
		p.renderOffer(),
		app.P().Class("explain").Body(app.Text(l.T("explain.pretrain")+" "),
			app.If(!p.Lesson.locked("lr"), tryThisText(tryHighLRText(l, p.form), p.form.tryHighLR, "f-lr"))),
		app.Div().Class("columns").Body(
			p.renderForm(),
			p.renderLive(),
		),
	)
}

func (p *Pretrain) renderLink() app.UI {
	l := p.Lang
	switch {
	case p.linkErr != nil && p.link == nil:
		return app.Div().ID("link-error").Class("notice error").Role("alert").Body(
			app.Strong().Text(l.T("link.refused")+" "),
			app.Text(linkErrText(l, p.linkErr)),
			app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(p.linkErr.Error())),
		)
	case p.link == nil:
		return nil
	}
	s := p.link
	var changed app.UI
	if p.linkErr != nil {
		changed = app.P().Class("error").Body(
			app.Text(l.T("link.corpus_changed")+" "),
			app.Button().ID("run-anyway").Text(l.T("link.run_anyway")).OnClick(func(ctx app.Context, e app.Event) { p.runAnyway() }),
		)
	}
	exp := s.Fingerprint
	if exp == "" {
		exp = l.T("link.no_fingerprint")
	}
	return app.Section().ID("link-setup").Class("notice").Body(
		app.H2().Text(l.T("link.title")),
		app.Dl().Body(
			dlRow(l.T("label.corpus"), corpusLabel(l, s.Corpus.ID, s.Corpus.Name)),
			dlRow(l.T("label.model"), l.T("model.shape", s.Config.Layers, s.Config.Dim, s.Config.Heads, s.Config.Context)),
			dlRow(l.T("label.training"), l.T("model.training", s.Config.Steps, s.Config.Batch, s.Config.LR, s.Config.Seed)),
			dlRow(l.T("label.device"), deviceChoiceLabel(l, s.Device)),
			app.Div().Body(app.Dt().Text(l.T("label.expected")), app.Dd().Body(app.Code().Class("data").Text(exp))),
		),
		changed,
	)
}

func dlRow(k, v string) app.UI { return app.Div().Body(app.Dt().Text(k), app.Dd().Text(v)) }

func (p *Pretrain) renderForm() app.UI {
	l := p.Lang
	f := &p.form
	running := p.cur != nil && p.cur.Active()
	var textBox app.UI
	if f.CorpusID == runspec.UserCorpus {
		var textErr app.UI
		if _, err := f.Corpus(); err != nil {
			textErr = app.P().ID("text-error").Class("error").Role("alert").Text(textErrText(l, err))
		}
		textBox = app.Div().Body(
			app.Label().For("user-text").Text(l.T("corpus.paste")),
			app.Textarea().ID("user-text").Rows(6).Text(f.UserText).OnChange(func(ctx app.Context, e app.Event) {
				f.UserText, f.UserName = ctx.JSSrc().Get("value").String(), l.T("corpus.pasted")
			}),
			app.P().Class("hint").Text(l.T("corpus.upload")),
			fileButton("user-file", l.T("file.choose_text"), ".txt,text/plain", func(ctx app.Context, e app.Event) {
				readFile(ctx, ctx.JSSrc(), func(ctx app.Context, name string, data []byte) {
					f.UserText, f.UserName = string(data), name
					if _, err := corpus.FromText(name, data); err != nil {
						f.UserText = string(bytes.ToValidUTF8(data, nil))
					}
				})
			}),
			textErr,
		)
	}
	params := f.Params()
	paramText := l.T("params.unknown")
	if params > 0 {
		paramText = l.T("params.count", groupDigits(params))
	}
	return app.Section().Class("panel").ID("setup").Body(
		app.H2().Text(l.T("setup.title")),
		app.If(!p.Lesson.hides("presets"), app.Div().Class("presets").Body(
			app.Span().Text(l.T("setup.presets")),
			app.Range(runspec.Presets()).Slice(func(i int) app.UI {
				pr := runspec.Presets()[i]
				return app.Button().ID("preset-" + pr.Name).Class("chip").Title(l.T("preset.about." + pr.Name)).
					Text(l.T("preset." + pr.Name)).Disabled(running).OnClick(func(ctx app.Context, e app.Event) {
					if s, err := setupFromSpec(pr.Spec); err == nil {
						s.Device, s.Prompt = f.Device, f.Prompt
						*f = s
						p.errs = nil
					}
				})
			}),
		)),
		p.lessonPicker("corpus", l.T("label.corpus"), l.T("corpus.pick"), func(v string) string { return corpusLabel(l, v, "") }, app.FieldSet().Body(
			app.Legend().Text(l.T("label.corpus")),
			app.Label().For("corpus").Text(l.T("corpus.pick")),
			app.Select().ID("corpus").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
				f.CorpusID = ctx.JSSrc().Get("value").String()
			}).Body(
				app.Range(corpus.Builtins()).Slice(func(i int) app.UI {
					id := corpus.Builtins()[i]
					return app.Option().Value(id).Selected(f.CorpusID == id).Text(corpusLabel(l, id, ""))
				}),
				app.Option().Value(runspec.UserCorpus).Selected(f.CorpusID == runspec.UserCorpus).Text(l.T("corpus.user")),
			),
			pickerDefault(l, "corpus", corpusLabel(l, f.DefaultCorpus, ""), running || f.CorpusID == f.DefaultCorpus || f.DefaultCorpus == "", func() {
				f.CorpusID = f.DefaultCorpus
			}),
			textBox,
		)),
		app.FieldSet().Body(
			app.Legend().Text(l.T("label.model")),
			p.lessonPicker("size", "", l.T("size.pick"), func(v string) string { return l.T("size." + v) }, app.Div().Body(
				app.Label().For("size").Text(l.T("size.pick")),
				app.Select().ID("size").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
					if err := f.SetSize(ctx.JSSrc().Get("value").String()); err == nil {
						p.errs = nil
					}
				}).Body(
					app.If(f.Size == "", app.Option().Value("").Selected(true).Text(l.T("size.custom"))),
					app.Range(core.SizePresets()).Slice(func(i int) app.UI {
						sp := core.SizePresets()[i]
						return app.Option().Value(sp.Name).Selected(f.Size == sp.Name).Text(l.T("size." + sp.Name))
					}),
				),
				app.If(f.DefaultSize != "", pickerDefault(l, "size", l.T("size."+f.DefaultSize), running || f.Size == f.DefaultSize, func() {
					f.Cfg, f.Size = f.Default, f.DefaultSize
					p.errs = nil
				})),
			)),
			app.If(!p.Lesson.hides("objective"), p.renderObjective(running)),
			app.P().Class("explain").Body(
				app.Text(l.T("explain.model")+" "),
				app.If(!p.Lesson.locked("size"), tryThis(l, "try.bigger", func() {
					if !running {
						f.SetSize("small")
					}
				}, "size")),
				app.If(!p.Lesson.locked("size") && !p.Lesson.locked("seed"), app.Text(" · ")),
				app.If(!p.Lesson.locked("seed"), tryThis(l, "try.seed", func() {
					if !running {
						f.Cfg.Seed++
					}
				}, "f-seed")),
			),
			app.Div().Class("fields").Body(app.Range(fields).Slice(func(i int) app.UI {
				return p.renderField(fields[i], running)
			})),
			app.P().ID("params").Class("params").Text(paramText),
			p.renderCheck(),
		),
		p.lessonPicker("device", l.T("label.device"), l.T("device.pick"), func(v string) string { return deviceChoiceLabel(l, v) }, app.FieldSet().Body(
			app.Legend().Text(l.T("label.device")),
			app.Label().For("device").Text(l.T("device.pick")),
			app.Select().ID("device").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
				f.Device = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(deviceChoices).Slice(func(i int) app.UI {
				d := deviceChoices[i]
				return app.Option().Value(d).Selected(f.Device == d).Text(deviceChoiceLabel(l, d))
			})),
			pickerDefault(l, "device", deviceChoiceLabel(l, runspec.DeviceAuto), running || f.Device == runspec.DeviceAuto, func() {
				f.Device = runspec.DeviceAuto
			}),
			p.renderWorkers(running),
		)),
		app.If(!p.Lesson.hides("prompt"), app.FieldSet().Body(
			app.Legend().Text(l.T("samples.title")),
			app.Label().For("prompt").Text(l.T("prompt.label")),
			app.Input().Type("text").ID("prompt").Value(f.Prompt).Placeholder(l.T("prompt.auto")).Disabled(running).
				OnChange(func(ctx app.Context, e app.Event) { f.Prompt = ctx.JSSrc().Get("value").String() }),
			pickerDefault(l, "prompt", l.T("prompt.auto"), running || f.Prompt == "", func() { f.Prompt = "" }),
		)),
		app.If(!p.Lesson.hides("model-file"), p.renderModelFile()),
	)
}

// lessonPicker is a control as the lesson has it (ui), nothing when the lesson hides control
// id, or its fixed value read-only (label, then name(value)) when the lesson fixes it, in a
// fieldset with the legend ui had ("" for none).
func (p *Pretrain) lessonPicker(id, legend, label string, name func(string) string, ui app.UI) app.UI {
	if p.Lesson.hides(id) {
		return nil
	}
	v, ok := p.Lesson.fixed(id)
	switch {
	case !ok:
		return ui
	case legend != "":
		return app.FieldSet().Body(app.Legend().Text(legend), fixedRow(p.Lang, id, label, name(v)))
	}
	return fixedRow(p.Lang, id, label, name(v))
}

// fixedRow shows a value a teacher's link fixed: its label, the value in an <output> with the
// control's own id (so "try this" and the tests find it), and who set it.
func fixedRow(l Lang, id, label, value string) app.UI {
	return app.Div().Class("field fixed").Body(
		app.Label().For(id).Text(label),
		app.Output().ID(id).Class("data").Text(value),
		app.Span().Class("default").Text(l.T("lesson.fixed")),
	)
}

// renderWorkers is the workers control (how many cores train a sharded run at once; never in
// the link, as it never changes the result) and a sentence saying what it does for this run.
func (p *Pretrain) renderWorkers(running bool) app.UI {
	l := p.Lang
	f := &p.form
	n, shards := f.workers(), max(f.Cfg.Shards, 1)
	explain := l.T("workers.explain", min(n, shards), shards, cores)
	if shards == 1 {
		explain = l.T("workers.one_shard", cores)
	}
	return app.Div().ID("workers-box").Body(
		app.Label().For("workers").Text(l.T("workers.label")),
		app.Input().Type("number").ID("workers").Attr("min", "1").Attr("max", strconv.Itoa(max(cores, n))).Attr("step", "1").
			Value(strconv.Itoa(n)).Disabled(running).Attr("aria-describedby", "workers-explain").
			OnChange(func(ctx app.Context, e app.Event) {
				if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil && v >= 1 && v <= core.MaxBatch {
					f.Workers = v
				}
			}),
		app.P().ID("workers-explain").Class("hint").Text(explain),
	)
}

var deviceChoices = []string{runspec.DeviceAuto, runspec.DeviceCPU, runspec.DeviceWebGPU}

func (p *Pretrain) renderField(fd field, disabled bool) app.UI {
	l := p.Lang
	f := &p.form
	id := "f-" + fd.Key
	if p.Lesson.hides(fd.Key) {
		return nil
	}
	if _, ok := p.Lesson.fixed(fd.Key); ok {
		return fixedRow(l, id, l.T("field."+fd.Key), fmtNum(fd.Get(f.Cfg)))
	}
	def := fd.Get(f.Default)
	var errText app.UI
	if k, ok := p.errs[fd.Key]; ok {
		errText = app.Span().Class("error").Role("alert").Text(k)
	}
	return app.Div().Class("field").Body(
		app.Label().For(id).Text(l.T("field."+fd.Key)),
		app.Input().Type("number").ID(id).Value(fmtNum(fd.Get(f.Cfg))).Disabled(disabled).
			Attr("step", map[bool]string{true: "1", false: "any"}[fd.Int]).
			Attr("aria-describedby", id+"-def").
			OnChange(func(ctx app.Context, e app.Event) { p.setField(l, fd.Key, ctx.JSSrc().Get("value").String()) }),
		app.Span().ID(id+"-def").Class("default").Text(l.T("field.default", fmtNum(def))),
		app.Button().Class("reset").Title(l.T("field.reset")).Aria("label", l.T("field.reset_label", l.T("field."+fd.Key))).
			Disabled(disabled || fd.Get(f.Cfg) == def).Text("↺").OnClick(func(ctx app.Context, e app.Event) {
			f.Reset(fd.Key)
			delete(p.errs, fd.Key)
		}),
		errText,
	)
}

// renderObjective is the objective picker (causal or masked LM) and, for masked LM, what it
// means and its mask rate.
func (p *Pretrain) renderObjective(running bool) app.UI {
	l := p.Lang
	f := &p.form
	objectiveText := func(o string) string {
		if o == runspec.ObjectiveMasked {
			return l.T("objective.opt.masked")
		}
		return l.T("objective.opt.causal")
	}
	var masked app.UI
	if f.Objective == runspec.ObjectiveMasked {
		var errText app.UI
		if k, ok := p.errs["mask_rate"]; ok {
			errText = app.Span().Class("error").Role("alert").Text(k)
		}
		masked = app.Div().Body(
			app.P().ID("objective-masked").Class("hint").Text(l.T("objective.masked")),
			app.Div().Class("field").Body(
				app.Label().For("f-mask_rate").Text(l.T("field.mask_rate")),
				app.Input().Type("number").ID("f-mask_rate").Attr("step", "0.05").Value(fmtNum(float64(f.MaskRate))).Disabled(running).
					Attr("aria-describedby", "f-mask_rate-def").
					OnChange(func(ctx app.Context, e app.Event) { p.setMaskRate(l, ctx.JSSrc().Get("value").String()) }),
				app.Span().ID("f-mask_rate-def").Class("default").Text(l.T("field.default", fmtNum(float64(f.DefaultMaskRate)))),
				app.Button().Class("reset").Title(l.T("field.reset")).Aria("label", l.T("field.reset_label", l.T("field.mask_rate"))).
					Disabled(running || f.MaskRate == f.DefaultMaskRate).Text("↺").OnClick(func(ctx app.Context, e app.Event) {
					f.MaskRate = f.DefaultMaskRate
					delete(p.errs, "mask_rate")
				}),
				errText,
			),
		)
	}
	return app.Div().ID("objective-box").Body(
		app.Label().For("objective").Text(l.T("objective.pick")),
		app.Select().ID("objective").Disabled(running).OnChange(func(ctx app.Context, e app.Event) {
			f.Objective = ctx.JSSrc().Get("value").String()
		}).Body(
			app.Option().Value(runspec.ObjectiveCausal).Selected(f.Objective == runspec.ObjectiveCausal).Text(l.T("objective.opt.causal")),
			app.Option().Value(runspec.ObjectiveMasked).Selected(f.Objective == runspec.ObjectiveMasked).Text(l.T("objective.opt.masked")),
		),
		pickerDefault(l, "objective", objectiveText(f.DefaultObjective), running || f.Objective == f.DefaultObjective, func() {
			f.Objective = f.DefaultObjective
		}),
		masked,
	)
}

func (p *Pretrain) renderCheck() app.UI {
	if err := p.form.Check(); err != nil {
		return app.P().ID("config-error").Class("error").Role("alert").Text(fieldErrText(p.Lang, err))
	}
	return nil
}

func (p *Pretrain) renderLive() app.UI {
	l := p.Lang
	r := p.cur
	running := r != nil && r.Active()
	startErr := p.form.Check()
	if startErr == nil {
		_, startErr = p.form.Corpus()
	}
	return app.Section().Class("panel").ID("live").Body(
		app.H2().Text(l.T("live.title")),
		app.Div().Class("controls").Body(
			app.Button().ID("start").Class("primary").Text(l.T("btn.start")).Disabled(running || startErr != nil || p.measure != nil || p.ask != nil).
				OnClick(func(ctx app.Context, e app.Event) { p.startForm(p.Lang) }),
			app.Button().ID("pause").Text(l.T("btn.pause")).Disabled(r == nil || r.Status != statusRunning).
				OnClick(func(ctx app.Context, e app.Event) { p.control(protocol.Pause) }),
			app.Button().ID("resume").Text(l.T("btn.resume")).Disabled(r == nil || r.Status != statusPaused).
				OnClick(func(ctx app.Context, e app.Event) { p.control(protocol.Resume) }),
			app.Button().ID("stop").Text(l.T("btn.stop")).Disabled(!running).
				OnClick(func(ctx app.Context, e app.Event) { p.control(protocol.Stop) }),
		),
		p.renderLongRun(),
		p.renderStatus(),
		app.Div().ID("chart-box").Body(&chartFigure{Lang: p.Lang, Plot: p.plot()}),
		p.renderResult(),
		p.renderShare(),
		p.renderSamples(),
		p.renderInspect(),
		p.renderRuns(),
	)
}

// renderLongRun asks before a run estimated at more than two minutes here: the estimate, the
// cheaper ways, Start anyway and Cancel.
func (p *Pretrain) renderLongRun() app.UI {
	if p.ask == nil {
		return nil
	}
	return longRunDialog(p.Lang, "long", p.ask.q.lines(p.Lang, false), p.startAnyway, p.cancelLong)
}

// longRunDialog is the question before a long run (ids prefixed with id): its lines, Start
// anyway and Cancel, Cancel first in focus order's weight (the primary button).
func longRunDialog(l Lang, id string, lines []string, start, cancel func()) app.UI {
	return app.Div().ID(id+"-run").Class("panel").Role("alertdialog").Aria("labelledby", id+"-run-title").Body(
		app.H3().ID(id+"-run-title").Text(l.T("long.title")),
		app.Range(lines).Slice(func(i int) app.UI { return app.P().Text(lines[i]) }),
		app.Div().Class("controls").Body(
			app.Button().ID(id+"-start").Text(l.T("long.start")).OnClick(func(ctx app.Context, e app.Event) { start() }),
			app.Button().ID(id+"-cancel").Class("primary").Text(l.T("long.cancel")).OnClick(func(ctx app.Context, e app.Event) { cancel() }),
		),
	)
}

func (p *Pretrain) renderStatus() app.UI {
	l := p.Lang
	r := p.cur
	if p.measure != nil {
		return app.P().ID("status").Attr("data-status", "measuring").Text(l.T("long.measuring") + " · " + l.T("dur.s_exact", int(time.Since(p.measure.began).Seconds())))
	}
	if r == nil {
		return app.P().ID("status").Class("hint").Text(l.T("status.idle"))
	}
	dev := l.T("device.waiting")
	if r.Device != "" {
		dev = r.Device
	}
	var fallback, note, errP app.UI
	if r.Fallback != "" {
		fallback = fallbackNote(l, "fallback", r.Fallback)
	}
	if r.Note != "" {
		note = app.P().Class("hint").Body(app.Span().Class("data").Text(r.Note))
	}
	if r.Err != "" {
		errP = app.P().ID("run-error").Class("error").Role("alert").Body(app.Text(l.T("status.failed_because")+" "), app.Span().Class("data").Text(r.Err))
	}
	return app.Div().ID("status-box").Body(
		app.P().ID("status").Attr("data-status", r.Status).Attr("data-step", r.Step).Body(
			app.Strong().Text(l.T("run.name", runLabel(l, r.Name))+" · "+l.T("status."+r.Status)),
			app.Text(" · "+runProgress(l, r)),
			app.If(r.Step > 0 || !r.Active(), app.Text(" · "), app.Span().ID("tokens").Text(l.T("live.tokens", fmtRate(r.TokensPS)))),
			app.If(r.Resumed > 0, app.Text(" · "+l.T("resume.resumed", r.Resumed))),
			app.If(r.Kept > 0, app.Span().ID("kept").Attr("data-step", r.Kept).Text(" · "+l.T("resume.kept", r.Kept))),
		),
		app.P().ID("device-line").Body(app.Text(l.T("label.device")+": "), app.Span().ID("device-name").Class("data").Text(dev)),
		fallback, note, errP,
	)
}

// trendLine is a run's smoothed per-step training loss, faint behind its evaluations: it moves
// every second while the evaluations come every 100 steps.
func trendLine(l Lang, r *run, color string) chartLine {
	pts := make([][2]float64, len(r.Trend))
	for i, pt := range r.Trend {
		pts[i] = [2]float64{float64(pt.Step), pt.Train}
	}
	return chartLine{Label: l.T("chart.trend", runLabel(l, r.Name)), Color: color, Faint: true, Points: pts}
}

// runProgress is where a run is, from the moment Start is pressed: loading the trainer, then
// building the model on its device, then its steps with their pace and the time left (once
// measured here), so that something changes within a second and every second after.
func runProgress(l Lang, r *run) string {
	var since string // the seconds since Start while nothing else moves
	if !r.Began.IsZero() {
		since = " · " + l.T("dur.s_exact", int(r.now().Sub(r.Began).Seconds()))
	}
	switch {
	case r.Status == statusStarting && r.Device == "":
		return l.T("live.loading") + since
	case r.Step == 0 && r.Active():
		return l.T("live.on_device", r.Device) + since
	}
	s := l.T("live.step", r.Step, r.Steps)
	if !r.Active() {
		return s
	}
	if ps := r.Pace.perSecond(); ps > 0 {
		s += " · " + l.T("live.steps_ps", fmtRate(ps))
	}
	if left, ok := r.Pace.left(r.Steps); ok && r.Status == statusRunning {
		s += " · " + fmtLeft(l, left)
	}
	return s
}

func (p *Pretrain) chart() string { return p.plot().SVG(p.Lang) }

// plot is the loss chart: each shown run's curves, in its colour and marker.
func (p *Pretrain) plot() plot {
	l := p.Lang
	var lines []chartLine
	for i, r := range p.runs {
		if r != p.cur && !r.Overlay {
			continue
		}
		color, mark := series(i)
		var tr, va [][2]float64
		for _, pt := range r.Points {
			tr = append(tr, [2]float64{float64(pt.Step), pt.Train})
			va = append(va, [2]float64{float64(pt.Step), pt.Val})
		}
		lines = append(lines,
			chartLine{Label: l.T("chart.train", runLabel(l, r.Name)), Color: color, Marker: mark, Points: tr},
			chartLine{Label: l.T("chart.val", runLabel(l, r.Name)), Color: color, Marker: mark, Dashed: true, Points: va})
		if r == p.cur && len(r.Trend) > 0 {
			trend := trendLine(l, r, color)
			trend.Marker = mark
			lines = append(lines, trend)
		}
	}
	return plot{ID: "loss-chart", Title: l.T("chart.title"), XLabel: l.T("chart.x"), YLabel: l.T("chart.y"), Empty: l.T("chart.empty"), Lines: lines}
}

func (p *Pretrain) renderResult() app.UI {
	l := p.Lang
	r := p.cur
	if r == nil || r.Result == nil {
		return nil
	}
	res := r.Result
	var match app.UI
	switch res.Match {
	case fingerprint.Matches:
		match = app.P().ID("match").Class("good").Attr("data-match", res.Match).Text(l.T("match.matches"))
	case fingerprint.Differs:
		match = app.P().ID("match").Class("error").Attr("data-match", res.Match).Text(l.T("match.differs"))
	case fingerprint.OtherDevice:
		if r.CompareTo != nil { // this is the exact CPU run asked for: the difference says the rest
			match = app.P().ID("match").Attr("data-match", "cpu-check").Text(l.T("match.cpu_exact"))
			break
		}
		var check app.UI
		switch {
		case p.cpuCheck == nil:
			check = app.Button().ID("reproduce-cpu").Text(l.T("match.reproduce_cpu")).OnClick(func(ctx app.Context, e app.Event) { p.reproduceOnCPU(r) })
		}
		match = app.Div().ID("match").Attr("data-match", res.Match).Body(
			app.P().Body(app.Text(l.T("match.other_device")+" "), app.Code().Class("data").Text(res.Expected)),
			check,
		)
	}
	var diff app.UI
	if r.CompareTo != nil {
		d, n := maxLossDiff(r.CompareTo.Points, r.Points)
		diff = app.P().ID("loss-diff").Text(l.T("match.max_diff", fmt.Sprintf("%.2g", d), n, runLabel(l, r.CompareTo.Name)))
	}
	return app.Div().ID("result").Class("notice").Body(
		app.P().Body(
			app.Text(l.T("result.loss", res.ValLoss)+" · "+l.T("result.params", groupDigits(res.Params))+" · "),
			app.Text(l.T("label.fingerprint")+" "), app.Code().ID("fingerprint").Class("data").Text(res.Fingerprint),
		),
		fillProbe(l, res.FillBlank),
		match,
		diff,
	)
}

// fillProbe is the result's fill-in-the-blank line (nil when the run did not measure it).
func fillProbe(l Lang, acc *float64) app.UI {
	if acc == nil {
		return nil
	}
	return app.P().ID("fill-probe").Text(l.T("result.fill", 100**acc))
}

func (p *Pretrain) renderShare() app.UI {
	l := p.Lang
	r := p.cur
	if r == nil || r.Spec.Version == 0 {
		return nil
	}
	return app.Div().Class("share").Body(
		app.Button().ID("share").Text(l.T("btn.share")).Disabled(r.FromBase).Title(map[bool]string{true: l.T("share.from_base"), false: ""}[r.FromBase]).
			OnClick(func(ctx app.Context, e app.Event) {
				spec := r.Spec
				spec.Lang = string(p.Lang)
				if r.Result != nil {
					spec.Fingerprint = r.Result.Fingerprint
				}
				p.share.make(l, spec)
			}),
		app.If(r.Result == nil, app.Span().Class("hint").Text(" "+l.T("share.before_result"))),
		p.share.render(l, ""),
	)
}

func (p *Pretrain) renderSamples() app.UI {
	l := p.Lang
	r := p.cur
	if r == nil || len(r.Samples) == 0 {
		return nil
	}
	title := l.T("samples.title")
	if r.Samples[0].Filled != "" {
		title = l.T("probe.title")
	}
	return app.Div().ID("samples").Body(
		app.H3().Text(title),
		app.If(r.Samples[0].Filled == "", sampleScale(l)),
		// Oldest first: read down, the writing improves as the model trains. The scroll box
		// is a reversed flex column, which browsers keep scrolled to its end: the newest shows.
		scrollBox("samples-scroll", title).Body(
			app.Ol().Class("samples").Body(app.Range(r.Samples).Slice(func(i int) app.UI {
				s := r.Samples[i]
				if s.Filled != "" { // a masked-LM model: the blanks and its guesses, aligned
					return app.Li().Class("probe").DataSet("step", s.Step).Body(
						app.Span().Class("sample-step").Text(l.T("samples.step", s.Step)),
						app.Dl().Body(
							app.Div().Body(app.Dt().Text(l.T("probe.blanks")), app.Dd().Class("data sample").Text(s.Text)),
							app.Div().Body(app.Dt().Text(l.T("probe.filled")), app.Dd().Class("data sample").Text(s.Filled)),
						),
					)
				}
				return app.Li().DataSet("step", s.Step).Body(
					app.Span().Class("sample-step").Text(l.T("samples.step", s.Step)),
					renderSampleText(l, s),
				)
			})),
		),
	)
}

func (p *Pretrain) renderRuns() app.UI {
	l := p.Lang
	if len(p.runs) == 0 {
		return nil
	}
	return app.Div().ID("runs").Body(
		app.H3().Text(l.T("runs.title")),
		app.Table().ID("runs-table").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(l.T("runs.name")), app.Th().Text(l.T("runs.status")), app.Th().Text(l.T("runs.loss")),
				app.Th().Text(l.T("runs.changes")), app.Th().Text(l.T("runs.overlay")),
			)),
			app.TBody().Body(app.Range(p.runs).Slice(func(i int) app.UI {
				r := p.runs[i]
				loss := "–"
				if n := len(r.Points); n > 0 {
					loss = fmt.Sprintf("%.3f", r.Points[n-1].Val)
				}
				var prev *run
				if i > 0 {
					prev = p.runs[i-1]
				}
				return app.Tr().Body(
					app.Td().Text(runLabel(l, r.Name)),
					app.Td().Text(l.T("status."+r.Status)),
					app.Td().Text(loss),
					app.Td().Text(changesText(l, prev, r)),
					app.Td().Body(app.Input().Type("checkbox").ID(fmt.Sprintf("overlay-%d", i)).Aria("label", l.T("runs.overlay_label", runLabel(l, r.Name))).
						Checked(r.Overlay || r == p.cur).Disabled(r == p.cur).OnChange(func(ctx app.Context, e app.Event) {
						r.Overlay = ctx.JSSrc().Get("checked").Bool()
					})),
				)
			})),
		),
	)
}

// renderModelFile is saving the model (after or while paused in a run) and loading one to train
// from, with the reason when a file is refused.
func (p *Pretrain) renderModelFile() app.UI {
	l := p.Lang
	canSave := p.canSave()
	var loaded, loadErr app.UI
	if p.baseInfo != nil {
		c := p.baseInfo.Model.Cfg
		loaded = app.P().ID("base-info").Body(
			app.Text(l.T("model.loaded", c.Layers, c.Dim, c.Heads, c.Context, groupDigits(p.baseInfo.Model.ParamCount()))+" "),
			app.Span().Class("data").Text(p.baseName),
			app.Text(" "),
			app.Button().ID("forget-base").Text(l.T("model.forget")).OnClick(func(ctx app.Context, e app.Event) { p.forgetModel() }),
		)
	}
	if p.baseErr != nil {
		loadErr = app.Div().ID("load-error").Class("error").Role("alert").Body(
			app.Text(checkpointErrText(l, p.baseErr)),
			app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(p.baseErr.Error())),
		)
	}
	save := func(format string) func(ctx app.Context, e app.Event) {
		return func(ctx app.Context, e app.Event) { p.save(format) }
	}
	return app.FieldSet().ID("model-file").Body(
		app.Legend().Text(l.T("model.file")),
		app.Button().ID("save-pretune").Text(l.T("btn.save")).Disabled(!canSave).OnClick(save(protocol.FormatPretune)),
		app.Button().ID("save-safetensors").Text(l.T("btn.save_safetensors")).Disabled(!canSave).OnClick(save(protocol.FormatSafetensors)),
		app.If(!canSave, app.P().Class("hint").Text(l.T("model.save_when"))),
		app.P().Class("hint").Text(l.T("model.load")),
		fileButton("load-model", l.T("file.choose_model"), ".pretune,.ckpt,.safetensors,application/octet-stream",
			func(ctx app.Context, e app.Event) {
				readFile(ctx, ctx.JSSrc(), func(ctx app.Context, name string, data []byte) { p.loadModel(name, data) })
			}),
		loaded, loadErr,
	)
}

// renderOffer offers to resume the run a closed tab left unfinished.
func (p *Pretrain) renderOffer() app.UI {
	l := p.Lang
	o := p.offer
	if o == nil {
		return nil
	}
	return app.Div().ID("resume-offer").Class("notice").Role("status").Body(
		app.Text(l.T("resume.offer", runLabel(l, o.Name), o.Step, o.Steps)+" "),
		app.Button().ID("resume-run").Class("primary").Text(l.T("resume.yes")).OnClick(func(ctx app.Context, e app.Event) { p.resumeOffered() }),
		app.Text(" "),
		app.Button().ID("resume-discard").Text(l.T("resume.no")).OnClick(func(ctx app.Context, e app.Event) { p.discardOffer() }),
	)
}

// fileButton is a file picker whose button speaks the page's language (the browser's own says
// "Choose File" in the browser's language): the input hides inside its label, which looks like a
// button and still takes the keyboard focus.
func fileButton(id, label, accept string, onChange app.EventHandler) app.UI {
	return app.Label().Class("file-button").Body(
		app.Input().Type("file").ID(id).Class("visually-hidden").Accept(accept).OnChange(onChange),
		app.Span().Text(label),
	)
}

// pickerDefault shows a picker's default and a button that puts it back.
func pickerDefault(l Lang, id, def string, disabled bool, reset func()) app.UI {
	return app.Div().Class("picker-default").Body(
		app.Span().ID(id+"-def").Class("default").Text(l.T("field.default", def)),
		app.Button().ID(id+"-reset").Class("reset").Title(l.T("field.reset")).Aria("label", l.T("field.reset")).
			Disabled(disabled).Text("↺").OnClick(func(ctx app.Context, e app.Event) { reset() }),
	)
}
