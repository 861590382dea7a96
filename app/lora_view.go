package app

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
	"pretune/core/task"
)

// The LoRA view of the compare page: for each LoRA model (a method that finished, or an adapter
// file the learner loaded onto the base) a heatmap of its learned update ΔW = s·B·A for a chosen
// layer and target, a switch that shows its answers with the adapter on, off or merged, and its
// adapter file to save. The drawing and choosing are plain Go, tested without a browser.

// The adapter switch's positions: which of a LoRA model's answers its column shows.
const (
	adapterOn     = "on"     // the answers with the update applied (the method's own)
	adapterOff    = "off"    // the adapter switched off: the base model's answers, exactly
	adapterMerged = "merged" // s·B·A folded into the weights: the same model, at no extra cost
)

var adapterModes = []string{adapterOn, adapterOff, adapterMerged}

// loraView is what the LoRA view shows of one LoRA model.
type loraView struct {
	Mode   string // an adapter switch position; "" is adapterOn
	Layer  int    // the heatmap's block, from 0
	Target string // the heatmap's layer in the block (core.LoRATargets); "" is the first adapted
}

func (v loraView) mode() string {
	if v.Mode == "" {
		return adapterOn
	}
	return v.Mode
}

// hasSwitch says whether a result reports its answers with the adapter off and merged (a LoRA
// model's), so that its column can switch.
func hasSwitch(e *job.Event) bool {
	return e != nil && len(e.AnswersOff) > 0 && len(e.AnswersMerged) > 0
}

// answersFor is e's answers for a switch position (nil for no result yet).
func answersFor(e *job.Event, mode string) []compare.Answer {
	switch {
	case e == nil:
		return nil
	case mode == adapterOff:
		return e.AnswersOff
	case mode == adapterMerged:
		return e.AnswersMerged
	}
	return e.Answers
}

// pick is the update the heatmap shows: the chosen layer and target where the model has them,
// else the first there is; with the layers there are and the targets of the shown layer, for the
// selects. ok is false when there are no updates.
func (v loraView) pick(us []core.LoRAUpdate) (u core.LoRAUpdate, layers []int, targets []string, ok bool) {
	if len(us) == 0 {
		return u, nil, nil, false
	}
	layer := us[0].Layer
	for _, x := range us {
		if len(layers) == 0 || layers[len(layers)-1] != x.Layer {
			layers = append(layers, x.Layer)
		}
		if x.Layer == v.Layer {
			layer = v.Layer
		}
	}
	u, ok = core.LoRAUpdate{}, false
	for _, x := range us {
		if x.Layer != layer {
			continue
		}
		targets = append(targets, x.Target)
		if !ok || x.Target == v.Target {
			u, ok = x, true
		}
	}
	return u, layers, targets, ok
}

// loraPanel is one LoRA model in the LoRA view.
type loraPanel struct {
	Key    string // the elements' id suffix: the lane's index, or compare.Loaded
	Name   string // the method's label, or compare.Loaded
	File   string // a loaded adapter's file name
	View   *loraView
	Result *job.Event
	Lane   *lane // the method's lane, whose adapter file can be saved; nil for a loaded one
}

// LoRAPanels are the adapters to show: each LoRA or DoRA method that finished, with updates,
// and each IA3 method, with none (its panel offers its file), in the spec's order, then a
// loaded adapter.
func (c *comparison) LoRAPanels() []loraPanel {
	var out []loraPanel
	for i, l := range c.Lanes {
		if l.Result != nil && (len(l.Result.LoRAUpdates) > 0 || l.Method.Kind == compare.IA3) {
			out = append(out, loraPanel{Key: strconv.Itoa(i), Name: l.Method.Label(), View: &l.LoRA, Result: l.Result, Lane: l})
		}
	}
	if a := c.Loaded; a != nil && a.Result != nil {
		out = append(out, loraPanel{Key: compare.Loaded, Name: compare.Loaded, File: a.Name, View: &a.LoRA, Result: a.Result})
	}
	return out
}

// heatCell is one drawn cell of a ΔW heatmap: the mean of rows [R0, R1) × columns [C0, C1).
type heatCell struct {
	R0, R1, C0, C1 int
	V              float64
}

// heatMaxSide is the most cells a heatmap draws along a side: a larger matrix shows the mean of
// blocks of weights, which keeps the page's SVG to a few thousand cells.
const heatMaxSide = 64

