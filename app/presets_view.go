package app

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/runspec"
)

// Presets shows each built-in run as a card (what it shows, its time on this device, Open and
// Run) and reads a pasted link or code into the same card, so a teacher can see what a link
// will train, and start it, before sending it to a class.
type Presets struct {
	app.Compo
	Lang Lang

	link    string
	spec    *runspec.Spec
	linkErr error
	speed   float64 // weight-tokens a second measured in this browser (throughputKey), 0 if none
}

// OnMount reads the speed a previous run measured in this browser.
func (p *Presets) OnMount(ctx app.Context) {
	if ls := app.Window().Get("localStorage"); ls.Truthy() {
		if v := ls.Call("getItem", throughputKey); v.Type() == app.TypeString {
			p.speed, _ = strconv.ParseFloat(v.String(), 64)
		}
	}
}

func (p *Presets) decode(link string) {
	p.link = link
	p.spec, p.linkErr = nil, nil
	if strings.TrimSpace(link) == "" {
		return
	}
	s, err := runspec.Decode(link)
	if err != nil && s.Version == 0 {
		p.linkErr = err
		return
	}
	p.spec, p.linkErr = &s, err
}

// allPresets are the built-in runs the tab shows: pretraining, comparisons, feedback stages.
func allPresets() []runspec.Preset {
	return append(append(runspec.Presets(), runspec.ComparisonPresets()...), runspec.FeedbackPresets()...)
}

// builtinFor is the built-in preset a spec is, by its code, or nil.
func builtinFor(s runspec.Spec) *runspec.Preset {
	code, err := runspec.Encode(s)
	if err != nil {
		return nil
	}
	for _, p := range allPresets() {
		if c, err := runspec.Encode(p.Spec); err == nil && c == code {
			return &p
		}
	}
	return nil
}

// Render draws the view.
func (p *Presets) Render() app.UI {
	l := p.Lang
	ps := allPresets()
	return app.Section().ID("presets-view").Class("panel").Body(
		app.H2().Text(l.T("presets.title")),
		app.P().Class("hint").Text(l.T("presets.cards_hint")),
		app.Div().ID("presets").Class("preset-cards").Body(app.Range(ps).Slice(func(i int) app.UI {
			return p.renderCard("preset-"+ps[i].Name, ps[i].Spec, &ps[i])
		})),
		app.H3().Text(l.T("presets.read")),
		app.Label().For("link").Text(l.T("presets.paste")),
		app.Textarea().ID("link").Rows(3).Text(p.link).OnInput(func(ctx app.Context, e app.Event) {
			p.decode(ctx.JSSrc().Get("value").String())
		}),
		p.renderSpec(),
		app.P().Class("hint").Body(
			app.Text(l.T("presets.cli")+" "),
			app.Code().Class("data").Text("go run . -run CODE -json"),
		),
	)
}

// renderCard is one run's card: its name and what it shows, its model and time here, and Open
// and Run, which go to its view with #o= and #r= (Home.OnNav and the views' OnNav).
func (p *Presets) renderCard(id string, s runspec.Spec, pr *runspec.Preset) app.UI {
	l := p.Lang
	code, err := runspec.Encode(s)
	if err != nil {
		code = ""
	}
	name, about := l.T("presets.link_name"), ""
	if pr != nil {
		name, about = presetName(l, pr.Name), presetAbout(l, pr.Name)
	}
	c := s.Config
	set, _ := setupFromSpec(s)
	kind := presetKind(s)
	open, run := "o="+code, "r="+code
	if kind == viewFeedback && pr != nil { // a built-in stage starts with the learner's picks: the view, not a link
		open, run = "view="+viewFeedback, "view="+viewFeedback
	}
	go_ := func(frag string) func(ctx app.Context, e app.Event) {
		return func(ctx app.Context, e app.Event) {
			// A teacher's link's lesson stays in the URL; the same card again gets a ~N, since
			// the URL must change for the views to hear it.
			cur := ctx.Page().URL()
			f := keepOptions(cur.Fragment, frag)
			if cur.Fragment == f {
				f += "~" + strconv.FormatInt(time.Now().UnixMilli(), 36)
			}
			ctx.NavigateTo(linkURL(cur, f))
		}
	}
	return app.Article().ID(id).Class("preset-card").DataSet("kind", kind).Body(
		app.H3().Class("preset-name").Text(name),
		app.If(about != "", app.P().Class("preset-about").Text(about)),
		app.P().Class("preset-model hint").Text(l.T("presets.card_model",
			l.T("presets.kind."+kind), l.T("model.shape", c.Layers, c.Dim, c.Heads, c.Context), groupDigits(set.Params()))),
		app.P().Class("preset-time").Text(estimateText(l, s, p.speed, deviceCores())),
		app.Div().Class("preset-actions").Body(
			app.Button().Class("preset-open").Disabled(code == "").Text(l.T("presets.open")).OnClick(go_(open)),
			app.Button().Class("preset-run primary").Disabled(code == "").Text(l.T("presets.run."+kind)).OnClick(go_(run)),
		),
		app.Details().Body(app.Summary().Text(l.T("presets.code")), app.Code().Class("code data").Text(code)),
	)
}

