package app

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// A comparison goes through these phases: getting its base (fetching a built-in one, or asking
// the pretraining view's worker for the model), pretraining it first when no kept copy exists
// (a link's base), then fine-tuning every method in a worker of its own.
const (
	phaseBase     = "base"
	phasePretrain = "pretrain"
	phaseFineTune = "finetune"
	phaseDone     = "done"
	phaseStopped  = "stopped"
	phaseFailed   = "failed"
)

// comparison is one fine-tuning comparison as the page knows it, built only from what happens
// to it (the base arriving, the workers' messages), so its logic is tested without a browser.
type comparison struct {
	Spec  runspec.Spec // every method: what the share link carries
	Phase string
	// ErrKey says (an i18n key) why the comparison failed before its methods started: getting
	// its base; ErrDetail gives the technical reason, if any.
	ErrKey, ErrDetail string
	// ErrCheckpoint is a base file's refusal (core/checkpoint's), which the page translates.
	ErrCheckpoint error
	// BaseNote says where the base came from (kept file, the pretraining view, pretrained
	// here first).
	BaseNote string
	// Pretraining is the base's pretraining when it runs here first.
	Pretraining *run
	// PretrainResult is the base's pretraining as a worker reports it (fingerprint, note).
	PretrainResult *job.Event
	// BaseResult is the untouched base measured on the task: every worker measures it the same
	// way, the first to report it fills the table's first row.
	BaseResult *job.Event
	Lanes      []*lane
	// Started says the methods' workers started (the base was had).
	Started bool
	// BaseData is the base file the methods started from: a loaded adapter goes on it.
	BaseData []byte
	// Loaded is an adapter file the learner loaded onto the base, one more answers column.
	Loaded *loadedAdapter
	// clock is the time the lanes' pace is measured with (time.Now when nil); tests fake it.
	clock func() time.Time
	// expected is expectedAnswers of the spec's task, kept from the first redraw with answers.
	expected map[string]string
}

// now is the comparison's clock's time.
func (c *comparison) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

// lane is one method's worker.
type lane struct {
	Method compare.Method
	workerLane
	Step   int
	Steps  int
	Points []point // evaluations: training and held-out task loss
	// Pace is how fast the method trains here, from when its steps arrive (one a second).
	Pace   stepPace
	Result *job.Event
	// LoRA is what the LoRA view shows of a LoRA method: its heatmap and its answers.
	LoRA loraView
	// AdapterReq is the save request that brings a finished LoRA method's adapter file from its
	// worker, then Adapter holds the file, or AdapterErr why there is none.
	AdapterReq int
	Adapter    []byte
	AdapterErr string
}

// loadedAdapter is an adapter file the learner loaded onto the comparison's base, answered in a
// worker of its own (protocol.LoadAdapter).
type loadedAdapter struct {
	Name   string // the file's name
	ReqID  int
	Status string // statusRunning, then statusDone or statusFailed
	Err    string // the worker's reason (English, shown as data)
	Code   string // its kind, for the page's own words (protocol.CodeAdapterDamaged...)
	Result *job.Event
	LoRA   loraView
}

// Apply updates the loaded adapter with one message from its worker.
func (a *loadedAdapter) Apply(m protocol.Message) {
	if (m.ID != a.ReqID && !(m.ID == 0 && m.Kind == protocol.Error)) || a.Status != statusRunning {
		return
	}
	switch m.Kind {
	case protocol.Result:
		if m.Event != nil && m.Event.Method == compare.Loaded {
			e := *m.Event
			a.Result = &e
		}
	case protocol.Done:
		if a.Result != nil {
			a.Status = statusDone
		} else {
			a.Status, a.Err = statusFailed, "the trainer finished without a result"
		}
	case protocol.Error:
		a.Status, a.Err, a.Code = statusFailed, m.Error, m.Code
	}
}

// wantsAdapter says whether the lane is a method with an adapter file (LoRA, DoRA, IA3) that
// finished and whose file has not been asked for yet.
func (l *lane) wantsAdapter() bool {
	return l.Status == statusDone && compare.HasAdapterFile(l.Method.Kind) && l.AdapterReq == 0
}

// awaitsAdapter says whether the lane's adapter file was asked for and has not come yet.
func (l *lane) awaitsAdapter() bool {
	return l.AdapterReq != 0 && l.Adapter == nil && l.AdapterErr == ""
}

