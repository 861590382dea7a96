package webgpu

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// TestDropoutMask checks that dropout.wgsl draws exactly ops.DropoutBits' mask (keys with both
// halves of the 64-bit seed set, large steps and sites), scales kept values by 1/(1-rate), and
// that the backward pass adds through the same mask.
func TestDropoutMask(t *testing.T) {
	d := testDevice(t)
	const n = 5000
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	for _, c := range []struct {
		rate float32
		key  ops.DropoutKey
	}{
		{0.1, ops.DropoutKey{Seed: 1, Step: 0, Site: 0}},
		{0.5, ops.DropoutKey{Seed: 0xdeadbeefcafef00d, Step: 123456, Site: 7}},
		{0.9, ops.DropoutKey{Seed: 1 << 40, Step: 0xffffffff, Site: 0xfffffffe}},
		{0, ops.DropoutKey{Seed: 3}},
	} {
		t.Run(fmt.Sprintf("rate=%v/seed=%#x", c.rate, c.key.Seed), func(t *testing.T) {
			x, out := upload(t, d, ones), d.Alloc(n)
			dx := upload(t, d, ones)
			d.Dropout(out, x, n, c.rate, c.key)
			d.DropoutBackward(dx, x, n, c.rate, c.key)
			got, gotDx := download(t, d, out.(*buffer)), download(t, d, dx)
			for _, b := range []ops.Buf{x, out, dx} {
				d.Free(b)
			}
			threshold := ops.DropoutThreshold(c.rate)
			scale := 1 / (1 - c.rate)
			kept := 0
			for i := range got {
				keep := ops.DropoutBits(c.key.Seed, c.key.Step, c.key.Site, uint32(i)) >= threshold
				want := float32(0)
				if keep {
					want = scale
					kept++
				}
				require.InDelta(t, want, got[i], 1e-6*float64(scale), "forward %d", i)
				require.InDelta(t, 1+want, gotDx[i], 1e-6*float64(scale), "backward %d", i)
			}
			require.InDelta(t, float64(1-c.rate), float64(kept)/n, 0.03, "share kept")
		})
	}
}
