package app

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/feedback"
	"pretune/core/fingerprint"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// tuning is the feedback view's methods run ("tune against it"): every ticked method trains
// from the same SFT model in a Web Worker of its own, side by side, and the piece shows their
// lanes, the reward and KL charts, the results table and the answers. It is built only from
// what happens to it (the workers' messages), so its logic is tested without a browser; the
// Feedback view holds it and draws it with render.
type tuning struct {
	// Spec is the feedback stage with every method: what the share link carries, and what
	// the fingerprints of a link are checked against (Spec.Fingerprints).
	Spec  runspec.Spec
	Lanes []*tuningLane
	// SFT and RewardModel are the SFT model's and the reward model's results. Every worker
	// trains the same reward model from the same SFT model (the same bits), so the first
	// worker to report one fills its row.
	SFT, RewardModel *job.Event
}

// tuningHost is what the piece asks of the view around it. The Feedback view implements it
// with Web Workers and go-app's dispatch; the tests with a recorder.
type tuningHost interface {
	// startWorker starts a trainer whose messages go to handle, one at a time, on the UI
	// goroutine.
	startWorker(handle func(protocol.Message)) worker
	// dispatch runs fn on the UI goroutine for the view (from a callback outside it). The
	// piece needs none today (its workers' messages already come there); it is part of the
	// host so the view can hand the piece work from its own callbacks.
	dispatch(fn func())
}

// tuningLane is one method's worker: what trains in it now, its evaluations and its result.
type tuningLane struct {
	Method feedback.Method
	workerLane
	// Stage is what the worker trains now: feedback.SFT (a base fine-tuned first),
	// feedback.RewardModel, then the method (its label); "" before the first report.
	Stage       string
	Step, Steps int // the stage's progress
	Points      []tuningPoint
	Result      *job.Event
	worker      worker // nil once closed
}

// tuningPoint is one held-out evaluation of a method: steps trained, mean reward-model score
// and KL to the reference (the SFT model), nats per token.
type tuningPoint struct {
	Step       int
	Reward, KL float64
}

// startTuning starts one worker per method of spec (a version-5 feedback spec whose
// Feedback.Methods are the ticked methods): each runs the stage with that one method, from the
// SFT model sft (AsSFT: a learner's file, improved as it is).
func startTuning(host tuningHost, spec runspec.Spec, sft []byte, asSFT bool) *tuning {
	t := &tuning{Spec: spec}
	if spec.Feedback == nil {
		return t
	}
	for i, m := range spec.Feedback.Methods {
		ln := &tuningLane{Method: m, workerLane: workerLane{Status: statusStarting}, Steps: spec.Feedback.Steps}
		t.Lanes = append(t.Lanes, ln)
		code, err := runspec.Encode(tuningSpec(spec, m))
		if err != nil { // the whole spec is a link's or the form's, so one method of it encodes too
			ln.Status, ln.Err = statusFailed, err.Error()
			continue
		}
		ln.worker = host.startWorker(func(msg protocol.Message) { t.apply(i, msg) })
		ln.ReqID = ln.worker.send(protocol.Request{Kind: protocol.Start, Code: code, Base: sft, AsSFT: asSFT, Device: spec.Device})
	}
	return t
}

// tuningSpec is spec with m as its only method, with the fingerprints the link carried for the
// results that run has (the SFT model, the reward model and m; runspec refuses others), which
// the worker checks.
func tuningSpec(spec runspec.Spec, m feedback.Method) runspec.Spec {
	one := spec
	fb := *spec.Feedback
	fb.Methods = []feedback.Method{m}
	one.Feedback = &fb
	one.Fingerprints = nil
	for _, name := range []string{feedback.SFT, feedback.RewardModel, m.Label()} {
		if fp, ok := spec.Fingerprints[name]; ok {
			if one.Fingerprints == nil {
				one.Fingerprints = map[string]string{}
			}
			one.Fingerprints[name] = fp
		}
	}
	return one
}

// apply updates lane i with one message from its worker, and ends the worker once its method
// is over (after its result and done, or an error): its model is not needed afterwards.
func (t *tuning) apply(i int, m protocol.Message) {
	ln := t.Lanes[i]
	if !ln.follow(m, func() bool { return ln.Result != nil }) {
		return
	}
	switch m.Kind {
	case protocol.Eval, protocol.Progress:
		if e := m.Event; e != nil {
			ln.progress(e)
		}
	case protocol.Result:
		if m.Event == nil {
			break
		}
		e := *m.Event
		switch e.Method {
		case feedback.SFT:
			if t.SFT == nil {
				t.SFT = &e
			}
		case feedback.RewardModel:
			if t.RewardModel == nil {
				t.RewardModel = &e
			}
		case ln.Method.Label():
			ln.Result = &e
			ln.Stage, ln.Step = e.Method, ln.Steps
		}
	}
	if !ln.Active() && ln.worker != nil {
		ln.worker.close()
		ln.worker = nil
	}
}

