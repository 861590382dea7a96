package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/fingerprint"
	"pretune/core/protocol"
	"pretune/core/runspec"
	"pretune/core/task"
)

// Feedback is the feedback view: a class does the human part of RLHF. Pick the model to improve
// (the SFT model), pick the better of two of its answers again and again, train a reward model
// on the picks, then tune the model against it with the methods (fb-tuning's part). What it
// knows and what happens to it is feedbackState (feedback_state.go); this file draws it and is
// its host in the browser. It stays mounted while hidden, so its workers go on; Active says it
// shows, and only then do the keys pick.
type Feedback struct {
	app.Compo
	Lang   Lang
	Active bool

	ctx app.Context
	feedbackState
	onKey  app.Func
	keysOn bool // an offer can be judged by key (set when drawn, read by the key listener)
	// The score box's texts, as typed.
	scorePrompt, scoreText string
	className              string // the class's name as the teacher types it
}

// OnMount starts the methods form, follows the compare view's finished comparison, listens to
// the keys and offers last time's picks.
func (f *Feedback) OnMount(ctx app.Context) {
	f.ctx, f.host = ctx, f
	if f.choice.Kind == "" {
		f.choice = startChoice{Kind: startKept}
		f.setup = newTuningSetup(f.Lang)
	}
	ctx.ObserveState(tunedState).Value(&f.tuned)
	f.listenKeys(ctx)
	loadFeedback(ctx, func(ctx app.Context, s *savedFeedback) { f.offerKept(s) })
	f.classMount(ctx)
	f.pathMount(ctx)
}

// OnDismount ends the workers and lets go of the key listener.
func (f *Feedback) OnDismount() {
	f.stop()
	if f.onKey != nil { // none on the server, which prerenders the page without a document
		app.Window().Get("document").Call("removeEventListener", "keydown", f.onKey)
		f.onKey.Release()
		f.onKey = nil
	}
}

// OnNav opens a feedback stage's share link.
func (f *Feedback) OnNav(ctx app.Context) {
	f.ctx, f.host = ctx, f
	frag := ctx.Page().URL().Fragment
	if fr := parseFragment(frag); fr.Base == "class" { // a student's page (a teacher's options after the code)
		if f.class.api == nil {
			f.classMount(ctx)
		}
		f.classJoin(fr.Value)
		return
	}
	if !isLinkFragment(frag) || frag == f.linkCode {
		return
	}
	f.openLink(frag)
}

// listenKeys picks by key: 1 and 2 choose, 0 and space skip, Backspace undoes, while the view
// shows and the learner is not typing (pickKey decides). The listener only decides and hands
// the key to the UI goroutine: it never blocks inside the JS callback.
func (f *Feedback) listenKeys(ctx app.Context) {
	if !app.IsClient {
		return
	}
	f.onKey = app.FuncOf(func(this app.Value, args []app.Value) any {
		e := args[0]
		if !f.Active || !f.keysOn || e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool() || e.Get("altKey").Bool() {
			return nil
		}
		k := e.Get("key").String()
		var tag, role string
		var editable bool
		if t := e.Get("target"); t.Truthy() && t.Get("tagName").Truthy() {
			tag, editable = t.Get("tagName").String(), t.Get("isContentEditable").Bool()
			if r := t.Call("getAttribute", "role"); r.Truthy() {
				role = r.String()
			}
		}
		if !pickKey(k, tag, role, editable) {
			return nil
		}
		e.Call("preventDefault") // space would scroll, Backspace go back
		go ctx.Dispatch(func(app.Context) { f.key(k) })
		return nil
	})
	app.Window().Get("document").Call("addEventListener", "keydown", f.onKey)
}

// pickKey reports whether the view takes a key as a pick (1, 2), a skip (0, space) or an undo
// (Backspace), given the focused element: its tag, its ARIA role and whether it is editable.
// What is typed into a field stays the field's. Space on a button, link, summary or other
// control stays that control's too: it is how a keyboard presses it, and taking it would leave
// a keyboard user unable to press anything while the view shows.
func pickKey(key, tag, role string, editable bool) bool {
	switch key {
	case "1", "2", "0", " ", "Backspace":
	default:
		return false
	}
	switch strings.ToLower(tag) {
	case "input", "textarea", "select":
		return false
	case "button", "a", "summary":
		return key != " "
	}
	switch role {
	case "button", "link", "checkbox", "radio", "switch", "tab", "menuitem", "option", "textbox", "combobox":
		return key != " " && role != "textbox" && role != "combobox"
	}
	return !editable
}

