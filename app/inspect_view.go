package app

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/protocol"
)

// The "look inside the model" views of the pretraining page: what the model expects after a
// text (the next-token bars), where each attention head looks (the heatmap), and how sure it was
// of each character it wrote (shaded samples). The worker computes them from the run's model;
// the drawing functions here are plain Go returning SVG, so their logic is tested without a
// browser.

// inspectState is the pretraining page's inspection: the learner's text, the request in flight
// and the last answer with the head it shows.
type inspectState struct {
	Prompt  string // the learner's text; "" shows the samples' prompt
	ReqID   int    // the inspect request in flight (0: none)
	Result  *core.Inspection
	RunName string // whose model the result shows, and after how many steps
	Step    int
	Err     string
	Layer   int // the heatmap's layer and head, from 0
	Head    int
}

// samplePromptOf is the prompt a run's samples start with: the latest sample's text without the
// tokens the model wrote ("" before the first sample, or for samples kept without tokens).
func samplePromptOf(r *run) string {
	if r == nil || len(r.Samples) == 0 {
		return ""
	}
	s := r.Samples[len(r.Samples)-1]
	if len(s.Tokens) == 0 {
		return ""
	}
	var written strings.Builder
	for _, t := range s.Tokens {
		written.WriteString(t.Token)
	}
	prompt, ok := strings.CutSuffix(s.Text, written.String())
	if !ok {
		return ""
	}
	return prompt
}

// inspectPrompt is the text the inspection looks at: the learner's, else the samples' prompt,
// else the one the form asked the samples to start with.
func (p *pretrainState) inspectPrompt() string {
	switch {
	case p.insp.Prompt != "":
		return p.insp.Prompt
	case samplePromptOf(p.cur) != "":
		return samplePromptOf(p.cur)
	}
	return p.form.Prompt
}

// canInspect says whether the current run's worker has a model to look at: from the run's first
// evaluation on, whatever became of the run after it.
func (p *pretrainState) canInspect() bool {
	return p.worker != nil && p.cur != nil && p.cur.ReqID != 0 && len(p.cur.Points) > 0
}

// onInspectMessage takes an inspect request's answer; it reports whether m was one.
func (p *pretrainState) onInspectMessage(r *run, m protocol.Message) bool {
	if p.insp.ReqID == 0 || m.ID != p.insp.ReqID || r != p.cur {
		return false
	}
	switch m.Kind {
	case protocol.Inspection:
		if m.Inspection == nil {
			return true
		}
		p.insp.Result, p.insp.Err, p.insp.ReqID = m.Inspection, "", 0
		p.insp.RunName, p.insp.Step = r.Name, m.Step
		p.insp.Layer = min(p.insp.Layer, len(m.Inspection.Attention)-1)
		if p.insp.Layer >= 0 {
			p.insp.Head = min(p.insp.Head, len(m.Inspection.Attention[p.insp.Layer])-1)
		}
		p.insp.Layer, p.insp.Head = max(p.insp.Layer, 0), max(p.insp.Head, 0)
	case protocol.Error:
		p.insp.Err, p.insp.ReqID = m.Error, 0
	}
	return true
}

// inspect asks the current run's worker what its model makes of the inspection's text.
func (p *pretrainState) inspect() {
	p.insp.Err = ""
	p.insp.ReqID = p.worker.send(protocol.Request{Kind: protocol.Inspect, Prompt: p.inspectPrompt()})
}

// inspectErrText is a worker's refusal in the page's language where the page knows it.
func inspectErrText(l Lang, msg string) string {
	if strings.HasPrefix(msg, "no model yet") {
		return l.T("inspect.no_model")
	}
	return l.T("inspect.failed")
}