// deltaCells cuts an update into at most maxSide×maxSide cells, row by row: every weight at full
// resolution when the matrix fits, else the mean of equal blocks (the last ones smaller). A
// value missing from a short Delta counts as 0.
func deltaCells(u core.LoRAUpdate, maxSide int) (cells []heatCell, nr, nc int) {
	if u.Rows < 1 || u.Cols < 1 {
		return nil, 0, 0
	}
	gr, gc := (u.Rows+maxSide-1)/maxSide, (u.Cols+maxSide-1)/maxSide
	nr, nc = (u.Rows+gr-1)/gr, (u.Cols+gc-1)/gc
	for i := 0; i < nr; i++ {
		for j := 0; j < nc; j++ {
			c := heatCell{R0: i * gr, R1: min((i+1)*gr, u.Rows), C0: j * gc, C1: min((j+1)*gc, u.Cols)}
			var sum float64
			for r := c.R0; r < c.R1; r++ {
				for k := c.C0; k < c.C1; k++ {
					if idx := r*u.Cols + k; idx < len(u.Delta) {
						sum += float64(u.Delta[idx])
					}
				}
			}
			c.V = sum / float64((c.R1-c.R0)*(c.C1-c.C0))
			cells = append(cells, c)
		}
	}
	return cells, nr, nc
}

// heatGrid is deltaCells's nr and nc without the cells: the panel asks at every redraw whether
// the heatmap shows blocks, and averaging four thousand weights each time for that showed in
// the comparison's profile.
func heatGrid(rows, cols, maxSide int) (nr, nc int) {
	if rows < 1 || cols < 1 {
		return 0, 0
	}
	gr, gc := (rows+maxSide-1)/maxSide, (cols+maxSide-1)/maxSide
	return (rows + gr - 1) / gr, (cols + gc - 1) / gc
}

// divRGB maps v on a scale of ±m to a diverging colour: white at 0, deeper blue the more
// negative, deeper red the more positive, every channel falling as |v| grows, so a darker cell
// always means a larger change. Values beyond ±m take the ends; m of 0 (no change) is white.
func divRGB(v, m float64) (r, g, b int) {
	t := 0.0
	if m > 0 {
		t = math.Max(-1, math.Min(1, v/m))
	}
	to := [3]float64{178, 24, 43} // red
	if t < 0 {
		to, t = [3]float64{33, 102, 172}, -t // blue
	}
	lerp := func(c float64) int { return int(math.Round(255 + (c-255)*t)) }
	return lerp(to[0]), lerp(to[1]), lerp(to[2])
}

func divColour(v, m float64) string {
	r, g, b := divRGB(v, m)
	return fmt.Sprintf("#%02x%02x%02x", r, g, b)
}

// fmtDelta writes a weight change with its sign and three significant digits.
func fmtDelta(v float64) string {
	if v == 0 {
		return "0"
	}
	s := strconv.FormatFloat(v, 'g', 3, 64)
	if v > 0 {
		s = "+" + s
	}
	return s
}

// rowSpan and colSpan name rows or columns [from, to) counted from 1: "row 3", "rows 1–4".
func rowSpan(l Lang, from, to int) string {
	if to-from == 1 {
		return l.T("lora.row", from+1)
	}
	return l.T("lora.row_span", from+1, to)
}

func colSpan(l Lang, from, to int) string {
	if to-from == 1 {
		return l.T("lora.col", from+1)
	}
	return l.T("lora.col_span", from+1, to)
}

// loraHeatmap draws an update ΔW: row i is the layer's output i, column j its input j, each
// cell's colour the change on a diverging scale symmetric about 0 (its ends the largest change
// drawn), shown beside it with its unit; every cell's title says where it is and how much.
func loraHeatmap(id string, l Lang, u core.LoRAUpdate) string {
	h := heatmapPieces(id, l, u)
	return h.head + h.cellsMarkup(0, len(h.cells)) + h.tail
}

// heatPieces is a heatmap's markup in pieces: head ends with the opening of its cells' group,
// tail starts with its closing, and the cells between are written on demand, a range at a time,
// so that the page can write and add them a chunk a task (heatmapLater): all four thousand of a
// 64×64 update at once were one task of 30 to 75 ms under load.
type heatPieces struct {
	head, tail string
	lang       Lang
	cells      []heatCell
	nc, cs     int
	m          float64
}

// cellsMarkup is the markup of cells [from, to).
func (h heatPieces) cellsMarkup(from, to int) string {
	var b strings.Builder
	writeHeatCells(&b, h.lang, h.cells, from, to, h.nc, h.cs, h.m)
	return b.String()
}