// startWorker starts a trainer whose messages come back on the UI goroutine for this view.
func (f *Feedback) startWorker(handle func(protocol.Message)) worker {
	return newTrainer(f.ctx.ResolveStaticResource("/web/worker.js"), func(m protocol.Message) {
		f.dispatch(func() {
			handle(m)
			f.pathStep() // the guided path's run of the stage goes on (feedback_path.go)
		})
	})
}

// fetchBase fetches a kept model, web/base/<name>.ckpt.
func (f *Feedback) fetchBase(name string, done func(data []byte, err error)) {
	fetchBytes(f.ctx, f.ctx.ResolveStaticResource("/web/base/"+name+".ckpt"), func(_ app.Context, data []byte, err error) {
		done(data, err)
	})
}

func (f *Feedback) dispatch(fn func()) { f.ctx.Dispatch(func(app.Context) { fn() }) }

func (f *Feedback) setLang(l Lang) { setLang(f.ctx, l) }

func (f *Feedback) keepFeedback(s savedFeedback) { storeFeedback(s) }

func (f *Feedback) download(data []byte, name string) { download(data, name) }

// feedbackKey is the feedback view's key in the IndexedDB store the pretraining view keeps its
// unfinished run in.
const feedbackKey = "feedback"

// storeFeedback keeps the picks and the start, replacing what was kept.
func storeFeedback(s savedFeedback) {
	data, err := json.Marshal(s)
	if err != nil {
		return
	}
	withStore("readwrite", func(store app.Value) { store.Call("put", string(data), feedbackKey) })
}

// loadFeedback reads what was kept, if anything, and hands it to done on the UI goroutine.
func loadFeedback(ctx app.Context, done func(ctx app.Context, s *savedFeedback)) {
	withStore("readonly", func(store app.Value) {
		req := store.Call("get", feedbackKey)
		var got app.Func
		got = app.FuncOf(func(this app.Value, args []app.Value) any {
			got.Release()
			v := req.Get("result")
			if v.Type() != app.TypeString {
				return nil
			}
			var s savedFeedback
			if json.Unmarshal([]byte(v.String()), &s) != nil {
				return nil
			}
			go ctx.Dispatch(func(ctx app.Context) { done(ctx, &s) })
			return nil
		})
		req.Set("onsuccess", got)
	})
}

// Render draws the view.
func (f *Feedback) Render() app.UI {
	l := f.Lang
	if f.choice.Kind == "" {
		f.choice = startChoice{Kind: startKept}
		f.setup = newTuningSetup(l)
	}
	_, current := f.picks.Current()
	f.keysOn = f.sft.Ready() && (current || len(f.picks.undo) > 0)
	if f.classStudentMode() {
		return f.renderStudent()
	}
	return app.Div().ID("feedback").Body(
		f.renderLink(),
		f.renderOffer(),
		app.Div().Class("explain").Body(
			app.P().Text(l.T("fb.explain")),
			app.Div().ID("fb-diagram").Body(app.Raw(loopDiagram(l))),
		),
		f.renderClass(),
		f.renderStart(),
		f.renderPicks(),
		f.renderReward(),
		f.renderTuning(),
	)
}