func newComparison(spec runspec.Spec) *comparison {
	c := &comparison{Spec: spec, Phase: phaseBase}
	for _, m := range spec.Methods {
		c.Lanes = append(c.Lanes, &lane{Method: m, workerLane: workerLane{Status: statusStarting}, Steps: spec.FineTune.Steps})
	}
	return c
}

// Active says whether anything still runs.
func (c *comparison) Active() bool {
	return c.Phase == phaseBase || c.Phase == phasePretrain || c.Phase == phaseFineTune
}

// fail ends the comparison before its methods started, for the reason key says.
func (c *comparison) fail(key, detail string) {
	c.Phase, c.ErrKey, c.ErrDetail = phaseFailed, key, detail
	for _, l := range c.Lanes {
		if l.Status == statusStarting {
			l.Status = statusStopped
		}
	}
}

// stop marks what still runs as stopped (the page ends the workers).
func (c *comparison) stop() {
	for _, l := range c.Lanes {
		if l.awaitsAdapter() {
			l.AdapterErr = "stopped before the adapter file came"
		}
	}
	if a := c.Loaded; a != nil && a.Status == statusRunning {
		a.Status, a.Err = statusStopped, "stopped"
	}
	if !c.Active() {
		return
	}
	c.Phase = phaseStopped
	if c.Pretraining != nil && c.Pretraining.Active() {
		c.Pretraining.Status = statusStopped
	}
	for _, l := range c.Lanes {
		if l.Active() {
			l.Status = statusStopped
		}
	}
}

// fineTuning records that the methods' workers started.
func (c *comparison) fineTuning() { c.Phase, c.Started = phaseFineTune, true }

// Apply updates lane i with one message from its worker.
func (c *comparison) Apply(i int, m protocol.Message) {
	l := c.Lanes[i]
	if l.awaitsAdapter() && (m.ID == l.AdapterReq || (m.ID == 0 && m.Kind == protocol.Error)) {
		switch m.Kind {
		case protocol.Saved:
			l.Adapter = m.Data
		case protocol.Error:
			l.AdapterErr = m.Error
		}
		return
	}
	if !l.follow(m, func() bool { return l.Result != nil }) {
		return
	}
	switch m.Kind {
	case protocol.Eval:
		if m.Event != nil && m.Event.Event == "eval" && m.Event.Method == l.Method.Label() {
			e := m.Event
			l.Points = append(keepUpTo(l.Points, e.Step-1), point{Step: e.Step, Train: e.TrainLoss, Val: e.ValLoss})
			l.Step, l.Steps = e.Step, e.Steps
			l.Pace.observe(e.Step, c.now())
		}
	case protocol.Progress:
		// The method's first step at once, then one a second: the lane moves between its
		// evaluations and measures its pace.
		if e := m.Event; e != nil && e.Method == l.Method.Label() {
			l.Step, l.Steps = e.Step, e.Steps
			l.Pace.observe(e.Step, c.now())
		}
	case protocol.Result:
		if m.Event == nil {
			return
		}
		e := *m.Event
		switch e.Method {
		case job.MethodPretrain:
			if c.PretrainResult == nil || c.PretrainResult.Fingerprint == "" {
				c.PretrainResult = &e
			}
		case compare.Base:
			if c.BaseResult == nil {
				c.BaseResult = &e
			}
		case l.Method.Label():
			l.Result = &e
			l.Step = l.Steps
		}
	}
	c.settle()
}

// settle ends the comparison once no lane runs: done when at least one method finished.
func (c *comparison) settle() {
	if c.Phase != phaseFineTune {
		return
	}
	done := 0
	for _, l := range c.Lanes {
		if l.Active() {
			return
		}
		if l.Status == statusDone {
			done++
		}
	}
	if done > 0 {
		c.Phase = phaseDone
	} else {
		c.Phase = phaseFailed
	}
}

// resultRow is one row of the results table: the base's or a method's.
type resultRow struct {
	Name   string // the method's label, or compare.Base
	Status string // a run state; statusDone when the numbers are in
	Err    string
	// The measurements, nil until known (and for what a base does not have).
	Accuracy    *float64
	Forgetting  *float64
	Trainable   *int
	Share       *float64
	OptBytes    *int
	MsPerStep   *float64
	Fingerprint string
	// Expected and Match are the fingerprint the link carried for this result and the worker's
	// verdict on it (fingerprint.Verdict); both "" when the link carried none.
	Expected, Match string
}

