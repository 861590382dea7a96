package worker

import (
	"fmt"

	"pretune/core"
	"pretune/core/ops"
	"pretune/core/protocol"
)

// Sharded pretraining across workers. Go's WebAssembly has no threads, so one worker uses one
// core. A start request with Workers > 1 for a sharded run (Config.Shards > 1) on the CPU device
// makes this worker the leader: it starts up to Workers-1 helper workers (Spawner), each with a
// copy of the model, and at every step hands each helper that is ready its share of the step's
// shards with the weights (protocol.ShardRequest), computes its own share meanwhile, and sums
// every shard's gradient in shard order (core.SumShardGrads) before its one AdamW update. The
// result is the shard count's, however many helpers answered: a helper that is still loading
// gets no shard, and a helper that fails has its shards computed by the leader.

// Helper is one helper worker as its leader sees it. In the browser it is a nested Web Worker
// running trainer.wasm (wasm/); tests use one in the same process.
type Helper interface {
	// Ready says whether the helper can take shards now (its wasm has started).
	Ready() bool
	// Send posts one shard request; it must not keep msg after it returns (the leader writes the
	// next request into the same buffer), as postMessage copies it. Recv returns the next reply,
	// in order; the reply is the leader's until its next Send to this helper.
	Send(msg []byte) error
	Recv() ([]byte, error)
	// Close ends the helper.
	Close()
}

// Spawner starts a helper worker.
type Spawner func() (Helper, error)

// WithHelpers lets the handler start helper workers for sharded pretraining; it returns h.
func (h *Handler) WithHelpers(spawn Spawner) *Handler {
	h.spawn = spawn
	return h
}

// HandleShard answers a leader's shard request (a helper worker's one job): the reply holds
// each shard's loss and gradients, or the error. The replica is kept for the next step while
// the model's config and mask stay the same. msg is not used after HandleShard returns, and the
// reply is written into a buffer reused by the next call (the caller posts it at once).
func (h *Handler) HandleShard(msg []byte) []byte {
	h.shardMu.Lock()
	defer h.shardMu.Unlock()
	reply, err := h.shard(msg)
	if err != nil {
		reply = protocol.ShardReply{Error: err.Error()}
	}
	data, err := protocol.AppendShardReply(h.shardReply, reply)
	if err != nil {
		data, _ = protocol.EncodeShardReply(protocol.ShardReply{Error: err.Error()})
	}
	h.shardReply = data
	return data
}

func (h *Handler) shard(msg []byte) (protocol.ShardReply, error) {
	req, err := protocol.DecodeShardRequest(msg)
	if err != nil {
		return protocol.ShardReply{}, err
	}
	if err := req.Config.Validate(); err != nil {
		return protocol.ShardReply{}, err
	}
	if h.replica == nil || h.replicaCfg != req.Config || h.replicaMask != req.Mask {
		if h.replica != nil {
			h.replica.Free()
			h.replica = nil
		}
		r, err := core.NewReplica(ops.NewCPU(), req.Config, req.Mask)
		if err != nil {
			return protocol.ShardReply{}, err
		}
		h.replica, h.replicaCfg, h.replicaMask = r, req.Config, req.Mask
	}
	if err := h.replica.SetWeights(req.Weights); err != nil {
		return protocol.ShardReply{}, err
	}
	// The results are kept for the next request: a step allocates little on a helper too.
	for len(h.replicaRes) < len(req.Jobs) {
		h.replicaRes = append(h.replicaRes, core.ShardResult{})
	}
	reply := protocol.ShardReply{Results: h.replicaRes[:len(req.Jobs)]}
	for k, j := range req.Jobs {
		if err := h.replica.GradInto(j, &reply.Results[k]); err != nil {
			return protocol.ShardReply{}, err
		}
	}
	return reply, nil
}

// workerShards is a leader's core.ShardRunner: its own replica and its helpers.
type workerShards struct {
	cfg     core.Config
	mask    ops.MaskMode
	local   *core.Replica
	helpers []Helper
	// Failed counts helpers dropped after an error (their shards were computed here).
	failed int
	// answered holds the helpers that computed shards at least once.
	answered map[Helper]bool
	// pool holds the leader's own shard results, reused from step to step.
	pool []core.ShardResult
	// request is the buffer each step's requests are written into: a small model's weights are
	// half a megabyte, which allocating afresh each step costs a wasm worker more in the garbage
	// collector than in the copy.
	request []byte
}

// Workers is how many workers computed shards so far: the leader and every helper that
// answered (dropped ones included).
func (w *workerShards) Workers() int { return 1 + len(w.answered) }