// loopDiagram is the loop in a picture: the SFT model's samples, the picks, the reward model,
// the tuned model, and the leash (KL) that holds the tuned model near the reference.
func loopDiagram(l Lang) string {
	var b strings.Builder
	title := html.EscapeString(l.T("fb.diagram.title"))
	fmt.Fprintf(&b, `<svg class="diagram" viewBox="0 0 660 160" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, title)
	fmt.Fprintf(&b, `<title>%s</title>`, title)
	b.WriteString(`<defs><marker id="fb-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#5b6475"/></marker></defs>`)
	boxes := []struct {
		x, y int
		text string
	}{{10, 20, l.T("fb.diagram.samples")}, {180, 20, l.T("fb.diagram.picks")}, {350, 20, l.T("fb.diagram.reward")},
		{520, 20, l.T("fb.diagram.tuned")}, {10, 110, l.T("fb.diagram.reference")}}
	for _, bx := range boxes {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="130" height="36" rx="6" fill="#eef2fb" stroke="#2f6fde"/>`, bx.x, bx.y)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" dominant-baseline="middle" font-size="13" fill="#1d2330">%s</text>`, bx.x+65, bx.y+18, html.EscapeString(bx.text))
	}
	for _, x := range []int{140, 310, 480} {
		fmt.Fprintf(&b, `<line x1="%d" y1="38" x2="%d" y2="38" stroke="#5b6475" stroke-width="2" marker-end="url(#fb-arrow)"/>`, x, x+38)
	}
	b.WriteString(`<line x1="75" y1="110" x2="75" y2="58" stroke="#5b6475" stroke-width="2" marker-end="url(#fb-arrow)"/>`)
	b.WriteString(`<path d="M585,56 V128 H142" fill="none" stroke="#d1495b" stroke-width="2" stroke-dasharray="6 4"/>`)
	fmt.Fprintf(&b, `<text x="364" y="146" text-anchor="middle" font-size="12" fill="#d1495b">%s</text>`, html.EscapeString(l.T("fb.diagram.leash")))
	b.WriteString(`</svg>`)
	return b.String()
}

func (f *Feedback) renderLink() app.UI {
	l := f.Lang
	s := f.link
	if s == nil {
		return nil
	}
	switch {
	case f.linkErr != nil:
		return app.Div().ID("fb-link-error").Class("notice error").Role("alert").Body(
			app.Strong().Text(l.T("link.refused")+" "),
			app.Text(linkErrText(l, f.linkErr)),
			app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(f.linkErr.Error())),
		)
	case f.linkCLI:
		return app.Div().ID("fb-link-cli").Class("notice").Role("status").Body(
			app.Text(l.T("fb.link.cli")+" "),
			app.Code().Class("data").Text("go run . -run "+linkCodeOf(f.linkCode)),
		)
	}
	var names []string
	for _, m := range s.Feedback.Methods {
		names = append(names, m.Label())
	}
	judge := l.T("fb.link.judge_rm")
	if s.Feedback.Taste != "" {
		judge = l.T("fb.link.judge_taste")
	}
	return app.Section().ID("fb-link").Class("notice").Body(
		app.H2().Text(l.T("fb.link.title")),
		app.Dl().Body(
			dlRow(l.T("fb.link.picks"), fmt.Sprint(len(f.picks.List))+" · "+judge),
			app.Div().Body(app.Dt().Text(l.T("fb.link.methods")), app.Dd().Body(app.Span().Class("data").Text(strings.Join(names, ", ")))),
		),
		app.If(f.linkEdited, app.P().ID("fb-link-edited").Class("hint").Text(l.T("fb.link.edited"))),
	)
}

// renderOffer offers last time's picks.
func (f *Feedback) renderOffer() app.UI {
	l := f.Lang
	if f.offer == nil {
		return nil
	}
	return app.Div().ID("fb-resume-offer").Class("notice").Role("status").Body(
		app.Text(l.T("fb.resume.offer", len(f.offer.Picks))+" "),
		app.Button().ID("fb-resume-yes").Class("primary").Text(l.T("fb.resume.yes")).OnClick(func(ctx app.Context, e app.Event) { f.goOn(f.Lang) }),
		app.Text(" "),
		app.Button().ID("fb-resume-no").Text(l.T("fb.resume.no")).OnClick(func(ctx app.Context, e app.Event) { f.startOver() }),
	)
}