// heatmapPieces is loraHeatmap in pieces.
func heatmapPieces(id string, l Lang, u core.LoRAUpdate) heatPieces {
	cells, nr, nc := deltaCells(u, heatMaxSide)
	m := 0.0
	for _, c := range cells {
		m = math.Max(m, math.Abs(c.V))
	}
	cs := max(1, heatSide/max(nr, nc, 1)) // whole units: short coordinates for thousands of cells
	gw, gh := nc*cs, nr*cs
	sh := heatSide / 2
	w, h := heatPadL+gw+heatScaleW, heatPadT+max(gh, sh)+12
	title := l.T("lora.aria", u.Layer+1, u.Rows, u.Cols)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="%s" class="chart heatmap lora" viewBox="0 0 %d %d" role="img" aria-label="%s" data-layer="%d" data-target="%s" data-rows="%d" data-cols="%d" xmlns="http://www.w3.org/2000/svg">`,
		id, w, h, html.EscapeString(title), u.Layer, html.EscapeString(u.Target), u.Rows, u.Cols)
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))

	// Axis titles, and the first and last index along each axis.
	fmt.Fprintf(&b, `<text class="x-label" x="%d" y="14" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		heatPadL+gw/2, html.EscapeString(l.T("lora.cols", u.Cols)))
	fmt.Fprintf(&b, `<text class="y-label" transform="translate(14 %d) rotate(-90)" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		heatPadT+gh/2, html.EscapeString(l.T("lora.rows", u.Rows)))
	for _, a := range []struct {
		x, y   int
		anchor string
		n      int
	}{{heatPadL, heatPadT - 8, "start", 1}, {heatPadL + gw, heatPadT - 8, "end", u.Cols}, {heatPadL - 6, heatPadT + 10, "end", 1}, {heatPadL - 6, heatPadT + gh, "end", u.Rows}} {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="%s" font-size="11" fill="#5b6475">%d</text>`, a.x, a.y, a.anchor, a.n)
	}

	b.WriteString(`<g class="cells">`)
	hp := heatPieces{head: b.String(), lang: l, cells: cells, nc: nc, cs: cs, m: m}
	b.Reset()
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#5b6475"/>`, heatPadL, heatPadT, gw, gh)

	// The scale runs from -m at the bottom through 0 to +m at the top.
	ticks := []scaleTick{{0, fmtDelta(-m)}, {0.5, "0"}, {1, fmtDelta(m)}}
	if m == 0 {
		ticks = ticks[1:2]
	}
	colourScale(&b, id, heatPadL+gw+24, heatPadT, 16, sh, func(t float64) string { return divColour((2*t-1)*m, m) }, ticks, l.T("lora.scale"))
	b.WriteString(`</svg>`)
	hp.tail = b.String()
	return hp
}

// renderLoRA is the LoRA view: a panel per LoRA model, and the control that loads an adapter
// file onto the base (a generate task's comparison, once its base is had).
func (c *Compare) renderLoRA() app.UI {
	l := c.Lang
	cmp := c.cmp
	if cmp == nil {
		return nil
	}
	panels := cmp.LoRAPanels()
	canLoad := cmp.BaseData != nil && cmp.taskKind() == task.KindGenerate
	if len(panels) == 0 && !canLoad {
		return nil
	}
	return app.Section().ID("cmp-lora").Body(
		app.H3().Text(l.T("lora.title")),
		app.P().Class("explain").Text(l.T("lora.explain")),
		app.Range(panels).Slice(func(i int) app.UI { return c.renderLoRAPanel(panels[i]) }),
		app.If(canLoad, c.renderLoadAdapter()),
	)
}

// loraPanelName names a LoRA model: the method, or the loaded adapter with its file's name.
func loraPanelName(l Lang, p loraPanel) app.UI {
	if p.Name == compare.Loaded {
		return app.Span().Body(app.Text(l.T("lora.loaded")+" "), app.Span().Class("data").Text(p.File))
	}
	return app.Text(methodName(l, p.Name))
}