// progress follows an evaluation, or a step's progress (Event "progress"), of whatever the
// lane's worker trains: the SFT model, the reward model or the method. A method's evaluation
// adds its reward and KL to the charts; an evaluation at a step already drawn (a run that went
// back to an earlier evaluation on another device) replaces the points from there.
func (ln *tuningLane) progress(e *job.Event) {
	if e.Event != "eval" && e.Event != "progress" { // a kind a later worker adds: nothing to draw
		return
	}
	if e.Method != "" {
		ln.Stage = e.Method
	}
	ln.Step = e.Step
	if e.Steps > 0 {
		ln.Steps = e.Steps
	}
	if e.Event == "eval" && e.Method == ln.Method.Label() && e.Reward != nil && e.KL != nil {
		keep := ln.Points
		for j, p := range keep {
			if p.Step >= e.Step {
				keep = keep[:j]
				break
			}
		}
		ln.Points = append(keep, tuningPoint{Step: e.Step, Reward: *e.Reward, KL: *e.KL})
	}
}

// Active says whether any method still trains.
func (t *tuning) Active() bool {
	for _, ln := range t.Lanes {
		if ln.Active() {
			return true
		}
	}
	return false
}

// stop ends every worker at once and marks what still ran as stopped.
func (t *tuning) stop() {
	for _, ln := range t.Lanes {
		if ln.worker != nil {
			ln.worker.close()
			ln.worker = nil
		}
		if ln.Active() {
			ln.Status = statusStopped
		}
	}
}

// tuningRow is one row of the results table: the SFT model's or a method's.
type tuningRow struct {
	Name   string // feedback.SFT or the method's label
	Status string // a run state; statusDone when the numbers are in
	Err    string
	// The measurements, nil until known (and for what the SFT model does not have: it trains
	// nothing here).
	Reward, GoldWinRate, KL, Accuracy, Forgetting, MsPerStep *float64
	WinJudge                                                 string
	Trainable, OptBytes                                      *int
	Fingerprint                                              string
	// Expected is the fingerprint the link carried for this result, Match the verdict on it
	// (fingerprint.Verdict); both "" when the link carried none.
	Expected, Match string
}

// Rows is the results table: the SFT model first, then every method in the spec's order.
func (t *tuning) Rows() []tuningRow {
	sft := tuningRow{Name: feedback.SFT, Status: statusRunning}
	if !t.Active() {
		sft.Status = statusStopped
	}
	if e := t.SFT; e != nil {
		sft = t.row(feedback.SFT, statusDone, "", e)
		sft.Trainable, sft.OptBytes, sft.MsPerStep = nil, nil, nil
	}
	rows := []tuningRow{sft}
	for _, ln := range t.Lanes {
		rows = append(rows, t.row(ln.Method.Label(), ln.Status, ln.Err, ln.Result))
	}
	return rows
}

// row is a result's row, checked against the fingerprint the link carried for it.
func (t *tuning) row(name, status, errText string, e *job.Event) tuningRow {
	r := tuningRow{Name: name, Status: status, Err: errText}
	if e == nil {
		return r
	}
	n := e.TrainableParams
	r.Reward, r.GoldWinRate, r.KL, r.WinJudge = e.Reward, e.GoldWinRate, e.KL, e.WinJudge
	r.Accuracy, r.Forgetting, r.MsPerStep = e.TaskAccuracy, e.Forgetting, e.MsPerStep
	r.Trainable, r.OptBytes, r.Fingerprint = &n, e.OptimizerBytes, e.Fingerprint
	r.Expected = t.Spec.Fingerprints[name]
	r.Match = fingerprint.Verdict(r.Expected, r.Fingerprint)
	return r
}