func (f *Feedback) renderStart() app.UI {
	l := f.Lang
	busy := f.busy()
	radio := func(id string, c startChoice, label string, disabled bool, extra ...app.UI) app.UI {
		on := f.choice.Kind == c.Kind && f.choice.Method == c.Method
		return app.Div().Class("field").Body(append([]app.UI{
			app.Input().Type("radio").Name("fb-start").ID(id).Checked(on).Disabled(busy || disabled).
				OnChange(func(ctx app.Context, e app.Event) { f.choose(c) }),
			app.Label().For(id).Class("inline").Text(label),
		}, extra...)...)
	}
	var tuned []app.UI
	if f.tuned.Ready {
		for _, m := range f.tuned.Methods {
			_, err := feedbackFromComparison(f.tuned.Spec, m)
			var why app.UI
			if err != nil {
				why = app.Span().Class("hint").Text(" " + l.T("fb.start.tuned_cannot"))
			}
			tuned = append(tuned, radio("fb-start-tuned-"+m, startChoice{Kind: startTuned, Method: m},
				l.T("fb.start.tuned", methodName(l, m)), err != nil, why))
		}
	} else {
		tuned = append(tuned, app.P().ID("fb-start-tuned-hint").Class("hint").Text(l.T("fb.start.tuned_none")))
	}
	var fileErr app.UI
	if f.fileErr != nil {
		fileErr = app.P().ID("fb-file-error").Class("error").Role("alert").Text(checkpointErrText(l, f.fileErr))
	}
	fileLabel := l.T("fb.start.file")
	if f.choice.Kind == startFile && f.choice.File != "" {
		fileLabel = l.T("fb.start.file_named", f.choice.File)
	}
	return app.Section().Class("panel").ID("fb-start").Body(
		app.H2().Text(l.T("fb.start.title")),
		app.FieldSet().Disabled(f.choice.Kind == startLink).Body(
			app.Legend().Text(l.T("fb.start.pick")),
			radio("fb-start-kept", startChoice{Kind: startKept}, l.T("fb.start.kept"), false),
			app.Div().Body(tuned...),
			radio("fb-start-file", startChoice{Kind: startFile, File: f.choice.File}, fileLabel, f.file == nil,
				fileButton("fb-file", l.T("fb.start.load"), ".pretune,.ckpt,.safetensors", func(ctx app.Context, e app.Event) {
					readFile(ctx, ctx.JSSrc(), func(ctx app.Context, name string, data []byte) { f.chooseFile(name, data) })
				})),
			app.P().ID("fb-file-hint").Class("hint").Text(l.T("fb.start.file_hint")),
			fileErr,
		),
		app.FieldSet().Disabled(f.choice.Kind == startLink).Body(
			app.Legend().Text(l.T("label.device")),
			app.Label().For("fb-device").Text(l.T("device.pick")),
			app.Select().ID("fb-device").Disabled(busy).OnChange(func(ctx app.Context, e app.Event) {
				f.device = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(deviceChoices).Slice(func(i int) app.UI {
				d := deviceChoices[i]
				return app.Option().Value(d).Selected(f.deviceShown() == d).Text(deviceChoiceLabel(l, d))
			})),
			pickerDefault(l, "fb-device", deviceChoiceLabel(l, runspec.DeviceAuto), busy || f.deviceShown() == runspec.DeviceAuto, func() {
				f.device = runspec.DeviceAuto
			}),
		),
		app.Div().Class("controls").Body(
			app.Button().ID("fb-open").Class("primary").Text(l.T("fb.start.open")).Disabled(busy || !f.canOpen(l)).
				OnClick(func(ctx app.Context, e app.Event) { f.open(f.Lang) }),
			app.Button().ID("fb-stop").Text(l.T("btn.stop")).Disabled(!busy).OnClick(func(ctx app.Context, e app.Event) { f.stop() }),
		),
		f.renderSFT(),
	)
}

// renderSFT is the SFT model's state: where it comes from, its training, its errors.
func (f *Feedback) renderSFT() app.UI {
	l := f.Lang
	s := f.sft
	if s == nil {
		return app.P().ID("fb-sft-status").Class("hint").Text(l.T("fb.sft.idle"))
	}
	var errP, progress, chart, fp app.UI
	if s.Status == statusFailed {
		why := l.T("fb.err.sft")
		switch s.ErrKey {
		case "fb.err.save":
			why = l.T("fb.err.save")
		case "fb.err.spec":
			why = l.T("fb.err.spec")
		}
		if s.Code != "" {
			if _, ok := en["lora.err."+s.Code]; ok {
				why += " " + l.T("lora.err."+s.Code)
			}
		}
		errP = app.Div().ID("fb-sft-error").Class("error").Role("alert").Body(
			app.Text(why),
			app.If(s.Err != "", app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(s.Err))),
		)
	}
	if s.Steps > 0 {
		progress = app.P().ID("fb-sft-progress").Body(
			app.Text(l.T("fb.sft.training", s.Step, s.Steps)+" "),
			app.Progress().Max(max(s.Steps, 1)).Value(s.Step).Aria("label", l.T("fb.sft.training_label")),
		)
	}
	if len(s.Points) > 0 {
		var tr, va [][2]float64
		for _, p := range s.Points {
			tr = append(tr, [2]float64{float64(p.Step), p.Train})
			va = append(va, [2]float64{float64(p.Step), p.Val})
		}
		chart = app.Div().ID("fb-sft-chart-box").Body(&chartFigure{Lang: l, Plot: plot{ID: "fb-sft-chart", Title: l.T("fb.sft.chart_title"),
			XLabel: l.T("chart.x_finetune"), YLabel: l.T("chart.y_task"), Empty: l.T("chart.empty"), Lines: []chartLine{
				{Label: l.T("fb.rm.chart_val"), Color: palette[2], Marker: 2, Dashed: true, Points: va},
				{Label: l.T("fb.rm.chart_train"), Color: palette[2], Marker: 2, Points: tr},
			}}})
	}
	if e := s.Result; e != nil && e.Fingerprint != "" {
		fp = app.P().ID("fb-sft-result").Body(
			app.Text(l.T("label.fingerprint")+" "), app.Code().ID("fb-sft-fingerprint").Class("data").Text(e.Fingerprint),
			matchNote(l, "fb-sft-match", e.Match),
		)
	}
	note := ""
	switch s.Note {
	case "fb.sft.note.kept":
		note = l.T("fb.sft.note.kept")
	case "fb.sft.note.base":
		note = l.T("fb.sft.note.base")
	case "fb.sft.note.pretrain":
		note = l.T("fb.sft.note.pretrain")
	case "fb.sft.note.tuned":
		note = l.T("fb.sft.note.tuned")
	case "fb.sft.note.file":
		note = l.T("fb.sft.note.file")
	}
	return app.Div().ID("fb-sft").Body(
		app.P().ID("fb-sft-status").Attr("data-status", s.Status).Body(
			app.Strong().Text(l.T("status."+s.Status)),
			app.If(note != "", app.Text(" · "+note)),
			app.If(s.Device != "", app.Text(" · "+l.T("label.device")+": "), app.Span().Class("data").Text(s.Device)),
		),
		progress, chart, fp, errP,
	)
}