// renderInspect is the inspection panel: the text, the button, and the two views of the answer.
func (p *Pretrain) renderInspect() app.UI {
	l := p.Lang
	s := &p.insp
	prompt := p.inspectPrompt()
	can := p.canInspect()
	busy := s.ReqID != 0
	var errP, views app.UI
	if s.Err != "" {
		errP = app.P().ID("inspect-error").Class("error").Role("alert").Body(
			app.Text(inspectErrText(l, s.Err)+" "), app.Span().Class("data").Text(s.Err))
	}
	if ins := s.Result; ins != nil && len(ins.Attention) > 0 {
		layer, head := min(s.Layer, len(ins.Attention)-1), 0
		head = min(s.Head, len(ins.Attention[layer])-1)
		var cut app.UI
		if ins.Cut > 0 {
			cut = app.P().Class("hint").Text(l.T("inspect.cut", ins.Cut, len(ins.Tokens)))
		}
		var prefix app.UI
		if ins.PrefixShare != nil {
			prefix = app.P().Class("hint").Text(l.T("inspect.prefix"))
		}
		views = app.Div().ID("inspect-result").Body(
			app.P().ID("inspect-from").Class("hint").Text(l.T("inspect.from", runLabel(l, s.RunName), s.Step)),
			cut,
			app.H4().Text(l.T("next.title")),
			app.P().Class("explain").Text(l.T("next.explain")),
			app.Div().ID("next-box").Body(app.Raw(nextTokenBars("next-bars", l, ins.Tokens, ins.Next))),
			app.H4().Text(l.T("attn.title")),
			app.P().Class("explain").Text(l.T("attn.explain")),
			app.Div().Class("controls").Body(
				app.Label().For("attn-layer").Text(l.T("attn.layer_label")),
				app.Select().ID("attn-layer").OnChange(func(ctx app.Context, e app.Event) {
					if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
						s.Layer = v
					}
				}).Body(app.Range(ins.Attention).Slice(func(i int) app.UI {
					return app.Option().Value(i).Selected(i == layer).Text(l.T("attn.layer", i+1))
				})),
				app.Label().For("attn-head").Text(l.T("attn.head_label")),
				app.Select().ID("attn-head").OnChange(func(ctx app.Context, e app.Event) {
					if v, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
						s.Head = v
					}
				}).Body(app.Range(ins.Attention[layer]).Slice(func(i int) app.UI {
					return app.Option().Value(i).Selected(i == head).Text(l.T("attn.head", i+1))
				})),
			),
			app.Div().ID("attention-box").Body(&chartFigure{Lang: l, SVG: attentionHeatmap("attention-map", l, ins.Tokens, ins.Attention[layer][head], layer, head),
				Table: attentionTable("attention-map", l, ins.Tokens, ins.Attention[layer][head], layer, head)}),
			prefix,
		)
	}
	label := l.T("inspect.go")
	if busy {
		label = l.T("inspect.busy")
	}
	return app.Section().ID("inspect").Body(
		app.H3().Text(l.T("inspect.title")),
		app.P().Class("explain").Text(l.T("inspect.explain")),
		app.Label().For("inspect-prompt").Text(l.T("inspect.prompt_label")),
		app.Div().Class("controls").Body(
			app.Input().Type("text").ID("inspect-prompt").Value(prompt).Placeholder(l.T("inspect.prompt_placeholder")).
				OnChange(func(ctx app.Context, e app.Event) { s.Prompt = ctx.JSSrc().Get("value").String() }),
			app.Button().ID("inspect-go").Class("primary").Text(label).Disabled(!can || busy || prompt == "").
				OnClick(func(ctx app.Context, e app.Event) { p.inspect() }),
		),
		app.If(!can, app.P().Class("hint").Text(l.T("inspect.when"))),
		errP,
		views,
	)
}

// tokenLabel shows a token on an axis or a bar: blanks get a visible sign.
func tokenLabel(tok string) string {
	switch tok {
	case " ":
		return "␣"
	case "\n":
		return "↵"
	case "\t":
		return "⇥"
	}
	return tok
}

