package job

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// TestProgressIsPaced runs the tiny preset with a fake clock that moves 400 ms per step: the
// run must report its first step at once, then one step in three (the first 1 s or more after
// the last one reported), each with its loss and speed, and train exactly as without them.
func TestProgressIsPaced(t *testing.T) {
	spec := tinySpec(t)
	plain, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)

	var now time.Time
	clock := func() time.Time { now = now.Add(400 * time.Millisecond); return now }
	var steps []int
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{
		ProgressEvery: time.Second, Clock: clock,
		OnEvent: func(e Event) {
			if e.Event != "progress" {
				return
			}
			require.Equal(t, MethodPretrain, e.Method)
			require.Equal(t, spec.Config.Steps, e.Steps)
			require.Greater(t, e.TrainLoss, 0.0)
			require.Greater(t, e.TokensPerS, 0.0)
			steps = append(steps, e.Step)
		},
	})
	require.NoError(t, err)
	var want []int
	for s := 1; s <= spec.Config.Steps; s += 3 {
		want = append(want, s)
	}
	require.Equal(t, want, steps)
	require.Equal(t, plain.Final.Fingerprint, res.Final.Fingerprint, "progress events change nothing in the run")

	var none int
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{OnEvent: func(e Event) {
		if e.Event == "progress" {
			none++
		}
	}})
	require.NoError(t, err)
	require.Zero(t, none, "without ProgressEvery a pretraining reports only its evaluations")
}
