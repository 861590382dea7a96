package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// fakeWorker stands in for a trainer's Web Worker: it keeps the requests sent to it, numbered
// as the trainer numbers them, and its messages go to the state as the page hands them over.
type fakeWorker struct {
	handle func(protocol.Message)
	sent   []protocol.Request
	closed bool
}

func (w *fakeWorker) send(r protocol.Request) int {
	r.ID = len(w.sent) + 1
	w.sent = append(w.sent, r)
	return r.ID
}

func (w *fakeWorker) close() { w.closed = true }

// last is the latest request.
func (w *fakeWorker) last() protocol.Request { return w.sent[len(w.sent)-1] }

// say hands the state messages from the worker.
func (w *fakeWorker) say(ms ...protocol.Message) {
	for _, m := range ms {
		w.handle(m)
	}
}

// fakeHost records what a view's state asks of the page: the workers it started, what it told
// the compare view, what it kept in and dropped from IndexedDB, the files it offered, the bases
// it fetched (answered by the test) and the language it set.
type fakeHost struct {
	workers   []*fakeWorker
	published []pretrainedModel
	kept      []savedRun
	forgot    int
	downloads []string
	fetches   []string
	fetched   []func(data []byte, err error)
	langs     []Lang
	// speeds are the measured speeds the page keeps (localStorage); a key not in it reads 1 ms
	// a step, so that a test's run starts at once unless it sets 0 (never measured) or a
	// slow speed.
	speeds map[string]float64
}

func (h *fakeHost) speed(key string) float64 {
	if ms, ok := h.speeds[key]; ok {
		return ms
	}
	return 1
}

// cores is one: a comparison's methods one after another.
func (h *fakeHost) cores() int { return 1 }

func (h *fakeHost) keepSpeed(key string, ms float64) {
	if h.speeds == nil {
		h.speeds = map[string]float64{}
	}
	h.speeds[key] = ms
}

func (h *fakeHost) startWorker(handle func(protocol.Message)) worker {
	w := &fakeWorker{handle: handle}
	h.workers = append(h.workers, w)
	return w
}

func (h *fakeHost) publishModel(m pretrainedModel)    { h.published = append(h.published, m) }
func (h *fakeHost) setLang(l Lang)                    { h.langs = append(h.langs, l) }
func (h *fakeHost) keepRun(s savedRun)                { h.kept = append(h.kept, s) }
func (h *fakeHost) forgetRun()                        { h.forgot++ }
func (h *fakeHost) download(data []byte, name string) { h.downloads = append(h.downloads, name) }
func (h *fakeHost) dispatch(fn func())                { fn() }

func (h *fakeHost) fetchBase(name string, done func(data []byte, err error)) {
	h.fetches, h.fetched = append(h.fetches, name), append(h.fetched, done)
}

// worker is the i-th worker the state started.
func (h *fakeHost) worker(t *testing.T, i int) *fakeWorker {
	t.Helper()
	require.Greater(t, len(h.workers), i, "worker %d was not started", i)
	return h.workers[i]
}

func (h *fakeHost) lastPublished() pretrainedModel { return h.published[len(h.published)-1] }

// finishRun is a worker's whole conversation for the run whose start request was id.
func finishRun(id int, fp string) []protocol.Message {
	return []protocol.Message{
		{ID: id, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}},
		eval(id, 20, 3.0, 3.1),
		eval(id, 40, 2.5, 2.6),
		{ID: id, Kind: protocol.Result, Event: &job.Event{Event: "result", Steps: 40, ValLoss: 2.6, Fingerprint: fp}},
		{ID: id, Kind: protocol.Done},
	}
}

