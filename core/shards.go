package core

import (
	"fmt"
	"runtime"
	"sync"

	"pretune/core/ops"
)

// Data-parallel steps. A pretraining step with Config.Shards = S > 1 cuts its batch of B
// sequences into S contiguous shards (ShardRows), computes each shard's gradient alone on a
// replica of the model (its own activations and gradient buffers, a copy of the weights), and
// sums the shard gradients in increasing shard order, g = ((g0+g1)+g2)+..., before one gradient
// clipping and one AdamW update. Each shard's cross-entropy is scaled by the whole batch's loss
// weight, so the shard gradients add up to the batch's gradient; each shard's dropout masks are
// keyed by its first row (Pass.Row). A shard's gradient is therefore the same bits whichever
// goroutine or browser worker computes it, and the step depends on S alone. S = 1 (or 0) is the
// unsharded step, unchanged.

// ShardJob is one shard of a step: its rows of the batch and what keys its computation.
type ShardJob struct {
	Shard int `json:"shard"` // 0..Shards-1
	Row   int `json:"row"`   // the shard's first sequence in the step's batch
	B     int `json:"b"`     // the shard's sequences
	T     int `json:"t"`     // positions per sequence
	// Inputs and Targets are B×T token ids; Weights the loss weight of each position (nil: 1).
	Inputs  []int32   `json:"inputs"`
	Targets []int32   `json:"targets"`
	Weights []float32 `json:"weights,omitempty"`
	// Weight is the whole batch's loss weight: every shard's gradient is of its share of the
	// batch's weighted mean loss, Σ shard losses / Weight.
	Weight      float64 `json:"weight"`
	DropoutSeed uint64  `json:"dropout_seed"`
	Step        int     `json:"step"`
}

// ShardResult is a shard's gradient and loss.
type ShardResult struct {
	// LossSum is the shard's weighted sum of per-position losses.
	LossSum float64
	// Grads holds one gradient per parameter, in Params order (nil for a frozen one).
	Grads [][]float32
}

// ShardRunner computes a step's shard gradients on the weights given (one slice per parameter,
// in Params order), returning one result per job in job order, valid until the next call.
// Where it computes them is its business (LocalShards: goroutines; the browser's trainer: helper workers): Replica.Grad
// defines the result.
type ShardRunner interface {
	Grads(weights [][]float32, jobs []ShardJob) ([]ShardResult, error)
}

// DefaultShards is the shard count a new run gets for a batch of batch sequences: 4 when the
// batch divides into 4 (the presets' 8 and 16 do), else 2 when it is even, else 1 (0, as a
// Config writes it). Four shards keep 2 to 4 cores busy, what most school laptops have, and
// cost little on one core (BenchmarkShards); links keep whatever count they name.
func DefaultShards(batch int) int {
	switch {
	case batch >= 4 && batch%4 == 0:
		return 4
	case batch >= 2 && batch%2 == 0:
		return 2
	}
	return 0
}

// ShardRows is the rows [lo, hi) of shard k of a batch of B sequences cut into S shards:
// contiguous, in order, sizes differing by at most one.
func ShardRows(B, S, k int) (lo, hi int) { return k * B / S, (k + 1) * B / S }

// shardedStep is Step's update for Config.Shards > 1 on the step's batch (weights nil: all 1).
func (t *Trainer) shardedStep(B, T int, inputs, targets []int32, weights []float32, pass Pass, lr float32) (float64, error) {
	m := t.Model
	S := m.Cfg.Shards
	if S > B {
		return 0, fmt.Errorf("trainer: %d shards of a batch of %d sequences", S, B)
	}
	// The batch's loss weight, summed as the unsharded step sums it.
	weight := float64(B * T)
	if weights != nil {
		weight = 0
		for _, w := range weights {
			weight += float64(w)
		}
	}
	if weight == 0 {
		return 0, fmt.Errorf("trainer: the batch has no position with a loss weight")
	}
	jobs := make([]ShardJob, S)
	for k := range jobs {
		lo, hi := ShardRows(B, S, k)
		j := ShardJob{Shard: k, Row: lo, B: hi - lo, T: T, Inputs: inputs[lo*T : hi*T], Targets: targets[lo*T : hi*T],
			Weight: weight, DropoutSeed: pass.DropoutSeed, Step: pass.Step}
		if weights != nil {
			j.Weights = weights[lo*T : hi*T]
		}
		jobs[k] = j
	}
	if t.Runner == nil {
		t.Runner = NewLocalShards(m, 0)
	}
	if ls, ok := t.Runner.(*LocalShards); ok && ls.inPlace() {
		return t.shardsInPlace(jobs, weight, lr)
	}
	// The host copies of the weights and the summed gradient are kept from step to step: a
	// step allocates little, which matters to the single-threaded collector under wasm.
	if t.shardWeights == nil {
		t.shardWeights, t.shardSum = make([][]float32, len(m.Params)), make([][]float32, len(m.Params))
		for i, p := range m.Params {
			t.shardWeights[i], t.shardSum[i] = make([]float32, p.Size()), make([]float32, p.Size())
		}
	}
	ws := t.shardWeights
	for i, p := range m.Params {
		if err := m.Dev.Download(p.W, ws[i]); err != nil {
			return 0, err
		}
	}
	res, err := t.Runner.Grads(ws, jobs)
	if err != nil {
		return 0, err
	}
	if len(res) != S {
		return 0, fmt.Errorf("trainer: %d shard results for %d shards", len(res), S)
	}
	var lossSum float64
	for k := range res {
		lossSum += res[k].LossSum
	}
	for i, p := range m.Params {
		if p.Frozen {
			continue
		}
		if err := sumShardGradsInto(t.shardSum[i], res, i); err != nil {
			return 0, fmt.Errorf("trainer: %s: %w", p.Name, err)
		}
		m.Dev.Upload(p.DW, t.shardSum[i])
	}
	if err := t.Opt.Update(m.Params, lr); err != nil {
		return 0, err
	}
	return lossSum / weight, nil
}

