package worker

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/job"
	"pretune/core/protocol"
)

// TestProgressEverySecond trains a long run for about 3.5 s and stops it: the page must hear of
// the first step at once (before any evaluation) and then of a step about once a second, never
// faster, each with the step's loss and the speed, and not of every step.
func TestProgressEverySecond(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	var got []protocol.Message
	p := newPage(t)
	post := p.h.post
	p.h.post = func(m protocol.Message) {
		if m.Kind == protocol.Progress {
			mu.Lock()
			at, got = append(at, time.Now()), append(got, m)
			mu.Unlock()
		}
		post(m)
	}
	start := time.Now()
	run := p.begin(protocol.Request{Kind: protocol.Start, Code: tinyCode(t, 100000), Device: "cpu"})
	first := p.waitKind(run, protocol.Progress)
	require.Equal(t, 1, first.Event.Step, "the first step is reported at once")
	time.Sleep(3500*time.Millisecond - time.Since(start))
	p.ask(protocol.Request{Kind: protocol.Stop})
	p.waitEnd(run)
	elapsed := time.Since(start)

	mu.Lock()
	defer mu.Unlock()
	for i, m := range got {
		require.Equal(t, job.MethodPretrain, m.Event.Method)
		require.Equal(t, 100000, m.Event.Steps)
		require.Positive(t, m.Event.TrainLoss)
		require.Positive(t, m.Event.TokensPerS)
		if i > 0 {
			require.Greater(t, m.Event.Step, got[i-1].Event.Step)
			require.GreaterOrEqual(t, at[i].Sub(at[i-1]), 900*time.Millisecond, "at most one a second")
		}
	}
	require.LessOrEqual(t, len(got), 2+int(elapsed/time.Second), "the first, then at most one a second")
	require.GreaterOrEqual(t, len(got), 3, "about one a second for %v", elapsed)
	require.Greater(t, got[len(got)-1].Event.Step, len(got), "not every step")
}