// matchNote says whether a result's fingerprint matches the one the link carried.
func matchNote(l Lang, id, match string) app.UI {
	if match == "" {
		return nil
	}
	class := map[string]string{fingerprint.Matches: "good", fingerprint.Differs: "error"}[match]
	text := l.T("fb.match.other")
	switch match {
	case fingerprint.Matches:
		text = l.T("fb.match.matches")
	case fingerprint.Differs:
		text = l.T("fb.match.differs")
	}
	return app.Span().ID(id).Class("match "+class).Attr("data-match", match).Text(" · " + text)
}

func (f *Feedback) renderPicks() app.UI {
	l := f.Lang
	ready := f.sft.Ready()
	_, current := f.picks.Current()
	yours, taste := f.picks.Counts()
	var imp app.UI
	switch {
	case f.importErr != nil:
		imp = app.P().ID("fb-import-error").Class("error").Role("alert").Text(prefsFileErrText(l, f.importErr))
	case f.imported > 0:
		imp = app.P().ID("fb-import-note").Class("hint").Text(l.T("fb.picks.imported", f.imported))
	}
	return app.Section().Class("panel").ID("fb-picks").Body(
		app.H2().Text(l.T("fb.picks.title")),
		f.renderCurrentOffer(),
		app.Div().Class("controls").Body(
			app.Button().ID("fb-skip").Text(l.T("fb.picks.skip")).Disabled(!current).OnClick(func(ctx app.Context, e app.Event) { f.skipPick() }),
			app.Button().ID("fb-undo").Text(l.T("fb.picks.undo")).Disabled(len(f.picks.undo) == 0).OnClick(func(ctx app.Context, e app.Event) { f.undoPick() }),
			app.Button().ID("fb-taste").Text(l.T("fb.picks.taste", tasteFill)).Disabled(!ready || f.tasteBusy).
				OnClick(func(ctx app.Context, e app.Event) { f.fillFromTaste() }),
		),
		app.P().ID("fb-counter").Attr("data-picks", len(f.picks.List)).Text(l.T("fb.picks.counter", len(f.picks.List), yours, taste, minPicks, usefulPicks)),
		app.Div().Class("controls").Body(
			app.Button().ID("fb-export").Text(l.T("fb.picks.export")).Disabled(len(f.picks.List) == 0).
				OnClick(func(ctx app.Context, e app.Event) { f.exportPicks() }),
			fileButton("fb-import", l.T("fb.picks.import"), ".jsonl,.json,.tsv,.txt,text/plain", func(ctx app.Context, e app.Event) {
				readFile(ctx, ctx.JSSrc(), func(ctx app.Context, name string, data []byte) { f.importPicks(name, data) })
			}),
		),
		app.P().Class("hint").Text(l.T("fb.picks.format")),
		imp,
		f.renderPickTable(),
	)
}

