package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

func progressMsg(id, step, steps int, loss float64) protocol.Message {
	return protocol.Message{ID: id, Kind: protocol.Progress, Event: &job.Event{Event: "progress", Method: job.MethodPretrain, Step: step, Steps: steps, TrainLoss: loss, TokensPerS: 500}}
}

// TestRunProgress plays a run's first seconds into the page's state with a fake clock: the
// status says "loading the trainer" at once, then the device, then the steps with the pace
// measured from the steps' arrival and the time left; the smoothed curve follows the losses.
func TestRunProgress(t *testing.T) {
	now := time.Unix(1e9, 0)
	r := newRun("otter", runspec.Presets()[0].Spec, 3)
	r.clock = func() time.Time { return now }
	r.Steps = 1000
	require.Equal(t, "starting: loading the trainer", runProgress(EN, r))
	require.Equal(t, "启动中：正在加载训练器", runProgress(ZH, r))

	r.Began = now // the page counts the seconds until the first step
	now = now.Add(1500 * time.Millisecond)
	require.Equal(t, "starting: loading the trainer · 1 s", runProgress(EN, r))
	require.Equal(t, "启动中：正在加载训练器 · 1 秒", runProgress(ZH, r))
	r.Apply(protocol.Message{ID: 3, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}})
	now = now.Add(time.Second)
	require.Equal(t, "starting on cpu: building the model · 2 s", runProgress(EN, r))

	now = now.Add(3 * time.Second) // the first step: the page moves, with no pace yet
	r.Apply(progressMsg(3, 1, 1000, 4.0))
	require.Equal(t, 1, r.Step)
	require.Equal(t, 500.0, r.TokensPS)
	require.Equal(t, "step 1 of 1000", runProgress(EN, r))
	require.Equal(t, []point{{Step: 1, Train: 4.0}}, r.Trend)

	now = now.Add(time.Second) // 5 steps a second: 999-... steps left
	r.Apply(progressMsg(3, 6, 1000, 3.0))
	require.InDelta(t, 5.0, r.Pace.perSecond(), 1e-9)
	left, ok := r.Pace.left(1000)
	require.True(t, ok)
	require.Equal(t, 994*time.Second/5, left)
	require.Equal(t, "step 6 of 1000 · 5.0 steps/s · about 3 min 20 s left", runProgress(EN, r))
	require.Equal(t, "第 6 步，共 1000 步 · 每秒 5.0 步 · 大约还剩 3 分 20 秒", runProgress(ZH, r))
	require.Len(t, r.Trend, 2)
	require.Equal(t, 6, r.Trend[1].Step)
	require.InDelta(t, 0.3*3.0+0.7*4.0, r.Trend[1].Train, 1e-12, "a third of the new loss, the rest the curve so far")

	r.Apply(progressMsg(4, 7, 1000, 1.0)) // another request's: ignored
	require.Equal(t, 6, r.Step)
	other := progressMsg(3, 7, 1000, 1.0)
	other.Event.Method = "lora-r8" // a comparison method's step is not the pretraining's
	r.Apply(other)
	require.Equal(t, 6, r.Step)

	now = now.Add(2 * time.Second) // an evaluation counts too (its time is part of the wait)
	r.Apply(protocol.Message{ID: 3, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Step: 16, Steps: 1000, TrainLoss: 2.9, ValLoss: 3.1, TokensPerS: 480}})
	require.InDelta(t, 5.0, r.Pace.perSecond(), 1e-9)
	require.Len(t, r.Trend, 2, "evaluations are their own curve")

	r.Apply(protocol.Message{ID: 3, Kind: protocol.Pause + "d"}) // unknown kinds change nothing
	r.Status = statusPaused
	require.Equal(t, "step 16 of 1000 · 5.0 steps/s", runProgress(EN, r), "a paused run has no time left to count")
}

// TestSmoothIgnoresNaN: a step's NaN loss (a diverging run) leaves the curve drawable.
func TestSmoothIgnoresNaN(t *testing.T) {
	tr := smooth(nil, 1, 2)
	nan := 0.0
	tr = smooth(tr, 2, nan/nan)
	require.Equal(t, []point{{Step: 1, Train: 2}}, tr)
}