// presetName is a preset's name in l: the pretraining presets have their form's names.
func presetName(l Lang, name string) string {
	if _, ok := en["preset."+name]; ok {
		return l.T("preset." + name)
	}
	return l.T("presets.name." + name)
}

// presetAbout is what a preset shows, in l: the pretraining presets have their form's words.
func presetAbout(l Lang, name string) string {
	if _, ok := en["preset.about."+name]; ok {
		return l.T("preset.about." + name)
	}
	return l.T("presets.about." + name)
}

// presetKind is the view a spec opens in (linkView's choice).
func presetKind(s runspec.Spec) string {
	switch {
	case s.Feeds():
		return viewFeedback
	case s.Compares():
		return viewCompare
	}
	return viewPretrain
}

// throughputKey is the localStorage key of this browser's measured training throughput: tokens a
// second times the model's weights, which stays about the same across model sizes on one device
// (a step's work grows with both), so one run's speed estimates every preset's card. The start
// dialogs keep exact milliseconds per step per model shape instead (speedKey, longrun.go).
const throughputKey = "pretune.throughput"

// typicalTokensPS is the README's measured speed of the small model (the en-small preset's) on the CPU device in
// Chromium (5,000 tokens/s on a 2-core laptop-class machine), for a browser that measured none.
const typicalTokensPS = 5000

// typicalFeedbackSeconds is the README's measured whole feedback stage (the kept SFT model,
// the taste's 50 picks, the reward model and PPO, DPO and GRPO) in Chromium on the CPU device.
const typicalFeedbackSeconds = 181.4

// typicalSpeed is typicalTokensPS as weight-tokens a second.
func typicalSpeed() float64 {
	small, err := runspec.PresetByName("en-small") // the README's model: small, English letters
	if err != nil {
		panic(err) // a built-in preset
	}
	s, _ := setupFromSpec(small.Spec)
	return typicalTokensPS * float64(s.Params())
}

// typicalCores is the README's machine's cores, on which its speeds were measured.
const typicalCores = 2

// estimateSeconds is how long s trains at speed weight-tokens a second on cores cores:
// pretraining its steps in one worker; a comparison each method's steps from the kept base, one
// worker per method sharing the cores; a feedback stage the README's measured stage scaled by
// the speed.
func estimateSeconds(s runspec.Spec, speed float64, cores int) float64 {
	set, _ := setupFromSpec(s)
	tokens := float64(s.Config.Batch * s.Config.Context)
	perStep := tokens * float64(set.Params()) / speed
	switch presetKind(s) {
	case viewFeedback:
		return typicalFeedbackSeconds * typicalSpeed() / speed
	case viewCompare:
		side := max(1, min(len(s.Methods), cores)) // methods trained side by side
		return float64(s.FineTune.Steps*len(s.Methods)) * perStep / float64(side)
	}
	return float64(s.Config.Steps) * perStep
}