// shardsInPlace is a sharded step computed by the trainer's own model, shard after shard, on
// its device: each shard's gradient (in DW) is added into a sum buffer in shard order, with the
// device's Add (a float32 add, as SumShardGrads does on the host), and nothing but each shard's
// loss leaves the device. It gives the bits a replica gives (the same ops on the same shapes),
// and it is what one goroutine, or a GPU, runs.
func (t *Trainer) shardsInPlace(jobs []ShardJob, weight float64, lr float32) (float64, error) {
	m := t.Model
	d := m.Dev
	if t.shardAcc == nil {
		t.shardAcc = make([]ops.Buf, len(m.Params))
		for i, p := range m.Params {
			if !p.Frozen {
				t.shardAcc[i] = d.Alloc(p.Size())
			}
		}
	}
	var lossSum float64
	for k, j := range jobs {
		for _, p := range m.Params {
			if !p.Frozen {
				d.Zero(p.DW)
			}
		}
		t.batch.Set(d, j.B, j.T, j.Inputs, j.Targets, j.Weights)
		pass := Pass{Train: true, DropoutSeed: j.DropoutSeed, Step: j.Step, Row: j.Row}
		m.forward(m.train, t.batch, pass)
		sum, _, err := m.lossSum(m.train, t.batch)
		if err != nil {
			return 0, err
		}
		lossSum += sum
		m.backward(m.train, t.batch, pass, weight)
		for i, p := range m.Params {
			switch {
			case p.Frozen:
			case k == 0:
				d.Copy(t.shardAcc[i], p.DW)
			default:
				d.Add(t.shardAcc[i], t.shardAcc[i], p.DW, p.Size())
			}
		}
	}
	for i, p := range m.Params {
		if !p.Frozen {
			d.Copy(p.DW, t.shardAcc[i])
		}
	}
	if err := t.Opt.Update(m.Params, lr); err != nil {
		return 0, err
	}
	return lossSum / weight, nil
}

// SumShardGrads is parameter i's gradient summed over the shards in increasing shard order,
// ((g0+g1)+g2)+..., into a new slice of n values: one order, whoever computed the shards.
func SumShardGrads(res []ShardResult, i, n int) ([]float32, error) {
	g := make([]float32, n)
	return g, sumShardGradsInto(g, res, i)
}

// sumShardGradsInto is SumShardGrads into g.
func sumShardGradsInto(g []float32, res []ShardResult, i int) error {
	for k := range res {
		if i >= len(res[k].Grads) || len(res[k].Grads[i]) != len(g) {
			return fmt.Errorf("shard %d's gradient has the wrong size", k)
		}
		if k == 0 {
			copy(g, res[k].Grads[i])
			continue
		}
		for j, v := range res[k].Grads[i] {
			g[j] += v
		}
	}
	return nil
}

// Replica is a model that computes shard gradients: a goroutine's, or a browser helper
// worker's. It holds a copy of the weights (SetWeights before each step) and activations for
// one shard.
type Replica struct {
	m     *Model
	batch *Batch
}

// NewReplica allocates a replica on dev of a model with cfg (its vocabulary set) and mask mode,
// for shards of the batch cut into cfg.Shards.
func NewReplica(dev ops.Device, cfg Config, mask ops.MaskMode) (*Replica, error) {
	c := cfg
	S := max(c.Shards, 1)
	c.Batch = (c.Batch + S - 1) / S // the largest shard
	c.Shards = 0
	m, err := NewModel(dev, c)
	if err != nil {
		return nil, err
	}
	m.Mask = mask
	return &Replica{m: m, batch: NewBatch(dev, c.Batch, c.Context)}, nil
}

// SetWeights puts the step's weights (Params order) into the replica.
func (r *Replica) SetWeights(ws [][]float32) error {
	if len(ws) != len(r.m.Params) {
		return fmt.Errorf("replica: %d weight tensors for a model of %d", len(ws), len(r.m.Params))
	}
	for i, p := range r.m.Params {
		if len(ws[i]) != p.Size() {
			return fmt.Errorf("replica: %s has %d values; want %d", p.Name, len(ws[i]), p.Size())
		}
	}
	for i, p := range r.m.Params {
		r.m.Dev.Upload(p.W, ws[i])
	}
	return nil
}