// pct formats a probability as a percentage, keeping small ones visible as small.
func pct(p float32) string {
	v := float64(p) * 100
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f%%", v)
	case v >= 0.1:
		return fmt.Sprintf("%.1f%%", v)
	case v > 0:
		return "<0.1%"
	}
	return "0%"
}

// probColour maps a probability in [0,1] to a colour from white (0) to deep blue (1), every
// channel falling as the probability grows, so a darker colour always means more. The square
// root spreads the small probabilities a long prompt's attention and a sample's tokens mostly
// have over more of the scale.
func probColour(p float32) string {
	r, g, b := probRGB(p)
	return fmt.Sprintf("#%02x%02x%02x", r, g, b)
}

func probRGB(p float32) (r, g, b int) {
	t := math.Sqrt(math.Min(1, math.Max(0, float64(p))))
	lerp := func(from, to float64) int { return int(math.Round(from + (to-from)*t)) }
	return lerp(255, 11), lerp(255, 58), lerp(255, 143)
}

// underlineColour is a written token's underline in the samples: pale grey for a token the model
// found unlikely, dark blue for one it was sure of (probColour's end). An underline rather than a
// background, so shaded text never looks like selected text.
func underlineColour(p float32) string {
	t := math.Sqrt(math.Min(1, math.Max(0, float64(p))))
	lerp := func(from, to float64) int { return int(math.Round(from + (to-from)*t)) }
	return fmt.Sprintf("#%02x%02x%02x", lerp(214, 11), lerp(218, 58), lerp(227, 143))
}

// Next-token bars geometry (SVG user units).
const (
	barRowH, barLabelW, barW, barPctW, barPadT = 26, 56, 360, 64, 28
)

