package webgpu

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/golden"
	"pretune/core/grammar"
	"pretune/core/ops"
)

// shardedRun trains the golden config in 4 shards on dev (a GPU computes the shards one after
// another on itself, summing them there) and returns its losses and final weights' hash.
func shardedRun(t *testing.T, dev ops.Device) ([]float64, string) {
	t.Helper()
	cfg := golden.Config()
	cfg.Steps, cfg.Shards = 20, 4
	tr, err := core.NewTrainer(dev, cfg, grammar.Text(5, 300), grammar.Text(6, 40))
	require.NoError(t, err)
	defer tr.Model.Free()
	var losses []float64
	for !tr.Done() {
		loss, err := tr.Step()
		require.NoError(t, err)
		losses = append(losses, loss)
	}
	hash, err := tr.Model.WeightsHash()
	require.NoError(t, err)
	return losses, hash
}

// TestShardedRunOnWebGPU: a sharded run on WebGPU agrees with the CPU device's sharded run
// within the golden run's tolerance and repeats exactly.
func TestShardedRunOnWebGPU(t *testing.T) {
	d := testDevice(t)
	want, _ := shardedRun(t, ops.NewCPU())
	got, hash := shardedRun(t, d)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-4*math.Abs(want[i]), "step %d: webgpu %v, cpu %v", i+1, got[i], want[i])
	}
	again, hashAgain := shardedRun(t, d)
	require.Equal(t, got, again)
	require.Equal(t, hash, hashAgain)
}
