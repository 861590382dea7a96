package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

func preset(t *testing.T, name string) runspec.Spec {
	p, err := runspec.PresetByName(name)
	require.NoError(t, err)
	return p.Spec
}

// TestDecideStart: a run estimated at under two minutes here starts at once; one above asks,
// with its estimate and the cheaper ways, in both languages.
func TestDecideStart(t *testing.T) {
	small := preset(t, "en-small") // 1000 steps, evaluations every 100 of EvalBatches batches
	perEval := float64(small.Config.EvalBatches) * evalShare
	evals := float64(1 + small.Config.Steps/small.Config.EvalEvery)
	// the speed at which the small preset takes exactly two minutes here
	edge := float64(askAbove/time.Millisecond) / (float64(small.Config.Steps) + evals*perEval)

	require.Nil(t, decideStart(small, 0, false, "en-base", 1), "an unknown speed asks nothing (the page measures first)")
	require.Nil(t, decideStart(small, edge*0.95, false, "en-base", 1), "just under two minutes starts")
	q := decideStart(small, edge*1.05, false, "en-base", 1)
	require.NotNil(t, q, "just over two minutes asks")
	require.InDelta(t, 126, q.Estimate.Seconds(), 0.5)
	require.Equal(t, "en-base", q.Base)
	require.Equal(t, 900, q.Steps, "the most steps, in hundreds, that fit in two minutes")
	require.LessOrEqual(t, q.StepsTime, askAbove)

	long := preset(t, "en-base") // 20,000 steps: about 48 minutes at 140 ms a step
	q = decideStart(long, 140, false, "en-base", 1)
	require.NotNil(t, q)
	require.InDelta(t, 47.5, q.Estimate.Minutes(), 1)
	require.Equal(t, 800, q.Steps)
	require.Equal(t, []string{
		"About 47 min 20 s here (140 ms a step, measured on this device).",
		"Cheaper: use the kept base en-base in Fine-tune and compare: it is already trained.",
		"Or fewer steps: 800 steps take about 1 min 50 s.",
	}, q.lines(EN, false))
	require.Equal(t, []string{
		"在这里大约需要 47 分 20 秒（每步 140 毫秒，在这台设备上测得）。",
		"更省时：在“微调与比较”里使用保存好的基础模型 en-base，它已经训练好了。",
		"或者少一些步数：800 步大约需要 1 分 50 秒。",
	}, q.lines(ZH, false))
}

// TestDecideComparison: a comparison from a kept base counts only its methods' fine-tuning
// (its methods' workers side by side as far as this device's cores go) and offers fewer fine-tuning steps; one that
// pretrains first counts that too and offers the kept base.
func TestDecideComparison(t *testing.T) {
	spec := preset(t, "en-base")
	spec.FineTune = &runspec.FineTune{Steps: 300, Warmup: 10, EvalEvery: 50}
	spec.Methods = twoMethods(t).Methods
	require.True(t, spec.Compares())
	n := len(spec.Methods)

	fine := time.Duration(float64(300*n) * 50 * float64(time.Millisecond))
	require.Equal(t, fine, estimateRun(spec, 50, true, 1), "one core: the methods one after another")
	require.Equal(t, fine/time.Duration(n), estimateRun(spec, 50, true, 8), "eight cores: side by side")
	require.Nil(t, decideStart(spec, 50, true, "en-base", 1), "%v of fine-tuning starts at once", fine)

	q := decideStart(spec, 400, true, "en-base", 1)
	require.NotNil(t, q)
	require.Empty(t, q.Base, "it starts from a base already")
	require.True(t, q.FineTuneSteps)
	require.Equal(t, 100, q.Steps)
	require.Contains(t, q.lines(EN, true)[1], "fewer fine-tuning steps: 100 per method")

	q = decideStart(spec, 50, false, "en-base", 1)
	require.NotNil(t, q, "pretraining 20,000 steps first")
	require.Greater(t, q.Estimate, fine+16*time.Minute)
	require.Equal(t, "Cheaper: start from the kept base en-base instead of pretraining here.", q.lines(EN, true)[1])
}