// estimateText says how long s takes here (measured: this browser's speed, 0 if none; cores:
// this device's) and where the figure comes from.
func estimateText(l Lang, s runspec.Spec, measured float64, cores int) string {
	if measured > 0 {
		return l.T("presets.time_measured", durationText(l, estimateSeconds(s, measured, cores)))
	}
	return l.T("presets.time_typical", durationText(l, estimateSeconds(s, typicalSpeed(), typicalCores)), groupDigits(typicalTokensPS))
}

// deviceCores is navigator.hardwareConcurrency (the README's 2 where the browser does not say).
func deviceCores() int {
	if !app.IsClient {
		return typicalCores
	}
	if n := app.Window().Get("navigator").Get("hardwareConcurrency"); n.Type() == app.TypeNumber && n.Int() > 0 {
		return n.Int()
	}
	return typicalCores
}

// durationText is a time to the nearest 5 seconds under a minute and a half, else to the minute
// (so never "1 minutes").
func durationText(l Lang, sec float64) string {
	if sec < 90 {
		return l.T("presets.seconds", int(math.Max(5, 5*math.Round(sec/5))))
	}
	return l.T("presets.minutes", int(math.Round(sec/60)))
}

// linkURL is the page's URL opening a fragment (used by the card buttons).
func linkURL(base *url.URL, frag string) *url.URL {
	u := *base
	u.Fragment, u.RawFragment = frag, ""
	return &u
}

func (p *Presets) renderSpec() app.UI {
	l := p.Lang
	switch {
	case p.linkErr != nil && p.spec == nil:
		return app.P().ID("link-read-error").Class("error").Body(app.Text(linkErrText(l, p.linkErr)+" "), app.Span().Class("data").Text(p.linkErr.Error()))
	case p.spec == nil:
		return app.P().ID("link-empty").Class("hint").Text(l.T("presets.none"))
	}
	s, c := p.spec, p.spec.Config
	pr := builtinFor(*s)
	exp := s.Fingerprint
	switch {
	case pr != nil && exp == "": // a built-in run's fingerprint is the one its run measures
		exp = l.T("presets.builtin_fp")
	case exp == "":
		exp = l.T("link.no_fingerprint")
	}
	var builtin, changed app.UI
	if pr != nil {
		builtin = app.P().ID("link-builtin").Class("notice").Text(l.T("presets.is_builtin", presetName(l, pr.Name)))
	}
	if p.linkErr != nil { // readable, but its text or task changed since: the view asks before running
		changed = app.P().ID("link-read-error").Class("error").Body(app.Text(linkErrText(l, p.linkErr)+" "), app.Span().Class("data").Text(p.linkErr.Error()))
	}
	return app.Div().ID("link-card").Body(
		builtin,
		changed,
		p.renderCard("link-preset", *s, pr),
		app.Dl().ID("link-spec").Body(
			dlRow(l.T("label.corpus"), corpusLabel(l, s.Corpus.ID, s.Corpus.Name)),
			dlRow(l.T("label.model"), l.T("model.shape", c.Layers, c.Dim, c.Heads, c.Context)),
			dlRow(l.T("label.training"), l.T("model.training", c.Steps, c.Batch, c.LR, c.Seed)),
			dlRow(l.T("label.device"), deviceChoiceLabel(l, s.Device)),
			app.Div().Body(app.Dt().Text(l.T("label.expected")), app.Dd().Body(app.Code().Class("data").Text(exp))),
		),
	)
}

// noteSpeed keeps a run's measured speed in this browser (throughputKey) for the built-in runs tab's
// estimates, once the run is far enough along for its tokens a second to mean something.
func noteSpeed(r *run) {
	if r == nil || r.TokensPS <= 0 || r.Step < 20 {
		return
	}
	set, err := setupFromSpec(r.Spec)
	if err != nil {
		return
	}
	if ls := app.Window().Get("localStorage"); ls.Truthy() {
		ls.Call("setItem", throughputKey, strconv.FormatFloat(r.TokensPS*float64(set.Params()), 'g', 6, 64))
	}
}
