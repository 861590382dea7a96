package app

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Class mode in the feedback view: the teacher's panel and the student's page (the state is
// class_state.go and its neighbours), and Feedback as class mode's host in the browser.

// classMount wires class mode when the view mounts: the probe, and the queue a closed page
// left, which is sent whatever this page shows.
func (f *Feedback) classMount(ctx app.Context) {
	f.classOn(classFetch{ctx: ctx}, f)
	f.class.Visible = f.Active
	if !app.IsClient {
		return
	}
	f.classProbe()
	if !f.class.queue.loading {
		f.class.queue.loading = true
		loadClassQueue(ctx, func(s *savedClassQueue) { f.classQueueLoaded(s) })
	}
}

// OnUpdate follows the view being shown or hidden: the teacher's figures are polled only
// while it shows.
func (f *Feedback) OnUpdate(ctx app.Context) {
	if f.class.Visible != f.Active {
		f.classShow(f.Active)
	}
}

// after runs fn on the UI goroutine after d (setTimeout); the JS callback only dispatches.
func (f *Feedback) after(d time.Duration, fn func()) (stop func()) {
	if !app.IsClient {
		return func() {}
	}
	var cb app.Func
	fired, stopped := false, false
	cb = app.FuncOf(func(this app.Value, args []app.Value) any {
		fired = true
		cb.Release()
		go f.ctx.Dispatch(func(app.Context) {
			if !stopped {
				fn()
			}
		})
		return nil
	})
	id := app.Window().Call("setTimeout", cb, d.Milliseconds())
	return func() {
		if stopped {
			return
		}
		stopped = true
		if !fired { // a fired callback released itself
			app.Window().Call("clearTimeout", id)
			cb.Release()
		}
	}
}

func (f *Feedback) local(key string) string {
	ls := app.Window().Get("localStorage")
	if !ls.Truthy() {
		return ""
	}
	v := ls.Call("getItem", key)
	if v.Type() != app.TypeString {
		return ""
	}
	return v.String()
}

// setLocal keeps value under key in localStorage; "" removes it.
func (f *Feedback) setLocal(key, value string) {
	ls := app.Window().Get("localStorage")
	if !ls.Truthy() {
		return
	}
	if value == "" {
		ls.Call("removeItem", key)
		return
	}
	ls.Call("setItem", key, value)
}

func (f *Feedback) keepClassQueue(s savedClassQueue) {
	data, err := json.Marshal(s)
	if err != nil {
		return
	}
	withStore("readwrite", func(store app.Value) { store.Call("put", string(data), classQueueKey) })
}

func (f *Feedback) copyText(text string) { copyText(text) }

func (f *Feedback) origin() string {
	if !app.IsClient {
		return ""
	}
	return app.Window().Get("location").Get("origin").String()
}

// loadClassQueue reads the kept queue and hands it to done on the UI goroutine: nil when
// nothing (readable) is kept, so the page knows the read is over.
func loadClassQueue(ctx app.Context, done func(s *savedClassQueue)) {
	withStore("readonly", func(store app.Value) {
		req := store.Call("get", classQueueKey)
		var got, failed app.Func
		release := func() { got.Release(); failed.Release() }
		got = app.FuncOf(func(this app.Value, args []app.Value) any {
			release()
			var s *savedClassQueue
			if v := req.Get("result"); v.Type() == app.TypeString {
				var q savedClassQueue
				if json.Unmarshal([]byte(v.String()), &q) == nil {
					s = &q
				}
			}
			go ctx.Dispatch(func(app.Context) { done(s) })
			return nil
		})
		failed = app.FuncOf(func(this app.Value, args []app.Value) any {
			release()
			go ctx.Dispatch(func(app.Context) { done(nil) })
			return nil
		})
		req.Set("onsuccess", got)
		req.Set("onerror", failed)
	})
}

// classErrText is a class error as the page says it: what failed in l, the server's message as
// data after it.
func classErrText(l Lang, lead string, e *classError) app.UI {
	why := l.T("class.err.network")
	switch {
	case e.Status == 404:
		why = l.T("class.err.not_found")
	case e.Status == 403:
		why = l.T("class.err.forbidden")
	case e.Status == 409:
		why = l.T("class.err.full")
	case e.Status == 429:
		why = l.T("class.err.busy")
	case e.Status >= 500:
		why = l.T("class.err.server")
	case e.Status != 0:
		why = l.T("class.err.refused")
	}
	return app.Div().ID("class-error").Class("error").Role("alert").DataSet("status", e.Status).Body(
		app.Text(lead+" "+why),
		app.If(e.Msg != "", app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(e.Msg))),
	)
}