// TestSpeedKey: runs that differ only in schedule share a measured speed; another shape,
// device, shard count or number of workers does not (each decides a step's time), and one
// worker's key is speedKey's.
func TestSpeedKey(t *testing.T) {
	a, b := preset(t, "en-small"), preset(t, "en-small")
	b.Config.Steps, b.Config.Seed = 50, 9
	require.Equal(t, speedKey(a, "cpu"), speedKey(b, "cpu"))
	require.Equal(t, speedKey(a, "cpu"), workersSpeedKey(a, "cpu", 1))
	require.Equal(t, workersSpeedKey(a, "cpu", 1), workersSpeedKey(a, "cpu", 0), "0 workers is one")
	require.NotEqual(t, speedKey(a, "cpu"), speedKey(a, "webgpu"))
	require.NotEqual(t, speedKey(a, "cpu"), workersSpeedKey(a, "cpu", 2))
	c := a
	c.Config.Shards = 4
	require.NotEqual(t, speedKey(a, "cpu"), speedKey(c, "cpu"), "4 shards on one worker")
	c.Config.Shards = 1
	require.Equal(t, speedKey(a, "cpu"), speedKey(c, "cpu"), "1 shard is the unsharded run (0)")
	b.Config.Dim *= 2
	require.NotEqual(t, speedKey(a, "cpu"), speedKey(b, "cpu"))
}

// TestRunWorkers: a sharded CPU run uses the workers control's count up to one per shard; an
// unsharded run or one on WebGPU uses one worker whatever the control says.
func TestRunWorkers(t *testing.T) {
	spec := preset(t, "en-small")
	for _, tc := range []struct {
		device          string
		shards, workers int
		want            int
	}{
		{runspec.DeviceCPU, 0, 8, 1},
		{runspec.DeviceCPU, 1, 8, 1},
		{runspec.DeviceCPU, 4, 8, 4},
		{runspec.DeviceCPU, 4, 2, 2},
		{runspec.DeviceCPU, 4, 0, 1},
		{runspec.DeviceAuto, 4, 3, 3},
		{runspec.DeviceWebGPU, 4, 8, 1},
	} {
		spec.Config.Shards = tc.shards
		require.Equal(t, tc.want, runWorkers(spec, tc.device, tc.workers), "%+v", tc)
	}
}

// TestPretrainSpeed: a run's estimate takes the speed measured for its very setting when
// there is one; else one worker's, divided by the workers that have a core each times
// shardEfficiency on the CPU device (unscaled where the device may be a GPU); else nothing.
func TestPretrainSpeed(t *testing.T) {
	spec := preset(t, "en-small")
	spec.Config.Shards = 4
	cpu := runspec.DeviceCPU
	kept := map[string]float64{}
	speed := func(key string) float64 { return kept[key] }

	ms, scaled := pretrainSpeed(speed, spec, cpu, 4, 4)
	require.Zero(t, ms, "never measured: the page measures first")
	require.False(t, scaled)

	kept[speedKey(spec, cpu)] = 140
	ms, scaled = pretrainSpeed(speed, spec, cpu, 1, 4)
	require.Equal(t, 140.0, ms, "one worker: measured")
	require.False(t, scaled)
	ms, scaled = pretrainSpeed(speed, spec, cpu, 4, 4)
	require.True(t, scaled)
	require.InDelta(t, 50, ms, 1e-9, "140 ms on one worker, 4 workers at 0.7 of perfect: 140/2.8")
	ms, _ = pretrainSpeed(speed, spec, cpu, 4, 2)
	require.InDelta(t, 100, ms, 1e-9, "two cores: two workers run at once (140/1.4)")
	ms, _ = pretrainSpeed(speed, spec, cpu, 2, 1)
	require.Equal(t, 140.0, ms, "one core: no faster than one worker, never slower")
	kept[speedKey(spec, runspec.DeviceAuto)] = 140
	ms, scaled = pretrainSpeed(speed, spec, runspec.DeviceAuto, 4, 4)
	require.True(t, scaled)
	require.Equal(t, 140.0, ms, "auto may train on WebGPU, one worker for every shard: unscaled")

	kept[workersSpeedKey(spec, cpu, 4)] = 45
	ms, scaled = pretrainSpeed(speed, spec, cpu, 4, 4)
	require.Equal(t, 45.0, ms, "measured on 4 workers: that figure")
	require.False(t, scaled)
	ms, _ = pretrainSpeed(speed, spec, cpu, 2, 4)
	require.InDelta(t, 100, ms, 1e-9, "not measured on 2 workers: one worker's, scaled (140/1.4)")
}

