package webgpu

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/golden"
	"pretune/core/ops"
)

// TestGoldenRun trains the golden run (core/golden) on WebGPU: every loss agrees with the
// CPU device's (cpuGoldenLosses) within 1e-4 relative (float32
// re-association in the GPU's reductions drifts a little over 50 steps), and a second run on the
// same adapter repeats the first bit for bit, final weights included.
func TestGoldenRun(t *testing.T) {
	d := testDevice(t)
	want := cpuGoldenLosses(t)
	got, hash, err := golden.Run(d)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	worst := 0.0
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-4*math.Abs(want[i]), "step %d: webgpu %v, cpu %v", i+1, got[i], want[i])
		worst = max(worst, math.Abs(got[i]-want[i])/math.Abs(want[i]))
	}
	t.Logf("losses %.4f -> %.4f; largest relative difference from the CPU device %.2g", got[0], got[len(got)-1], worst)
	again, hashAgain, err := golden.Run(d)
	require.NoError(t, err)
	for i := range got {
		require.Equal(t, math.Float64bits(got[i]), math.Float64bits(again[i]), "step %d repeats exactly", i+1)
	}
	require.Equal(t, hash, hashAgain, "final weights repeat exactly")
	require.NoError(t, d.Flush())
}

// cpuGoldenLosses are the CPU device's losses of the golden run: natively the recorded ones
// (core/testdata/golden.json); in the browser, which has no file system to read them from, the
// CPU device's own run, which core's TestGoldenRun pins to that file bit for bit on every
// platform, wasm included.
func cpuGoldenLosses(t *testing.T) []float64 {
	t.Helper()
	if runtime.GOOS == "js" {
		losses, _, err := golden.Run(ops.NewCPU())
		require.NoError(t, err)
		return losses
	}
	data, err := os.ReadFile(filepath.Join("..", "core", "testdata", "golden.json"))
	require.NoError(t, err)
	var recorded struct {
		Losses []string `json:"losses"`
	}
	require.NoError(t, json.Unmarshal(data, &recorded))
	losses := make([]float64, len(recorded.Losses))
	for i, hex := range recorded.Losses {
		bits, err := strconv.ParseUint(hex, 0, 64)
		require.NoError(t, err)
		losses[i] = math.Float64frombits(bits)
	}
	return losses
}