// Fingerprints are the finished results' fingerprints by result name (the SFT model's, the
// reward model's, each method's), as a link carries them (runspec.Spec.Fingerprints); nil
// before any result.
func (t *tuning) Fingerprints() map[string]string {
	var out map[string]string
	add := func(name, fp string) {
		if fp == "" {
			return
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = fp
	}
	if t.SFT != nil {
		add(feedback.SFT, t.SFT.Fingerprint)
	}
	if t.RewardModel != nil {
		add(feedback.RewardModel, t.RewardModel.Fingerprint)
	}
	for _, ln := range t.Lanes {
		if ln.Status == statusDone && ln.Result != nil {
			add(ln.Method.Label(), ln.Result.Fingerprint)
		}
	}
	return out
}

// winJudge is who judges the gold win rate: the results' own word once they came, else what
// the spec says (a built-in taste's picks are judged by the taste, a learner's by the reward
// model).
func (t *tuning) winJudge() string {
	for _, r := range t.Rows() {
		if r.WinJudge != "" {
			return r.WinJudge
		}
	}
	if t.Spec.Feedback != nil && t.Spec.Feedback.Taste != "" {
		return feedback.JudgeTaste
	}
	return feedback.JudgeRewardModel
}

// tuningName is a result's name as the page shows it: the SFT model in the page's language, a
// method's kind as its acronym (data), or the name a link gave it.
func tuningName(l Lang, name string) string {
	switch name {
	case feedback.SFT:
		return l.T("fbt.sft")
	case feedback.PPO, feedback.DPO, feedback.GRPO:
		return tuningKindName(name)
	}
	return name
}

// The table's numbers as the page and the CSV write them.
func fmtFloat(v *float64, digits int) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', digits, 64)
}

// CSV is the results table as CSV, headers in the page's language: numbers in plain form
// with their explanations (reward in the reward model's units, win rate and accuracy in percent, KL and forgetting in
// nats per token, optimizer memory in bytes), blank where a row has none yet; a method that
// failed says why in its last column.
func (t *tuning) CSV(l Lang) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(csvHeads(l, "table.method", "fbt.col.reward", "fbt.col.win."+t.winJudge(), "fbt.col.kl",
		"table.accuracy", "table.forgetting", "table.trainable", "table.optimizer_bytes", "table.ms",
		"label.fingerprint", "table.status"))
	for _, r := range t.Rows() {
		status := l.T("status." + r.Status)
		if r.Err != "" {
			status += ": " + r.Err
		}
		w.Write([]string{tuningName(l, r.Name), fmtFloat(r.Reward, 3), fmtCSVPct(r.GoldWinRate), fmtFloat(r.KL, 4),
			fmtCSVPct(r.Accuracy), fmtForgetting(r.Forgetting), fmtInt(r.Trainable), fmtInt(r.OptBytes), fmtMs(r.MsPerStep),
			r.Fingerprint, status})
	}
	w.Flush()
	return buf.Bytes()
}

// rewardLines are the reward chart's curves: each method's held-out reward over its steps, and
// the SFT model's (where every method starts) dashed across once it is measured.
func (t *tuning) rewardLines(l Lang) []chartLine {
	lines := t.methodLines(l, func(p tuningPoint) float64 { return p.Reward })
	if e := t.SFT; e != nil && e.Reward != nil && t.Spec.Feedback != nil {
		steps := float64(t.Spec.Feedback.Steps)
		lines = append(lines, chartLine{Label: tuningName(l, feedback.SFT), Color: palette[len(palette)-1], Marker: len(markerShapes) - 1, Dashed: true,
			Points: [][2]float64{{0, *e.Reward}, {steps, *e.Reward}}})
	}
	return lines
}

// klLines are the KL chart's curves: each method's KL to the reference over its steps (the SFT
// model's is 0: it is the reference).
func (t *tuning) klLines(l Lang) []chartLine {
	return t.methodLines(l, func(p tuningPoint) float64 { return p.KL })
}

// methodLines is one curve a method of one of its evaluations' figures, in the method's colour.
func (t *tuning) methodLines(l Lang, figure func(tuningPoint) float64) []chartLine {
	var lines []chartLine
	for i, ln := range t.Lanes {
		var pts [][2]float64
		for _, p := range ln.Points {
			pts = append(pts, [2]float64{float64(p.Step), figure(p)})
		}
		color, mark := series(i)
		lines = append(lines, chartLine{Label: tuningName(l, ln.Method.Label()), Color: color, Marker: mark, Points: pts})
	}
	return lines
}

// rewardChart and klChart draw the two charts as SVG.
func (t *tuning) rewardChart(l Lang) string { return t.rewardPlot(l).SVG(l) }

func (t *tuning) klChart(l Lang) string { return t.klPlot(l).SVG(l) }