// TestPretrainStateRunsTheForm: the start button sends the form's run to a fresh worker; the
// worker's messages make the run; a snapshot is kept to resume from and dropped when the run
// ends; the compare view hears of the run when it starts and when its model is ready, not at
// every evaluation.
func TestPretrainStateRunsTheForm(t *testing.T) {
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.form.Prompt = "The "
	want, err := p.form.Spec(EN)
	require.NoError(t, err)
	p.startForm(EN)

	w := h.worker(t, 0)
	require.Len(t, w.sent, 1)
	start := w.sent[0]
	require.Equal(t, protocol.Start, start.Kind)
	got, err := runspec.Decode(start.Code)
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, want.Device, start.Device)
	require.True(t, start.Snapshots, "a fresh run keeps snapshots to resume from")
	require.Nil(t, start.Base)
	require.Equal(t, "The ", start.Prompt)
	r := p.cur
	require.Equal(t, []*run{r}, p.runs)
	require.Equal(t, statusStarting, r.Status)
	require.Len(t, h.published, 1)
	require.Equal(t, statusStarting, h.lastPublished().Status)
	require.False(t, h.lastPublished().Ready)

	msgs := finishRun(1, "cpu:0123456789ab")
	w.say(msgs[:2]...)
	w.say(protocol.Message{ID: 1, Kind: protocol.Snapshot, Step: 20, Data: []byte("state")})
	require.Len(t, h.kept, 1)
	require.Equal(t, 20, h.kept[0].Step)
	require.Equal(t, []byte("state"), h.kept[0].State)
	require.Equal(t, r.Name, h.kept[0].Name)
	require.Equal(t, 20, r.Kept)
	require.Len(t, h.published, 2, "running: said once, not at every evaluation")

	w.say(msgs[2:]...)
	require.Equal(t, statusDone, r.Status)
	require.Equal(t, 1, h.forgot, "a finished run has nothing to resume")
	require.Zero(t, r.Kept)
	m := h.lastPublished()
	require.True(t, m.Ready)
	require.Equal(t, "cpu:0123456789ab", m.Fingerprint)
	require.NotNil(t, m.save)
	require.False(t, w.closed, "the worker keeps the model for saving and inspecting")

	// A second start while nothing runs replaces the worker; while one runs it is refused.
	p.startForm(EN)
	require.True(t, w.closed)
	require.Len(t, p.runs, 2)
	p.startForm(EN)
	require.Len(t, h.workers, 2, "a run is active: no second worker")
	require.Len(t, p.runs, 2)
}

// TestPretrainStateControls: pause and resume go to the worker and show at once; a refused
// request is a note on the run, which goes on; a user's save downloads under the run's name;
// the worker's death fails the run.
func TestPretrainStateControls(t *testing.T) {
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.control(protocol.Pause) // no run: nothing to pause
	require.Empty(t, h.workers)

	p.startForm(EN)
	w := h.worker(t, 0)
	w.say(finishRun(1, "cpu:0123456789ab")[:2]...)
	require.False(t, p.canSave(), "running: not yet")
	p.control(protocol.Pause)
	require.Equal(t, protocol.Pause, w.last().Kind)
	require.Equal(t, statusPaused, p.cur.Status)
	require.True(t, p.canSave(), "paused: the model can be saved")
	p.save(protocol.FormatSafetensors)
	require.Equal(t, protocol.Request{ID: 3, Kind: protocol.Save, Format: protocol.FormatSafetensors}, w.last())
	w.say(protocol.Message{ID: 3, Kind: protocol.Saved, Format: protocol.FormatSafetensors, Data: []byte("file")})
	require.Equal(t, []string{p.cur.Name + ".safetensors"}, h.downloads)
	p.control(protocol.Resume)
	require.Equal(t, statusRunning, p.cur.Status)

	w.say(protocol.Message{ID: 4, Kind: protocol.Error, Error: "cannot pause now"})
	require.Equal(t, "cannot pause now", p.cur.Note)
	require.Equal(t, statusRunning, p.cur.Status, "a refused request leaves the run going")

	w.say(protocol.Message{ID: 0, Kind: protocol.Error, Error: "the trainer stopped with an error"})
	require.Equal(t, statusFailed, p.cur.Status)
	require.Equal(t, "the trainer stopped with an error", p.cur.Err)
}