// renderClass is the teacher's "Class mode" panel: only when the server runs a class.
func (f *Feedback) renderClass() app.UI {
	l := f.Lang
	if !f.class.On || f.classStudentMode() {
		return nil
	}
	t := f.class.teacher
	if t == nil {
		var errP app.UI
		if f.class.OpenErr != nil {
			errP = classErrText(l, l.T("class.err.open"), f.class.OpenErr)
		}
		return app.Section().Class("panel").ID("class-panel").Body(
			app.H2().Text(l.T("class.title")),
			app.P().Class("hint").Text(l.T("class.explain")),
			app.Label().For("class-name").Text(l.T("class.name")),
			app.Input().ID("class-name").MaxLength(80).Placeholder(l.T("class.name_placeholder")).Value(f.className).
				OnInput(func(ctx app.Context, e app.Event) { f.className = ctx.JSSrc().Get("value").String() }),
			app.Div().Class("controls").Body(
				app.Button().ID("class-open").Class("primary").Text(l.T("class.open")).Disabled(f.class.Opening).
					OnClick(func(ctx app.Context, e app.Event) { f.classOpen(f.className, f.Lang) }),
			),
			errP,
		)
	}
	link := f.classLink()
	var errP, used app.UI
	if t.Err != nil {
		errP = classErrText(l, l.T("class.err.teacher"), t.Err)
	}
	if t.Used > 0 {
		used = app.P().ID("class-used").Class("hint").Text(l.T("class.used", t.Used))
	}
	return app.Section().Class("panel").ID("class-panel").DataSet("code", t.Info.Code).Body(
		app.H2().Body(app.Text(l.T("class.title")+" · "), app.Span().ID("class-title").Class("data").Text(t.Info.Name)),
		app.P().Text(l.T("class.board")),
		app.P().ID("class-code").Class("data class-code").Style("font-size", "3em").Style("letter-spacing", "0.2em").
			Style("font-weight", "bold").Text(t.Info.Code),
		app.P().Body(
			app.Text(l.T("class.link")+" "),
			app.A().ID("class-link").Class("data").Href(link).Target("_blank").Text(link),
			app.Text(" "),
			app.Button().ID("class-copy").Text(l.T("class.copy")).OnClick(func(ctx app.Context, e app.Event) { f.class.host.copyText(link) }),
		),
		f.renderClassStats(),
		app.Div().Class("controls").Body(
			app.Button().ID("class-use").Class("primary").Text(l.T("class.use")).Disabled(t.Busy || f.busy()).
				OnClick(func(ctx app.Context, e app.Event) { f.classUsePicks() }),
			app.Button().ID("class-export").Text(l.T("class.export")).Disabled(t.Busy).
				OnClick(func(ctx app.Context, e app.Event) { f.classExport() }),
			app.Button().ID("class-new").Text(l.T("class.new")).OnClick(func(ctx app.Context, e app.Event) { f.classForget() }),
		),
		app.P().Class("hint").Text(l.T("class.use_hint")),
		used, errP,
	)
}