// rewardPlot and klPlot are the two charts.
func (t *tuning) rewardPlot(l Lang) plot {
	return plot{ID: "fbt-reward-chart", Title: l.T("fbt.chart.reward_title"), XLabel: l.T("fbt.chart.x"), YLabel: l.T("fbt.chart.y_reward"),
		Empty: l.T("chart.empty"), Lines: t.rewardLines(l)}
}

func (t *tuning) klPlot(l Lang) plot {
	return plot{ID: "fbt-kl-chart", Title: l.T("fbt.chart.kl_title"), XLabel: l.T("fbt.chart.x"), YLabel: l.T("fbt.chart.y_kl"),
		Empty: l.T("chart.empty"), Lines: t.klLines(l)}
}

// AnswerColumns are the answers table's models: the SFT model beside every method.
func (t *tuning) AnswerColumns() []answerColumn {
	cols := []answerColumn{{Name: feedback.SFT, Event: t.SFT}}
	for _, ln := range t.Lanes {
		cols = append(cols, answerColumn{Name: ln.Method.Label(), Event: ln.Result})
	}
	return cols
}

// AnswerRows lists the held-out prompts every model answered (the same ones: feedback measures
// them all on the same prompts), each with every model's answer in AnswerColumns' order, ""
// where a model has not answered yet. Open questions have no expected answer.
func (t *tuning) AnswerRows() []answerRow { return answerRows(t.AnswerColumns(), nil) }

// samplesOverTime is a method's samples over time (feedback.Result.OverTime: a few prompts'
// answers at every evaluation), as its result event carries them.
func samplesOverTime(e *job.Event) []feedback.Sample {
	if e == nil {
		return nil
	}
	return e.OverTime
}

// overTimeStep is one evaluation's answers of a method, for the samples-over-time table.
type overTimeStep struct {
	Step    int
	Samples []feedback.Sample
}

// overTimeSteps groups a method's samples over time by the step they were drawn after, in
// step order as they came.
func overTimeSteps(samples []feedback.Sample) []overTimeStep {
	var out []overTimeStep
	for _, s := range samples {
		if n := len(out); n > 0 && out[n-1].Step == s.Step {
			out[n-1].Samples = append(out[n-1].Samples, s)
			continue
		}
		out = append(out, overTimeStep{Step: s.Step, Samples: []feedback.Sample{s}})
	}
	return out
}

// render draws the run: the lanes, the reward model's line, the two charts with their exports,
// the results table, the answers and the samples over time.
func (t *tuning) render(l Lang) app.UI {
	return app.Div().ID("fbt-run").Body(
		t.renderLanes(l),
		t.renderRewardModel(l),
		t.renderTable(l), // the results first: what a class reads out, then how they came about
		t.renderExports(l),
		app.Div().ID("fbt-charts").Class("charts").Body(
			app.Div().ID("fbt-reward-chart-box").Body(&chartFigure{Lang: l, Plot: t.rewardPlot(l)}),
			app.Div().ID("fbt-kl-chart-box").Body(&chartFigure{Lang: l, Plot: t.klPlot(l)}),
		),
		t.renderAnswers(l),
		t.renderOverTime(l),
	)
}

// renderLanes is every method's progress: its state, what trains now with its steps, its
// device and any error.
func (t *tuning) renderLanes(l Lang) app.UI {
	return app.Ul().ID("fbt-lanes").Class("lanes").Body(app.Range(t.Lanes).Slice(func(i int) app.UI {
		ln := t.Lanes[i]
		name := tuningName(l, ln.Method.Label())
		dev := l.T("device.waiting")
		if ln.Device != "" {
			dev = ln.Device
		}
		stage := ""
		switch ln.Stage {
		case "":
		case feedback.SFT, feedback.RewardModel:
			stage = " · " + l.T("fbt.stage."+ln.Stage)
		default:
			stage = " · " + l.T("fbt.stage.method")
		}
		var fallback, errP app.UI
		if ln.Fallback != "" && (i == 0 || t.Lanes[i-1].Fallback != ln.Fallback) { // said once for lanes alike
			fallback = fallbackNote(l, fmt.Sprintf("fbt-fallback-%d", i), ln.Fallback)
		}
		if ln.Err != "" {
			errP = app.P().Class("error").Role("alert").Body(app.Text(l.T("status.failed_because")+" "), app.Span().Class("data").Text(ln.Err))
		}
		return app.Li().ID("fbt-lane-"+ln.Method.Label()).Attr("data-status", ln.Status).Attr("data-stage", ln.Stage).Body(
			app.Raw(swatch(i)), app.Text(" "), app.Strong().Class("data").Text(name),
			app.Text(" · "+l.T("status."+ln.Status)+stage+" · "+l.T("live.step", ln.Step, ln.Steps)+" "),
			app.Progress().Max(max(ln.Steps, 1)).Value(ln.Step).Aria("label", l.T("fbt.lane_label", name)),
			app.Text(" · "+l.T("label.device")+": "), app.Span().Class("data").Text(dev),
			fallback, errP,
		)
	}))
}

