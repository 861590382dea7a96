package webgpu

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/golden"
)

// TestGoldenRun trains the golden run (core/golden) on WebGPU: every loss agrees with the
// CPU device's recorded ones (core/testdata/golden.json) within 1e-4 relative (float32
// re-association in the GPU's reductions drifts a little over 50 steps), and a second run on the
// same adapter repeats the first bit for bit, final weights included.
func TestGoldenRun(t *testing.T) {
	d := testDevice(t)
	data, err := os.ReadFile(filepath.Join("..", "core", "testdata", "golden.json"))
	require.NoError(t, err)
	var recorded struct {
		Losses []string `json:"losses"`
	}
	require.NoError(t, json.Unmarshal(data, &recorded))
	got, hash, err := golden.Run(d)
	require.NoError(t, err)
	require.Len(t, got, len(recorded.Losses))
	worst := 0.0
	for i, hex := range recorded.Losses {
		bits, err := strconv.ParseUint(hex, 0, 64)
		require.NoError(t, err)
		want := math.Float64frombits(bits)
		require.InDelta(t, want, got[i], 1e-4*math.Abs(want), "step %d: webgpu %v, cpu %v", i+1, got[i], want)
		worst = max(worst, math.Abs(got[i]-want)/math.Abs(want))
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
