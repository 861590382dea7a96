package app

import (
	"bytes"
	"errors"
	"time"

	"pretune/core/checkpoint"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// pretrainState is what the pretraining page knows and what happens to it: a link opened, a
// run started, a worker's message, a button. Its methods are plain Go that touch the browser
// only through host, so they are tested without one; Pretrain (pretrain_view.go) draws it.
type pretrainState struct {
	host pretrainHost

	form   setup
	fixed  []fixedValue      // a teacher's link's fixed values: every run the form starts has them
	errs   map[string]string // field key -> the refused value's message key
	runs   []*run
	cur    *run
	worker worker

	link     *runspec.Spec // the run a #r= link carried
	linkErr  error
	linkCode string
	share    shareLink

	base     []byte // a loaded checkpoint: the next run starts from it
	baseInfo *checkpoint.Checkpoint
	baseName string
	baseErr  error

	cpuCheck *run // the exact CPU reproduction of a link made on another device class

	offer *savedRun // an unfinished run kept in IndexedDB, offered on reopening

	insp inspectState // the look inside the current run's model
	// baseSaves are the compare view's requests for the model as a base file, by request id
	// (see session.go); published is what was last told to it.
	baseSaves map[int]func(data []byte, err error)
	published string

	// measure is a calibration in flight before a run whose speed here is not known yet; ask is
	// the question before a run estimated at more than askAbove (longrun.go).
	measure *measuring
	ask     *pendingStart
}

// measuring is a calibration (protocol.Calibrate) of the run the learner started. Its worker then
// trains that run, so the run does not wait for a second worker to load.
type measuring struct {
	began time.Time
	spec  runspec.Spec
	w     worker
	id    int
	run   *run // the run this worker trains, once started
}

// pendingStart is a long run waiting for the learner's answer.
type pendingStart struct {
	spec runspec.Spec
	q    *longRun
}

// pretrainHost is what the pretraining state asks of the page around it. Pretrain implements
// it with Web Workers, go-app's states and IndexedDB; the tests with a recorder.
type pretrainHost interface {
	// startWorker starts a trainer whose messages go to handle, one at a time, on the UI
	// goroutine.
	startWorker(handle func(protocol.Message)) worker
	// publish tells the compare view about the current run (session.go).
	publishModel(m pretrainedModel)
	setLang(l Lang)
	keepRun(s savedRun) // the unfinished run to offer on reopening, replacing the last
	forgetRun()
	download(data []byte, name string)
	// speed is the milliseconds a step took here for speedKey's key (0: never measured), kept
	// by keepSpeed in localStorage.
	speed(key string) float64
	keepSpeed(key string, ms float64)
}

// offerKept offers the run a closed tab left unfinished, unless something runs or a link
// opened meanwhile.
func (p *pretrainState) offerKept(s *savedRun) {
	if p.cur == nil && p.link == nil {
		p.offer = s
	}
}

// openLink opens a link's run (a linkFragment: "r=CODE" starts it, "o=CODE" only fills the form).
func (p *pretrainState) openLink(frag string) {
	p.linkCode = frag
	code, run, _ := linkFragment(frag)
	spec, err := runspec.Decode(code)
	if spec.Compares() { // a fine-tuning comparison: the compare view opens it
		p.link, p.linkErr = nil, nil
		return
	}
	p.link, p.linkErr = nil, err
	if err != nil && !errors.Is(err, runspec.ErrCorpusChanged) {
		return
	}
	p.link = &spec
	if lang := linkLang(frag, spec.Lang); lang != "" { // a teacher's lang= first
		p.host.setLang(lang)
	}
	form, ferr := setupFromSpec(spec)
	if ferr != nil {
		p.linkErr = ferr
		return
	}
	p.form = form
	if err == nil && !run { // opened only: the form is the run, which Start starts
		p.link = nil
		return
	}
	if err == nil { // a changed sample text waits for the learner's choice
		p.start(spec, spec.Device)
	}
}

// runAnyway starts the link's run although its sample text changed.
func (p *pretrainState) runAnyway() {
	p.linkErr = nil
	p.start(*p.link, p.link.Device)
}

// startForm starts the run the form describes (the start button).
func (p *pretrainState) startForm(l Lang) {
	fixSetup(&p.form, p.fixed)
	spec, err := p.form.Spec(l)
	if err != nil {
		p.fail(err)
		return
	}
	p.link, p.linkErr, p.cpuCheck = nil, nil, nil
	p.startOrAsk(spec)
}

// keptBaseFor is the kept base of spec's language: the cheaper way to a fine-tuning lesson.
func keptBaseFor(spec runspec.Spec) string {
	if spec.Lang == string(ZH) {
		return "zh-base"
	}
	return "en-base"
}

// startOrAsk starts spec at once when its estimate here is under askAbove, asks first when it
// is over, and measures this device first when it never ran this model shape.
func (p *pretrainState) startOrAsk(spec runspec.Spec) {
	if p.measure != nil || (p.cur != nil && p.cur.Active()) {
		return
	}
	p.ask = nil
	workers := runWorkers(spec, spec.Device, p.form.workers())
	ms, scaled := pretrainSpeed(p.host.speed, spec, spec.Device, workers, cores)
	if ms <= 0 {
		code, err := runspec.Encode(spec)
		if err != nil {
			p.fail(err)
			return
		}
		m := &measuring{spec: spec, began: time.Now()}
		m.w = p.host.startWorker(func(msg protocol.Message) {
			if m.run != nil {
				p.onMessage(m.run, msg)
				return
			}
			p.onCalibration(m, msg)
		})
		m.id = m.w.send(protocol.Request{Kind: protocol.Calibrate, Code: code, Device: spec.Device})
		p.measure = m
		return
	}
	var from float64 // the one-worker figure ms was scaled from
	if scaled {
		from = p.host.speed(speedKey(spec, spec.Device))
	}
	p.decide(spec, ms, workers, from)
}

// decide starts spec, or asks first when it takes longer than askAbove at ms a step on workers
// workers; from is the one worker's measured ms/step that ms was scaled from (0: ms was measured
// for this setting), which the question says.
func (p *pretrainState) decide(spec runspec.Spec, ms float64, workers int, from float64) {
	if q := decideStart(spec, ms, p.base != nil, keptBaseFor(spec), 1); q != nil {
		if from > 0 {
			q.Workers, q.OneWorker = workers, from
		}
		p.ask = &pendingStart{spec: spec, q: q}
		return
	}
	p.start(spec, spec.Device)
}

// onCalibration takes the calibration's answer: the speed is kept for next time, then the run
// starts or the page asks. A calibration that fails starts the run (it fails the same way,
// with its own words).
func (p *pretrainState) onCalibration(m *measuring, msg protocol.Message) {
	if p.measure != m || (msg.ID != m.id && msg.ID != 0) {
		return
	}
	switch msg.Kind {
	case protocol.Metric:
		if msg.Name == protocol.MetricMsPerStep && msg.Value > 0 {
			// A calibration times one worker (its worker alone, without helpers): kept as one
			// worker's speed, scaled for a run on more.
			p.host.keepSpeed(speedKey(m.spec, m.spec.Device), msg.Value)
			workers, ms, from := runWorkers(m.spec, m.spec.Device, p.form.workers()), msg.Value, 0.0
			if workers > 1 {
				ms, from = scaledSpeed(msg.Value, m.spec.Device, workers, cores), msg.Value
			}
			p.decide(m.spec, ms, workers, from)
			if p.ask != nil { // the worker waits for the learner's answer
				return
			}
		}
	case protocol.Error:
		p.start(m.spec, m.spec.Device)
	}
}

// startAnyway starts the long run the page asked about.
func (p *pretrainState) startAnyway() {
	if q := p.ask; q != nil {
		p.ask = nil
		p.start(q.spec, q.spec.Device)
	}
}

// cancelLong drops the long run the page asked about: nothing starts, its worker closes.
func (p *pretrainState) cancelLong() {
	p.ask = nil
	if m := p.measure; m != nil {
		p.measure = nil
		m.w.close()
	}
}

// reproduceOnCPU runs r again on the CPU device, which computes the same bits everywhere: r was
// made on another device class than the link's fingerprint.
func (p *pretrainState) reproduceOnCPU(r *run) {
	other := r
	spec := r.Spec
	spec.Device = runspec.DeviceCPU
	if c := p.start(spec, runspec.DeviceCPU); c != nil {
		p.cpuCheck = c
		c.CompareTo = other
	}
}

// resumeOffered resumes the kept run the page offered.
func (p *pretrainState) resumeOffered() {
	o := p.offer
	spec, err := runspec.Decode(o.Code)
	if err != nil {
		p.offer = nil
		p.host.forgetRun()
		p.fail(err)
		return
	}
	if f, err := setupFromSpec(spec); err == nil {
		p.form = f
	}
	p.startWith(spec, spec.Device, o)
}

// discardOffer drops the kept run the page offered.
func (p *pretrainState) discardOffer() {
	p.offer = nil
	p.host.forgetRun()
}

// start launches spec in a fresh worker on device.
func (p *pretrainState) start(spec runspec.Spec, device string) *run {
	return p.startWith(spec, device, nil)
}

// startWith launches spec, resuming from a kept run when from is set.
func (p *pretrainState) startWith(spec runspec.Spec, device string, from *savedRun) *run {
	p.offer = nil
	code, err := runspec.Encode(spec)
	if err != nil {
		p.fail(err)
		return nil
	}
	if p.worker != nil && p.cur != nil && p.cur.Active() {
		return nil
	}
	if p.worker != nil {
		p.failBaseSaves("the pretraining view started another run, which replaced the model")
		p.worker.close()
	}
	var r *run
	began := time.Now()
	if m := p.measure; m != nil { // the calibration's worker, already loaded, trains the run
		p.measure, began = nil, m.began
		p.worker = m.w
		defer func() { m.run = r }()
	} else {
		p.worker = p.host.startWorker(func(m protocol.Message) { p.onMessage(r, m) })
	}
	// A run from a loaded model cannot be resumed from its snapshots (the spec does not carry
	// the model), so only fresh runs keep them.
	req := protocol.Request{Kind: protocol.Start, Code: code, Device: device, Base: p.base, Snapshots: p.base == nil, Prompt: p.form.Prompt}
	if spec.Config.Shards > 1 {
		req.Workers = p.form.workers() // the run's result is the same for any number
	}
	workers := runWorkers(spec, device, req.Workers)
	name := runName(len(p.runs))
	if from != nil {
		req.Base, req.Resume = nil, from.State
		name = from.Name
	}
	id := p.worker.send(req)
	r = newRun(name, spec, id)
	r.Workers = workers
	if from == nil {
		r.Began = began
	}
	r.FromBase = req.Base != nil
	if from != nil {
		r.Points, r.Samples, r.Step = from.Points, from.Samples, from.Step
		r.Resumed, r.Kept = from.Step, from.Step
	}
	p.runs = append(p.runs, r)
	p.cur = r
	p.share = shareLink{}
	// The inspection showed the previous run's model, and its request ids were the old
	// worker's: only the learner's text carries over.
	p.insp = inspectState{Prompt: p.insp.Prompt}
	p.publish()
	return r
}

func (p *pretrainState) fail(err error) {
	r := &run{Name: runName(len(p.runs)), Status: statusFailed, Err: err.Error()}
	p.runs = append(p.runs, r)
	p.cur = r
	p.publish()
}

// publish tells the compare view (session.go) about the current run when what it shows of it
// changed.
func (p *pretrainState) publish() {
	var m pretrainedModel
	if r := p.cur; r != nil {
		m.Status, m.FromBase, m.Name, m.Spec = r.Status, r.FromBase, r.Name, r.Spec
		if r.Result != nil {
			m.Fingerprint, m.ValLoss = r.Result.Fingerprint, r.Result.ValLoss
		}
		m.Ready = r.Status == statusDone && !r.FromBase && p.worker != nil && r.Spec.Version != 0
		if m.Ready {
			m.save = p.saveBase
		}
	}
	if p.host == nil || m.key() == p.published {
		return
	}
	p.published = m.key()
	p.host.publishModel(m)
}

// saveBase asks the worker for the finished run's model as a base file for the compare view;
// done gets the bytes, or the worker's refusal, on the UI goroutine.
func (p *pretrainState) saveBase(done func(data []byte, err error)) {
	if p.worker == nil {
		done(nil, errors.New("the pretraining's worker is gone"))
		return
	}
	if p.baseSaves == nil {
		p.baseSaves = map[int]func([]byte, error){}
	}
	p.baseSaves[p.worker.send(protocol.Request{Kind: protocol.Save, Format: protocol.FormatBase})] = done
}

// failBaseSaves answers the compare view's pending requests when the worker goes away.
func (p *pretrainState) failBaseSaves(why string) {
	for id, done := range p.baseSaves {
		delete(p.baseSaves, id)
		done(nil, errors.New(why))
	}
}

// closeWorker ends the worker: nothing trains for a page that is gone.
func (p *pretrainState) closeWorker() {
	p.failBaseSaves("the pretraining view closed")
	if p.worker != nil {
		p.worker.close()
	}
}

func (p *pretrainState) onMessage(r *run, m protocol.Message) {
	if done, ok := p.baseSaves[m.ID]; ok && m.ID != 0 {
		switch m.Kind { // the Done after Saved finds no request left and falls through
		case protocol.Saved:
			delete(p.baseSaves, m.ID)
			done(m.Data, nil)
		case protocol.Error:
			delete(p.baseSaves, m.ID)
			done(nil, errors.New(m.Error))
		}
		return
	}
	if m.ID == 0 && m.Kind == protocol.Error { // the worker died: no save will be answered
		p.failBaseSaves(m.Error)
	}
	if r == nil || p.onInspectMessage(r, m) {
		return
	}
	switch m.Kind {
	case protocol.Saved:
		p.host.download(m.Data, saveName(r, m.Format))
		return
	case protocol.Snapshot:
		code, err := runspec.Encode(r.Spec)
		if err != nil || r != p.cur {
			return
		}
		p.host.keepRun(savedRun{Name: r.Name, Code: code, Device: r.Device, Step: m.Step, Steps: r.Steps,
			Points: r.Points, Samples: r.Samples, State: m.Data})
		r.Kept = m.Step
		return
	case protocol.Error:
		if m.ID != r.ReqID && m.ID != 0 { // a refused pause or save: say so, keep the run
			r.Note = m.Error
			return
		}
	}
	r.Apply(m)
	if ps := r.Pace.perSecond(); ps > 0 && r == p.cur && !r.FromBase && (m.Kind == protocol.Eval || m.Kind == protocol.Result) {
		// This device's measured pace for this model, evaluations included: the next run's
		// estimate needs no calibration.
		// Kept for the workers it ran on: a sharded run on several goes faster than on one.
		p.host.keepSpeed(workersSpeedKey(r.Spec, r.Spec.Device, r.Workers), 1000/ps)
	}
	if r == p.cur && !r.Active() && r.Kept > 0 {
		p.host.forgetRun() // finished, stopped or failed: nothing to resume
		r.Kept = 0
	}
	if r == p.cur {
		p.publish()
	}
}

func (p *pretrainState) control(kind string) {
	if p.worker == nil || p.cur == nil {
		return
	}
	p.worker.send(protocol.Request{Kind: kind})
	switch kind {
	case protocol.Pause:
		p.cur.Status = statusPaused
	case protocol.Resume:
		p.cur.Status = statusRunning
	}
}

// canSave says whether the current run's model can be saved: after the run, or while paused.
func (p *pretrainState) canSave() bool {
	r := p.cur
	return p.worker != nil && r != nil && (r.Status == statusDone || r.Status == statusPaused)
}

// save asks the worker for the model in format; the file downloads when it comes.
func (p *pretrainState) save(format string) {
	p.worker.send(protocol.Request{Kind: protocol.Save, Format: format})
}

// loadModel takes a model file the learner chose: the next run trains from it, or the page says
// why it cannot.
func (p *pretrainState) loadModel(name string, data []byte) {
	c, err := loadCheckpoint(data)
	p.baseName = name
	if err != nil {
		p.base, p.baseInfo, p.baseErr = nil, nil, err
		return
	}
	p.base, p.baseInfo, p.baseErr = data, c, nil
}

// forgetModel drops the loaded model: the next run starts fresh.
func (p *pretrainState) forgetModel() {
	p.base, p.baseInfo, p.baseName = nil, nil, ""
}

// setField sets a form field from the typed text, keeping the refusal's message (in l) to show.
func (p *pretrainState) setField(l Lang, key, text string) {
	if err := p.form.SetField(key, text); err != nil {
		if p.errs == nil {
			p.errs = map[string]string{}
		}
		p.errs[key] = fieldErrText(l, err)
		return
	}
	delete(p.errs, key)
}

// setMaskRate sets the masked-LM mask rate from the typed text, like setField.
func (p *pretrainState) setMaskRate(l Lang, text string) {
	if err := p.form.SetMaskRate(text); err != nil {
		if p.errs == nil {
			p.errs = map[string]string{}
		}
		p.errs["mask_rate"] = fieldErrText(l, err)
		return
	}
	delete(p.errs, "mask_rate")
}

// loadCheckpoint reads either format, told apart by the first bytes, on the CPU: the page
// checks the file at once (and shows what it holds) before a worker trains from it.
func loadCheckpoint(data []byte) (*checkpoint.Checkpoint, error) {
	if bytes.HasPrefix(data, []byte(checkpoint.Magic)) {
		return checkpoint.Load(bytes.NewReader(data), ops.NewCPU())
	}
	if len(data) > 8 && data[8] == '{' {
		return checkpoint.ImportSafetensors(bytes.NewReader(data), ops.NewCPU())
	}
	return checkpoint.Load(bytes.NewReader(data), ops.NewCPU()) // says what the file looks like
}

func saveName(r *run, format string) string {
	if format == protocol.FormatSafetensors {
		return r.Name + ".safetensors"
	}
	return r.Name + ".pretune"
}