// Rows is the results table: the base first, then every method in the spec's order.
func (c *comparison) Rows() []resultRow {
	base := resultRow{Name: compare.Base, Status: statusRunning}
	if c.Phase == phaseFailed || c.Phase == phaseStopped {
		base.Status = statusStopped
	}
	if b := c.BaseResult; b != nil {
		base.Status, base.Accuracy, base.Forgetting = statusDone, b.TaskAccuracy, b.Forgetting
		base.Fingerprint, base.Expected, base.Match = b.Fingerprint, b.Expected, b.Match
	}
	rows := []resultRow{base}
	for _, l := range c.Lanes {
		r := resultRow{Name: l.Method.Label(), Status: l.Status, Err: l.Err}
		if e := l.Result; e != nil {
			n := e.TrainableParams
			r.Accuracy, r.Forgetting, r.Trainable, r.Share = e.TaskAccuracy, e.Forgetting, &n, e.TrainableShare
			r.OptBytes, r.MsPerStep, r.Fingerprint = e.OptimizerBytes, e.MsPerStep, e.Fingerprint
			r.Expected, r.Match = e.Expected, e.Match
		}
		rows = append(rows, r)
	}
	return rows
}

// Fingerprints are the finished results' fingerprints by result name (the base's and each
// method's), as a link carries them (runspec.Spec.Fingerprints); nil before any result.
func (c *comparison) Fingerprints() map[string]string {
	var out map[string]string
	for _, r := range c.Rows() {
		if r.Status == statusDone && r.Fingerprint != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[r.Name] = r.Fingerprint
		}
	}
	return out
}

// methodName is a result row's method in the page's language: the kind's name, with the name a
// link gave it when it has one of its own.
func methodName(l Lang, name string) string {
	if name == compare.Base {
		return l.T("method.base")
	}
	if _, ok := en["method."+name]; ok {
		return l.T("method." + name)
	}
	return name
}

// The table's numbers as the page and the CSV write them. A share from 0 to 1 (accuracy, a win
// rate) is a whole percentage in the page (fmtPct: 82%, read aloud as it stands) and a percentage
// with one decimal in the CSV (81.6), blank for none.
func fmtCSVPct(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(100**v, 'f', 1, 64)
}

// csvHead is a results column's CSV heading: its name with the unit, then its one-line
// explanation (the words the page shows on hover), so the file says what each number means.
func csvHead(l Lang, key string) string {
	sep := ": "
	if l == ZH {
		sep = "：" // Chinese punctuation is full width
	}
	return l.T(key) + sep + l.T("about."+key)
}

// columnKeys are the results tables' headings, each with its explanation under "about."+key.
var columnKeys = []string{"table.method", "table.accuracy", "table.forgetting", "table.trainable", "table.share",
	"table.optimizer", "table.optimizer_bytes", "table.ms", "label.fingerprint", "table.status",
	"fbt.col.reward", "fbt.col.win.taste", "fbt.col.win.reward_model", "fbt.col.kl"}

// csvHeads is csvHead of each key.
func csvHeads(l Lang, keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = csvHead(l, k)
	}
	return out
}

func fmtForgetting(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 4, 64)
}

func fmtShare(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(100**v, 'f', 2, 64)
}