// newWorkerShards makes m's shard runner with up to helpers helper workers from spawn. A helper
// that cannot start is left out: the leader computes more shards itself.
func newWorkerShards(m *core.Model, helpers int, spawn Spawner) (*workerShards, error) {
	local, err := core.NewReplica(ops.NewCPU(), m.Cfg, m.Mask)
	if err != nil {
		return nil, err
	}
	ws := &workerShards{cfg: m.Cfg, mask: m.Mask, local: local, answered: map[Helper]bool{}}
	for range helpers {
		hp, err := spawn()
		if err != nil {
			continue
		}
		ws.helpers = append(ws.helpers, hp)
	}
	return ws, nil
}

// Grads hands each ready helper its share of jobs (job k goes to worker k mod n, the leader
// being worker 0 of the n = 1 + ready helpers), computes the leader's share, then collects the
// helpers' replies; shards a helper failed on are computed here.
func (w *workerShards) Grads(weights [][]float32, jobs []core.ShardJob) ([]core.ShardResult, error) {
	var ready []Helper
	for _, hp := range w.helpers {
		if hp.Ready() {
			ready = append(ready, hp)
		}
	}
	n := 1 + min(len(ready), max(len(jobs)-1, 0))
	ready = ready[:n-1]
	share := func(worker int) []int {
		var ks []int
		for k := worker; k < len(jobs); k += n {
			ks = append(ks, k)
		}
		return ks
	}
	res := make([]core.ShardResult, len(jobs))
	sent := make([]bool, len(ready))
	for i, hp := range ready {
		var mine []core.ShardJob
		for _, k := range share(i + 1) {
			mine = append(mine, jobs[k])
		}
		msg, err := protocol.AppendShardRequest(w.request, protocol.ShardRequest{Config: w.cfg, Mask: w.mask, Jobs: mine, Weights: weights})
		if err != nil {
			return nil, err
		}
		w.request = msg
		sent[i] = hp.Send(msg) == nil
	}
	if err := w.local.SetWeights(weights); err != nil {
		return nil, err
	}
	if len(w.pool) != len(jobs) {
		w.pool = make([]core.ShardResult, len(jobs))
	}
	compute := func(ks []int) error {
		for _, k := range ks {
			if err := w.local.GradInto(jobs[k], &w.pool[k]); err != nil {
				return err
			}
			res[k] = w.pool[k]
		}
		return nil
	}
	if err := compute(share(0)); err != nil {
		return nil, err
	}
	var lost []Helper
	for i, hp := range ready {
		ks := share(i + 1)
		ok := sent[i]
		if ok {
			ok = w.collect(hp, ks, res) == nil
		}
		if !ok {
			lost = append(lost, hp)
			if err := compute(ks); err != nil {
				return nil, err
			}
		}
	}
	for _, hp := range lost {
		w.drop(hp)
	}
	return res, nil
}

// collect reads hp's reply for shards ks into res.
func (w *workerShards) collect(hp Helper, ks []int, res []core.ShardResult) error {
	data, err := hp.Recv()
	if err != nil {
		return err
	}
	reply, err := protocol.DecodeShardReply(data)
	if err != nil {
		return err
	}
	if len(reply.Results) != len(ks) {
		return fmt.Errorf("worker: a helper answered %d shards of %d", len(reply.Results), len(ks))
	}
	for i, k := range ks {
		res[k] = reply.Results[i]
	}
	w.answered[hp] = true
	return nil
}

// drop ends a helper that failed; the leader computes its shards from now on.
func (w *workerShards) drop(hp Helper) {
	hp.Close()
	for i, x := range w.helpers {
		if x == hp {
			w.helpers = append(w.helpers[:i], w.helpers[i+1:]...)
			break
		}
	}
	w.failed++
}

// Close ends every helper and frees the leader's replica.
func (w *workerShards) Close() {
	for _, hp := range w.helpers {
		hp.Close()
	}
	w.helpers = nil
	w.local.Free()
}

// shardRunner is start's job.Options.Shards: the leader's runner with up to workers-1 helpers
// on the CPU device; nil (goroutines, one in the browser) when the run is not sharded, asks
// for one worker, or is on a GPU (whose shards one worker computes on the GPU). The runner is
// added to *opened so start can close it when the run ends.
func (h *Handler) shardRunner(workers int, opened *[]*workerShards) func(m *core.Model) (core.ShardRunner, error) {
	return func(m *core.Model) (core.ShardRunner, error) {
		if _, cpu := m.Dev.(*ops.CPU); !cpu || workers <= 1 || h.spawn == nil {
			return core.NewLocalShards(m, 0), nil
		}
		ws, err := newWorkerShards(m, min(workers, m.Cfg.Shards)-1, h.spawn)
		if err != nil {
			return nil, err
		}
		*opened = append(*opened, ws)
		return ws, nil
	}
}
