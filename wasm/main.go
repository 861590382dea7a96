//go:build js && wasm

// Command wasm is pretune's trainer, compiled to web/trainer.wasm and started in a Web Worker by
// web/worker.js. It answers the page's requests (core/protocol): start, pause, resume and stop a
// run; save and inspect its model, or a comparison's LoRA adapter; load an adapter file onto a
// base; run the device conformance suite; benchmark. Training in a worker never freezes the page.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"pretune/core"
	"pretune/core/bench"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/conformance"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
	"pretune/webgpu"
)

func main() {
	w := &worker{}
	js.Global().Set("pretuneRequest", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		data := args[0].String()
		go w.handle([]byte(data)) // never block inside a JS callback
		return nil
	}))
	post(protocol.Message{Kind: protocol.Ready})
	select {}
}

// post sends one message to the page.
func post(m protocol.Message) {
	js.Global().Call("postMessage", m.Encode())
}

// worker holds the run in progress, if any: one per worker (the page starts one worker per
// method it compares).
type worker struct {
	mu      sync.Mutex
	runID   int
	cancel  context.CancelFunc
	paused  bool
	resumed chan struct{}
	// last is the trainer of the run in progress (from its first evaluation) or of the last
	// finished one: save writes its model, inspect looks inside it.
	last *core.Trainer
	// model is held by whatever uses the model: the run goroutine while it steps (it lets go
	// only between steps, in BetweenSteps, and so while paused), save and inspect while they
	// read it. An inspection runs forward passes on the same model and activations a step
	// uses, and a GPU readback yields to the event loop mid-step, so without it a request could
	// run inside a step; with it, it waits for the step's end.
	model sync.Mutex
	// finished and finishedSpec are the last run, once it finished with a model trained from a
	// fresh one: save in FormatBase writes it with its spec and fingerprint (job.SaveBase).
	finished     *job.Result
	finishedSpec runspec.Spec
	// noModel says the last run was a comparison from a base: each method's model is dropped
	// once measured, so there is nothing to save.
	noModel bool
	// compared is the last finished comparison's results: save in FormatAdapter takes a LoRA
	// method's adapter file from them (it travels in no event).
	compared []compare.Result
}

func (w *worker) handle(data []byte) {
	req, err := protocol.ParseRequest(data)
	if err != nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
		return
	}
	switch req.Kind {
	case protocol.Start:
		w.start(req)
	case protocol.Pause, protocol.Resume, protocol.Stop:
		w.control(req)
	case protocol.Conformance:
		w.conformance(req)
	case protocol.Bench:
		w.bench(req)
	case protocol.Save:
		w.save(req)
	case protocol.Inspect:
		w.inspect(req)
	case protocol.LoadAdapter:
		w.loadAdapter(req)
	}
}

// open picks the request's device and tells the page which one it got.
func open(req protocol.Request) (ops.Device, bool) {
	dev, fallback, err := webgpu.Select(req.Device)
	if err != nil {
		if req.Device == "webgpu" {
			// Asked for WebGPU explicitly and it is missing: continue on the CPU and say so.
			dev, fallback = ops.NewCPU(), "WebGPU is not available here: "+err.Error()
		} else {
			post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
			return nil, false
		}
	}
	info := &protocol.DeviceInfo{Name: dev.Name(), Fallback: fallback}
	if g, ok := dev.(*webgpu.Device); ok {
		info.MaxBufferMiB = g.MaxBufferElements() * 4 >> 20
		info.WorkgroupKiB = int(g.Info().Limits.MaxComputeWorkgroupStorageSize >> 10)
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Device, Device: info})
	return dev, true
}