// TestPretrainStateSavesBases: the compare view's request for the model goes to the worker and
// its answer comes back to it; a request the worker can no longer answer (another run replaced
// the model, the worker died, the view closed) is answered with why.
func TestPretrainStateSavesBases(t *testing.T) {
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.startForm(EN)
	w := h.worker(t, 0)
	w.say(finishRun(1, "cpu:0123456789ab")...)
	save := h.lastPublished().save

	type answer struct {
		data []byte
		err  error
	}
	var got []answer
	done := func(data []byte, err error) { got = append(got, answer{data, err}) }
	save(done)
	req := w.last()
	require.Equal(t, protocol.Save, req.Kind)
	require.Equal(t, protocol.FormatBase, req.Format)
	w.say(protocol.Message{ID: req.ID, Kind: protocol.Saved, Format: protocol.FormatBase, Data: []byte("base")},
		protocol.Message{ID: req.ID, Kind: protocol.Done})
	require.Equal(t, []answer{{[]byte("base"), nil}}, got)
	require.Empty(t, h.downloads, "the compare view's save is not the learner's download")
	require.Equal(t, statusDone, p.cur.Status)

	save(done)
	w.say(protocol.Message{ID: w.last().ID, Kind: protocol.Error, Error: "out of memory"})
	require.EqualError(t, got[1].err, "out of memory")

	save(done)
	p.startForm(EN) // the next run replaces the model
	require.ErrorContains(t, got[2].err, "replaced the model")

	w2 := h.worker(t, 1)
	w2.say(finishRun(1, "cpu:0123456789ab")...)
	save = h.lastPublished().save
	save(done)
	w2.say(protocol.Message{ID: 0, Kind: protocol.Error, Error: "the trainer stopped with an error"})
	require.EqualError(t, got[3].err, "the trainer stopped with an error")
	require.False(t, h.lastPublished().Ready, "a dead worker's model is no base")

	save(done)
	p.closeWorker()
	require.EqualError(t, got[4].err, "the pretraining view closed")
	require.True(t, w2.closed)
	require.Len(t, got, 5)

	p.worker = nil
	p.saveBase(done)
	require.EqualError(t, got[5].err, "the pretraining's worker is gone")
}

// TestPretrainStateReproducesOnTheCPU: a run made on another device class than its link's
// fingerprint is run again on the CPU, which the page compares with it.
func TestPretrainStateReproducesOnTheCPU(t *testing.T) {
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.form.Device = runspec.DeviceWebGPU
	p.startForm(EN)
	first := p.cur
	h.worker(t, 0).say(finishRun(1, "webgpu/swiftshader:0123456789ab")...)
	p.reproduceOnCPU(first)
	w := h.worker(t, 1)
	require.Equal(t, runspec.DeviceCPU, w.sent[0].Device)
	spec, err := runspec.Decode(w.sent[0].Code)
	require.NoError(t, err)
	require.Equal(t, runspec.DeviceCPU, spec.Device)
	require.Same(t, p.cur, p.cpuCheck)
	require.Same(t, first, p.cpuCheck.CompareTo)
	require.NotSame(t, first, p.cur)
}

// TestPretrainStateResumes: a kept run is offered on reopening (unless a run or a link came
// first), resumed from its state under its name, or discarded; a kept run whose code no longer
// decodes fails and is dropped.
func TestPretrainStateResumes(t *testing.T) {
	spec := runspec.Presets()[0].Spec
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	kept := &savedRun{Name: "heron", Code: code, Step: 20, Steps: spec.Config.Steps, State: []byte("state"),
		Points: []point{{20, 3, 3.1}}}

	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.offerKept(kept)
	require.Same(t, kept, p.offer)
	p.resumeOffered()
	require.Nil(t, p.offer)
	req := h.worker(t, 0).sent[0]
	require.Equal(t, []byte("state"), req.Resume)
	require.Nil(t, req.Base)
	require.Equal(t, "heron", p.cur.Name)
	require.Equal(t, 20, p.cur.Resumed)
	require.Equal(t, 20, p.cur.Kept)
	require.Equal(t, kept.Points, p.cur.Points)

	p.offerKept(kept)
	require.Nil(t, p.offer, "a run is on: no offer")

	h = &fakeHost{}
	p = &pretrainState{host: h, form: defaultSetup()}
	p.offerKept(kept)
	p.discardOffer()
	require.Nil(t, p.offer)
	require.Equal(t, 1, h.forgot)
	require.Empty(t, h.workers)

	h = &fakeHost{}
	p = &pretrainState{host: h, form: defaultSetup()}
	p.offerKept(&savedRun{Name: "heron", Code: "1damaged"})
	p.resumeOffered()
	require.Equal(t, 1, h.forgot)
	require.Equal(t, statusFailed, p.cur.Status)
	require.Empty(t, h.workers)
}

// TestPretrainStateOpensLinks: a pretraining link sets the page's language and form and runs;
// one whose sample text changed waits for the learner, then runs anyway.
func TestPretrainStateOpensLinks(t *testing.T) {
	spec := runspec.Presets()[0].Spec
	spec.Lang = string(ZH)
	spec.Config.Seed = 7
	code, err := runspec.Encode(spec)
	require.NoError(t, err)

	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.openLink("r=" + code)
	require.NoError(t, p.linkErr)
	require.Equal(t, []Lang{ZH}, h.langs)
	require.EqualValues(t, 7, p.form.Cfg.Seed)
	got, err := runspec.Decode(h.worker(t, 0).sent[0].Code)
	require.NoError(t, err)
	require.Equal(t, spec.Config, got.Config)

	p = &pretrainState{host: &fakeHost{}, form: defaultSetup()}
	p.link = &spec
	p.linkErr = runspec.ErrCorpusChanged
	p.runAnyway()
	require.NoError(t, p.linkErr)
	require.NotNil(t, p.cur)
}

