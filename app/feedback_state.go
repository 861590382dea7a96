package app

import (
	"errors"
	"strings"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// The model a feedback stage improves (the SFT model) comes from one of these starts.
const (
	startKept  = "kept"  // the kept SFT model of the page's language (web/base/<lang>-sft.ckpt)
	startTuned = "tuned" // a method the compare view just fine-tuned (full fine-tuning)
	startFile  = "file"  // a checkpoint file the learner has, taken as it is
	startLink  = "link"  // a #r= link's feedback stage
)

// startChoice is the learner's start, as IndexedDB keeps it with the picks.
type startChoice struct {
	Kind   string `json:"kind"`
	Method string `json:"method,omitempty"` // startTuned: the comparison method's label
	File   string `json:"file,omitempty"`   // startFile: the file's name (its bytes are not kept)
}

// savedFeedback is what the page keeps of the feedback view in IndexedDB (key "feedback"): the
// picks and the start, and the next sampling seed so that going on brings new offers.
type savedFeedback struct {
	Picks []pick      `json:"picks"`
	Start startChoice `json:"start"`
	Seed  uint64      `json:"seed"`
}

// feedbackHost is what the feedback state asks of the page around it. Feedback implements it
// with Web Workers, fetch, IndexedDB and go-app's dispatch; the tests with a recorder. It is
// also the tuning's host (tuningHost), so the methods' workers start the same way.
type feedbackHost interface {
	// startWorker starts a trainer whose messages go to handle, one at a time, on the UI
	// goroutine.
	startWorker(handle func(protocol.Message)) worker
	// fetchBase gets web/base/<name>.ckpt and hands it to done on the UI goroutine.
	fetchBase(name string, done func(data []byte, err error))
	dispatch(fn func())
	setLang(l Lang)
	// keepFeedback stores the picks and the start (IndexedDB), replacing what was kept.
	keepFeedback(s savedFeedback)
	download(data []byte, name string)
}

// sftModel is the picker worker's SFT model: which feedback spec it is, where it came from, its
// training if it trains here, and its bytes once saved (the methods' workers start from them).
type sftModel struct {
	Spec   runspec.Spec // the feedback stage it is the SFT model of
	AsSFT  bool         // a learner's file, taken as it is
	Note   string       // i18n key: where the model came from
	Status string       // statusStarting (getting a file), statusRunning, statusDone, statusStopped, statusFailed
	ErrKey string       // i18n key: what failed
	Err    string       // the worker's reason, in English (shown as data)
	Code   string       // the worker's error kind, when it has one
	Device string
	Step   int
	Steps  int
	Points []point
	Result *job.Event // the SFT model's figures (fingerprint, task accuracy)
	Data   []byte     // the SFT model's file (save in protocol.FormatSFT)
}

// Active says whether the SFT model is still being made.
func (s *sftModel) Active() bool { return s.Status == statusStarting || s.Status == statusRunning }

// Ready says the SFT model is in the picker worker and its bytes are here.
func (s *sftModel) Ready() bool { return s != nil && s.Status == statusDone }

func (s *sftModel) fail(key, detail, code string) {
	s.Status, s.ErrKey, s.Err, s.Code = statusFailed, key, detail, code
}

// queued is a request waiting for the picker worker: it answers one request at a time (a
// feedback request holds its model), so the page sends the next when the last is over.
type queued struct {
	req protocol.Request
	// handle gets each of the request's messages; it says whether the request is over (Done
	// and Error always end it).
	handle func(protocol.Message) bool
}

// Errors the stage's spec may have before any worker sees it.
var errTooFewPicks = errors.New("too few picks")

// feedbackState is what the feedback view knows and what happens to it: the start, the picker
// worker with the SFT model, the picks, the reward model, the methods' run and a link. Plain Go
// that touches the browser only through host, so it is tested without one; Feedback
// (feedback_view.go) draws it.
type feedbackState struct {
	host feedbackHost

	choice startChoice
	// device is where the stage trains (runspec.DeviceAuto, DeviceCPU or DeviceWebGPU): the
	// picker worker and every method's worker open it; a link brings its own.
	device  string
	file    []byte // startFile's bytes, checked when chosen
	fileErr error  // why the file cannot be a model (core/checkpoint's refusal)
	tuned   tunedModel

	sft       *sftModel
	picks     picks
	seed      uint64 // the next sample_pairs seed
	refilling bool   // a sample_pairs for more offers is asked
	tasteBusy bool   // the taste's picks are asked
	offerErr  string // why the worker gave no offers (English, as data)
	importErr error
	imported  int // how many picks the last import added

	reward *rewardModel
	// rewardSteps is the reward model's training steps as the learner set them (0: the
	// stage's default, feedback.Config.RewardSteps); errs keeps a refused value's reason.
	rewardSteps int
	errs        fieldErrs
	stage       runspec.Spec // the spec the reward model trained with (the share link's)
	setup       tuningSetup
	tuning      *tuning
	// tuningSpec is what the methods run (the stage spec with their methods).
	tuningSpec runspec.Spec

	offer *savedFeedback // last time's picks, offered until the learner answers

	link       *runspec.Spec
	linkErr    error
	linkCode   string
	linkCLI    bool // a taste-only link: the command line's, which the page does not run
	linkEdited bool // the learner changed the link's picks: it no longer reproduces the link
	share      shareLink

	w         worker // the picker worker
	queue     []queued
	cur       int
	curHandle func(protocol.Message) bool

	// auto is the guided path's run of the whole stage (feedback_path.go), nil when none.
	auto *feedbackAuto

	// class is class mode (class_*.go): the teacher's panel, or a student's page whose picks
	// go to the class's server.
	class classState
}

// keptFeedbackSpec is the feedback preset of a language (its kept SFT model, task and taste).
func keptFeedbackSpec(l Lang) runspec.Spec {
	p, err := runspec.PresetByName(string(l) + "-feedback")
	if err != nil {
		panic(err) // a built-in preset for each language of the page
	}
	return p.Spec
}

// feedbackFromComparison is the feedback stage that improves a comparison's method: its spec
// with that one method, the lesson's defaults on its language's taste. It fails when runspec
// refuses it (a method that is neither full nor LoRA fine-tuning, a classify task, a corpus
// without a taste).
func feedbackFromComparison(cmp runspec.Spec, label string) (runspec.Spec, error) {
	i := -1
	for j, m := range cmp.Methods {
		if m.Label() == label {
			i = j
		}
	}
	if i < 0 {
		return runspec.Spec{}, errors.New("the comparison has no method " + label)
	}
	spec := cmp
	spec.Methods = []compare.Method{cmp.Methods[i]}
	spec.Fingerprint, spec.Fingerprints, spec.Prefs = "", nil, nil
	c, err := spec.Resolve()
	if err != nil {
		return runspec.Spec{}, err
	}
	fb := feedback.DefaultConfig(feedback.DefaultTaste(c.Lang))
	spec.Feedback = &fb
	if _, err := runspec.Encode(spec); err != nil {
		return runspec.Spec{}, err
	}
	return spec, nil
}

// tasteOf is the taste whose prompts the picker samples: the spec's, else its language's.
func tasteOf(spec runspec.Spec) string {
	if spec.Feedback != nil && spec.Feedback.Taste != "" {
		return spec.Feedback.Taste
	}
	lang := "en"
	if c, err := spec.Resolve(); err == nil && c.Lang != "" {
		lang = c.Lang
	}
	return feedback.DefaultTaste(lang)
}

// samplingSpec is the stage as the picker worker's open_sft and sample_pairs read it: its SFT
// model and a taste's prompts. A stage with a learner's picks has no taste, so its language's
// gives the prompts (the picks travel with train_reward).
func samplingSpec(spec runspec.Spec) runspec.Spec {
	fb := *spec.Feedback
	fb.Taste = tasteOf(spec)
	spec.Feedback, spec.Prefs = &fb, nil
	return spec
}

// keptSFTName is the kept SFT model (web/base/<name>.ckpt) that may be spec's, or "".
func keptSFTName(spec runspec.Spec) string {
	for _, p := range runspec.SFTPresets() {
		if runspec.SameSFT(p.Spec, spec) {
			return strings.TrimSuffix(runspec.SFTFile(p), ".ckpt")
		}
	}
	return ""
}

// isCheckpointOf says whether data is a checkpoint that is says is the one wanted.
func isCheckpointOf(data []byte, is func(*checkpoint.Checkpoint) bool) bool {
	ck, err := loadCheckpoint(data)
	if err != nil {
		return false
	}
	defer ck.Model.Free()
	return is(ck)
}

// choose sets the start (not while the picker works).
func (f *feedbackState) choose(c startChoice) {
	if f.busy() {
		return
	}
	f.choice = c
	f.persist()
}

// chooseFile takes a learner's checkpoint as the start: it must load; what model it is, the
// worker sees (it is taken as it is).
func (f *feedbackState) chooseFile(name string, data []byte) {
	if f.busy() {
		return
	}
	f.file, f.fileErr = nil, nil
	ck, err := loadCheckpoint(data)
	if err != nil {
		f.fileErr = err
		return
	}
	ck.Model.Free()
	f.file = data
	f.choose(startChoice{Kind: startFile, File: name})
}

// canOpen says whether the chosen start can be opened now.
func (f *feedbackState) canOpen(l Lang) bool {
	switch f.choice.Kind {
	case startFile:
		return f.file != nil
	case startTuned:
		_, err := f.tunedSpec()
		return err == nil
	case startLink:
		return f.link != nil && !f.linkCLI && f.linkErr == nil
	}
	return true
}

// tunedSpec is the feedback stage of the compare view's method the learner chose.
func (f *feedbackState) tunedSpec() (runspec.Spec, error) {
	if !f.tuned.Ready || f.tuned.base == nil {
		return runspec.Spec{}, errors.New("no comparison finished")
	}
	for _, m := range f.tuned.Methods {
		if m == f.choice.Method {
			return feedbackFromComparison(f.tuned.Spec, m)
		}
	}
	return runspec.Spec{}, errors.New("the comparison has no finished method " + f.choice.Method)
}

// open starts the chosen start's SFT model in a fresh picker worker (the open button). The
// picks stay: they are texts, and any reward model learns from them.
func (f *feedbackState) open(l Lang) {
	if !f.canOpen(l) {
		return
	}
	switch f.choice.Kind {
	case startKept:
		f.findSFT(keptFeedbackSpec(l))
	case startTuned:
		spec, _ := f.tunedSpec()
		f.reset(spec)
		f.openSFT(f.sft, f.tuned.base(), false, "fb.sft.note.tuned")
	case startFile:
		f.reset(keptFeedbackSpec(l))
		f.openSFT(f.sft, f.file, true, "fb.sft.note.file")
	case startLink:
		f.findSFT(*f.link)
	}
}

// deviceShown is the device the start panel shows: the learner's choice, or a link's.
func (f *feedbackState) deviceShown() string {
	d := f.device
	if f.choice.Kind == startLink && f.link != nil {
		d = f.link.Device
	}
	if d == "" {
		return runspec.DeviceAuto
	}
	return d
}

// reset ends what ran and begins a new SFT model for spec.
func (f *feedbackState) reset(spec runspec.Spec) {
	f.closePicker()
	if f.tuning != nil {
		f.tuning.stop()
		f.tuning = nil
	}
	if f.choice.Kind != startLink && f.device != "" {
		spec.Device = f.device
	}
	f.sft = &sftModel{Spec: spec, Status: statusStarting}
	f.reward, f.share = nil, shareLink{}
	f.picks.Offers, f.picks.undo = nil, nil // offers of another model
	f.offerErr = ""
}

// findSFT gets spec's SFT model the cheapest way: the kept SFT model when it is spec's
// (job.IsSFTOf), else the kept base trained to SFT in the worker, else the worker pretrains
// first.
func (f *feedbackState) findSFT(spec runspec.Spec) {
	f.reset(spec)
	s := f.sft
	name := keptSFTName(spec)
	if name == "" {
		f.fromBase(s)
		return
	}
	f.host.fetchBase(name, func(data []byte, err error) {
		if s != f.sft || !s.Active() {
			return
		}
		if err == nil && isCheckpointOf(data, func(ck *checkpoint.Checkpoint) bool { return job.IsSFTOf(ck, spec) }) {
			f.openSFT(s, data, false, "fb.sft.note.kept")
			return
		}
		f.fromBase(s)
	})
}

// fromBase trains spec's SFT model in the worker from the kept base, or from nothing.
func (f *feedbackState) fromBase(s *sftModel) {
	name := builtinBaseOf(s.Spec)
	if name == "" {
		f.openSFT(s, nil, false, "fb.sft.note.pretrain")
		return
	}
	f.host.fetchBase(name, func(data []byte, err error) {
		if s != f.sft || !s.Active() {
			return
		}
		if err == nil && isCheckpointOf(data, func(ck *checkpoint.Checkpoint) bool { return job.IsBaseOf(ck, s.Spec) }) {
			f.openSFT(s, data, false, "fb.sft.note.base")
			return
		}
		f.openSFT(s, nil, false, "fb.sft.note.pretrain")
	})
}

// openSFT starts the picker worker with the SFT model: open_sft, then the model's bytes.
func (f *feedbackState) openSFT(s *sftModel, base []byte, asSFT bool, note string) {
	s.Note, s.AsSFT = note, asSFT
	code, err := runspec.Encode(samplingSpec(s.Spec))
	if err != nil {
		s.fail("fb.err.spec", err.Error(), "")
		return
	}
	f.closePicker()
	var w worker
	w = f.host.startWorker(func(m protocol.Message) { f.onPicker(w, m) })
	f.w = w
	s.Status = statusRunning
	f.ask(protocol.Request{Kind: protocol.OpenSFT, Code: code, Base: base, AsSFT: asSFT, Device: s.Spec.Device}, func(m protocol.Message) bool {
		return f.onOpenSFT(s, m)
	})
}

func (f *feedbackState) onOpenSFT(s *sftModel, m protocol.Message) bool {
	if s != f.sft || !s.Active() {
		return true
	}
	switch m.Kind {
	case protocol.Device:
		if m.Device != nil {
			s.Device = m.Device.Name
		}
	case protocol.Eval:
		if e := m.Event; e != nil && e.Method == feedback.SFT {
			s.Points = append(keepUpTo(s.Points, e.Step-1), point{Step: e.Step, Train: e.TrainLoss, Val: e.ValLoss})
			s.Step, s.Steps = e.Step, e.Steps
		}
	case protocol.Result:
		if e := m.Event; e != nil && e.Method == feedback.SFT {
			ev := *e
			s.Result = &ev
		}
	case protocol.Done:
		// The model's bytes for the methods' workers, which start from them.
		f.ask(protocol.Request{Kind: protocol.Save, Format: protocol.FormatSFT}, func(m protocol.Message) bool {
			return f.onSaveSFT(s, m)
		})
		return true
	case protocol.Error:
		if m.Error == "stopped" {
			s.Status = statusStopped
		} else {
			s.fail("fb.err.sft", m.Error, m.Code)
		}
		return true
	}
	return false
}

func (f *feedbackState) onSaveSFT(s *sftModel, m protocol.Message) bool {
	if s != f.sft || !s.Active() {
		return true
	}
	switch m.Kind {
	case protocol.Saved:
		s.Data, s.Status = m.Data, statusDone
		f.sftReady()
		return true
	case protocol.Error:
		s.fail("fb.err.save", m.Error, m.Code)
		return true
	}
	return false
}

// sftReady goes on once the SFT model is here: a link trains its reward model at once; else
// the offers come.
func (f *feedbackState) sftReady() {
	if f.link != nil && f.choice.Kind == startLink && !f.linkEdited {
		f.trainReward()
		return
	}
	f.refill()
}

// ask sends req to the picker worker when it is free, else after what it answers now.
func (f *feedbackState) ask(req protocol.Request, handle func(protocol.Message) bool) {
	f.queue = append(f.queue, queued{req: req, handle: handle})
	f.next()
}

func (f *feedbackState) next() {
	if f.cur != 0 || len(f.queue) == 0 || f.w == nil {
		return
	}
	q := f.queue[0]
	f.queue = f.queue[1:]
	f.curHandle = q.handle
	f.cur = f.w.send(q.req)
}

// onPicker hands a picker worker's message to the request it answers.
func (f *feedbackState) onPicker(w worker, m protocol.Message) {
	if w != f.w { // a worker the page replaced
		return
	}
	if m.ID == 0 && m.Kind == protocol.Error { // the worker itself failed: every request with it
		f.pickerFailed(m)
		return
	}
	if m.ID != f.cur || f.curHandle == nil {
		return
	}
	over := f.curHandle(m)
	if over || m.Kind == protocol.Done || m.Kind == protocol.Error {
		f.cur, f.curHandle = 0, nil
		f.next()
	}
}

// pickerFailed ends whatever the picker worker was doing, saying why.
func (f *feedbackState) pickerFailed(m protocol.Message) {
	if f.curHandle != nil {
		f.curHandle(m)
	}
	for _, q := range f.queue {
		q.handle(m)
	}
	f.queue, f.cur, f.curHandle = nil, 0, nil
	if f.sft != nil && f.sft.Active() {
		f.sft.fail("fb.err.sft", m.Error, m.Code)
	}
	if f.reward != nil && f.reward.Active() {
		f.reward.Status, f.reward.Err = statusFailed, m.Error
	}
	f.refilling, f.tasteBusy = false, false
}

func (f *feedbackState) closePicker() {
	if f.w != nil {
		f.w.close()
		f.w = nil
	}
	f.queue, f.cur, f.curHandle = nil, 0, nil
	f.refilling, f.tasteBusy = false, false
}

// busy says whether the SFT model, the reward model or the methods are being made.
func (f *feedbackState) busy() bool {
	return (f.sft != nil && f.sft.Active()) || (f.reward != nil && f.reward.Active()) || (f.tuning != nil && f.tuning.Active())
}

// samplingCode is the code open_sft and sample_pairs read.
func (f *feedbackState) samplingCode() (string, error) {
	return runspec.Encode(samplingSpec(f.sft.Spec))
}

// refill asks for the next batch of offers when the queue runs low.
func (f *feedbackState) refill() {
	if !f.sft.Ready() || f.refilling || !f.picks.wantsMore() {
		return
	}
	f.askPairs(offerBatch, false, &f.refilling, f.picks.addOffers)
	f.persist() // the seed moved on
}

// fillFromTaste has the built-in taste pick tasteFill offers (simulated picks).
func (f *feedbackState) fillFromTaste() {
	// A class wants its students' own picks, not simulated ones.
	if !f.sft.Ready() || f.tasteBusy || f.classStudentMode() {
		return
	}
	f.askPairs(tasteFill, true, &f.tasteBusy, func(offers []protocol.Offer) {
		if f.picks.addTaste(offers) > 0 {
			f.changed()
		}
	})
}

// askPairs asks the picker worker for count offers (decided: only those the taste tells apart)
// with the next sampling seed, hands them to got, and keeps *busy set while it is asked.
func (f *feedbackState) askPairs(count int, decided bool, busy *bool, got func([]protocol.Offer)) {
	code, err := f.samplingCode()
	if err != nil {
		f.offerErr = err.Error()
		return
	}
	*busy, f.offerErr = true, ""
	f.seed = max(f.seed, 1)
	seed := f.classOfferSeed(f.seed)
	f.seed++
	s := f.sft
	f.ask(protocol.Request{Kind: protocol.SamplePairs, Code: code, Count: count, Decided: decided, Seed: seed}, func(m protocol.Message) bool {
		if s != f.sft {
			return true
		}
		switch m.Kind {
		case protocol.Pairs:
			got(m.Offers)
		case protocol.Error:
			f.offerErr = m.Error
		}
		if m.Kind == protocol.Done || m.Kind == protocol.Error {
			*busy = false
		}
		return false
	})
}

// key acts on a key the learner pressed while the view shows (1, 2, 0, space, Backspace); it
// says whether the key was used, so the page keeps it from scrolling or going back.
func (f *feedbackState) key(k string) bool {
	if k == "Backspace" && !f.classTakeBack() {
		return true // used: the page says why a sent pick stays
	}
	before := f.picks.nextID
	if !f.picks.key(k) {
		return false
	}
	f.classPicked(before)
	f.changed()
	f.refill()
	return true
}

// choosePick, skipPick and undoPick are the buttons' picks, as the keys'.
func (f *feedbackState) choosePick(which int) {
	before := f.picks.nextID
	if f.picks.choose(which) {
		f.classPicked(before)
		f.changed()
		f.refill()
	}
}

func (f *feedbackState) skipPick() {
	if f.picks.skip() {
		f.changed()
		f.refill()
	}
}

func (f *feedbackState) undoPick() {
	if f.classTakeBack() && f.picks.undoLast() {
		f.changed()
	}
}

func (f *feedbackState) swapPick(id int) {
	if f.picks.swap(id) {
		f.changed()
	}
}

func (f *feedbackState) removePick(id int) {
	if f.picks.remove(id) {
		f.changed()
	}
}

// exportPicks offers the picks as a JSON Lines file in TRL's preference format.
func (f *feedbackState) exportPicks() error {
	data, err := f.picks.JSONL()
	if err != nil {
		return err
	}
	f.host.download(data, "picks.jsonl")
	return nil
}

// importPicks adds a preference file's pairs as the learner's picks, or keeps why it was
// refused to show.
func (f *feedbackState) importPicks(name string, data []byte) {
	n, err := f.picks.importFile(name, data)
	f.importErr, f.imported = err, n
	if err == nil && n > 0 {
		f.changed()
	}
}

// changed records a change of the picks: kept for a reopened tab, and a link's picks edited
// no longer reproduce the link.
func (f *feedbackState) changed() {
	if f.link != nil {
		f.linkEdited = true
	}
	f.share = shareLink{}
	f.persist()
}

// persist keeps the picks and the start in IndexedDB. A link's own picks are not kept until
// the learner changes them: they would replace the learner's.
func (f *feedbackState) persist() {
	// A class's picks go to its queue (class_queue.go), not over the learner's own.
	if (f.link != nil && !f.linkEdited) || f.classStudentMode() {
		return
	}
	f.host.keepFeedback(savedFeedback{Picks: f.picks.List, Start: f.choice, Seed: f.seed})
}

// offerKept offers last time's picks (the view's mount read them), unless a link or picks
// already fill the view.
func (f *feedbackState) offerKept(s *savedFeedback) {
	if s == nil || len(s.Picks) == 0 || f.link != nil || len(f.picks.List) > 0 || f.classStudentMode() {
		return
	}
	f.offer = s
}

// goOn takes last time's picks and start back, and opens the start again. A file is not kept,
// and a comparison may be gone: those start from the kept SFT model.
func (f *feedbackState) goOn(l Lang) {
	s := f.offer
	if s == nil {
		return
	}
	f.offer = nil
	f.picks.restore(s.Picks)
	f.seed = max(s.Seed, 1)
	f.choice = s.Start
	if f.choice.Kind != startTuned || !f.canOpen(l) {
		f.choice = startChoice{Kind: startKept}
	}
	f.open(l)
}

// startOver drops last time's picks.
func (f *feedbackState) startOver() {
	f.offer = nil
	f.picks.clear()
	f.host.keepFeedback(savedFeedback{Start: f.choice})
}

// stageSpec is the feedback stage the reward model and the methods run: the SFT model's spec
// with the picks as a preference file. The built-in taste judges (gold win rate) only when it
// made every pick; else the results are the reward model's verdict. A link's own stage, picks
// unchanged, is the link's spec as it came, so it reproduces exactly.
func (f *feedbackState) stageSpec() (runspec.Spec, error) {
	if f.link != nil && !f.linkEdited && f.choice.Kind == startLink {
		return *f.link, nil
	}
	if f.sft == nil {
		return runspec.Spec{}, errors.New("no SFT model")
	}
	if len(f.picks.List) < minPicks {
		return runspec.Spec{}, errTooFewPicks
	}
	spec := f.sft.Spec
	fb := *spec.Feedback
	if f.rewardSteps > 0 {
		fb.RewardSteps = f.rewardSteps
	}
	fb.Taste = ""
	if f.picks.AllTaste() {
		fb.Taste = tasteOf(spec)
	}
	data, err := f.picks.JSONL()
	if err != nil {
		return runspec.Spec{}, err
	}
	ref, err := runspec.UserPrefsRef("picks.jsonl", string(data))
	if err != nil {
		return runspec.Spec{}, err
	}
	spec.Feedback, spec.Prefs, spec.Fingerprint, spec.Fingerprints = &fb, ref, "", nil
	return spec, nil
}

// setRewardSteps takes the reward model's steps as typed (feedback.Config.Validate's range).
func (f *feedbackState) setRewardSteps(text string) error {
	n, err := parseNumber("reward_steps", text, 1, feedback.MaxSteps, true)
	if err == nil {
		f.rewardSteps = int(n)
	}
	return err
}

// rewardStepsShown is the reward model's steps as the form shows them, and their default.
func (f *feedbackState) rewardStepsShown() (value, def int) {
	def = feedback.DefaultConfig("").RewardSteps
	if f.sft != nil && f.sft.Spec.Feedback != nil {
		def = f.sft.Spec.Feedback.RewardSteps
	}
	if f.rewardSteps > 0 {
		return f.rewardSteps, def
	}
	return def, def
}

// rewardErr is why the reward model cannot train on the picks now, if it cannot.
func (f *feedbackState) rewardErr() error {
	_, err := f.stageSpec()
	return err
}

// trainReward trains the reward model on the picks in the picker worker.
func (f *feedbackState) trainReward() {
	if !f.sft.Ready() || (f.reward != nil && f.reward.Active()) {
		return
	}
	spec, err := f.stageSpec()
	if err != nil {
		return
	}
	code, err := runspec.Encode(spec)
	if err != nil {
		f.reward = &rewardModel{Status: statusFailed, Err: err.Error()}
		return
	}
	if f.tuning != nil {
		f.tuning.stop()
		f.tuning = nil
	}
	pairs, err := spec.Prefs.Resolve()
	if err != nil { // Encode resolved them
		pairs = nil
	}
	r := newRewardModel(pairs, spec.Feedback.Taste != "")
	f.reward, f.stage, f.share = r, spec, shareLink{}
	f.ask(protocol.Request{Kind: protocol.TrainReward, Code: code}, func(m protocol.Message) bool {
		if r != f.reward {
			return true
		}
		over := r.apply(m)
		if over && r.Status == statusDone {
			f.rewardReady()
		}
		return over
	})
}

// rewardReady goes on once the reward model trained: a link runs its methods at once.
func (f *feedbackState) rewardReady() {
	if f.link != nil && f.choice.Kind == startLink && !f.linkEdited {
		f.runMethods()
	}
}

// stopReward stops the reward model's training.
func (f *feedbackState) stopReward() {
	r := f.reward
	if r == nil || !r.Active() {
		return
	}
	if f.w != nil {
		f.w.send(protocol.Request{Kind: protocol.Stop}) // the worker answers the training with "stopped"
	}
	r.stopped()
}

// score asks the reward model for the score of an answer the learner typed.
func (f *feedbackState) score(prompt, text string) {
	r := f.reward
	if r == nil || r.Status != statusDone || r.Query.Busy || prompt == "" || text == "" {
		return
	}
	r.Query = scoreQuery{Prompt: prompt, Text: text, Busy: true}
	f.ask(protocol.Request{Kind: protocol.Score, Prompt: prompt, Text: text}, func(m protocol.Message) bool {
		if r != f.reward {
			return true
		}
		return r.applyScore(m)
	})
}

// runMethods runs the tuning's methods against the reward model: a link's as it carries them,
// else the form's, each in a worker of its own from the SFT model's bytes.
func (f *feedbackState) runMethods() error {
	if f.reward == nil || f.reward.Status != statusDone || !f.sft.Ready() {
		return errors.New("no reward model")
	}
	spec := f.stage
	if !(f.link != nil && f.choice.Kind == startLink && !f.linkEdited) {
		cfg, err := f.setup.Config(*spec.Feedback)
		if err != nil {
			return err
		}
		spec.Feedback = &cfg
	}
	if f.tuning != nil {
		f.tuning.stop()
	}
	f.tuningSpec, f.share = spec, shareLink{}
	f.tuning = startTuning(f.host, spec, f.sft.Data, f.sft.AsSFT)
	return nil
}

// shareSpec is the stage as a link carries it: the picks, every method and the fingerprints of
// what finished. A learner's file cannot travel in a link (ok is false).
func (f *feedbackState) shareSpec(l Lang) (spec runspec.Spec, ok bool) {
	if f.choice.Kind == startFile || f.reward == nil || f.reward.Status != statusDone {
		return runspec.Spec{}, false
	}
	spec = f.stage
	if f.tuning != nil {
		spec = f.tuningSpec
	} else if cfg, err := f.setup.Config(*spec.Feedback); err == nil {
		spec.Feedback = &cfg
	}
	spec.Lang = string(l)
	fps := map[string]string{}
	if e := f.sft.Result; e != nil && e.Fingerprint != "" {
		fps[feedback.SFT] = e.Fingerprint
	}
	if e := f.reward.Result; e != nil && e.Fingerprint != "" {
		fps[feedback.RewardModel] = e.Fingerprint
	}
	if f.tuning != nil {
		for k, v := range f.tuning.Fingerprints() {
			fps[k] = v
		}
	}
	spec.Fingerprints = nil
	if len(fps) > 0 {
		spec.Fingerprints = fps
	}
	return spec, true
}

// openLink opens a #r= link's feedback stage: its picks, its methods, then the SFT model, the
// reward model and the methods run one after another. A link the command line made (the taste
// labels its own pairs) is not run here: the page says how to run it.
func (f *feedbackState) openLink(frag string) {
	f.linkCode = frag
	code, _, _ := linkFragment(frag) // a feedback stage waits for its SFT model either way
	spec, err := runspec.Decode(code)
	if !spec.Feeds() {
		return
	}
	f.stop()
	f.link, f.linkErr, f.linkCLI, f.linkEdited = &spec, err, false, false
	f.offer, f.choice = nil, startChoice{Kind: startLink}
	if lang := linkLang(frag, spec.Lang); lang != "" { // a teacher's lang= first
		f.host.setLang(lang)
	}
	if err != nil {
		return
	}
	if spec.Prefs == nil {
		f.linkCLI = true
		return
	}
	pairs, err := spec.Prefs.Resolve()
	if err != nil { // Decode resolved them
		f.linkErr = err
		return
	}
	f.picks.setPairs(pairs, spec.Feedback.Taste != "")
	f.setup = setupFromConfig(*spec.Feedback)
	f.findSFT(spec)
}

// stop ends the picker worker and the methods' workers.
func (f *feedbackState) stop() {
	f.closePicker()
	if f.sft != nil && f.sft.Active() {
		f.sft.Status = statusStopped
	}
	if f.reward != nil {
		f.reward.stopped()
	}
	if f.tuning != nil {
		f.tuning.stop()
	}
}