// renderCurrentOffer is the offer to judge (or why there is none): the feedback view's and a
// class student's page.
func (f *Feedback) renderCurrentOffer() app.UI {
	l := f.Lang
	ready := f.sft.Ready()
	o, current := f.picks.Current()
	var offer app.UI
	switch {
	case !ready:
		offer = app.P().ID("fb-offer-wait").Class("hint").Text(l.T("fb.picks.need_sft"))
	case current:
		offer = app.Div().ID("fb-offer").Body(
			app.P().Body(app.Text(l.T("fb.picks.prompt")+" "), app.Span().ID("fb-offer-prompt").Class("data").Text(o.Prompt)),
			app.Div().Class("pick-pair").Body(
				app.Button().ID("fb-pick-a").Class("answer").Body(app.Span().Class("key").Text("1 · "), app.Span().Class("data").Text(o.A)).
					OnClick(func(ctx app.Context, e app.Event) { f.choosePick(1) }),
				app.Button().ID("fb-pick-b").Class("answer").Body(app.Span().Class("key").Text("2 · "), app.Span().Class("data").Text(o.B)).
					OnClick(func(ctx app.Context, e app.Event) { f.choosePick(2) }),
			),
			app.P().Class("hint").Text(l.T("fb.picks.keys")),
		)
	case f.offerErr != "":
		offer = app.P().ID("fb-offer-error").Class("error").Role("alert").Body(app.Text(l.T("fb.err.offers")+" "), app.Span().Class("data").Text(f.offerErr))
	default:
		offer = app.P().ID("fb-offer-wait").Class("hint").Text(l.T("fb.picks.loading"))
	}
	return offer
}

// renderPickTable lists every pick with who made it, the reward model's scores once it trained
// on it, and buttons to turn it round or drop it.
func (f *Feedback) renderPickTable() app.UI {
	l := f.Lang
	list := f.picks.List
	if len(list) == 0 {
		return nil
	}
	scored := f.reward != nil && f.reward.Status == statusDone
	return scrollBox("table-scroll", l.T("fb.picks.title")).Body(app.Table().ID("fb-picks-table").Body(
		app.THead().Body(app.Tr().Body(
			app.Th().Scope("col").Text("#"),
			app.Th().Scope("col").Text(l.T("fb.table.prompt")),
			app.Th().Scope("col").Text(l.T("fb.field.chosen")),
			app.Th().Scope("col").Text(l.T("fb.field.rejected")),
			app.Th().Scope("col").Text(l.T("fb.table.by")),
			app.If(scored, app.Th().Scope("col").Text(l.T("fb.table.scores"))),
			app.Th().Scope("col").Text(l.T("fb.table.change")),
		)),
		app.TBody().Body(app.Range(list).Slice(func(i int) app.UI {
			p := list[i]
			id := fmt.Sprintf("fb-pick-%d", i+1)
			by := l.T("fb.table.you")
			byKey := "you"
			if p.Taste {
				by, byKey = l.T("fb.table.taste"), "taste"
			}
			var score app.UI
			if scored {
				cell := app.Td().Class("num data").Text("–")
				if s, ok := f.reward.scoreOf(p); ok {
					txt := fmtScore(s.Chosen) + " / " + fmtScore(s.Rejected)
					class := "num data"
					if s.Chosen > s.Rejected {
						class += " right"
					}
					cell = app.Td().Class(class).DataSet("held", s.Held).Body(
						app.Text(txt),
						app.If(s.Held, app.Span().Class("hint").Text(" ("+l.T("fb.table.held")+")")),
					)
				}
				score = cell
			}
			return app.Tr().ID(id).DataSet("by", byKey).Body(
				app.Td().Class("num").Text(i+1),
				app.Td().Body(app.Span().Class("data").Text(p.Prompt)),
				app.Td().Body(app.Span().Class("data").Text(p.Chosen)),
				app.Td().Body(app.Span().Class("data").Text(p.Rejected)),
				app.Td().Text(by),
				score,
				app.Td().Body(
					app.Button().ID(id+"-swap").Title(l.T("fb.table.swap")).Aria("label", l.T("fb.table.swap")).Text("⇄").
						OnClick(func(ctx app.Context, e app.Event) { f.swapPick(p.ID) }),
					app.Button().ID(id+"-remove").Title(l.T("fb.table.remove")).Aria("label", l.T("fb.table.remove")).Text("✕").
						OnClick(func(ctx app.Context, e app.Event) { f.removePick(p.ID) }),
				),
			)
		})),
	))
}