// TestPretrainStateForm: a refused field value says why until a good one replaces it; a file
// that is no model is refused with its reason, and the next run starts fresh.
func TestPretrainStateForm(t *testing.T) {
	p := &pretrainState{host: &fakeHost{}, form: defaultSetup()}
	p.setField(EN, "lr", "fast")
	require.Contains(t, p.errs, "lr")
	p.setField(EN, "lr", "0.01")
	require.NotContains(t, p.errs, "lr")
	require.InDelta(t, 0.01, p.form.Cfg.LR, 1e-9)

	p.setMaskRate(EN, "2")
	require.Contains(t, p.errs, "mask_rate")
	p.setMaskRate(EN, "0.25")
	require.NotContains(t, p.errs, "mask_rate")

	p.loadModel("notes.txt", []byte("not a model"))
	require.Error(t, p.baseErr)
	require.Nil(t, p.base)
	require.Equal(t, "notes.txt", p.baseName)
	p.forgetModel()
	require.Empty(t, p.baseName)
}

// TestPretrainStateInspects: the inspect button asks the current worker about the text.
func TestPretrainStateInspects(t *testing.T) {
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.startForm(EN)
	w := h.worker(t, 0)
	require.False(t, p.canInspect(), "no evaluation yet: no model to look at")
	w.say(finishRun(1, "cpu:0123456789ab")[:2]...)
	require.True(t, p.canInspect())
	p.insp.Prompt, p.insp.Err = "The q", "old"
	p.inspect()
	require.Equal(t, protocol.Request{ID: 2, Kind: protocol.Inspect, Prompt: "The q"}, w.last())
	require.Equal(t, 2, p.insp.ReqID)
	require.Empty(t, p.insp.Err)
	w.say(protocol.Message{ID: 2, Kind: protocol.Error, Error: "no model yet"})
	require.Zero(t, p.insp.ReqID)
	require.Equal(t, "no model yet", p.insp.Err)
	require.Equal(t, statusRunning, p.cur.Status, "an inspection's refusal is not the run's")
}

// TestPretrainStateShardsAndWorkers: a size picked in the form is a new run with the default
// shard count (4 for a batch of 8), written into its link (version 6); its start asks for the
// learner's workers (one per core by default, capped), which the link never carries; one shard
// is the unsharded run, with no workers asked for; more shards than sequences are refused.
func TestPretrainStateShardsAndWorkers(t *testing.T) {
	defer func(n int) { cores = n }(cores)
	cores = 12
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	require.Equal(t, 0, p.form.Cfg.Shards, "the preset the form opens with keeps its link")
	require.NoError(t, p.form.SetSize("small"))
	require.Equal(t, 4, p.form.Cfg.Shards)
	spec, err := p.form.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.VersionShards, spec.Version)
	p.startForm(EN)
	start := h.worker(t, 0).last()
	got, err := runspec.Decode(start.Code)
	require.NoError(t, err)
	require.Equal(t, 4, got.Config.Shards)
	require.Equal(t, maxDefaultWorkers, start.Workers, "12 cores: capped")

	p = &pretrainState{host: h, form: defaultSetup()}
	p.form.Workers = 3
	require.NoError(t, p.form.SetField("shards", "2"))
	p.startForm(EN)
	require.Equal(t, 3, h.worker(t, 1).last().Workers)

	p = &pretrainState{host: h, form: defaultSetup()}
	require.NoError(t, p.form.SetSize("small"))
	require.NoError(t, p.form.SetField("shards", "1"))
	require.Equal(t, 0, p.form.Cfg.Shards, "one shard is written as none")
	spec, err = p.form.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.Version, spec.Version)
	p.startForm(EN)
	require.Zero(t, h.worker(t, 2).last().Workers)

	require.NoError(t, p.form.SetField("shards", "9"))
	var fe *fieldError
	require.ErrorAs(t, p.form.Check(), &fe)
	require.Equal(t, "shards", fe.Code)
}
