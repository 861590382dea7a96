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
}

// The views.
const (
	viewPretrain = "pretrain"
	viewCompare  = "compare"
	viewFeedback = "feedback"
	viewBench    = "bench"
	viewPresets  = "presets"
)

// The guided path (path.go) comes first: it is the story the other views tell in pieces.
var views = []string{viewPath, viewPretrain, viewCompare, viewFeedback, viewBench, viewPresets}

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
func (h *Home) OnNav(ctx app.Context) {
	if v := linkView(ctx.Page().URL().Fragment); v != "" {
		h.view = v
	}
}

// linkView is the view for a URL fragment carrying a link ("r=CODE"), or "" for no link. A
// class's link ("class=CODE") opens the feedback view as a student's page.
func linkView(fragment string) string {
	fragment, _, _ = strings.Cut(fragment, "~")
	if strings.HasPrefix(fragment, "class=") {
		return viewFeedback
	}
	if v, ok := strings.CutPrefix(fragment, "view="); ok && slices.Contains(views, v) { // the built-in runs tab's
		return v
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
// open the link the URL already holds again, since only a changed URL reaches the views.
func linkFragment(fragment string) (code string, run, ok bool) {
	fragment, _, _ = strings.Cut(fragment, "~")
	if code, ok := strings.CutPrefix(fragment, "r="); ok {
		return code, true, true
	}
	if code, ok := strings.CutPrefix(fragment, "o="); ok {
		return code, false, true
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
	// data-live marks the page the wasm drew (the server prerenders the same markup).
	return app.Div().Class("app").Lang(string(l)).DataSet("live", app.IsClient).Body(
		app.Header().Class("top").Body(
			app.Div().Class("brand").Body(
				app.Img().Src("/web/icon.svg").Alt("").Width(32).Height(32),
				app.Span().Class("name").Text("pretune"),
				app.Span().Class("tagline").Text(l.T("app.tagline")),
			),
			app.Nav().Aria("label", l.T("nav.label")).Body(app.Range(views).Slice(func(i int) app.UI {
				v := views[i]
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
		),
		app.Main().Class("page").Body(
			// The path stays mounted: in another view it draws the strip of the step running there.
			&Path{Lang: l, View: view},
			app.Div().Hidden(view != viewPretrain).Body(&Pretrain{Lang: l}),
			app.Div().Hidden(view != viewCompare).Body(&Compare{Lang: l}),
			app.Div().Hidden(view != viewFeedback).Body(&Feedback{Lang: l, Active: view == viewFeedback}),
			app.If(view == viewBench, &Bench{Lang: l}),
			app.If(view == viewPresets, &Presets{Lang: l}),
		),
	)
}