// TestStartEstimatesItsWorkers plays a sharded run's Start with the workers control at 4 on a
// 4-core computer: one worker's kept speed is scaled for 4 workers, and the question says so;
// the run's own pace is kept for 4 workers, not as one worker's; the next Start estimates with
// that measurement. A calibration (one worker) is kept as one worker's and scaled the same way.
func TestStartEstimatesItsWorkers(t *testing.T) {
	defer func(c int) { cores = c }(cores)
	cores = 4
	long := preset(t, "en-base") // 20,000 steps: about 47 minutes at 140 ms a step
	long.Device = runspec.DeviceCPU
	form, err := setupFromSpec(long)
	require.NoError(t, err)
	form.Cfg.Shards, form.Workers = 4, 4
	spec, err := form.Spec(EN)
	require.NoError(t, err)
	one, four := speedKey(spec, runspec.DeviceCPU), workersSpeedKey(spec, runspec.DeviceCPU, 4)

	h := &fakeHost{speeds: map[string]float64{one: 140, four: 0}}
	p := &pretrainState{host: h, form: form}
	p.startForm(EN)
	require.NotNil(t, p.ask)
	require.InDelta(t, 47.5/2.8, p.ask.q.Estimate.Minutes(), 0.5, "a fourth of the time at 0.7 of perfect")
	require.Equal(t, 50.0, p.ask.q.MsPerStep)
	require.Equal(t, "About 16 min 50 s here (about 50.0 ms a step on 4 workers, estimated from one worker's 140 ms measured on this device).",
		p.ask.q.lines(EN, false)[0])
	require.Contains(t, p.ask.q.lines(ZH, false)[0], "用 4 个工作线程")

	p.startAnyway()
	require.Len(t, h.workers, 1)
	require.Equal(t, 4, h.workers[0].last().Workers)
	now := time.Unix(0, 0)
	p.cur.clock = func() time.Time { return now }
	w := h.workers[0]
	w.say(protocol.Message{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Step: 100, Steps: 20000, TrainLoss: 3, ValLoss: 3}})
	now = now.Add(4 * time.Second)
	w.say(protocol.Message{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Step: 200, Steps: 20000, TrainLoss: 3, ValLoss: 3}})
	require.Equal(t, 40.0, h.speeds[four], "100 steps in 4 s on 4 workers")
	require.Equal(t, 140.0, h.speeds[one], "one worker's figure stays one worker's")

	p.cur.Status = statusStopped
	p.ask = nil
	p.startForm(EN)
	require.NotNil(t, p.ask)
	require.Equal(t, 40.0, p.ask.q.MsPerStep, "measured on 4 workers")
	require.Zero(t, p.ask.q.OneWorker)
	require.Contains(t, p.ask.q.lines(EN, false)[0], "(40.0 ms a step, measured on this device)")

	// Never measured: the calibration times one worker; kept as such, scaled for the run.
	h = &fakeHost{speeds: map[string]float64{one: 0, four: 0}}
	p = &pretrainState{host: h, form: form}
	p.startForm(EN)
	require.Len(t, h.workers, 1)
	require.Equal(t, protocol.Calibrate, h.workers[0].last().Kind)
	h.workers[0].say(protocol.Message{ID: 1, Kind: protocol.Metric, Name: protocol.MetricMsPerStep, Value: 140, Unit: "ms"})
	require.Equal(t, 140.0, h.speeds[one])
	require.Zero(t, h.speeds[four], "a calibration is no measurement of 4 workers")
	require.NotNil(t, p.ask)
	require.Equal(t, 50.0, p.ask.q.MsPerStep)
	require.Equal(t, 140.0, p.ask.q.OneWorker)
}

