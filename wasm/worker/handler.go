// Package worker answers the page's requests to a trainer worker (core/protocol): start, pause,
// resume and stop a run; save and inspect its model, or a comparison's LoRA adapter; load an
// adapter file onto a base; run the device conformance suite; benchmark; and the feedback
// view's picker requests (feedback.go): open the SFT model, sample pairs, train and ask a
// reward model. It is plain Go, so its
// tests drive it natively with the requests the page sends; wasm/ holds only the syscall/js glue
// that hands it the page's bytes and posts its messages.
package worker

import (
	"context"
	"sync"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// Opener opens the device a request names ("cpu", "webgpu", "auto" or ""): the device, and what
// the page is told about it (its name, why it is not the one asked for, its limits). In the
// browser it is webgpu.Select; this package leaves it to its caller so that it builds and is
// tested without a GPU.
type Opener func(name string) (ops.Device, protocol.DeviceInfo, error)

// Handler holds the run in progress, if any: one per worker (the page starts one worker per
// method it compares). Handle may be called from many goroutines at once; a start request
// returns only when its run ends, and the other requests act on that run meanwhile.
type Handler struct {
	open Opener
	post func(protocol.Message)

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
	// fb is the feedback view's SFT model (open_sft) and scorer its reward model (train_reward),
	// kept for sample_pairs, score and save in FormatSFT; each replaced one is freed.
	fb     *held
	scorer *feedback.Scorer

	// spawn starts helper workers for a sharded pretraining (shards.go; nil: none here).
	spawn Spawner
	// replica is a helper's model copy for the leader's shard requests, for replicaCfg and
	// replicaMask; shardMu serialises those requests.
	shardMu     sync.Mutex
	replica     *core.Replica
	replicaCfg  core.Config
	replicaMask ops.MaskMode
	replicaRes  []core.ShardResult
	shardReply  []byte // the buffer HandleShard writes its replies into
}

// New is a handler that opens devices with open and sends every message to the page with post.
// post is called from the goroutines that call Handle.
func New(open Opener, post func(protocol.Message)) *Handler {
	return &Handler{open: open, post: post}
}

// Handle answers one request, as the page encoded it. It blocks until the request is answered
// (a start: until its run ends), so the browser calls it on a goroutine of its own, never
// inside a JS callback.
func (h *Handler) Handle(data []byte) {
	req, err := protocol.ParseRequest(data)
	if err != nil {
		h.fail(req, err)
		return
	}
	switch req.Kind {
	case protocol.Start:
		h.start(req)
	case protocol.Pause, protocol.Resume, protocol.Stop:
		h.control(req)
	case protocol.Conformance:
		h.conformance(req)
	case protocol.Bench:
		h.bench(req)
	case protocol.Calibrate:
		h.calibrate(req)
	case protocol.Save:
		h.save(req)
	case protocol.Inspect:
		h.inspect(req)
	case protocol.LoadAdapter:
		h.loadAdapter(req)
	case protocol.OpenSFT:
		h.openSFT(req)
	case protocol.SamplePairs:
		h.samplePairs(req)
	case protocol.TrainReward:
		h.trainReward(req)
	case protocol.Score:
		h.score(req)
	}
}

// fail answers req with err, and with its code where the page explains it in its own words.
func (h *Handler) fail(req protocol.Request, err error) {
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Error, Error: err.Error(), Code: protocol.ErrorCode(err)})
}

// done tells the page req is answered.
func (h *Handler) done(req protocol.Request) {
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Done})
}

// device opens the request's device and tells the page which one it got. An explicit request
// for WebGPU where there is none continues on the CPU and says so; ok is false when the
// request was answered with an error instead.
func (h *Handler) device(req protocol.Request) (dev ops.Device, ok bool) {
	dev, info, err := h.open(req.Device)
	if err != nil {
		if req.Device != "webgpu" {
			h.fail(req, err)
			return nil, false
		}
		dev = ops.NewCPU()
		info = protocol.DeviceInfo{Name: dev.Name(), Kernel: ops.CPUKernel(), Fallback: "WebGPU is not available here: " + err.Error()}
	}
	h.post(protocol.Message{ID: req.ID, Kind: protocol.Device, Device: &info})
	return dev, true
}
