package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/protocol"
	"pretune/core/runspec"
)

// Bench is the bench view: the trainer worker measures matrix products and a training step on
// this browser's device and the page lists the figures as they come.
type Bench struct {
	app.Compo
	Lang Lang

	ctx     app.Context
	device  string
	worker  *trainer
	reqID   int
	running bool
	dev     *protocol.DeviceInfo
	metrics []protocol.Message
	err     string
}

// OnMount keeps the component's context for the worker's messages.
func (b *Bench) OnMount(ctx app.Context) { b.ctx = ctx }

// OnDismount ends a measurement in progress.
func (b *Bench) OnDismount() {
	if b.worker != nil {
		b.worker.close()
	}
}

func (b *Bench) start(ctx app.Context) {
	if b.worker != nil {
		b.worker.close()
	}
	b.running, b.dev, b.metrics, b.err = true, nil, nil, ""
	b.worker = newTrainer(ctx.ResolveStaticResource("/web/worker.js"), func(m protocol.Message) {
		b.ctx.Dispatch(func(ctx app.Context) { b.onMessage(m) })
	})
	dev := b.device
	if dev == "" {
		dev = runspec.DeviceAuto
	}
	b.reqID = b.worker.send(protocol.Request{Kind: protocol.Bench, Device: dev})
}

func (b *Bench) onMessage(m protocol.Message) {
	if m.ID != b.reqID && m.ID != 0 {
		return
	}
	switch m.Kind {
	case protocol.Device:
		b.dev = m.Device
	case protocol.Metric:
		b.metrics = append(b.metrics, m)
	case protocol.Done:
		b.running = false
	case protocol.Error:
		b.running, b.err = false, m.Error
	}
}

// Render draws the view.
func (b *Bench) Render() app.UI {
	l := b.Lang
	var dev, errP app.UI
	if b.dev != nil {
		dev = app.P().ID("bench-device").Body(app.Text(l.T("label.device")+": "), app.Span().Class("data").Text(b.dev.Name),
			app.If(b.dev.Kernel != "", app.Span().ID("bench-kernel").Class("hint").Text(" · "+l.T("device.kernel", b.dev.Kernel))),
			app.If(b.dev.MaxBufferMiB > 0, app.Span().ID("bench-limits").Class("hint").Text(" · "+l.T("device.limits", b.dev.MaxBufferMiB, b.dev.WorkgroupKiB))),
			app.If(b.dev.Fallback != "", fallbackNote(l, "bench-fallback", b.dev.Fallback)))
	}
	if b.err != "" {
		errP = app.P().ID("bench-error").Class("error").Role("alert").Body(app.Text(l.T("status.failed_because")+" "), app.Span().Class("data").Text(b.err))
	}
	status := l.T("bench.idle")
	switch {
	case b.running:
		status = l.T("bench.running")
	case len(b.metrics) > 0 && b.err == "":
		status = l.T("bench.done")
	}
	return app.Section().ID("bench").Class("panel").Body(
		app.H2().Text(l.T("bench.title")),
		app.P().Class("explain").Text(l.T("explain.bench")),
		app.Div().Class("controls").Body(
			app.Label().For("bench-device-pick").Text(l.T("device.pick")),
			app.Select().ID("bench-device-pick").Disabled(b.running).OnChange(func(ctx app.Context, e app.Event) {
				b.device = ctx.JSSrc().Get("value").String()
			}).Body(app.Range(deviceChoices).Slice(func(i int) app.UI {
				d := deviceChoices[i]
				return app.Option().Value(d).Selected(b.device == d || (b.device == "" && d == runspec.DeviceAuto)).Text(deviceChoiceLabel(l, d))
			})),
			app.Button().ID("bench-start").Class("primary").Text(l.T("bench.start")).Disabled(b.running).
				OnClick(func(ctx app.Context, e app.Event) { b.start(ctx) }),
		),
		app.P().ID("bench-status").Attr("data-done", !b.running && len(b.metrics) > 0).Text(status),
		dev, errP,
		app.Table().ID("bench-table").Body(
			app.THead().Body(app.Tr().Body(app.Th().Text(l.T("bench.what")), app.Th().Text(l.T("bench.value")), app.Th().Text(l.T("bench.unit")))),
			app.TBody().Body(app.Range(b.metrics).Slice(func(i int) app.UI {
				m := b.metrics[i]
				return app.Tr().Body(app.Td().Class("data").Text(m.Name), app.Td().Text(fmtFigure(m.Value)), app.Td().Class("data").Text(m.Unit))
			})),
		),
	)
}

// fmtFigure writes a measured figure with three significant digits, whole numbers grouped
// (13,200 tokens/s rather than 1.32e+04).
func fmtFigure(v float64) string {
	if v >= 1000 {
		return groupDigits(int(v + 0.5))
	}
	return fmt.Sprintf("%.3g", v)
}