// TestStartAsksBeforeALongRun plays the Start button through the pretraining state: a model
// shape never run here is measured first (a calibrate request, whose worker then trains the
// run); a long run asks, and Cancel starts nothing; a short one starts at once; Start anyway
// starts the long one.
func TestStartAsksBeforeALongRun(t *testing.T) {
	long := preset(t, "en-base")
	form, err := setupFromSpec(long)
	require.NoError(t, err)
	key := speedKey(long, long.Device)

	// Never measured: calibrate, then ask (140 ms a step: about 47 minutes).
	h := &fakeHost{speeds: map[string]float64{key: 0}}
	p := &pretrainState{host: h, form: form}
	p.startForm(EN)
	require.Len(t, h.workers, 1)
	w := h.workers[0]
	require.Equal(t, protocol.Calibrate, w.last().Kind)
	require.Nil(t, p.cur, "nothing trains while measuring")
	w.say(protocol.Message{ID: 1, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}},
		protocol.Message{ID: 1, Kind: protocol.Metric, Name: protocol.MetricMsPerStep, Value: 140, Unit: "ms"})
	require.Equal(t, 140.0, h.speeds[key], "kept for the next estimate")
	require.NotNil(t, p.ask)
	require.InDelta(t, 47, p.ask.q.Estimate.Minutes(), 1)
	p.cancelLong()
	require.Nil(t, p.ask)
	require.True(t, w.closed, "cancel closes the measuring worker")
	require.Len(t, w.sent, 1, "and starts nothing")
	require.Nil(t, p.cur)

	// Measured fast: the calibration's worker starts the run at once.
	h.speeds[key] = 0
	p.startForm(EN)
	w = h.workers[1]
	w.say(protocol.Message{ID: 1, Kind: protocol.Metric, Name: protocol.MetricMsPerStep, Value: 2})
	require.Nil(t, p.ask, "20,000 steps at 2 ms: 40 s")
	require.Equal(t, protocol.Start, w.last().Kind)
	require.NotNil(t, p.cur)
	w.say(protocol.Message{ID: 2, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}})
	require.Equal(t, "cpu", p.cur.Device, "the run hears its worker")
	require.Len(t, h.workers, 2, "no second worker")

	// Known slow: asks at once, without a worker; Start anyway starts it.
	h = &fakeHost{speeds: map[string]float64{key: 140}}
	p = &pretrainState{host: h, form: form}
	p.startForm(ZH)
	require.NotNil(t, p.ask)
	require.Empty(t, h.workers)
	p.startAnyway()
	require.Len(t, h.workers, 1)
	require.Equal(t, protocol.Start, h.workers[0].last().Kind)
}

// TestCompareAsksBeforeALongRun: the run button of a comparison whose time here is known asks
// first above two minutes: Cancel fetches and starts nothing, Start anyway runs it.
func TestCompareAsksBeforeALongRun(t *testing.T) {
	f, _ := baseForm(t)
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	h := &fakeHost{speeds: map[string]float64{speedKey(spec, spec.Device): 5000}}
	c := &compareState{host: h, form: f}
	c.runForm(EN)
	require.NotNil(t, c.ask, "%d methods of %d steps at 5 s, one after another", len(spec.Methods), fineTuneSteps(spec))
	require.Equal(t, "About 3 min 20 s here (5,000 ms a step, measured on this device).", c.ask.q.lines(EN, true)[0])
	require.Nil(t, c.cmp)
	c.cancelLong()
	require.Nil(t, c.ask)
	require.Empty(t, h.fetches, "Cancel fetches nothing")
	require.Nil(t, c.cmp)

	c.runForm(EN)
	c.startAnyway()
	require.Nil(t, c.ask)
	require.Equal(t, []string{"en-base"}, h.fetches, "Start anyway runs it")
	require.True(t, c.running())

	h2 := &fakeHost{speeds: map[string]float64{speedKey(spec, spec.Device): 10}}
	c = &compareState{host: h2, form: f}
	c.runForm(EN)
	require.Nil(t, c.ask, "a short comparison starts at once")
	require.Equal(t, []string{"en-base"}, h2.fetches)
}

// TestCompareMeasuresFirst: a comparison whose model never ran here is measured first (a
// calibrate request in a worker that then closes), and the measured speed decides.
func TestCompareMeasuresFirst(t *testing.T) {
	f, _ := baseForm(t)
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	key := speedKey(spec, spec.Device)
	h := &fakeHost{speeds: map[string]float64{key: 0}}
	c := &compareState{host: h, form: f}
	c.runForm(EN)
	require.Len(t, h.workers, 1)
	w := h.workers[0]
	require.Equal(t, protocol.Calibrate, w.last().Kind)
	require.Empty(t, h.fetches, "nothing starts while measuring")
	w.say(protocol.Message{ID: 1, Kind: protocol.Metric, Name: protocol.MetricMsPerStep, Value: 5000})
	require.True(t, w.closed)
	require.Equal(t, 5000.0, h.speeds[key])
	require.NotNil(t, c.ask)
	c.cancelLong()
	require.Empty(t, h.fetches)

	h.speeds[key] = 0
	c.runForm(EN)
	h.workers[1].say(protocol.Message{ID: 1, Kind: protocol.Metric, Name: protocol.MetricMsPerStep, Value: 5})
	require.Nil(t, c.ask)
	require.Equal(t, []string{"en-base"}, h.fetches, "fast enough: it runs")
}
