package app

import (
	"fmt"
	"time"

	"pretune/core/compare"
	"pretune/core/runspec"
)

// askAbove is the longest a run starts without asking: a class waiting longer than two
// minutes should have chosen to.
const askAbove = 2 * time.Minute

// evalShare is an evaluation batch's cost in training steps: a forward pass of one batch is
// about a third of a step (forward and backward).
const evalShare = 1.0 / 3

// speedKey is the key under which this browser keeps the measured milliseconds per step of
// spec's pretraining on device (the page's device choice) on one worker: what a calibration
// (protocol.Calibrate, one worker) measures and what a comparison's pretraining (one worker)
// runs at. See workersSpeedKey.
func speedKey(spec runspec.Spec, device string) string {
	return workersSpeedKey(spec, device, 1)
}

// workersSpeedKey is speedKey for a pretraining on workers workers (runWorkers's count): the
// shape, the batch, the shard count and the workers decide a step's cost; the schedule and seed
// do not. (Keys before the shards and workers were in them held sharded runs' speeds on any
// number of workers under one name; they are no longer read, which costs one calibration.)
func workersSpeedKey(spec runspec.Spec, device string, workers int) string {
	c := spec.Config
	return fmt.Sprintf("pretune.speed/%s/L%d-H%d-C%d-T%d-B%d-S%d-W%d", device, c.Layers, c.Heads, c.Dim, c.Context, c.Batch,
		max(c.Shards, 1), max(workers, 1))
}

// runWorkers is how many workers compute spec's pretraining steps on device when the page
// offers it workers (the workers control): a sharded run on the CPU (or auto) device uses one
// per shard at most (wasm/worker/shards.go starts min(workers, shards)-1 helpers); an unsharded
// run, or one on WebGPU (one worker computes every shard on the GPU), uses one.
func runWorkers(spec runspec.Spec, device string, workers int) int {
	if spec.Config.Shards <= 1 || device == runspec.DeviceWebGPU {
		return 1
	}
	return max(1, min(workers, spec.Config.Shards))
}

// shardEfficiency is the share of a perfect speed-up that workers are assumed to give when a
// sharded run's speed on several workers was never measured here, only on one. The browser
// bench (TestBrowserShardsBench) measured 1.72x for 2 workers on a quiet 2-core machine with
// the SIMD kernels, 0.86 of perfect (1.89x, 0.95, with the Go kernels' longer steps); a class's
// laptop runs other tabs, four workers share memory bandwidth, and the helpers take seconds to
// load, so 0.7 errs on the long side: the estimate a learner is asked about should not promise
// more than the run gives.
const shardEfficiency = 0.7

// scaledSpeed is the milliseconds per step a sharded pretraining on workers workers is
// estimated at from ms1, one worker's measured figure, on a computer with cores cores: divided
// by the workers that get a core of their own times shardEfficiency, never by less than 1. On
// any device but the CPU (auto may end on WebGPU, where one worker computes every shard) it
// stays ms1.
func scaledSpeed(ms1 float64, device string, workers, cores int) float64 {
	if device != runspec.DeviceCPU || workers <= 1 {
		return ms1
	}
	return ms1 / max(1, float64(min(workers, cores))*shardEfficiency)
}

// pretrainSpeed is the milliseconds per step to estimate spec's pretraining on device with on
// workers workers (runWorkers's count) and cores cores, from the speeds kept here (speed reads
// one by key; 0: never measured): the measurement of that very setting when there is one, else
// one worker's scaled by scaledSpeed (scaled says so), else 0 (the page measures first).
func pretrainSpeed(speed func(key string) float64, spec runspec.Spec, device string, workers, cores int) (ms float64, scaled bool) {
	if ms := speed(workersSpeedKey(spec, device, workers)); ms > 0 {
		return ms, false
	}
	if workers <= 1 {
		return 0, false
	}
	ms1 := speed(speedKey(spec, device))
	if ms1 <= 0 {
		return 0, false
	}
	return scaledSpeed(ms1, device, workers, cores), true
}

// pretrainTime is the pretraining of spec at msPerStep: its steps and its evaluations.
func pretrainTime(spec runspec.Spec, msPerStep float64) time.Duration {
	c := spec.Config
	evals := 1 + c.Steps/max(c.EvalEvery, 1)
	ms := float64(c.Steps)*msPerStep + float64(evals*c.EvalBatches)*evalShare*msPerStep
	return time.Duration(ms * float64(time.Millisecond))
}

// fineTuneSteps is one method's fine-tuning steps in a comparison.
func fineTuneSteps(spec runspec.Spec) int {
	if spec.FineTune != nil && spec.FineTune.Steps > 0 {
		return spec.FineTune.Steps
	}
	return compare.DefaultSteps
}

