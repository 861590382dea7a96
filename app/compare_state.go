package app

import (
	"fmt"
	"time"

	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// compareState is what the compare view knows and what happens to it: a link opened, a
// comparison started, its base arriving, a worker's message, a button. The comparison itself
// (comparison.go) is built from those; this holds it with its workers and the form. Its methods
// are plain Go that touch the browser only through host, so they are tested without one;
// Compare (compare_view.go) draws it.
type compareState struct {
	host compareHost

	form       compareSetup
	fixed      []fixedValue    // a teacher's link's fixed values: every comparison the form runs has them
	errs       fieldErrs       // a field's element id -> why its value was refused
	pretrained pretrainedModel // the pretraining view's run (session.go)

	cmp       *comparison
	workers   []worker // one per method, closed once it ends
	preWorker worker   // pretraining a link's base first
	saveID    int      // the save request that brings that base's bytes
	// loadWorker answers the prompts with an adapter file the learner loaded (loadAdapter).
	loadWorker worker

	link     *runspec.Spec // the comparison a #r= link carried
	linkErr  error
	linkCode string
	share    shareLink
	// ask is the question before a comparison estimated at more than askAbove here; measure
	// the calibration before it when this model's speed here is not known yet.
	ask     *pendingStart
	measure *measuring
}

// compareHost is what the compare state asks of the page around it. Compare implements it with
// Web Workers, fetch and go-app's dispatch; the tests with a recorder.
type compareHost interface {
	// startWorker starts a trainer whose messages go to handle, one at a time, on the UI
	// goroutine.
	startWorker(handle func(protocol.Message)) worker
	// fetchBase gets the built-in base name (web/base/<name>.ckpt) and hands it to done on the
	// UI goroutine.
	fetchBase(name string, done func(data []byte, err error))
	// dispatch runs fn on the UI goroutine for this view (from another view's callback).
	dispatch(fn func())
	setLang(l Lang)
	// speed is the milliseconds a step of speedKey's model took here (0: never measured);
	// cores is how many of the methods' workers this device runs at once.
	speed(key string) float64
	keepSpeed(key string, ms float64)
	cores() int
}

// pretrainedChanged follows the pretraining view's run: a form set to "the model just
// pretrained" takes the latest finished one.
func (c *compareState) pretrainedChanged() {
	if c.form.Base == basePretrained && c.pretrained.Ready {
		c.form.SetBase(basePretrained, c.pretrained.Spec)
	}
}

func (c *compareState) openLink(frag string) {
	c.linkCode = frag
	code, run, _ := linkFragment(frag)
	spec, err := runspec.Decode(code)
	if !spec.Compares() || spec.Feeds() { // a pretraining run, or a damaged link: the pretraining view's; a feedback stage: the feedback view's
		return
	}
	c.link, c.linkErr = &spec, err
	if lang := linkLang(frag, spec.Lang); lang != "" { // a teacher's lang= first
		c.host.setLang(lang)
	}
	c.form = setupFromComparison(spec, c.linkBase(spec))
	c.errs = nil
	if err == nil && run { // a changed sample text or task waits for the learner's choice
		c.start(spec, true)
	}
}

// runAnyway runs the link's comparison although its sample text or task changed.
func (c *compareState) runAnyway() {
	c.linkErr = nil
	c.start(*c.link, true)
}

// runForm runs the comparison the form describes (the run button).
func (c *compareState) runForm(l Lang) {
	if c.form.Base == basePretrained && c.pretrained.Ready { // the latest finished pretraining
		c.form.SetBase(basePretrained, c.pretrained.Spec)
	}
	fixCompare(&c.form, c.fixed)
	spec, err := c.form.Spec(l)
	if err != nil {
		return
	}
	c.link, c.linkErr = nil, nil
	if c.measure != nil {
		return
	}
	c.ask = nil
	// A comparison asks first when it would take more than two minutes here: at the speed
	// kept for its model in this browser, else at the one a calibration measures now.
	if ms := c.host.speed(speedKey(spec, spec.Device)); ms > 0 {
		c.decide(spec, ms)
		return
	}
	code, err := runspec.Encode(spec.Pretraining())
	if err != nil {
		c.start(spec, false)
		return
	}
	m := &measuring{spec: spec, began: time.Now()}
	m.w = c.host.startWorker(func(msg protocol.Message) { c.onCalibration(m, msg) })
	m.id = m.w.send(protocol.Request{Kind: protocol.Calibrate, Code: code, Device: spec.Device})
	c.measure = m
}

// decide runs spec, or asks first when it takes longer than askAbove at ms a step.
func (c *compareState) decide(spec runspec.Spec, ms float64) {
	if q := decideStart(spec, ms, c.form.Base != baseLink, keptBaseFor(spec), c.host.cores()); q != nil {
		c.ask = &pendingStart{spec: spec, q: q}
		return
	}
	c.start(spec, false)
}

// onCalibration takes the calibration's answer (its worker then closes: each method trains in
// a worker of its own); one that fails runs the comparison, which says why in its own words.
func (c *compareState) onCalibration(m *measuring, msg protocol.Message) {
	if c.measure != m || (msg.ID != m.id && msg.ID != 0) {
		return
	}
	switch msg.Kind {
	case protocol.Metric:
		if msg.Name != protocol.MetricMsPerStep || msg.Value <= 0 {
			return
		}
		c.measure = nil
		m.w.close()
		c.host.keepSpeed(speedKey(m.spec, m.spec.Device), msg.Value)
		c.decide(m.spec, msg.Value)
	case protocol.Error:
		c.measure = nil
		m.w.close()
		c.start(m.spec, false)
	}
}

// startAnyway runs the long comparison the page asked about.
func (c *compareState) startAnyway() {
	if q := c.ask; q != nil {
		c.ask = nil
		c.start(q.spec, false)
	}
}

// cancelLong drops the long comparison the page asked about: nothing starts.
func (c *compareState) cancelLong() {
	c.ask = nil
	if m := c.measure; m != nil {
		c.measure = nil
		m.w.close()
	}
}

// pickBase chooses the base name when it can be had now.
func (c *compareState) pickBase(name string) {
	if spec, ok := c.baseSpec(name); ok {
		c.form.SetBase(name, spec)
	}
}

// linkBase is the form's base choice for a link's pretraining: the model just pretrained or a
// built-in base when it is one of them, else the link's own.
func (c *compareState) linkBase(spec runspec.Spec) string {
	if c.pretrained.Ready && samePretraining(c.pretrained.Spec, spec) {
		return basePretrained
	}
	if name := builtinBaseOf(spec); name != "" {
		return name
	}
	return baseLink
}

// start runs spec's comparison: get the base, then one worker per method. A link's run
// (fromLink) looks for a kept copy of its base and pretrains it first when there is none; a run
// from the form uses the base the learner chose and says why when it cannot be had.
func (c *compareState) start(spec runspec.Spec, fromLink bool) {
	c.closeWorkers()
	cmp := newComparison(spec)
	c.cmp = cmp
	c.share = shareLink{}
	base := c.form.Base
	if fromLink {
		base = c.linkBase(spec)
	}
	switch base {
	case basePretrained:
		if !c.pretrained.Ready || c.pretrained.save == nil || !samePretraining(c.pretrained.Spec, spec) {
			cmp.fail("base.err.no_pretrained", "")
			return
		}
		c.pretrained.save(func(data []byte, err error) {
			c.host.dispatch(func() {
				if cmp != c.cmp || !cmp.Active() {
					return
				}
				if err != nil {
					cmp.fail("base.err.save", err.Error())
					return
				}
				c.useBase(cmp, data, "base.note.pretrained", fromLink)
			})
		})
	case baseLink:
		c.pretrainFirst(cmp, "base.note.no_kept")
	default: // a built-in base, kept on the server as web/base/<name>.ckpt
		c.host.fetchBase(base, func(data []byte, err error) {
			if cmp != c.cmp || !cmp.Active() {
				return
			}
			if err != nil {
				if fromLink {
					c.pretrainFirst(cmp, "base.note.missing")
					return
				}
				cmp.fail("base.err.missing", fmt.Sprintf("web/base/%s.ckpt: %v", base, err))
				return
			}
			c.useBase(cmp, data, "base.note.kept", fromLink)
		})
	}
}

// useBase checks the base file (it must load, and be the comparison's pretraining) and starts
// one worker per method with it. A link whose kept base does not fit pretrains its base instead.
func (c *compareState) useBase(cmp *comparison, data []byte, noteKey string, fromLink bool) {
	ck, err := loadCheckpoint(data)
	if err != nil {
		cmp.fail("base.err.damaged", err.Error())
		cmp.ErrCheckpoint = err
		return
	}
	isBase := job.IsBaseOf(ck, cmp.Spec)
	ck.Model.Free()
	if !isBase {
		if fromLink {
			c.pretrainFirst(cmp, "base.note.not_kept")
			return
		}
		cmp.fail("base.err.not_this", "")
		return
	}
	cmp.BaseNote, cmp.BaseData = noteKey, data
	specs := methodSpecs(cmp.Spec)
	c.workers = make([]worker, len(specs))
	cmp.fineTuning()
	for i, ms := range specs {
		code, err := runspec.Encode(ms)
		if err != nil { // the whole spec encoded, so one method of it does too
			cmp.Lanes[i].Status, cmp.Lanes[i].Err = statusFailed, err.Error()
			continue
		}
		w := c.host.startWorker(func(m protocol.Message) { c.onLane(cmp, i, m) })
		c.workers[i] = w
		cmp.Lanes[i].ReqID = w.send(protocol.Request{Kind: protocol.Start, Code: code, Device: ms.Device, Base: data})
	}
	cmp.settle()
}

// onLane hands a method's worker message to the comparison, and ends the worker once its
// method is over (its model is not needed after the result): a LoRA method's worker first
// gives its adapter file, which the page keeps to save.
func (c *compareState) onLane(cmp *comparison, i int, m protocol.Message) {
	if cmp != c.cmp {
		return
	}
	cmp.Apply(i, m)
	ln, w := cmp.Lanes[i], c.workers[i]
	switch {
	case w == nil || ln.Active() || ln.awaitsAdapter():
	case ln.wantsAdapter():
		ln.AdapterReq = w.send(protocol.Request{Kind: protocol.Save, Format: protocol.FormatAdapter, Method: ln.Method.Label()})
	default:
		w.close()
		c.workers[i] = nil
	}
}

// pretrainFirst pretrains the comparison's base in one worker (a link whose base is kept
// nowhere here), then takes the model as a base file and fans out.
func (c *compareState) pretrainFirst(cmp *comparison, noteKey string) {
	pre := cmp.Spec.Pretraining()
	pre.Device, pre.Fingerprint = cmp.Spec.Device, cmp.Spec.Fingerprint // the worker checks the link's fingerprint
	code, err := runspec.Encode(pre)
	if err != nil {
		cmp.fail("base.err.pretrain", err.Error())
		return
	}
	cmp.Phase, cmp.BaseNote = phasePretrain, noteKey
	var r *run
	w := c.host.startWorker(func(m protocol.Message) { c.onPretrain(cmp, r, m) })
	c.preWorker = w
	r = newRun("base", pre, w.send(protocol.Request{Kind: protocol.Start, Code: code, Device: pre.Device}))
	cmp.Pretraining = r
}

func (c *compareState) onPretrain(cmp *comparison, r *run, m protocol.Message) {
	if cmp != c.cmp || r == nil || cmp.Phase != phasePretrain {
		return
	}
	if c.saveID != 0 && m.ID == c.saveID {
		switch m.Kind {
		case protocol.Saved:
			c.saveID = 0
			c.preWorker.close()
			c.preWorker = nil
			c.useBase(cmp, m.Data, cmp.BaseNote, false)
		case protocol.Error:
			c.saveID = 0
			cmp.fail("base.err.pretrain", m.Error)
		}
		return
	}
	r.Apply(m)
	if r.Result != nil && cmp.PretrainResult == nil {
		e := *r.Result
		cmp.PretrainResult = &e
	}
	switch r.Status {
	case statusDone:
		if c.saveID == 0 { // once: the model as a base file, then fan out
			c.saveID = c.preWorker.send(protocol.Request{Kind: protocol.Save, Format: protocol.FormatBase})
		}
	case statusFailed, statusStopped:
		cmp.fail("base.err.pretrain", r.Err)
	}
}

// stop ends every worker of the comparison at once.
func (c *compareState) stop() {
	c.closeWorkers()
	if c.cmp != nil {
		c.cmp.stop()
	}
}

func (c *compareState) closeWorkers() {
	for i, w := range c.workers {
		if w != nil {
			w.close()
			c.workers[i] = nil
		}
	}
	if c.preWorker != nil {
		c.preWorker.close()
		c.preWorker = nil
	}
	c.closeLoadWorker()
	c.saveID = 0
}

// loadAdapter sends an adapter file and the comparison's base to a worker of its own, which
// answers the comparison's prompts with it; a file loaded before replaces the last.
func (c *compareState) loadAdapter(cmp *comparison, name string, data []byte) {
	if cmp != c.cmp || cmp.BaseData == nil {
		return
	}
	c.closeLoadWorker()
	a := &loadedAdapter{Name: name, Status: statusRunning}
	cmp.Loaded = a
	if len(data) == 0 { // no worker needed to say so
		a.Status, a.Err, a.Code = statusFailed, "the file is empty", protocol.CodeAdapterDamaged
		return
	}
	code, err := runspec.Encode(cmp.Spec)
	if err != nil { // the comparison ran from this spec, so it encodes
		a.Status, a.Err = statusFailed, err.Error()
		return
	}
	w := c.host.startWorker(func(m protocol.Message) {
		if cmp != c.cmp || cmp.Loaded != a {
			return
		}
		a.Apply(m)
		if a.Status != statusRunning {
			c.closeLoadWorker()
		}
	})
	c.loadWorker = w
	a.ReqID = w.send(protocol.Request{Kind: protocol.LoadAdapter, Code: code, Device: cmp.Spec.Device, Base: cmp.BaseData, Adapter: data})
}

func (c *compareState) closeLoadWorker() {
	if c.loadWorker != nil {
		c.loadWorker.close()
		c.loadWorker = nil
	}
}

// baseSpec is the pretraining of a base choice, and whether it can be had now.
func (c *compareState) baseSpec(name string) (runspec.Spec, bool) {
	switch name {
	case basePretrained:
		return c.pretrained.Spec, c.pretrained.Ready
	case baseLink:
		if c.link != nil {
			return *c.link, true
		}
		return runspec.Spec{}, false
	}
	p, err := runspec.PresetByName(name)
	return p.Spec, err == nil
}

// tuned is the finished comparison as the feedback view may start from it (session.go): its
// finished full fine-tuning and LoRA methods, which can make a feedback stage's SFT model (a
// LoRA one with its update baked into the weights; adapters and prefixes cannot).
func (c *compareState) tuned() tunedModel {
	cmp := c.cmp
	if cmp == nil || cmp.Phase != phaseDone || cmp.BaseData == nil {
		return tunedModel{}
	}
	var methods []string
	for _, ln := range cmp.Lanes {
		if ln.Status == statusDone && (ln.Method.Kind == compare.Full || ln.Method.Kind == compare.LoRA) {
			methods = append(methods, ln.Method.Label())
		}
	}
	if len(methods) == 0 {
		return tunedModel{}
	}
	return tunedModel{Ready: true, Spec: cmp.Spec, Methods: methods, id: fmt.Sprintf("%p", cmp),
		base: func() []byte { return cmp.BaseData }}
}

func (c *compareState) running() bool { return c.cmp != nil && c.cmp.Active() }
