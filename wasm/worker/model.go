package worker

import (
	"bytes"
	"errors"
	"fmt"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// save answers with the model of the run in progress (paused) or of the last finished run, or
// with a LoRA method's adapter from the last finished comparison.
func (h *Handler) save(req protocol.Request) {
	switch req.Format {
	case protocol.FormatAdapter:
		h.saveAdapter(req)
		return
	case protocol.FormatSFT:
		h.saveSFT(req)
		return
	}
	// Paused, the run goroutine has let go of the model; holding it keeps a resume from
	// stepping while the checkpoint is read.
	h.model.Lock()
	defer h.model.Unlock()
	h.mu.Lock()
	tr, running := h.last, h.cancel != nil && !h.paused
	finished, finishedSpec, noModel := h.finished, h.finishedSpec, h.noModel
	h.mu.Unlock()
	switch {
	case running:
		h.fail(req, errors.New("pause the run before saving its model"))
		return
	case noModel:
		h.fail(req, errors.New("a comparison from a base keeps no model to save: each method's model is dropped once it is measured"))
		return
	case req.Format == protocol.FormatBase && finished == nil:
		h.fail(req, errors.New("no run of this worker can be saved as a base: a base is the model of a pretraining from a fresh model that trained to its last step"))
		return
	case tr == nil:
		h.fail(req, errors.New("no model to save yet: it exists from the run's first evaluation"))
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
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Saved, Format: format, Data: buf.Bytes()})
	h.done(req)
}

// saveAdapter answers with the adapter file of the last finished comparison's LoRA method: it
// needs no model (the file was written when the method was measured), so it takes no lock on one.
func (h *Handler) saveAdapter(req protocol.Request) {
	h.mu.Lock()
	results := h.compared
	h.mu.Unlock()
	data, err := compare.AdapterOf(results, req.Method)
	if err != nil {
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Saved, Format: protocol.FormatAdapter, Data: data})
	h.done(req)
}

// loadAdapter puts the request's adapter file on its base and answers the comparison's fixed
// prompts with it (job.LoadAdapter); a file that cannot be used is refused with its kind in Code.
func (h *Handler) loadAdapter(req protocol.Request) {
	h.mu.Lock()
	busy, runID := h.cancel != nil, h.runID
	h.mu.Unlock()
	if busy { // the run's device and cores are taken: the page loads in a worker of its own
		h.fail(req, fmt.Errorf("a run (request %d) is in progress in this worker", runID))
		return
	}
	spec, err := runspec.Decode(req.Code)
	if err != nil {
		h.fail(req, err)
		return
	}
	dev, ok := h.device(req)
	if !ok {
		return
	}
	base, err := loadBase(req.Base, dev)
	if err != nil {
		h.fail(req, err)
		return
	}
	defer base.Model.Free()
	e, err := job.LoadAdapter(spec, base, req.Adapter)
	if err != nil {
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Result, Event: &e})
	h.done(req)
}

// inspect answers with what the model of the run in progress (or of the last run) does with the
// request's prompt. A running run lends its model between two steps (see Handler.model); a
// paused or finished one at once.
func (h *Handler) inspect(req protocol.Request) {
	h.model.Lock()
	defer h.model.Unlock()
	h.mu.Lock()
	tr, running := h.last, h.cancel != nil
	h.mu.Unlock()
	if tr == nil {
		msg := "no model yet: start a run first"
		if running {
			msg = "no model yet: the run has one from its first evaluation"
		}
		h.fail(req, errors.New(msg))
		return
	}
	ins, err := tr.Model.Inspect(tr.Tok, req.Prompt, protocol.InspectTop)
	if err != nil {
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Inspection, Step: tr.StepsDone(), Inspection: ins})
	h.done(req)
}