// rounds is how many methods' fine-tunings run one after another: each method trains in a
// worker of its own, and parallel of them (this device's cores) run at once.
func rounds(spec runspec.Spec, parallel int) int {
	p := max(parallel, 1)
	return (len(spec.Methods) + p - 1) / p
}

// estimateRun is how long spec takes on this device at msPerStep (one pretraining step of its
// config, measured here): the pretraining unless a base stands in for it (fromBase), and a
// comparison's fine-tuning (a fine-tuning step counted as a pretraining step: the same model),
// its methods parallel at a time.
func estimateRun(spec runspec.Spec, msPerStep float64, fromBase bool, parallel int) time.Duration {
	var d time.Duration
	if !fromBase {
		d = pretrainTime(spec, msPerStep)
	}
	if spec.Compares() {
		d += time.Duration(float64(fineTuneSteps(spec)*rounds(spec, parallel)) * msPerStep * float64(time.Millisecond))
	}
	return d
}

// longRun is the question the page asks before a long run: its estimate here, and the cheaper
// ways to the same lesson.
type longRun struct {
	Estimate  time.Duration
	MsPerStep float64
	// Workers and OneWorker say MsPerStep was not measured for this setting but scaled from
	// one worker's measured OneWorker ms (pretrainSpeed) for a run on Workers workers; 0: it
	// was measured.
	Workers   int
	OneWorker float64
	// Base is a kept base that spares the pretraining ("" when none fits).
	Base string
	// Steps is a shorter run that stays under askAbove (pretraining steps, or each method's
	// fine-tuning steps for a comparison), and StepsTime its estimate; 0 when even 100 steps
	// would not.
	Steps     int
	StepsTime time.Duration
	// FineTuneSteps says Steps are each method's fine-tuning steps (a comparison from a base).
	FineTuneSteps bool
}

// decideStart says whether spec may start at once on this device (nil) or the page asks first
// (it would take longer than askAbove at msPerStep). keptBase is the kept base of the run's
// language ("en-base"), offered instead of pretraining; fromBase says the run already starts
// from one; parallel is how many of a comparison's methods train at once. An unknown speed (msPerStep <= 0) starts at once: the page measures first.
func decideStart(spec runspec.Spec, msPerStep float64, fromBase bool, keptBase string, parallel int) *longRun {
	if msPerStep <= 0 {
		return nil
	}
	est := estimateRun(spec, msPerStep, fromBase, parallel)
	if est <= askAbove {
		return nil
	}
	q := &longRun{Estimate: est, MsPerStep: msPerStep, FineTuneSteps: spec.Compares() && fromBase}
	if !fromBase {
		q.Base = keptBase
	}
	// The most steps, in hundreds, that fit: of the pretraining, or of each method's
	// fine-tuning when the comparison starts from a base.
	short := spec
	for n := 100; ; n += 100 {
		if q.FineTuneSteps {
			ft := runspec.FineTune{Steps: n}
			if spec.FineTune != nil {
				ft = *spec.FineTune
				ft.Steps = n
			}
			short.FineTune = &ft
			if n >= fineTuneSteps(spec) {
				break
			}
		} else {
			short.Config.Steps = n
			if n >= spec.Config.Steps {
				break
			}
		}
		d := estimateRun(short, msPerStep, fromBase, parallel)
		if d > askAbove {
			break
		}
		q.Steps, q.StepsTime = n, d
	}
	return q
}

// lines are the question's sentences in the page's language: the estimate, then each cheaper
// way.
func (q *longRun) lines(l Lang, comparison bool) []string {
	out := []string{l.T("long.estimate", fmtDuration(l, q.Estimate), fmtRate(q.MsPerStep))}
	if q.OneWorker > 0 {
		out[0] = l.T("long.estimate_scaled", fmtDuration(l, q.Estimate), fmtRate(q.MsPerStep), q.Workers, fmtRate(q.OneWorker))
	}
	switch {
	case q.Base != "" && comparison:
		out = append(out, l.T("long.alt_cmp_base", q.Base))
	case q.Base != "":
		out = append(out, l.T("long.alt_base", q.Base))
	}
	switch {
	case q.Steps > 0 && q.FineTuneSteps:
		out = append(out, l.T("long.alt_ft_steps", q.Steps, fmtDuration(l, q.StepsTime)))
	case q.Steps > 0:
		out = append(out, l.T("long.alt_steps", q.Steps, fmtDuration(l, q.StepsTime)))
	}
	return out
}