func (w *worker) start(req protocol.Request) {
	spec, err := runspec.Decode(req.Code)
	if err != nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
		return
	}
	w.mu.Lock()
	if w.cancel != nil {
		w.mu.Unlock()
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: fmt.Sprintf("a run (request %d) is already in progress in this worker", w.runID)})
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.runID, w.cancel, w.paused = req.ID, cancel, false
	w.finished, w.noModel, w.compared = nil, false, nil
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.cancel = nil
		w.mu.Unlock()
		cancel()
	}()

	dev, ok := open(req)
	if !ok {
		return
	}
	var base *checkpoint.Checkpoint
	if len(req.Base) > 0 {
		if base, err = loadBase(req.Base, dev); err != nil {
			post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
			return
		}
	}
	var resume *job.Resume
	if len(req.Resume) > 0 {
		if resume, err = job.UnmarshalResume(req.Resume); err != nil {
			post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
			return
		}
	}
	var onSnapshot func(*job.Resume)
	if req.Snapshots {
		onSnapshot = func(r *job.Resume) {
			if data, err := r.Bytes(); err == nil {
				post(protocol.Message{ID: req.ID, Kind: protocol.Snapshot, Step: r.Snapshot.Step, Data: data})
			}
		}
	}
	prompt := req.Prompt
	if prompt == "" {
		prompt = samplePrompt(spec)
	}
	lastYield := time.Now()
	w.model.Lock()
	res, err := job.Run(ctx, spec, dev, job.Options{
		Base:          base,
		Resume:        resume,
		OnSnapshot:    onSnapshot,
		FallbackToCPU: true, // a lost GPU: go on on the CPU from the last evaluation, and say so
		AfterEval: func(tr *core.Trainer) {
			w.mu.Lock()
			w.last = tr
			w.mu.Unlock()
			if tr.Masked() != nil {
				// A masked-LM model cannot write: show it filling blanks in the held-out text.
				blanked, filled, err := core.FillBlanks(tr.Model, tr.Tok, maskedProbeText(spec, prompt), 5)
				if err != nil {
					blanked, filled = "("+err.Error()+")", ""
				}
				post(protocol.Message{ID: req.ID, Kind: protocol.Sample, Step: tr.StepsDone(), Text: blanked, Filled: filled})
				return
			}
			toks, err := tr.Model.GenerateTokens(tr.Tok, prompt, core.SampleOptions{Tokens: 80, Temperature: 0.8, TopK: 10, Seed: spec.Config.Seed})
			text := prompt
			if err != nil {
				text += "(" + err.Error() + ")"
			}
			for _, t := range toks {
				text += t.Token
			}
			post(protocol.Message{ID: req.ID, Kind: protocol.Sample, Step: tr.StepsDone(), Text: text, Tokens: toks})
		},
		OnEvent: func(e job.Event) {
			kind := protocol.Eval
			if e.Event == "result" {
				kind = protocol.Result
			}
			post(protocol.Message{ID: req.ID, Kind: kind, Event: &e})
		},
		BetweenSteps: func() {
			// The model is free between steps: an inspection or a save waiting for it runs
			// while this goroutine pauses or yields, and the next step waits for it to end.
			w.model.Unlock()
			defer w.model.Lock()
			w.waitWhilePaused()
			// Go in the browser has no preemption: sleeping lets the worker's event loop deliver
			// pause, stop and inspect requests. Every 50 ms of training, not every step, to keep
			// it cheap.
			if time.Since(lastYield) > 50*time.Millisecond {
				time.Sleep(time.Millisecond)
				lastYield = time.Now()
			}
		},
	})
	w.model.Unlock()
	if err != nil {
		msg := err.Error()
		if errors.Is(err, context.Canceled) {
			msg = "stopped"
		}
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: msg})
		return
	}
	w.mu.Lock()
	w.last = res.Trainer
	// A run from a loaded model is not the pretraining its spec describes: it is no base.
	if res.Trainer != nil && base == nil {
		w.finished, w.finishedSpec = res, spec
	}
	w.noModel = res.Trainer == nil
	w.compared = res.Compare
	w.mu.Unlock()
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

// loadBase reads a checkpoint in either format (told apart by its first bytes) onto dev.
func loadBase(data []byte, dev ops.Device) (*checkpoint.Checkpoint, error) {
	if !bytes.HasPrefix(data, []byte(checkpoint.Magic)) && len(data) > 8 && data[8] == '{' {
		return checkpoint.ImportSafetensors(bytes.NewReader(data), dev)
	}
	return checkpoint.Load(bytes.NewReader(data), dev)
}

// samplePrompt starts samples with the first few characters of the held-out text, so they are
// in the corpus's language and show what comes next in text the model never trained on.
func samplePrompt(spec runspec.Spec) string {
	c, err := spec.Resolve()
	if err != nil {
		return ""
	}
	r := []rune(strings.TrimSpace(c.Val))
	return string(r[:min(len(r), 4)])
}

// maskedProbeText is the text a masked-LM run fills blanks in: the learner's prompt when it is
// long enough to hold a few blanks, else the start of the held-out text.
func maskedProbeText(spec runspec.Spec, prompt string) string {
	if len([]rune(prompt)) >= 20 {
		return prompt
	}
	c, err := spec.Resolve()
	if err != nil {
		return prompt
	}
	return strings.TrimSpace(c.Val)
}