func fmtMs(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func fmtInt(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

// fmtBytes writes a memory size for people: bytes, KiB or MiB.
func fmtBytes(v *int) string {
	switch {
	case v == nil:
		return ""
	case *v < 1<<10:
		return fmt.Sprintf("%d B", *v)
	case *v < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(*v)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(*v)/(1<<20))
}

// CSV is the results table as CSV, headers in the page's language with their explanations:
// numbers in plain form (accuracy in percent, forgetting in nats per token, the share in percent, optimizer memory in
// bytes), blank where a row has none yet; a method that failed says why in its last column.
func (c *comparison) CSV(l Lang) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(csvHeads(l, "table.method", "table.accuracy", "table.forgetting", "table.trainable",
		"table.share", "table.optimizer_bytes", "table.ms", "label.fingerprint", "table.status"))
	for _, r := range c.Rows() {
		status := l.T("status." + r.Status)
		if r.Err != "" {
			status += ": " + r.Err
		}
		w.Write([]string{methodName(l, r.Name), fmtCSVPct(r.Accuracy), fmtForgetting(r.Forgetting), fmtInt(r.Trainable),
			fmtShare(r.Share), fmtInt(r.OptBytes), fmtMs(r.MsPerStep), r.Fingerprint, status})
	}
	w.Flush()
	return buf.Bytes()
}

// chartLines are the loss chart's curves: every method's held-out task loss, and its training
// loss fainter in the same colour. (The workers report no task loss before training, so the
// base has no curve; its accuracy heads the table.)
func (c *comparison) chartLines(l Lang) []chartLine {
	var lines []chartLine
	for i, ln := range c.Lanes {
		color, mark := series(i)
		var tr, va [][2]float64
		for _, p := range ln.Points {
			tr = append(tr, [2]float64{float64(p.Step), p.Train})
			va = append(va, [2]float64{float64(p.Step), p.Val})
		}
		name := methodName(l, ln.Method.Label())
		lines = append(lines,
			chartLine{Label: l.T("chart.task_val", name), Color: color, Marker: mark, Points: va},
			chartLine{Label: l.T("chart.task_train", name), Color: color, Marker: mark, Faint: true, Points: tr})
	}
	return lines
}

// chart draws the comparison's loss chart as SVG.
func (c *comparison) chart(l Lang) string { return c.plot(l).SVG(l) }

// plot is the comparison's loss chart.
func (c *comparison) plot(l Lang) plot {
	return plot{ID: "compare-chart", Title: l.T("chart.compare_title"), XLabel: l.T("chart.x_finetune"), YLabel: l.T("chart.y_task"),
		Empty: l.T("chart.empty"), Lines: c.chartLines(l)}
}

// answerRow is one fixed prompt: what the task expects and each model's answer, in
// AnswerColumns' order, "" where a model has not answered yet.
type answerRow struct {
	Prompt   string
	Expected string
	Answers  []string
}

// answerColumn is one model's column of the answers table.
type answerColumn struct {
	Name string // compare.Base, a method's label, or compare.Loaded
	// Mode is a LoRA model's switch (adapterOn, adapterOff or adapterMerged); "" for others.
	Mode  string
	Event *job.Event // nil until the model answered
}

// AnswerColumns are the answers table's models: the base, every method in the spec's order,
// then a loaded adapter once it answered. A LoRA column shows the answers its switch chose.
func (c *comparison) AnswerColumns() []answerColumn {
	cols := []answerColumn{{Name: compare.Base, Event: c.BaseResult}}
	for _, l := range c.Lanes {
		col := answerColumn{Name: l.Method.Label(), Event: l.Result}
		if hasSwitch(l.Result) {
			col.Mode = l.LoRA.mode()
		}
		cols = append(cols, col)
	}
	if a := c.Loaded; a != nil && a.Result != nil {
		cols = append(cols, answerColumn{Name: compare.Loaded, Mode: a.LoRA.mode(), Event: a.Result})
	}
	return cols
}

// AnswerRows lists the fixed prompts with every model's answer, in the table's column order.
func (c *comparison) AnswerRows() []answerRow {
	if c.expected == nil { // the task's answers, once: resolving a built-in task copies it whole
		c.expected = expectedAnswers(c.Spec.Task)
	}
	return answerRows(c.AnswerColumns(), c.expected)
}

// answerRows lists the prompts any column's model answered (in the order first seen), each with
// every column's answer in cols' order ("" where a model has not answered yet) and its expected
// answer, if any.
func answerRows(cols []answerColumn, expected map[string]string) []answerRow {
	var prompts []string
	seen := map[string]bool{}
	for _, col := range cols {
		if col.Event == nil {
			continue
		}
		for _, a := range col.Event.Answers {
			if !seen[a.Prompt] {
				seen[a.Prompt] = true
				prompts = append(prompts, a.Prompt)
			}
		}
	}
	var rows []answerRow
	for _, p := range prompts {
		r := answerRow{Prompt: p, Expected: expected[p]}
		for _, col := range cols {
			r.Answers = append(r.Answers, answerTo(answersFor(col.Event, col.Mode), p))
		}
		rows = append(rows, r)
	}
	return rows
}

// answerTo is the answer to prompt among answers, or "".
func answerTo(answers []compare.Answer, prompt string) string {
	for _, a := range answers {
		if a.Prompt == prompt {
			return a.Answer
		}
	}
	return ""
}

// expectedAnswers maps the task's held-out prompts (and texts to label) to their answers.
func expectedAnswers(ref *runspec.TaskRef) map[string]string {
	out := map[string]string{}
	if ref == nil {
		return out
	}
	t, err := ref.Resolve()
	if err != nil {
		return out
	}
	for _, p := range t.ValPairs {
		out[p.Prompt] = p.Response
	}
	for _, e := range t.ValExamples {
		out[e.Text] = t.Labels[e.Label]
	}
	return out
}
