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

// peftMethods are the golden method runs of DoRA, IA3, BitFit and LayerNorm tuning. DoRA and
// IA3 run their own WGSL kernels (ScaleCols, WeightNorm and their backwards); BitFit and
// LayerNorm tuning only choose what trains. In the browser (the in-browser suite runs every
// test of the package, on SwiftShader) the two with kernels of their own run: 25 s for all four
// there.
var peftMethods = func() []string {
	if runtime.GOOS == "js" {
		return []string{"dora", "ia3"}
	}
	return []string{"dora", "ia3", "bitfit", "ln-tuning"}
}()

// TestPEFTMethodsAgreeWithTheCPU trains each method's golden run (core/golden.RunMethod: 16
// steps of a 2-layer model with dropout) on WebGPU: every loss within 1e-4 relative of the CPU
// device's (the golden run's tolerance), and the first loss, before any update, the same bits as
// LoRA's on this device: DoRA and IA3 start at the base exactly here too (LoRA's B = 0 adds
// exactly nothing; WeightNorm's scale is exactly 1 and IA3's vectors are ones), and BitFit and
// LayerNorm tuning change only what trains.
func TestPEFTMethodsAgreeWithTheCPU(t *testing.T) {
	d := testDevice(t)
	want := cpuMethodLosses(t)
	lora, _, err := golden.RunMethod(d, "lora")
	require.NoError(t, err)
	for _, name := range peftMethods {
		t.Run(name, func(t *testing.T) {
			got, _, err := golden.RunMethod(d, name)
			require.NoError(t, err)
			require.Len(t, got, len(want[name]))
			require.Equal(t, math.Float64bits(lora[0]), math.Float64bits(got[0]), "the first loss is the base model's, bit for bit")
			worst := 0.0
			for i := range got {
				require.InDelta(t, want[name][i], got[i], 1e-4*math.Abs(want[name][i]), "step %d: webgpu %v, cpu %v", i+1, got[i], want[name][i])
				worst = max(worst, math.Abs(got[i]-want[name][i])/math.Abs(want[name][i]))
			}
			t.Logf("losses %.4f -> %.4f; largest relative difference from the CPU device %.2g", got[0], got[len(got)-1], worst)
		})
	}
	require.NoError(t, d.Flush())
}

// cpuMethodLosses are the CPU device's losses of the golden method runs: natively the recorded
// ones (core/testdata/golden_methods.json), in the browser the CPU device's own runs.
func cpuMethodLosses(t *testing.T) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	if runtime.GOOS == "js" {
		for _, name := range peftMethods {
			losses, _, err := golden.RunMethod(ops.NewCPU(), name)
			require.NoError(t, err)
			out[name] = losses
		}
		return out
	}
	data, err := os.ReadFile(filepath.Join("..", "core", "testdata", "golden_methods.json"))
	require.NoError(t, err)
	var recorded struct {
		Runs []struct {
			Method string   `json:"method"`
			Losses []string `json:"losses"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(data, &recorded))
	for _, r := range recorded.Runs {
		for _, hex := range r.Losses {
			bits, err := strconv.ParseUint(hex, 0, 64)
			require.NoError(t, err)
			out[r.Method] = append(out[r.Method], math.Float64frombits(bits))
		}
	}
	for _, name := range peftMethods {
		require.NotEmpty(t, out[name], "golden_methods.json has no run of %s", name)
	}
	return out
}