// Grad computes job's gradient on the replica's weights: forward, loss and backward on the
// shard's rows alone, the cross-entropy scaled by the whole batch's weight, and dropout keyed by
// the shard's first row.
func (r *Replica) Grad(j ShardJob) (ShardResult, error) {
	var res ShardResult
	return res, r.GradInto(j, &res)
}

// GradInto is Grad into res, reusing its gradient slices when they have the right sizes (a
// runner keeps its results from step to step).
func (r *Replica) GradInto(j ShardJob, res *ShardResult) error {
	m := r.m
	if j.B < 1 || j.B > r.batch.Inputs.Len()/m.Cfg.Context || j.T < 1 || j.T > m.Cfg.Context {
		return fmt.Errorf("replica: a shard of %dx%d does not fit %dx%d", j.B, j.T, m.Cfg.Batch, m.Cfg.Context)
	}
	if len(j.Inputs) != j.B*j.T || len(j.Targets) != j.B*j.T || (j.Weights != nil && len(j.Weights) != j.B*j.T) {
		return fmt.Errorf("replica: shard %d's tokens do not match its %dx%d shape", j.Shard, j.B, j.T)
	}
	if !(j.Weight > 0) {
		return fmt.Errorf("replica: shard %d has batch weight %g", j.Shard, j.Weight)
	}
	for _, p := range m.Params {
		if !p.Frozen {
			m.Dev.Zero(p.DW)
		}
	}
	r.batch.Set(m.Dev, j.B, j.T, j.Inputs, j.Targets, j.Weights)
	pass := Pass{Train: true, DropoutSeed: j.DropoutSeed, Step: j.Step, Row: j.Row}
	m.forward(m.train, r.batch, pass)
	sum, _, err := m.lossSum(m.train, r.batch)
	if err != nil {
		return err
	}
	m.backward(m.train, r.batch, pass, j.Weight)
	res.LossSum = sum
	if len(res.Grads) != len(m.Params) {
		res.Grads = make([][]float32, len(m.Params))
	}
	for i, p := range m.Params {
		if p.Frozen {
			res.Grads[i] = nil
			continue
		}
		if len(res.Grads[i]) != p.Size() {
			res.Grads[i] = make([]float32, p.Size())
		}
		if err := m.Dev.Download(p.DW, res.Grads[i]); err != nil {
			return err
		}
	}
	return nil
}

// Free releases the replica's buffers.
func (r *Replica) Free() {
	r.batch.Free(r.m.Dev)
	r.m.Free()
}

// LocalShards computes shards on goroutines in this process: Workers replicas, each with its
// own copy of the weights and its own CPU device, replica w computing shards w, w+Workers, ...
// With one worker, and for a model on another device (a GPU, which one goroutine drives), the
// trainer's own model computes them in place instead (Trainer.shardsInPlace).
type LocalShards struct {
	dev      ops.Device
	cfg      Config
	mask     ops.MaskMode
	workers  int
	replicas []*Replica
	// results are the last step's, reused by the next: Grads' results are valid until then.
	results []ShardResult
}

// NewLocalShards computes m's shards on workers goroutines (0: one per core Go may use,
// runtime.GOMAXPROCS), at most one per shard.
func NewLocalShards(m *Model, workers int) *LocalShards {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, max(m.Cfg.Shards, 1))
	if _, cpu := m.Dev.(*ops.CPU); !cpu {
		workers = 1
	}
	return &LocalShards{dev: m.Dev, cfg: m.Cfg, mask: m.Mask, workers: workers}
}

// Workers is the number of goroutines computing shards.
func (l *LocalShards) Workers() int { return l.workers }

// inPlace says the trainer's own model computes the shards, one after another on its device
// (Trainer.shardsInPlace): with one goroutine, replicas would only add copies, and a GPU's
// shards stay on the GPU.
func (l *LocalShards) inPlace() bool { return l.workers == 1 }

// Grads computes every job on the replicas. The results are reused by the next call.
func (l *LocalShards) Grads(ws [][]float32, jobs []ShardJob) ([]ShardResult, error) {
	if l.replicas == nil {
		threads := max(1, runtime.GOMAXPROCS(0)/l.workers)
		for range l.workers {
			dev := l.dev
			if _, cpu := dev.(*ops.CPU); cpu {
				dev = &ops.CPU{Threads: threads} // each goroutine's matmuls share the cores fairly
			}
			r, err := NewReplica(dev, l.cfg, l.mask)
			if err != nil {
				return nil, err
			}
			l.replicas = append(l.replicas, r)
		}
	}
	if len(l.results) != len(jobs) {
		l.results = make([]ShardResult, len(jobs))
	}
	res := l.results
	errs := make([]error, len(l.replicas))
	var wg sync.WaitGroup
	for w, r := range l.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[w] = r.SetWeights(ws); errs[w] != nil {
				return
			}
			for k := w; k < len(jobs); k += len(l.replicas) {
				if errs[w] = r.GradInto(jobs[k], &res[k]); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Free releases the replicas.
func (l *LocalShards) Free() {
	for _, r := range l.replicas {
		r.Free()
	}
	l.replicas = nil
}
