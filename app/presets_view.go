package app

import (
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/runspec"
)

// Presets lists the built-in runs with their share codes and reads a pasted link back into its
// setup, so a teacher can check what a link will train before sending it to a class.
type Presets struct {
	app.Compo
	Lang Lang

	link    string
	spec    *runspec.Spec
	linkErr error
}

func (p *Presets) decode(link string) {
	p.link = link
	p.spec, p.linkErr = nil, nil
	if strings.TrimSpace(link) == "" {
		return
	}
	s, err := runspec.Decode(link)
	if err != nil {
		p.linkErr = err
		return
	}
	p.spec = &s
}

// Render draws the view.
func (p *Presets) Render() app.UI {
	l := p.Lang
	return app.Section().ID("presets-view").Class("panel").Body(
		app.H2().Text(l.T("presets.title")),
		app.Table().ID("presets").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Text(l.T("presets.name")), app.Th().Text(l.T("label.corpus")), app.Th().Text(l.T("label.model")),
				app.Th().Text(l.T("presets.params")), app.Th().Text(l.T("field.steps")), app.Th().Text(l.T("presets.code")),
			)),
			app.TBody().Body(app.Range(runspec.Presets()).Slice(func(i int) app.UI {
				pr := runspec.Presets()[i]
				code, err := runspec.Encode(pr.Spec)
				if err != nil {
					code = err.Error()
				}
				c := pr.Spec.Config
				s, _ := setupFromSpec(pr.Spec)
				return app.Tr().Body(
					app.Td().Text(l.T("preset."+pr.Name)),
					app.Td().Text(corpusLabel(l, pr.Spec.Corpus.ID, "")),
					app.Td().Text(l.T("model.shape", c.Layers, c.Dim, c.Heads, c.Context)),
					app.Td().Text(groupDigits(s.Params())),
					app.Td().Text(c.Steps),
					app.Td().Body(app.Code().Class("code data").Text(code)),
				)
			})),
		),
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

func (p *Presets) renderSpec() app.UI {
	l := p.Lang
	switch {
	case p.linkErr != nil:
		return app.P().ID("link-read-error").Class("error").Body(app.Text(linkErrText(l, p.linkErr)+" "), app.Span().Class("data").Text(p.linkErr.Error()))
	case p.spec == nil:
		return app.P().ID("link-empty").Class("hint").Text(l.T("presets.none"))
	}
	s, c := p.spec, p.spec.Config
	exp := s.Fingerprint
	if exp == "" {
		exp = l.T("link.no_fingerprint")
	}
	return app.Dl().ID("link-spec").Body(
		dlRow(l.T("label.corpus"), corpusLabel(l, s.Corpus.ID, s.Corpus.Name)),
		dlRow(l.T("label.model"), l.T("model.shape", c.Layers, c.Dim, c.Heads, c.Context)),
		dlRow(l.T("label.training"), l.T("model.training", c.Steps, c.Batch, c.LR, c.Seed)),
		dlRow(l.T("label.device"), deviceChoiceLabel(l, s.Device)),
		app.Div().Body(app.Dt().Text(l.T("label.expected")), app.Dd().Body(app.Code().Class("data").Text(exp))),
	)
}