// nextTokenBars draws the next-token list as labelled horizontal bars, one a token, their
// lengths the probability on a fixed 0-100% scale, so bars of different prompts compare.
func nextTokenBars(id string, l Lang, prompt []string, next []core.TokenProb) string {
	var b strings.Builder
	w, h := barLabelW+barW+barPctW, barPadT+len(next)*barRowH+8
	var summary []string
	for _, t := range next {
		summary = append(summary, tokenLabel(t.Token)+" "+pct(t.Prob))
	}
	title := l.T("next.aria", strings.Join(summary, " · "))
	fmt.Fprintf(&b, `<svg id="%s" class="chart bars" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		id, w, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="axis-label" x="%d" y="16" font-size="12" fill="#5b6475">%s</text>`, barLabelW, html.EscapeString(l.T("next.axis")))
	for i, t := range next {
		y := barPadT + i*barRowH
		bw := float64(t.Prob) * barW
		fmt.Fprintf(&b, `<g class="bar" data-token="%s" data-p="%g">`, html.EscapeString(t.Token), t.Prob)
		fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(l.T("next.bar", tokenLabel(t.Token), pct(t.Prob))))
		fmt.Fprintf(&b, `<text class="data token" x="%d" y="%d" text-anchor="end" dominant-baseline="middle" font-size="15" fill="#1d2330">%s</text>`,
			barLabelW-10, y+barRowH/2, html.EscapeString(tokenLabel(t.Token)))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#f3f5f9"/>`, barLabelW, y+4, barW, barRowH-8)
		fmt.Fprintf(&b, `<rect class="fill" x="%d" y="%d" width="%.1f" height="%d" fill="#2f6fde"/>`, barLabelW, y+4, bw, barRowH-8)
		fmt.Fprintf(&b, `<text class="pct" x="%d" y="%d" dominant-baseline="middle" font-size="13" fill="#1d2330">%s</text>`,
			barLabelW+barW+8, y+barRowH/2, pct(t.Prob))
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// Heatmap geometry (SVG user units): the cells fill a square of heatSide whatever the number
// of tokens, with room for the token labels, the axis titles and the colour scale.
const (
	heatSide, heatPadL, heatPadT, heatScaleW = 480, 64, 64, 110
	heatScaleStops                           = 10
)

// attentionTable is attentionHeatmap's text alternative: a row for each token looking (the
// query), a column for each token looked at (the key), each cell the probability as the cell's
// title says it.
func attentionTable(id string, l Lang, tokens []string, rows [][]float32, layer, head int) dataTable {
	cols := []string{l.T("attn.queries")}
	for _, tok := range tokens {
		cols = append(cols, tokenLabel(tok))
	}
	var out [][]string
	for q, r := range rows {
		if q >= len(tokens) {
			break
		}
		row := []string{tokenLabel(tokens[q])}
		for k := range tokens {
			cell := ""
			if k < len(r) {
				cell = pct(r[k])
			}
			row = append(row, cell)
		}
		out = append(out, row)
	}
	return dataTable{ID: id + "-table", Caption: l.T("attn.aria", layer+1, head+1, len(tokens)), Head: cols, Rows: out}
}

// attentionHeatmap draws one head's T×T attention: row t is the token looking (the query),
// column j the token looked at (the key), the cell's colour its probability on probColour's
// scale, shown beside it with its unit; every cell's title says who looks at whom and how much.
func attentionHeatmap(id string, l Lang, tokens []string, rows [][]float32, layer, head int) string {
	T := len(tokens)
	cell := float64(heatSide) / float64(max(T, 1))
	font := math.Min(14, math.Max(6, cell*0.75))
	w, h := heatPadL+heatSide+heatScaleW, heatPadT+heatSide+12
	title := l.T("attn.aria", layer+1, head+1, T)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart heatmap" viewBox="0 0 %d %d" role="img" aria-label="%s" data-layer="%d" data-head="%d" xmlns="http://www.w3.org/2000/svg">`,
		id, w, h, html.EscapeString(title), layer, head)
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))

	// Axis titles, then the tokens along both axes.
	fmt.Fprintf(&b, `<text class="x-label" x="%d" y="14" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		heatPadL+heatSide/2, html.EscapeString(l.T("attn.keys")))
	fmt.Fprintf(&b, `<text class="y-label" transform="translate(14 %d) rotate(-90)" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		heatPadT+heatSide/2, html.EscapeString(l.T("attn.queries")))
	for i, tok := range tokens {
		c := float64(heatPadT) + (float64(i)+0.5)*cell
		fmt.Fprintf(&b, `<text class="data tok-label" x="%.1f" y="%d" text-anchor="middle" font-size="%.1f" fill="#1d2330">%s</text>`,
			float64(heatPadL)+(float64(i)+0.5)*cell, heatPadT-8, font, html.EscapeString(tokenLabel(tok)))
		fmt.Fprintf(&b, `<text class="data tok-label" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle" font-size="%.1f" fill="#1d2330">%s</text>`,
			heatPadL-6, c, font, html.EscapeString(tokenLabel(tok)))
	}

	// The cells: the whole T×T square, zeros (a causal model's future) included, so the
	// triangle the mask leaves shows.
	b.WriteString(`<g class="cells">`)
	for q := 0; q < T; q++ {
		for k := 0; k < T; k++ {
			var p float32
			if q < len(rows) && k < len(rows[q]) {
				p = rows[q][k]
			}
			fmt.Fprintf(&b, `<rect class="cell" x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s" data-p="%g"><title>%s</title></rect>`,
				float64(heatPadL)+float64(k)*cell, float64(heatPadT)+float64(q)*cell, cell, cell, probColour(p), p,
				html.EscapeString(l.T("attn.cell", tokenLabel(tokens[q]), q+1, tokenLabel(tokens[k]), k+1, pct(p))))
		}
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#5b6475"/>`, heatPadL, heatPadT, heatSide, heatSide)

	// The colour scale: probability 0 at the bottom to 1 at the top, drawn with probColour
	// itself so the scale cannot disagree with the cells.
	var ticks []scaleTick
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		ticks = append(ticks, scaleTick{At: v, Label: fmtTick(v)})
	}
	colourScale(&b, id, heatPadL+heatSide+24, heatPadT, 16, heatSide/2, func(t float64) string { return probColour(float32(t)) },
		ticks, l.T("attn.scale"))
	b.WriteString(`</svg>`)
	return b.String()
}