// save answers with the model of the run in progress (paused) or of the last finished run, or
// with a LoRA method's adapter from the last finished comparison.
func (w *worker) save(req protocol.Request) {
	if req.Format == protocol.FormatAdapter {
		w.saveAdapter(req)
		return
	}
	// Paused, the run goroutine has let go of the model; holding it keeps a resume from
	// stepping while the checkpoint is read.
	w.model.Lock()
	defer w.model.Unlock()
	w.mu.Lock()
	tr, running := w.last, w.cancel != nil && !w.paused
	finished, finishedSpec, noModel := w.finished, w.finishedSpec, w.noModel
	w.mu.Unlock()
	switch {
	case running:
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: "pause the run before saving its model"})
		return
	case noModel:
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: "a comparison from a base keeps no model to save: each method's model is dropped once it is measured"})
		return
	case req.Format == protocol.FormatBase && finished == nil:
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: "no run of this worker can be saved as a base: a base is the model of a pretraining from a fresh model that trained to its last step"})
		return
	case tr == nil:
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: "no model to save yet: it exists from the run's first evaluation"})
		return
	}
	var buf bytes.Buffer
	var err error
	format := req.Format
	switch format {
	case protocol.FormatBase:
		err = job.SaveBase(&buf, finishedSpec, finished)
	case protocol.FormatSafetensors:
		err = checkpoint.ExportSafetensors(&buf, tr.Model, tr.Tok)
	default:
		format = protocol.FormatPretune
		err = checkpoint.Save(&buf, tr.Model, tr.Tok, tr.Opt)
	}
	if err != nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
		return
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Saved, Format: format, Data: buf.Bytes()})
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

// saveAdapter answers with the adapter file of the last finished comparison's LoRA method: it
// needs no model (the file was written when the method was measured), so it takes no lock on one.
func (w *worker) saveAdapter(req protocol.Request) {
	w.mu.Lock()
	results := w.compared
	w.mu.Unlock()
	data, err := compare.AdapterOf(results, req.Method)
	if err != nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
		return
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Saved, Format: protocol.FormatAdapter, Data: data})
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

// loadAdapter puts the request's adapter file on its base and answers the comparison's fixed
// prompts with it (job.LoadAdapter); a file that cannot be used is refused with its kind in Code.
func (w *worker) loadAdapter(req protocol.Request) {
	fail := func(err error) {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error(), Code: protocol.ErrorCode(err)})
	}
	w.mu.Lock()
	busy, runID := w.cancel != nil, w.runID
	w.mu.Unlock()
	if busy { // the run's device and cores are taken: the page loads in a worker of its own
		fail(fmt.Errorf("a run (request %d) is in progress in this worker", runID))
		return
	}
	spec, err := runspec.Decode(req.Code)
	if err != nil {
		fail(err)
		return
	}
	dev, ok := open(req)
	if !ok {
		return
	}
	base, err := loadBase(req.Base, dev)
	if err != nil {
		fail(err)
		return
	}
	defer base.Model.Free()
	e, err := job.LoadAdapter(spec, base, req.Adapter)
	if err != nil {
		fail(err)
		return
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Result, Event: &e})
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

// inspect answers with what the model of the run in progress (or of the last run) does with the
// request's prompt. A running run lends its model between two steps (see worker.model); a
// paused or finished one at once.
func (w *worker) inspect(req protocol.Request) {
	w.model.Lock()
	defer w.model.Unlock()
	w.mu.Lock()
	tr, running := w.last, w.cancel != nil
	w.mu.Unlock()
	if tr == nil {
		msg := "no model yet: start a run first"
		if running {
			msg = "no model yet: the run has one from its first evaluation"
		}
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: msg})
		return
	}
	ins, err := tr.Model.Inspect(tr.Tok, req.Prompt, protocol.InspectTop)
	if err != nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
		return
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Inspection, Step: tr.StepsDone(), Inspection: ins})
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

func (w *worker) waitWhilePaused() {
	w.mu.Lock()
	ch := w.resumed
	paused := w.paused
	w.mu.Unlock()
	if paused && ch != nil {
		<-ch // blocking here yields to the event loop until resume or stop closes it
	}
}

func (w *worker) control(req protocol.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cancel == nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: "no run in progress"})
		return
	}
	switch req.Kind {
	case protocol.Pause:
		if !w.paused {
			w.paused, w.resumed = true, make(chan struct{})
		}
	case protocol.Resume, protocol.Stop:
		if w.paused {
			w.paused = false
			close(w.resumed)
		}
		if req.Kind == protocol.Stop {
			w.cancel()
		}
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

func (w *worker) conformance(req protocol.Request) {
	dev, ok := open(req)
	if !ok {
		return
	}
	conformance.Run(dev, func(name string, err error) {
		m := protocol.Message{ID: req.ID, Kind: protocol.Check, Name: name, Pass: err == nil}
		if err != nil {
			m.Error = err.Error()
		}
		post(m)
	})
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

func (w *worker) bench(req protocol.Request) {
	dev, ok := open(req)
	if !ok {
		return
	}
	err := bench.All(dev, func(name string, v float64, unit string) {
		post(protocol.Message{ID: req.ID, Kind: protocol.Metric, Name: name, Value: v, Unit: unit})
	})
	if err != nil {
		post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error()})
		return
	}
	post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}
