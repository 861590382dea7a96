package app

import (
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"

	"pretune/core/protocol"
)

// TestEnded: a worker's request ends done only with its result, stopped on the learner's stop,
// failed with the worker's reason otherwise; every kind of lane and the reward model read it.
func TestEnded(t *testing.T) {
	for _, c := range []struct {
		m              protocol.Message
		hasResult      bool
		status, reason string
	}{
		{protocol.Message{Kind: protocol.Done}, true, statusDone, ""},
		{protocol.Message{Kind: protocol.Done}, false, statusFailed, "the trainer finished without a result"},
		{protocol.Message{Kind: protocol.Error, Error: "stopped"}, true, statusStopped, ""},
		{protocol.Message{Kind: protocol.Error, Error: "out of memory"}, false, statusFailed, "out of memory"},
	} {
		status, reason := ended(c.m, c.hasResult)
		require.Equal(t, c.status, status, "%+v", c)
		require.Equal(t, c.reason, reason, "%+v", c)
	}
	w := workerLane{ReqID: 3, Status: statusRunning}
	require.False(t, w.follow(protocol.Message{ID: 4, Kind: protocol.Done}, func() bool { return true }), "another request's")
	require.True(t, w.follow(protocol.Message{ID: 3, Kind: protocol.Error, Error: "stopped"}, func() bool { return false }))
	require.Equal(t, statusStopped, w.Status)
	require.False(t, w.follow(protocol.Message{ID: 3, Kind: protocol.Done}, func() bool { return true }), "nothing after the lane ended")
}

// TestResultCell: a figure shows only once its row's model finished, and a dash where there is
// nothing to measure.
func TestResultCell(t *testing.T) {
	cell := func(status, v string) string {
		return render(t, app.Table().Body(app.TBody().Body(app.Tr().Body(resultCell(status, "accuracy", v)))))
	}
	require.Contains(t, cell(statusDone, "82%"), ">82%<")
	require.NotContains(t, cell(statusRunning, "82%"), "82%", "not measured yet")
	require.Contains(t, cell(statusRunning, "82%"), "–")
	require.Contains(t, cell(statusDone, ""), "–", "nothing to measure")
	require.Contains(t, cell(statusDone, "82%"), `class="num data accuracy"`)
}