func (f *Feedback) renderReward() app.UI {
	l := f.Lang
	r := f.reward
	training := r != nil && r.Active()
	err := f.rewardErr()
	var why app.UI
	switch {
	case !f.sft.Ready():
	case errors.Is(err, errTooFewPicks):
		why = app.P().ID("fb-rm-why").Class("hint").Text(l.T("fb.rm.too_few", minPicks, len(f.picks.List)))
	case err != nil:
		why = app.P().ID("fb-rm-why").Class("error").Role("alert").Text(prefsOrLinkErrText(l, err))
	}
	var status, result, errP, scoreBox app.UI
	if r != nil {
		status = app.P().ID("fb-rm-status").Attr("data-status", r.Status).Body(
			app.Strong().Text(l.T("status."+r.Status)),
			app.If(r.Steps > 0, app.Text(" · "+l.T("live.step", r.Step, r.Steps)+" "),
				app.Progress().Max(max(r.Steps, 1)).Value(r.Step).Aria("label", l.T("fb.rm.progress_label"))),
		)
		if r.Err != "" {
			errP = app.P().ID("fb-rm-error").Class("error").Role("alert").Body(app.Text(l.T("status.failed_because")+" "), app.Span().Class("data").Text(r.Err))
		}
		if e := r.Result; e != nil {
			result = app.P().ID("fb-rm-result").Body(
				app.Text(l.T("fb.rm.accuracy")+" "), app.Strong().ID("fb-rm-accuracy").Class("data").Text(fmtPct(e.RMAccuracy)),
				app.If(r.Judged && e.RMGoldAccuracy != nil, app.Text(" · "+l.T("fb.rm.gold")+" "), app.Strong().ID("fb-rm-gold").Class("data").Text(fmtPct(e.RMGoldAccuracy))),
				app.If(!r.Judged, app.Span().Class("hint").Text(" · "+l.T("fb.rm.no_judge"))),
				app.If(e.Fingerprint != "", app.Text(" · "+l.T("label.fingerprint")+" "), app.Code().ID("fb-rm-fingerprint").Class("data").Text(e.Fingerprint)),
				matchNote(l, "fb-rm-match", e.Match),
			)
		}
		if r.Status == statusDone {
			scoreBox = f.renderScoreBox()
		}
	}
	steps, def := f.rewardStepsShown()
	return app.Section().Class("panel").ID("fb-reward").Body(
		app.H2().Text(l.T("fb.rm.title")),
		app.P().Class("hint").Text(l.T("fb.rm.explain")),
		numberInput(l, &f.errs, "fb-rm-steps", l.T("fb.rm.steps"), float64(steps), float64(def), training || f.choice.Kind == startLink,
			f.setRewardSteps, func() { f.rewardSteps = 0 }),
		app.Div().Class("controls").Body(
			app.Button().ID("fb-rm-train").Class("primary").Text(l.T("fb.rm.train")).Disabled(training || f.busy() || !f.sft.Ready() || err != nil).
				OnClick(func(ctx app.Context, e app.Event) { f.trainReward() }),
			app.Button().ID("fb-rm-stop").Text(l.T("btn.stop")).Disabled(!training).OnClick(func(ctx app.Context, e app.Event) { f.stopReward() }),
		),
		why, status,
		app.If(r != nil, app.Div().ID("fb-rm-chart-box").Body(&chartFigure{Lang: l, Plot: r.plot(l)})),
		result, errP, scoreBox,
	)
}