// renderRewardModel is the reward model's line: its held-out accuracy on the picks, against the
// taste when one made them, and its fingerprint.
func (t *tuning) renderRewardModel(l Lang) app.UI {
	e := t.RewardModel
	if e == nil {
		return nil
	}
	var gold app.UI
	if e.RMGoldAccuracy != nil {
		gold = app.Span().Body(app.Text(" · "+l.T("fbt.rm_gold")+" "), app.Span().Class("data").Text(fmtPct(e.RMGoldAccuracy)))
	}
	r := tuningRow{Name: feedback.RewardModel, Fingerprint: e.Fingerprint, Expected: t.Spec.Fingerprints[feedback.RewardModel]}
	r.Match = fingerprint.Verdict(r.Expected, r.Fingerprint)
	return app.P().ID("fbt-rm").Body(
		app.Strong().Text(l.T("fbt.rm")),
		app.Text(" · "+l.T("fbt.rm_accuracy")+" "), app.Span().Class("data").Text(fmtPct(e.RMAccuracy)),
		gold,
		app.Text(" · "+l.T("label.fingerprint")+" "), app.Code().ID("fbt-rm-fingerprint").Class("data").Text(e.Fingerprint),
		tuningMatch(l, r),
	)
}

// renderExports are the download buttons: the table as CSV, each chart as SVG.
func (t *tuning) renderExports(l Lang) app.UI {
	return app.Div().Class("controls").ID("fbt-exports").Body(
		app.Button().ID("fbt-csv").Text(l.T("cmp.export_csv")).OnClick(func(ctx app.Context, e app.Event) {
			download(t.CSV(l), "feedback.csv")
		}),
		app.Button().ID("fbt-reward-svg").Text(l.T("fbt.export_reward_svg")).OnClick(func(ctx app.Context, e app.Event) {
			download([]byte(t.rewardChart(l)), "feedback-reward.svg")
		}),
		app.Button().ID("fbt-kl-svg").Text(l.T("fbt.export_kl_svg")).OnClick(func(ctx app.Context, e app.Event) {
			download([]byte(t.klChart(l)), "feedback-kl.svg")
		}),
	)
}

// renderTable is the results: the SFT model first, then each method as it finishes.
func (t *tuning) renderTable(l Lang) app.UI {
	rows := t.Rows()
	judge := t.winJudge()
	return app.Div().ID("fbt-results").Body(
		app.H3().Text(l.T("fbt.results")),
		scrollBox("table-scroll", l.T("fbt.results")).Body(app.Table().ID("fbt-table").Body(
			app.THead().Body(app.Tr().Body(
				colHead(l, "table.method", ""),
				colHead(l, "fbt.col.reward", ""),
				colHead(l, "fbt.col.win."+judge, " *").Attr("aria-describedby", "fbt-judge-note"),
				colHead(l, "fbt.col.kl", ""),
				colHead(l, "table.accuracy", ""),
				colHead(l, "table.forgetting", ""),
				colHead(l, "table.trainable", ""),
				colHead(l, "table.optimizer", ""),
				colHead(l, "table.ms", " †").Attr("aria-describedby", "fbt-ms-note"),
				colHead(l, "label.fingerprint", ""),
			)),
			app.TBody().Body(app.Range(rows).Slice(func(i int) app.UI {
				r := rows[i]
				cell := func(class, v string) app.UI { return resultCell(r.Status, class, v) }
				return app.Tr().DataSet("method", r.Name).DataSet("status", r.Status).Body(
					app.Th().Scope("row").Body(
						app.Text(tuningName(l, r.Name)),
						app.If(r.Status != statusDone, app.Span().Class("hint").Text(" ("+l.T("status."+r.Status)+")")),
					),
					cell("reward", fmtFloat(r.Reward, 3)),
					cell("win", fmtPct(r.GoldWinRate)),
					cell("kl", fmtFloat(r.KL, 4)),
					cell("accuracy", fmtPct(r.Accuracy)),
					cell("forgetting", fmtForgetting(r.Forgetting)),
					cell("trainable", fmtParams(r.Trainable)),
					cell("optimizer", fmtBytes(r.OptBytes)),
					cell("ms", fmtMs(r.MsPerStep)),
					app.Td().Class("fingerprint").Body(app.Code().Class("data").Text(r.Fingerprint), tuningMatch(l, r)),
				)
			})),
		)),
		app.P().ID("fbt-judge-note").Class("hint").Attr("data-judge", judge).Text("* "+l.T("fbt.judge."+judge)),
		app.P().ID("fbt-ms-note").Class("hint").Text("† "+l.T("cmp.ms_note")),
	)
}

