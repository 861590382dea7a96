package worker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/protocol"
)

// TestCalibrate: calibrate answers the device, the milliseconds a step of the config takes
// here (about what a real run's steps take), then done, and trains no run.
func TestCalibrate(t *testing.T) {
	p := newPage(t)
	code := tinyCode(t, 20000) // a long run: timing it must not train it
	start := time.Now()
	id := p.ask(protocol.Request{Kind: protocol.Calibrate, Code: code, Device: "cpu"})
	took := time.Since(start)
	got := p.of(id)
	require.Equal(t, []string{protocol.Device, protocol.Metric, protocol.Done}, kinds(got))
	m := got[1]
	require.Equal(t, protocol.MetricMsPerStep, m.Name)
	require.Equal(t, "ms", m.Unit)
	require.Positive(t, m.Value)
	require.Less(t, took, 10*time.Second, "a few steps, not the run")

	// A real run of the same config: its steps take about what calibrate said (within 5x
	// either way: the machine is shared).
	spec := mustDecode(t, tinyCode(t, 0))
	run := p.ask(protocol.Request{Kind: protocol.Start, Code: tinyCode(t, 0), Device: "cpu"})
	res := without(p.of(run), protocol.Progress)
	tps := res[len(res)-2].Event.TokensPerS
	runMs := 1000 * float64(spec.Config.Batch*spec.Config.Context) / tps
	require.True(t, m.Value > runMs/5 && m.Value < runMs*5, "calibrated %.2f ms/step, the run %.2f", m.Value, runMs)
	t.Logf("calibrated %.2f ms/step, the run's %.2f ms/step", m.Value, runMs)

	bad := p.ask(protocol.Request{Kind: protocol.Calibrate, Code: "not a code", Device: "cpu"})
	require.Equal(t, protocol.Error, p.answer(bad, protocol.Error).Kind)
}
