package webgpu

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/golden"
	"pretune/core/ops"
)

// TestNewMethodsAgreeWithTheCPU trains the golden runs of #17's methods (core/golden: LoRA+,
// PiSSA, prompt tuning under a class head; 16 steps each, dropout on) on WebGPU and on the CPU
// device: every step's loss agrees within 1e-4 relative, the golden run's tolerance. They add no
// kernel: LoRA+ is a learning rate per tensor, PiSSA's SVD runs on the host at attach time and
// its residual is uploaded, and prompt tuning is Embed gathers and MatMuls; what this checks is
// that those ops compose on the GPU as on the CPU (the soft tokens' table written by a partial
// MatMul, the in-place Add, the scatter of the real rows' gradient).
func TestNewMethodsAgreeWithTheCPU(t *testing.T) {
	d := testDevice(t)
	for _, name := range []string{"loraplus", "pissa", "prompt"} {
		t.Run(name, func(t *testing.T) {
			want, _, err := golden.RunMethod(ops.NewCPU(), name)
			require.NoError(t, err)
			got, _, err := golden.RunMethod(d, name)
			require.NoError(t, err)
			require.Len(t, got, len(want))
			worst := 0.0
			for i := range want {
				require.InDelta(t, want[i], got[i], 1e-4*math.Abs(want[i]), "step %d: webgpu %v, cpu %v", i+1, got[i], want[i])
				worst = max(worst, math.Abs(got[i]-want[i])/math.Abs(want[i]))
			}
			t.Logf("losses %.4f -> %.4f; largest relative difference from the CPU device %.2g", got[0], got[len(got)-1], worst)
		})
	}
	require.NoError(t, d.Flush())
}
