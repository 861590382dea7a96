package webgpu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// TestAttnSoftmaxShapes checks the mask edge cases against the CPU: Tk > Tq (a prefix every
// query sees), Tk < Tq under the causal mask (the first rows see no key and must be all zeros),
// rows longer than the workgroup, and masked probabilities that must be exactly 0.
func TestAttnSoftmaxShapes(t *testing.T) {
	d := testDevice(t)
	cpu := ops.NewCPU()
	for _, c := range []struct {
		BH, Tq, Tk int
		mode       ops.MaskMode
	}{
		{3, 5, 9, ops.Causal},
		{2, 9, 4, ops.Causal},
		{1, 7, 7, ops.Bidirectional},
		{2, 3, 200, ops.Causal},
	} {
		t.Run(fmt.Sprintf("%v/BH=%d,Tq=%d,Tk=%d", c.mode, c.BH, c.Tq, c.Tk), func(t *testing.T) {
			n := c.BH * c.Tq * c.Tk
			r := rng(n)
			sv := r.uniform(n)
			cs, cp := cpu.Alloc(n), cpu.Alloc(n)
			cpu.Upload(cs, sv)
			cpu.AttnSoftmax(cp, cs, c.BH, c.Tq, c.Tk, 0.7, c.mode)
			want := make([]float32, n)
			require.NoError(t, cpu.Download(cp, want))

			gs, gp := upload(t, d, sv), upload(t, d, r.uniform(n)) // p starts as garbage
			d.AttnSoftmax(gp, gs, c.BH, c.Tq, c.Tk, 0.7, c.mode)
			got := download(t, d, gp)
			d.Free(gs)
			d.Free(gp)
			requireClose(t, got, want, 1e-6, 1e-5)
			for i := range want {
				if want[i] == 0 {
					require.Zero(t, got[i], "masked probability %d", i)
				}
			}
		})
	}
}