func (c *Compare) renderLoRAPanel(p loraPanel) app.UI {
	l := c.Lang
	v := p.View
	u, layers, targets, ok := v.pick(p.Result.LoRAUpdates)
	id := "lora-" + p.Key
	var sw, save app.UI
	if hasSwitch(p.Result) {
		sw = app.FieldSet().ID(id+"-mode").Class("switch").Body(
			app.Legend().Text(l.T("lora.switch")),
			app.Range(adapterModes).Slice(func(i int) app.UI {
				mode := adapterModes[i]
				rid := id + "-mode-" + mode
				return app.Div().Class("switch-option").Body(
					app.Input().Type("radio").ID(rid).Name(id+"-mode").Value(mode).Checked(v.mode() == mode).
						Attr("aria-describedby", rid+"-about").
						OnChange(func(ctx app.Context, e app.Event) { v.Mode = mode }),
					app.Label().For(rid).Class("inline").Text(l.T("lora.mode."+mode)),
					app.Span().ID(rid+"-about").Class("hint").Text(" — "+l.T("lora.mode_about."+mode)),
				)
			}),
		)
	}
	if ln := p.Lane; ln != nil {
		var why app.UI
		if ln.AdapterErr != "" {
			why = app.P().Class("error").Role("alert").Body(app.Text(l.T("lora.save_failed")+" "), app.Span().Class("data").Text(ln.AdapterErr))
		}
		save = app.Div().Class("controls").Body(
			app.Button().ID(id+"-save").Text(l.T("lora.save")).Disabled(ln.Adapter == nil).
				Aria("describedby", id+"-save-about").
				OnClick(func(ctx app.Context, e app.Event) { download(ln.Adapter, p.Name+"-adapter.safetensors") }),
			app.Span().ID(id+"-save-about").Class("hint").Text(l.T("lora.save_about")),
			why,
		)
	}
	if !ok { // IA3: nothing to draw, its file to save
		return app.Div().ID(id).Class("lora-panel").DataSet("method", p.Name).Body(
			app.H4().Body(loraPanelName(l, p)),
			app.P().ID(id+"-about").Class("hint").Text(l.T("ia3.panel_about")),
			save,
		)
	}
	var blocks app.UI
	if nr, nc := heatGrid(u.Rows, u.Cols, heatMaxSide); nr < u.Rows || nc < u.Cols {
		blocks = app.P().Class("hint").Text(l.T("lora.blocks", (u.Rows+nr-1)/nr, (u.Cols+nc-1)/nc))
	}
	return app.Div().ID(id).Class("lora-panel").DataSet("method", p.Name).Body(
		app.H4().Body(loraPanelName(l, p)),
		sw,
		app.Div().Class("controls").Body(
			app.Label().For(id+"-layer").Text(l.T("attn.layer_label")),
			app.Select().ID(id+"-layer").OnChange(func(ctx app.Context, e app.Event) {
				if n, err := strconv.Atoi(ctx.JSSrc().Get("value").String()); err == nil {
					v.Layer = n
				}
			}).Body(app.Range(layers).Slice(func(i int) app.UI {
				return app.Option().Value(layers[i]).Selected(layers[i] == u.Layer).Text(l.T("attn.layer", layers[i]+1))
			})),
			app.Label().For(id+"-target").Text(l.T("lora.target_label")),
			app.Select().ID(id+"-target").OnChange(func(ctx app.Context, e app.Event) {
				v.Target = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(targets).Slice(func(i int) app.UI {
				return app.Option().Class("data").Value(targets[i]).Selected(targets[i] == u.Target).Text(targets[i])
			})),
		),
		app.Div().ID(id+"-map-box").Body(app.Raw(c.heatmapLater(id+"-map", l, u))),
		blocks,
		save,
	)
}

// renderLoadAdapter is the file input that loads an adapter onto the comparison's base, with
// the loading's state or why the file was refused.
func (c *Compare) renderLoadAdapter() app.UI {
	l := c.Lang
	cmp := c.cmp
	var state app.UI
	if a := cmp.Loaded; a != nil {
		switch a.Status {
		case statusRunning:
			state = app.P().ID("cmp-adapter-state").Class("hint").Body(app.Text(l.T("lora.loading")+" "), app.Span().Class("data").Text(a.Name))
		case statusFailed:
			state = app.Div().ID("cmp-adapter-error").Class("error").Role("alert").Body(
				app.Text(adapterErrText(l, a.Code)+" "),
				app.Details().Class("data").Body(app.Summary().Text(l.T("details")), app.Code().Text(a.Name+": "+a.Err)),
			)
		}
	}
	return app.Div().ID("cmp-adapter-load").Body(
		app.H4().Text(l.T("lora.load_title")),
		app.P().ID("cmp-adapter-about").Class("hint").Text(l.T("lora.load_about")),
		fileButton("cmp-adapter-file", l.T("lora.load"), ".safetensors,application/octet-stream", func(ctx app.Context, e app.Event) {
			readFile(ctx, ctx.JSSrc(), func(ctx app.Context, name string, data []byte) { c.loadAdapter(cmp, name, data) })
		}),
		state,
	)
}

// adapterErrText says in the page's language why an adapter file was refused (protocol's codes).
func adapterErrText(l Lang, code string) string {
	switch code {
	case protocol.CodeAdapterDamaged, protocol.CodeAdapterNotLoRA, protocol.CodeAdapterMismatch:
		return l.T("lora.err." + code)
	}
	return l.T("lora.err.load")
}

// taskKind is the comparison's task's kind, a built-in task's or the learner's own ("" when the
// spec's task cannot be had).
func (c *comparison) taskKind() string {
	if c.Spec.Task == nil {
		return ""
	}
	// A built-in task's kind without copying the task (the LoRA view asks at every redraw).
	if r := *c.Spec.Task; r.ID != runspec.UserTask && r.Kind == "" && r.Text == "" && r.Name == "" {
		_, kind, _ := builtinLangKind(r.ID)
		return kind
	}
	t, err := c.Spec.Task.Resolve()
	if err != nil {
		return ""
	}
	return t.Kind
}
