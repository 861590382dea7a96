package worker

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// start trains the request's run to its end (job.Run), reporting its device, evaluations,
// samples, snapshots and result, then done; a stopped run answers the error "stopped".
func (h *Handler) start(req protocol.Request) {
	spec, err := runspec.Decode(req.Code)
	if err != nil {
		h.fail(req, err)
		return
	}
	ctx, release, ok := h.claim(req)
	if !ok {
		return
	}
	defer release()
	h.mu.Lock()
	h.finished, h.noModel, h.compared = nil, false, nil
	h.mu.Unlock()

	dev, base, ok := h.deviceAndBase(req)
	if !ok {
		return
	}
	var resume *job.Resume
	if len(req.Resume) > 0 {
		if resume, err = job.UnmarshalResume(req.Resume); err != nil {
			h.fail(req, err)
			return
		}
	}
	var onSnapshot func(*job.Resume)
	if req.Snapshots {
		onSnapshot = func(r *job.Resume) {
			if data, err := r.Bytes(); err == nil {
				h.post(protocol.Message{ID: req.ID, Kind: protocol.Snapshot, Step: r.Snapshot.Step, Data: data})
			}
		}
	}
	prompt := req.Prompt
	if prompt == "" {
		prompt = samplePrompt(spec)
	}
	var helpers []*workerShards
	defer func() {
		for _, w := range helpers {
			w.Close()
		}
	}()
	h.model.Lock()
	res, err := job.Run(ctx, spec, dev, job.Options{
		Shards:        h.shardRunner(req.Workers, &helpers),
		Base:          base,
		Resume:        resume,
		OnSnapshot:    onSnapshot,
		FallbackToCPU: true, // a lost GPU: go on on the CPU from the last evaluation, and say so
		AfterEval: func(tr *core.Trainer) {
			h.mu.Lock()
			h.last = tr
			h.mu.Unlock()
			h.post(sample(req.ID, tr, spec, prompt))
		},
		AsSFT:    req.AsSFT,
		Progress: true, // a feedback method's lane moves at every step
		// The pretraining and a comparison's methods report a step each second (and their
		// first at once): evaluations alone leave the page still for 10-20 s on a CPU.
		ProgressEvery: time.Second,
		OnEvent:       func(e job.Event) { h.postEvent(req.ID, e) },
		BetweenSteps:  h.betweenSteps(),
	})
	h.model.Unlock()
	if err != nil {
		h.fail(req, stopped(err))
		return
	}
	h.mu.Lock()
	h.last = res.Trainer
	// A run from a loaded model is not the pretraining its spec describes: it is no base.
	if res.Trainer != nil && base == nil {
		h.finished, h.finishedSpec = res, spec
	}
	h.noModel = res.Trainer == nil
	h.compared = res.Compare
	h.mu.Unlock()
	h.done(req)
}

// sample is what the model writes at an evaluation: a continuation of prompt, or, for a
// masked-LM model (which cannot write), its guesses at blanks in the held-out text.
func sample(id int, tr *core.Trainer, spec runspec.Spec, prompt string) protocol.Message {
	if tr.Masked() != nil {
		blanked, filled, err := core.FillBlanks(tr.Model, tr.Tok, maskedProbeText(spec, prompt), 5)
		if err != nil {
			blanked, filled = "("+err.Error()+")", ""
		}
		return protocol.Message{ID: id, Kind: protocol.Sample, Step: tr.StepsDone(), Text: blanked, Filled: filled}
	}
	toks, err := tr.Model.GenerateTokens(tr.Tok, prompt, core.SampleOptions{Tokens: 80, Temperature: 0.8, TopK: 10, Seed: spec.Config.Seed})
	text := prompt
	if err != nil {
		text += "(" + err.Error() + ")"
	}
	for _, t := range toks {
		text += t.Token
	}
	return protocol.Message{ID: id, Kind: protocol.Sample, Step: tr.StepsDone(), Text: text, Tokens: toks}
}

// deviceAndBase opens the request's device (device) and loads onto it the model the request
// starts from, when it carries one (base is nil when not); ok is false when the request was
// answered with an error instead.
func (h *Handler) deviceAndBase(req protocol.Request) (dev ops.Device, base *checkpoint.Checkpoint, ok bool) {
	if dev, ok = h.device(req); !ok {
		return nil, nil, false
	}
	if len(req.Base) > 0 {
		var err error
		if base, err = loadBase(req.Base, dev); err != nil {
			h.fail(req, err)
			return nil, nil, false
		}
	}
	return dev, base, true
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

// waitWhilePaused blocks the run goroutine between two steps while the run is paused.
func (h *Handler) waitWhilePaused() {
	h.mu.Lock()
	ch := h.resumed
	paused := h.paused
	h.mu.Unlock()
	if paused && ch != nil {
		<-ch // blocking here yields to the event loop until resume or stop closes it
	}
}

// control pauses, resumes or stops the run in progress.
func (h *Handler) control(req protocol.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancel == nil {
		h.fail(req, errors.New("no run in progress"))
		return
	}
	switch req.Kind {
	case protocol.Pause:
		if !h.paused {
			h.paused, h.resumed = true, make(chan struct{})
		}
	case protocol.Resume, protocol.Stop:
		if h.paused {
			h.paused = false
			close(h.resumed)
		}
		if req.Kind == protocol.Stop {
			h.cancel()
		}
	}
	h.done(req)
}
