package webgpu

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
)

// trainText is a small deterministic corpus: enough distinct characters and structure for the
// loss to move in a few steps.
func trainText(seed uint64, sentences int) string {
	subjects := []string{"the cat", "a dog", "my friend", "the old man", "she", "we"}
	verbs := []string{"sees", "likes", "finds", "paints", "carries", "wants"}
	objects := []string{"a red ball", "the river", "two apples", "the moon", "bread", "a small boat"}
	r := rng(seed)
	var sb strings.Builder
	for i := 0; i < sentences; i++ {
		sb.WriteString(subjects[r.next()%uint64(len(subjects))])
		sb.WriteByte(' ')
		sb.WriteString(verbs[r.next()%uint64(len(verbs))])
		sb.WriteByte(' ')
		sb.WriteString(objects[r.next()%uint64(len(objects))])
		sb.WriteString(". ")
	}
	return sb.String()
}

// trainLosses runs steps of the core trainer on dev: a 16-channel, 2-layer model with dropout,
// so every op of the device takes part (forward, backward, AdamW with clipping).
func trainLosses(t *testing.T, dev core.Device, steps int) []float64 {
	cfg := core.DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 16, 2, 2, 16
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 4, steps, 3, 1000, 1
	cfg.Dropout, cfg.Seed = 0.1, 7
	tr, err := core.NewTrainer(dev, cfg, trainText(1, 300), trainText(2, 40))
	require.NoError(t, err)
	var losses []float64
	for !tr.Done() {
		loss, err := tr.Step()
		require.NoError(t, err)
		losses = append(losses, loss)
	}
	tr.Model.Free()
	return losses
}

// TestTraining trains the same seeded model on the CPU and on WebGPU: the losses agree within
// float32 re-association drift, they go down, and a second WebGPU run repeats the first bit for
// bit.
func TestTraining(t *testing.T) {
	d := testDevice(t)
	const steps = 12
	want := trainLosses(t, core.NewCPU(), steps)
	got := trainLosses(t, d, steps)
	require.Len(t, got, steps)
	worst := 0.0
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-4*math.Abs(want[i]), "step %d: webgpu %v, cpu %v", i+1, got[i], want[i])
		worst = max(worst, math.Abs(got[i]-want[i])/math.Abs(want[i]))
	}
	t.Logf("losses %.4f -> %.4f; largest relative difference from the CPU %.2g", got[0], got[steps-1], worst)
	require.Less(t, got[steps-1], got[0], "the loss goes down")
	again := trainLosses(t, d, steps)
	for i := range got {
		require.Equal(t, math.Float64bits(got[i]), math.Float64bits(again[i]), "step %d repeats exactly", i+1)
	}
	require.NoError(t, d.Flush())
}
