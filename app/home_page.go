// Package app is pretune's user interface: go-app components compiled to WebAssembly. It imports
// core for configs, links and results, never the webgpu device (training runs in workers).
package app

import (
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/runspec"
)

// Home is the playground's one page: a header with the views and the language switch, and the
// view in use. The pretraining and compare views stay mounted (hidden) while another shows, so
// their runs keep going and keep their charts when the learner looks elsewhere; so does the
// feedback view, which hears the keys only while it shows.
type Home struct {
	app.Compo
	lang Lang
	view string
	// lesson is the teacher's link's options (lesson_link.go): it stays while the page lives,
	// until a fragment with options of its own replaces it. ignored lists the options it could
	// not use; projector is projector mode (also the header's switch).
	lesson    Lesson
	ignored   []string
	projector bool
}

// The views.
const (
	viewPretrain = "pretrain"
	viewCompare  = "compare"
	viewFeedback = "feedback"
	viewBench    = "bench"
	viewPresets  = "presets"
	viewTeacher  = "teacher" // the teacher's panel: a link for the class (teacher_view.go)
)

// The guided path (path.go) comes first: it is the story the other views tell in pieces.
var views = []string{viewPath, viewPretrain, viewCompare, viewFeedback, viewBench, viewPresets, viewTeacher}

// OnMount reads the remembered language, and follows it as other components change it.
func (h *Home) OnMount(ctx app.Context) {
	h.lang = savedLang(ctx)
	ctx.ObserveState(langState).OnChange(func() { ctx.Dispatch(func(app.Context) {}) }).Value(&h.lang)
	if h.view == "" {
		h.view = viewPretrain
	}
}

// OnNav shows the view a #r= link is for: a feedback stage's opens the feedback view, a
// fine-tuning comparison's the compare view (which run them); any other stays with the
// pretraining view (which runs it or says why not). A class's #class= link opens the feedback
// view too.
//
// A teacher's link's options (lesson_link.go) set the lesson: the views the nav offers, the
// path's steps (state lessonStepsState), the language and projector mode.
func (h *Home) OnNav(ctx app.Context) {
	frag := ctx.Page().URL().Fragment
	if f := parseFragment(frag); f.HasLesson {
		h.lesson, h.ignored = f.Lesson, f.Ignored
		ctx.SetState(lessonStepsState, h.lesson.Steps)
		if h.lesson.Lang != "" {
			setLang(ctx, h.lesson.Lang)
		}
		if h.lesson.Projector {
			h.projector = true
		}
	}
	if v := linkView(frag); v != "" {
		h.view = v
	}
	if nav := h.lesson.navViews(views, linkView(frag)); !slices.Contains(nav, h.view) && len(nav) > 0 {
		h.view = nav[0]
	}
}

// linkView is the view for a URL fragment carrying a link ("r=CODE"), or "" for no link. A
// class's link ("class=CODE") opens the feedback view as a student's page.
func linkView(fragment string) string {
	f := parseFragment(fragment)
	if f.Base == "class" {
		return viewFeedback
	}
	if f.Base == "view" && slices.Contains(views, f.Value) { // the built-in runs tab's
		return f.Value
	}
	code, _, ok := linkFragment(fragment)
	if !ok {
		return ""
	}
	spec, _ := runspec.Decode(code)
	switch { // a damaged link: the pretraining view says why, unless it is a feedback stage's
	case spec.Feeds():
		return viewFeedback
	case spec.Compares():
		return viewCompare
	}
	return viewPretrain
}

// linkFragment reads a URL fragment carrying a link: "r=CODE" opens the run and starts it (a
// shared link), "o=CODE" only opens it with its setup filled in (the built-in runs tab's Open).
//
// A "~N" after either (never in a code's alphabet) is ignored: the built-in runs tab adds one to
// open the link the URL already holds again, since only a changed URL reaches the views. So are
// a teacher's options after the code ("&hide=lr", parseFragment).
func linkFragment(fragment string) (code string, run, ok bool) {
	f := parseFragment(fragment)
	switch f.Base {
	case "r":
		return f.Value, true, true
	case "o":
		return f.Value, false, true
	}
	return "", false, false
}

