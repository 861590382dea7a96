package bench

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

func TestAllReportsEveryFigure(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a few seconds")
	}
	got := map[string]float64{}
	require.NoError(t, All(ops.NewCPU(), func(name string, v float64, unit string) {
		require.Greater(t, v, 0.0, name)
		got[name+" "+unit] = v
	}))
	for _, want := range []string{"matmul NN 64 GFLOP/s", "matmul TN 256 GFLOP/s", "train step tiny tokens/s", "train step small time ms/step"} {
		require.Contains(t, got, want)
	}
}

func TestUnknownPreset(t *testing.T) {
	require.ErrorContains(t, TrainStep(ops.NewCPU(), "huge", func(string, float64, string) {}), "unknown model size")
}