// renderClassStats is the class's live figures: picks per student under anonymous ids, the
// total, and how often students agree on the pairs two or more of them judged.
func (f *Feedback) renderClassStats() app.UI {
	l := f.Lang
	s := f.class.teacher.Stats
	if s == nil {
		return app.Div().ID("class-stats").Body(app.P().Class("hint").Text(l.T("class.stats.waiting")))
	}
	agree := l.T("class.stats.no_agreement")
	if s.Agreement.Pairs > 0 {
		agree = l.T("class.stats.agreement", fmtPct(&s.Agreement.Agree), s.Agreement.Judgements, s.Agreement.Pairs)
	}
	var table app.UI
	if len(s.Students) > 0 {
		table = scrollBox("table-scroll", l.T("class.stats.picks")).Body(app.Table().ID("class-students").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Scope("col").Text(l.T("class.stats.student")),
				app.Th().Scope("col").Text(l.T("class.stats.picks")),
			)),
			app.TBody().Body(app.Range(s.Students).Slice(func(i int) app.UI {
				st := s.Students[i]
				return app.Tr().DataSet("student", st.Student).Body(
					app.Td().Body(app.Code().Class("data").Text(st.Student)),
					app.Td().Class("num").Text(st.Picks),
				)
			})),
		))
	}
	return app.Div().ID("class-stats").Body(
		app.P().ID("class-total").DataSet("picks", s.Picks).DataSet("students", len(s.Students)).
			Text(l.T("class.stats.total", s.Picks, len(s.Students))),
		table,
		app.P().ID("class-agreement").DataSet("pairs", s.Agreement.Pairs).DataSet("judgements", s.Agreement.Judgements).
			DataSet("agree", fmt.Sprint(s.Agreement.Agree)).Text(agree),
	)
}

// renderStudent is a student's page: the class, what to do, the offers with the keys, and what
// is sent. The model's choices, the reward model, the methods and the share link are the
// teacher's.
func (f *Feedback) renderStudent() app.UI {
	l := f.Lang
	st := f.class.student
	q := &f.class.queue
	_, current := f.picks.Current()
	name := st.Code
	if st.Info != nil {
		name = st.Info.Name
	}
	var errP, sendErr, undoNote, own, offline app.UI
	if st.Err != nil {
		errP = classErrText(l, l.T("class.err.join"), st.Err)
	}
	if q.Err != nil {
		lead := l.T("class.err.send")
		if q.Dropped {
			lead = l.T("class.err.dropped")
		}
		sendErr = app.Div().ID("class-send-error").Body(classErrText(l, lead, q.Err))
	}
	if q.Offline {
		offline = app.P().ID("class-offline").Class("hint").Role("status").Text(l.T("class.offline"))
	}
	if st.UndoRefused {
		undoNote = app.P().ID("class-undo-sent").Class("hint").Role("status").Text(l.T("class.undo_sent"))
	}
	if st.OwnKnown {
		own = app.Span().ID("class-own").DataSet("picks", st.Own).Text(" " + l.T("class.own", st.Own))
	}
	sent, waiting := q.sentOf(st.Code), q.waitingOf(st.Code)
	return app.Div().ID("feedback").DataSet("class", st.Code).Body(
		app.Section().Class("panel").ID("class-student").Body(
			app.H2().Body(app.Text(l.T("class.student.title")+" · "), app.Span().ID("class-student-name").Class("data").Text(name)),
			app.P().Text(l.T("class.student.explain")),
			errP,
			f.renderSFT(),
			f.renderCurrentOffer(),
			app.Div().Class("controls").Body(
				app.Button().ID("fb-skip").Text(l.T("fb.picks.skip")).Disabled(!current).OnClick(func(ctx app.Context, e app.Event) { f.skipPick() }),
				app.Button().ID("fb-undo").Text(l.T("fb.picks.undo")).Disabled(!f.classCanUndo()).OnClick(func(ctx app.Context, e app.Event) { f.undoPick() }),
			),
			undoNote,
			app.P().ID("class-counter").Body(
				app.Span().ID("class-sent").DataSet("n", sent).Text(l.T("class.sent", sent)),
				app.Span().ID("class-waiting").DataSet("n", waiting).Text(l.T("class.waiting", waiting)),
				own,
			),
			offline, sendErr,
			app.P().Class("hint").Text(l.T("class.student.undo_hint")),
		),
	)
}