// linkCodeOf is the code a link fragment carries.
func linkCodeOf(fragment string) string {
	code, _, _ := linkFragment(fragment)
	return code
}

// isLinkFragment reports whether a fragment carries a link (linkFragment).
func isLinkFragment(fragment string) bool {
	_, _, ok := linkFragment(fragment)
	return ok
}

// Render draws the page.
func (h *Home) Render() app.UI {
	l := h.lang
	if l == "" {
		l = EN
	}
	view := h.view
	if view == "" {
		view = viewPretrain
	}
	nav := h.lesson.navViews(views, view)
	class := "app"
	if h.projector { // large text and charts, no setup panels (pretune.css, "projector")
		class += " projector"
	}
	// data-live marks the page the wasm drew (the server prerenders the same markup).
	return app.Div().Class(class).Lang(string(l)).DataSet("live", app.IsClient).Body(
		// A keyboard's first stop: past the header to the view (WCAG 2.4.1). A button, not a
		// link to #content: the URL's fragment carries run links.
		app.Button().ID("skip").Class("skip").Text(l.T("a11y.skip")).OnClick(func(ctx app.Context, e app.Event) {
			app.Window().GetElementByID("content").Call("focus")
		}),
		app.Header().Class("top").Body(
			app.Div().Class("brand").Body(
				app.Img().Src("/web/icon.svg").Alt("").Width(32).Height(32),
				app.Span().Class("name").Text("pretune"),
				app.Span().Class("tagline").Text(l.T("app.tagline")),
			),
			app.Nav().Aria("label", l.T("nav.label")).Body(app.Range(nav).Slice(func(i int) app.UI {
				v := nav[i]
				return app.Button().ID("nav-"+v).Class("tab").Aria("pressed", v == view).Text(l.T("nav." + v)).
					OnClick(func(ctx app.Context, e app.Event) { h.view = v })
			})),
			app.Div().Class("lang").Body(
				app.Label().For("lang").Text(l.T("lang.label")),
				app.Select().ID("lang").OnChange(func(ctx app.Context, e app.Event) {
					setLang(ctx, Lang(ctx.JSSrc().Get("value").String()))
				}).Body(
					app.Option().Value(string(EN)).Selected(l == EN).Text("English"),
					app.Option().Value(string(ZH)).Selected(l == ZH).Text("简体中文"),
				),
			),
			app.Button().ID("projector").Class("tab projector-switch").Aria("pressed", h.projector).Title(l.T("projector.about")).
				Text(l.T("projector.switch")).OnClick(func(ctx app.Context, e app.Event) { h.projector = !h.projector }),
		),
		app.Main().ID("content").Class("page").TabIndex(-1).Body(
			// Always drawn (hidden when empty): an element appearing before the views' would
			// make go-app mount them again, ending their runs.
			app.P().ID("lesson-ignored").Class("notice hint").Hidden(len(h.ignored) == 0).Body(
				app.Text(l.T("lesson.ignored")+" "), app.Code().Class("data").Text(strings.Join(h.ignored, " · ")),
			),
			// The path stays mounted: in another view it draws the strip of the step running there.
			&Path{Lang: l, View: view},
			app.Div().Hidden(view != viewPretrain).Body(&Pretrain{Lang: l, Lesson: h.lesson}),
			app.Div().Hidden(view != viewCompare).Body(&Compare{Lang: l, Lesson: h.lesson}),
			app.Div().Hidden(view != viewFeedback).Body(&Feedback{Lang: l, Active: view == viewFeedback}),
			app.If(view == viewBench, &Bench{Lang: l}),
			app.If(view == viewPresets, &Presets{Lang: l}),
			app.Div().Hidden(view != viewTeacher).Body(&Teacher{Lang: l}), // keeps the ticks while hidden
		),
	)
}