// scaleTick is a mark on a colour scale: where (0 at the bottom, 1 at the top) and its label.
type scaleTick struct {
	At    float64
	Label string
}

// colourScale draws a heatmap's legend: a vertical bar at (x, y), w×h, whose colour at height t
// (0 at the bottom, 1 at the top) is colour(t), the ticks on its right and label, turned, on its
// left. The heatmaps pass the function that colours their cells, so the two cannot disagree.
func colourScale(b *strings.Builder, id string, x, y, w, h int, colour func(t float64) string, ticks []scaleTick, label string) {
	fmt.Fprintf(b, `<defs><linearGradient id="%s-scale" x1="0" y1="1" x2="0" y2="0">`, id)
	for i := 0; i <= heatScaleStops; i++ {
		t := float64(i) / heatScaleStops
		fmt.Fprintf(b, `<stop offset="%g" stop-color="%s"/>`, t, colour(t))
	}
	b.WriteString(`</linearGradient></defs>`)
	fmt.Fprintf(b, `<g class="scale"><rect x="%d" y="%d" width="%d" height="%d" fill="url(#%s-scale)" stroke="#5b6475"/>`, x, y, w, h, id)
	for _, tk := range ticks {
		ty := float64(y) + (1-tk.At)*float64(h)
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#5b6475"/>`, x+w, x+w+4, ty, ty)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" dominant-baseline="middle" font-size="12" fill="#5b6475">%s</text>`, x+w+7, ty, html.EscapeString(tk.Label))
	}
	fmt.Fprintf(b, `<text class="scale-label" transform="translate(%d %d) rotate(-90)" text-anchor="middle" font-size="12" fill="#1d2330">%s</text>`,
		x-8, y+h/2, html.EscapeString(label))
	b.WriteString(`</g>`)
}

// renderSampleText is one sample: its prompt as written, then each token the model wrote,
// underlined in a colour for the probability the model gave it, with the percentage as its title.
func renderSampleText(l Lang, s sample) app.UI {
	var written strings.Builder
	for _, t := range s.Tokens {
		written.WriteString(t.Token)
	}
	prompt, ok := strings.CutSuffix(s.Text, written.String())
	if len(s.Tokens) == 0 || !ok { // a sample kept from before tokens travelled: plain text
		return app.Pre().Class("data sample").Text(s.Text)
	}
	// One piece of markup, not a go-app element a token: mounting a sample's hundreds of spans
	// one syscall/js call at a time held the page for tens of milliseconds at each evaluation,
	// and the browser parses the same markup natively in well under one. go-app leaves a Raw
	// alone while its markup is unchanged, so the older samples cost nothing on a redraw.
	var b strings.Builder
	b.WriteString(`<pre class="data sample"><span class="prompt">`)
	b.WriteString(html.EscapeString(prompt))
	b.WriteString(`</span>`)
	for _, t := range s.Tokens {
		fmt.Fprintf(&b, `<span class="tok" style="border-bottom-color:%s" title="%s">%s</span>`,
			html.EscapeString(underlineColour(t.Prob)), html.EscapeString(l.T("samples.token_prob", pct(t.Prob))), html.EscapeString(t.Token))
	}
	b.WriteString(`</pre>`)
	return app.Raw(b.String())
}

// sampleScale is the samples' legend: what the shading means, with the scale's two ends.
func sampleScale(l Lang) app.UI {
	return app.P().ID("sample-scale").Class("hint").Body(
		app.Text(l.T("samples.shading")+" "),
		app.Span().Class("swatch").Style("border-bottom-color", underlineColour(0.02)).Text(l.T("samples.unlikely")),
		app.Text(" → "),
		app.Span().Class("swatch").Style("border-bottom-color", underlineColour(0.95)).Text(l.T("samples.likely")),
	)
}