// prefsOrLinkErrText says why the picks cannot make a stage: a preference file's refusal
// (line-numbered) or runspec's (a link too long).
func prefsOrLinkErrText(l Lang, err error) string {
	var pe *task.ParseError
	if errors.As(err, &pe) {
		return prefsFileErrText(l, err)
	}
	return linkErrText(l, err)
}

// renderScoreBox lets the learner type an answer and see the reward model's score.
func (f *Feedback) renderScoreBox() app.UI {
	l := f.Lang
	q := f.reward.Query
	var out app.UI
	switch {
	case q.Err != "":
		out = app.P().ID("fb-score-error").Class("error").Role("alert").Body(app.Text(l.T("status.failed_because")+" "), app.Span().Class("data").Text(q.Err))
	case q.Value != nil:
		out = app.P().Body(app.Text(l.T("fb.score.value")+" "), app.Strong().ID("fb-score-value").Class("data").Text(fmtScore(*q.Value)))
	}
	return app.FieldSet().ID("fb-score").Body(
		app.Legend().Text(l.T("fb.score.title")),
		app.Label().For("fb-score-prompt").Text(l.T("fb.table.prompt")),
		app.Input().ID("fb-score-prompt").Class("data").Value(f.scorePrompt).
			OnInput(func(ctx app.Context, e app.Event) { f.scorePrompt = ctx.JSSrc().Get("value").String() }),
		app.Label().For("fb-score-text").Text(l.T("fb.score.answer")),
		app.Input().ID("fb-score-text").Class("data").Value(f.scoreText).
			OnInput(func(ctx app.Context, e app.Event) { f.scoreText = ctx.JSSrc().Get("value").String() }),
		app.Button().ID("fb-score-run").Text(l.T("fb.score.run")).Disabled(q.Busy).
			OnClick(func(ctx app.Context, e app.Event) { f.score(f.scorePrompt, f.scoreText) }),
		out,
	)
}

// renderTuning is the methods' part (fb-tuning's form and run) with the run and share buttons.
func (f *Feedback) renderTuning() app.UI {
	l := f.Lang
	ready := f.reward != nil && f.reward.Status == statusDone
	running := f.tuning != nil && f.tuning.Active()
	var run app.UI
	if f.tuning != nil {
		run = f.tuning.render(l)
	}
	return app.Section().Class("panel").ID("fb-tune").Body(
		app.H2().Text(l.T("fb.tune.title")),
		app.If(!ready, app.P().ID("fb-tune-wait").Class("hint").Text(l.T("fb.tune.needs_rm"))),
		// The methods' settings fold away once tuning starts, so the results come right under
		// the buttons; the learner opens them again to change something.
		app.Details().ID("fbt-setup").Class("setup").Open(f.tuning == nil).Body(
			app.Summary().Text(l.T("setup.title")),
			f.setup.render(l, running || !ready || (f.link != nil && f.choice.Kind == startLink && !f.linkEdited)),
		),
		app.Div().Class("controls").Body(
			app.Button().ID("fb-tune-run").Class("primary").Text(l.T("fb.tune.run")).Disabled(!ready || running || f.busy()).
				OnClick(func(ctx app.Context, e app.Event) { f.runMethods() }),
			app.Button().ID("fb-tune-stop").Text(l.T("btn.stop")).Disabled(!running).
				OnClick(func(ctx app.Context, e app.Event) {
					if f.tuning != nil {
						f.tuning.stop()
					}
				}),
		),
		run,
		f.renderShare(ready),
	)
}

func (f *Feedback) renderShare(ready bool) app.UI {
	l := f.Lang
	var note app.UI
	if f.choice.Kind == startFile {
		note = app.P().ID("fb-share-file").Class("hint").Text(l.T("fb.share.file"))
	}
	return app.Div().Class("share").Body(
		app.Button().ID("fb-share").Text(l.T("btn.share")).Disabled(!ready || f.choice.Kind == startFile).
			OnClick(func(ctx app.Context, e app.Event) {
				if spec, ok := f.shareSpec(f.Lang); ok {
					f.share.make(f.Lang, spec)
				}
			}),
		app.Span().Class("hint").Text(" "+l.T("fb.share.hint")),
		note,
		f.share.render(l, "fb-"),
	)
}
