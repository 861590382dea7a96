package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"pretune/core/checkpoint"
	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// The feedback view's picker worker: open_sft makes or loads the SFT model and keeps it;
// sample_pairs draws offers from it; train_reward trains a reward model from it on the picks and
// keeps that; score asks the reward model; save in FormatSFT writes the SFT model for the method
// workers. open_sft, sample_pairs and train_reward hold the worker's run slot as a start does
// (pause, resume and stop act on them; a start meanwhile is refused).

// held is the SFT model the feedback requests use, and what to free with it.
type held struct {
	sft    *job.SFT
	loaded *checkpoint.Checkpoint // the checkpoint it was loaded from, if it is one
}

func (k *held) free() {
	if k == nil {
		return
	}
	k.sft.Free()
	if k.loaded != nil {
		k.loaded.Model.Free()
	}
}

// claim takes the worker's run slot for req, or answers that it is taken. The
// returned release gives it back.
func (h *Handler) claim(req protocol.Request) (context.Context, func(), bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancel != nil {
		h.fail(req, fmt.Errorf("a run (request %d) is already in progress in this worker", h.runID))
		return nil, nil, false
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.runID, h.cancel, h.paused = req.ID, cancel, false
	return ctx, func() {
		h.mu.Lock()
		h.cancel = nil
		h.mu.Unlock()
		cancel()
	}, true
}

// betweenSteps is the hook a request that trains runs after every step while it holds the
// model lock: it lends the model, waits while paused and yields to the event loop.
func (h *Handler) betweenSteps() func() {
	lastYield := time.Now()
	return func() {
		// The model is free between steps: an inspection or a save waiting for it runs
		// while this goroutine pauses or yields, and the next step waits for it to end.
		h.model.Unlock()
		defer h.model.Lock()
		h.waitWhilePaused()
		// Go in the browser has no preemption: sleeping lets the worker's event loop deliver
		// pause, stop and inspect requests. Every 50 ms of training, not every step, to keep
		// it cheap.
		if time.Since(lastYield) > 50*time.Millisecond {
			time.Sleep(time.Millisecond)
			lastYield = time.Now()
		}
	}
}

// post sends a run's event as the message of its kind.
func (h *Handler) postEvent(id int, e job.Event) {
	kind := protocol.Eval
	switch e.Event {
	case "result":
		kind = protocol.Result
	case "progress":
		kind = protocol.Progress
	}
	h.post(protocol.Message{ID: id, Kind: kind, Event: &e})
}

// stopped is err as the page is told it: a cancelled request is "stopped".
func stopped(err error) error {
	if errors.Is(err, context.Canceled) {
		return errors.New("stopped")
	}
	return err
}

// feedbackSpec decodes a request's code, which must carry a feedback stage.
func feedbackSpec(req protocol.Request) (runspec.Spec, error) {
	spec, err := runspec.Decode(req.Code)
	if err != nil {
		return spec, err
	}
	if !spec.Feeds() {
		return spec, fmt.Errorf("%s needs a feedback link (version 5): this one has no feedback stage", req.Kind)
	}
	return spec, nil
}

// heldSFT is the SFT model open_sft left, or an error saying to open one.
func (h *Handler) heldSFT(req protocol.Request) (*job.SFT, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fb == nil {
		return nil, fmt.Errorf("%s needs the model to improve: open it first (%s)", req.Kind, protocol.OpenSFT)
	}
	return h.fb.sft, nil
}

// sftAndSpec are what a request on the kept SFT model needs: that model (heldSFT) and the
// request's feedback link (feedbackSpec).
func (h *Handler) sftAndSpec(req protocol.Request) (*job.SFT, runspec.Spec, error) {
	sft, err := h.heldSFT(req)
	if err != nil {
		return nil, runspec.Spec{}, err
	}
	spec, err := feedbackSpec(req)
	return sft, spec, err
}

// openSFT makes or loads the SFT model (job.OpenSFT) and keeps it, replacing (and freeing) the
// one before and its reward model.
func (h *Handler) openSFT(req protocol.Request) {
	spec, err := feedbackSpec(req)
	if err != nil {
		h.fail(req, err)
		return
	}
	ctx, release, ok := h.claim(req)
	if !ok {
		return
	}
	defer release()
	dev, base, ok := h.deviceAndBase(req)
	if !ok {
		return
	}
	h.model.Lock()
	sft, err := job.OpenSFT(ctx, spec, dev, job.Options{Base: base, AsSFT: req.AsSFT, FallbackToCPU: true,
		OnEvent: func(e job.Event) { h.postEvent(req.ID, e) }, BetweenSteps: h.betweenSteps()})
	h.model.Unlock()
	if err != nil {
		if base != nil {
			base.Model.Free()
		}
		h.fail(req, stopped(err))
		return
	}
	k := &held{sft: sft}
	if base != nil {
		if sft.Model == base.Model {
			k.loaded = base // the SFT model is the loaded one: freed with it
		} else {
			base.Model.Free() // a base the SFT model was fine-tuned from: done with
		}
	}
	h.mu.Lock()
	old, oldScorer := h.fb, h.scorer
	h.fb, h.scorer = k, nil
	h.mu.Unlock()
	old.free()
	if oldScorer != nil {
		oldScorer.Close()
	}
	h.done(req)
}

// samplePairs answers Count offers from the SFT model on the prompts of the code's taste.
func (h *Handler) samplePairs(req protocol.Request) {
	sft, spec, err := h.sftAndSpec(req)
	if err != nil {
		h.fail(req, err)
		return
	}
	taste := spec.Feedback.Taste
	if taste == "" {
		h.fail(req, fmt.Errorf("%s takes its prompts from the link's built-in taste, and this link has none", req.Kind))
		return
	}
	ctx, release, ok := h.claim(req)
	if !ok {
		return
	}
	defer release()
	h.model.Lock()
	offers, err := feedback.SampleOffers(ctx, sft.Model, sft.Tok, taste, req.Count, spec.Feedback.Tokens, req.Seed, req.Decided)
	h.model.Unlock()
	if err != nil {
		h.fail(req, stopped(err))
		return
	}
	msg := protocol.Message{ID: req.ID, Kind: protocol.Pairs, Offers: make([]protocol.Offer, len(offers))}
	for i, o := range offers {
		msg.Offers[i] = protocol.Offer{Prompt: o.Prompt, A: o.A, B: o.B, Taste: o.Taste}
	}
	h.post(msg)
	h.done(req)
}

// trainReward trains the reward model on the code's pairs (job.TrainReward) and keeps it for
// score, replacing the one before; it answers the evaluations, progress, the result, then every
// pair's scores.
func (h *Handler) trainReward(req protocol.Request) {
	sft, spec, err := h.sftAndSpec(req)
	if err != nil {
		h.fail(req, err)
		return
	}
	ctx, release, ok := h.claim(req)
	if !ok {
		return
	}
	defer release()
	h.model.Lock()
	scorer, scores, err := job.TrainReward(ctx, spec, sft, job.Options{Progress: true,
		OnEvent: func(e job.Event) { h.postEvent(req.ID, e) }, BetweenSteps: h.betweenSteps()})
	h.model.Unlock()
	if err != nil {
		h.fail(req, stopped(err))
		return
	}
	h.mu.Lock()
	old := h.scorer
	h.scorer = scorer
	h.mu.Unlock()
	if old != nil {
		old.Close()
	}
	msg := protocol.Message{ID: req.ID, Kind: protocol.Scores, PairScores: make([]protocol.PairScore, len(scores))}
	for i, s := range scores {
		msg.PairScores[i] = protocol.PairScore{Chosen: float64(s.Chosen), Rejected: float64(s.Rejected), Held: s.Held}
	}
	h.post(msg)
	h.done(req)
}

// score answers the kept reward model's score of the request's answer to its prompt.
func (h *Handler) score(req protocol.Request) {
	h.model.Lock()
	defer h.model.Unlock()
	h.mu.Lock()
	scorer := h.scorer
	h.mu.Unlock()
	if scorer == nil {
		h.fail(req, fmt.Errorf("score needs a reward model: train it first (%s)", protocol.TrainReward))
		return
	}
	v, err := scorer.Score(req.Prompt, req.Text)
	if err != nil {
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.ScoreOf, Value: float64(v)})
	h.done(req)
}

// saveSFT answers the kept SFT model's bytes (job.SFT.Save), for the method workers' Base.
func (h *Handler) saveSFT(req protocol.Request) {
	h.model.Lock()
	defer h.model.Unlock()
	sft, err := h.heldSFT(req)
	if err != nil {
		h.fail(req, fmt.Errorf("no model to save in format %s: open it first (%s)", protocol.FormatSFT, protocol.OpenSFT))
		return
	}
	var buf bytes.Buffer
	if err := sft.Save(&buf); err != nil {
		h.fail(req, err)
		return
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Saved, Format: protocol.FormatSFT, Data: buf.Bytes()})
	h.done(req)
}