// TestPaceRestarts: a step below the last one (a run resumed from an earlier snapshot) starts
// the measure again instead of giving a negative pace.
func TestPaceRestarts(t *testing.T) {
	var p stepPace
	t0 := time.Unix(0, 0)
	p.observe(100, t0)
	p.observe(200, t0.Add(10*time.Second))
	require.InDelta(t, 10.0, p.perSecond(), 1e-9)
	p.observe(50, t0.Add(11*time.Second))
	require.Zero(t, p.perSecond())
	_, ok := p.left(1000)
	require.False(t, ok)
}

// TestFmtLeft: waits read as a person says them, in both languages.
func TestFmtLeft(t *testing.T) {
	for _, c := range []struct {
		d      time.Duration
		en, zh string
	}{
		{0, "about 5 s left", "大约还剩 5 秒"},
		{42 * time.Second, "about 45 s left", "大约还剩 45 秒"},
		{200 * time.Second, "about 3 min 20 s left", "大约还剩 3 分 20 秒"},
		{596 * time.Second, "about 10 min left", "大约还剩 10 分钟"},
		{48*time.Minute + 3*time.Second, "about 48 min left", "大约还剩 48 分钟"},
		{2*time.Hour + 5*time.Minute, "about 2 h 5 min left", "大约还剩 2 小时 5 分"},
	} {
		t.Run(c.en, func(t *testing.T) {
			require.Equal(t, c.en, fmtLeft(EN, c.d))
			require.Equal(t, c.zh, fmtLeft(ZH, c.d))
		})
	}
}

// TestTrendIsDrawnFaint: the pretraining chart draws the smoothed curve, lighter than the
// evaluations'.
func TestTrendIsDrawnFaint(t *testing.T) {
	r := newRun("otter", runspec.Presets()[0].Spec, 1)
	r.Apply(progressMsg(1, 1, 60, 4))
	r.Apply(progressMsg(1, 9, 60, 3))
	line := trendLine(EN, r, "#123456")
	require.True(t, line.Faint)
	require.Len(t, line.Points, 2)
	require.Equal(t, [2]float64{1, 4}, line.Points[0])
	require.InDelta(t, 3.7, line.Points[1][1], 1e-12)
	p := &Pretrain{}
	p.cur, p.runs = r, []*run{r}
	svg := p.chart()
	require.Contains(t, svg, "training loss, smoothed")
	require.Contains(t, svg, `stroke-opacity="0.4"`)
}

// TestLaneProgress: a comparison lane moves with its method's steps (not another method's),
// and shows its pace and time left while it trains, in both languages.
func TestLaneProgress(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := newComparison(twoMethods(t))
	c.clock = func() time.Time { return now }
	c.Lanes[0].ReqID, c.Lanes[1].ReqID = 1, 1
	c.fineTuning()
	ln := c.Lanes[0]
	label := ln.Method.Label()
	step := func(method string, s int) protocol.Message {
		return protocol.Message{ID: 1, Kind: protocol.Progress, Event: &job.Event{Event: "progress", Method: method, Step: s, Steps: 300, TrainLoss: 2}}
	}
	c.Apply(0, protocol.Message{ID: 1, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}})
	c.Apply(0, step(label, 1))
	require.Equal(t, 1, ln.Step)
	require.Equal(t, "step 1 of 300", laneProgress(EN, ln))
	now = now.Add(2 * time.Second)
	c.Apply(0, step(label, 21))
	c.Apply(0, step("someone-else", 250))
	require.Equal(t, 21, ln.Step)
	require.Equal(t, statusRunning, ln.Status, "%+v", ln.Pace)
	require.Equal(t, "step 21 of 300 · 10.0 steps/s · about 30 s left", laneProgress(EN, ln))
	require.Equal(t, "第 21 步，共 300 步 · 每秒 10.0 步 · 大约还剩 30 秒", laneProgress(ZH, ln))
}
