package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

func eval(id, step int, train, val float64) protocol.Message {
	return protocol.Message{ID: id, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Step: step, Steps: 60, TrainLoss: train, ValLoss: val, TokensPerS: 1000}}
}

// TestRunApply plays a worker's conversation into a run, as the page does.
func TestRunApply(t *testing.T) {
	r := newRun("otter", runspec.Presets()[0].Spec, 3)
	require.Equal(t, statusStarting, r.Status)
	require.True(t, r.Active())

	r.Apply(protocol.Message{ID: 3, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu", Fallback: "no usable WebGPU"}})
	require.Equal(t, statusRunning, r.Status)
	require.Equal(t, "cpu", r.Device)
	require.Equal(t, "no usable WebGPU", r.Fallback)

	r.Apply(eval(3, 20, 3.0, 3.1))
	r.Apply(protocol.Message{ID: 3, Kind: protocol.Sample, Step: 20, Text: "The fox", Tokens: []core.TokenProb{{ID: 9, Token: "x", Prob: 0.5}}})
	r.Apply(eval(4, 40, 9, 9)) // another request's message: ignored
	r.Apply(eval(3, 40, 2.5, 2.6))
	require.Equal(t, []point{{20, 3.0, 3.1}, {40, 2.5, 2.6}}, r.Points)
	require.Equal(t, []sample{{Step: 20, Text: "The fox", Tokens: []core.TokenProb{{ID: 9, Token: "x", Prob: 0.5}}}}, r.Samples)
	require.Equal(t, 40, r.Step)

	// The GPU is lost after step 40 and the run resumes on the CPU from step 20: the
	// evaluation at 40 is replayed, so the old one goes.
	r.Apply(protocol.Message{ID: 3, Kind: protocol.Eval, Event: &job.Event{Event: "device", Step: 20, Device: "cpu", Note: "device lost"}})
	require.Equal(t, []point{{20, 3.0, 3.1}}, r.Points)
	require.Equal(t, "device lost", r.Note)
	r.Apply(eval(3, 40, 2.4, 2.5))
	r.Apply(eval(3, 60, 2.2, 2.3))
	require.Len(t, r.Points, 3)

	r.Apply(protocol.Message{ID: 3, Kind: protocol.Result, Event: &job.Event{Event: "result", Steps: 60, ValLoss: 2.3, Fingerprint: "cpu:0123456789ab", Match: "matches"}})
	require.Equal(t, statusRunning, r.Status, "the result comes before done")
	r.Apply(protocol.Message{ID: 3, Kind: protocol.Done})
	require.Equal(t, statusDone, r.Status)
	require.False(t, r.Active())
	require.Equal(t, "matches", r.Result.Match)
}

func TestRunApplyEnds(t *testing.T) {
	tests := []struct {
		name string
		msg  protocol.Message
		want string
		err  string
	}{
		{"stopped", protocol.Message{ID: 1, Kind: protocol.Error, Error: "stopped"}, statusStopped, ""},
		{"failed", protocol.Message{ID: 1, Kind: protocol.Error, Error: "device lost"}, statusFailed, "device lost"},
		{"worker failed to start", protocol.Message{ID: 0, Kind: protocol.Error, Error: "the trainer could not start"}, statusFailed, "the trainer could not start"},
		{"done without a result", protocol.Message{ID: 1, Kind: protocol.Done}, statusStarting, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRun("heron", runspec.Presets()[0].Spec, 1)
			r.Apply(tc.msg)
			require.Equal(t, tc.want, r.Status)
			require.Equal(t, tc.err, r.Err)
		})
	}
}

func TestMaxLossDiff(t *testing.T) {
	a := []point{{20, 3.0, 3.1}, {40, 2.5, 2.6}, {60, 2.2, 2.3}}
	b := []point{{20, 3.0, 3.1}, {40, 2.5001, 2.59}, {80, 1, 1}}
	d, n := maxLossDiff(a, b)
	require.Equal(t, 2, n, "only the steps both evaluated")
	require.InDelta(t, 0.01, d, 1e-12)
	d, n = maxLossDiff(a, a)
	require.Zero(t, d)
	require.Equal(t, 3, n)
}