// tuningMatch says how a result's fingerprint compares with the one the link carried for it
// (the compare view's words), or nothing when the link carried none.
func tuningMatch(l Lang, r tuningRow) app.UI {
	return rowMatch(l, resultRow{Match: r.Match, Expected: r.Expected})
}

// renderAnswers shows the held-out prompts as rows, the SFT model's answer beside each
// method's.
func (t *tuning) renderAnswers(l Lang) app.UI {
	rows := t.AnswerRows()
	if len(rows) == 0 {
		return nil
	}
	cols := t.AnswerColumns()
	return app.Div().ID("fbt-answers-box").Body(
		app.H3().Text(l.T("fbt.answers")),
		app.P().Class("hint").Text(l.T("fbt.answers_hint")),
		scrollBox("table-scroll", l.T("fbt.answers")).Body(app.Table().ID("fbt-answers").Body(
			app.THead().Body(app.Tr().Body(
				app.Th().Scope("col").Text(l.T("cmp.prompt")),
				app.Range(cols).Slice(func(i int) app.UI {
					return app.Th().Scope("col").DataSet("method", cols[i].Name).Text(tuningName(l, cols[i].Name))
				}),
			)),
			app.TBody().Body(app.Range(rows).Slice(func(i int) app.UI {
				r := rows[i]
				return app.Tr().Body(
					app.Th().Scope("row").Body(app.Span().Class("data").Text(r.Prompt)),
					app.Range(r.Answers).Slice(func(j int) app.UI {
						return app.Td().DataSet("method", cols[j].Name).Body(app.Span().Class("data answer").Text(r.Answers[j]))
					}),
				)
			})),
		)),
	)
}

// renderOverTime shows each method's samples over time: at every evaluation, its answers to a
// few held-out prompts, with the reward model's score of each. Nothing until the workers send
// them (samplesOverTime).
func (t *tuning) renderOverTime(l Lang) app.UI {
	var blocks []app.UI
	for _, ln := range t.Lanes {
		if ln.Result == nil {
			continue
		}
		steps := overTimeSteps(samplesOverTime(ln.Result))
		if len(steps) == 0 {
			continue
		}
		blocks = append(blocks, app.Details().ID("fbt-over-time-"+ln.Method.Label()).Body(
			app.Summary().Body(app.Span().Class("data").Text(tuningName(l, ln.Method.Label()))),
			app.Table().Class("over-time").Body(
				app.THead().Body(app.Tr().Body(
					app.Th().Scope("col").Text(l.T("fbt.step")),
					app.Th().Scope("col").Text(l.T("cmp.prompt")),
					app.Th().Scope("col").Text(l.T("fbt.answer")),
					app.Th().Scope("col").Text(l.T("fbt.col.reward")),
				)),
				app.TBody().Body(overTimeRows(steps)...),
			),
		))
	}
	if len(blocks) == 0 {
		return nil
	}
	return app.Div().ID("fbt-over-time").Body(append([]app.UI{app.H3().Text(l.T("fbt.over_time"))}, blocks...)...)
}

// overTimeRows are the samples-over-time table's rows: one per sample, its step first.
func overTimeRows(steps []overTimeStep) []app.UI {
	var rows []app.UI
	for _, st := range steps {
		for _, s := range st.Samples {
			rows = append(rows, app.Tr().DataSet("step", st.Step).Body(
				app.Td().Class("num data").Text(strconv.Itoa(st.Step)),
				app.Td().Body(app.Span().Class("data").Text(s.Prompt)),
				app.Td().Body(app.Span().Class("data answer").Text(s.Answer)),
				app.Td().Class("num data").Text(strconv.FormatFloat(float64(s.Reward), 'f', 2, 32)),
			))
		}
	}
	return rows
}
