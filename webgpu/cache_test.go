package webgpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

// TestCacheEviction runs AdamW steps, whose bias corrections give every step a new uniform,
// with the uniform cache capped at 4 so that uniforms and bind groups are dropped and rebuilt
// many times (also while earlier batches may still run), and checks the result against the CPU.
func TestCacheEviction(t *testing.T) {
	d, err := newTestDevice(Options{AllowSoftware: true, MaxBatch: 5})
	noAdapter(t, err)
	require.NoError(t, err)
	defer d.Close()
	d.maxUniforms = 4

	const n, steps = 1000, 60
	r := rng(21)
	p0, g := r.uniform(n), r.uniform(n)
	run := func(dev ops.Device) []float32 {
		p, gb, m, v := dev.Alloc(n), dev.Alloc(n), dev.Alloc(n), dev.Alloc(n)
		dev.Upload(p, p0)
		dev.Upload(gb, g)
		b1, b2 := float32(1), float32(1)
		for step := 1; step <= steps; step++ {
			b1 *= 0.9
			b2 *= 0.999
			dev.AdamW(p, gb, m, v, n, ops.AdamWArgs{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
				WeightDecay: 0.01, BiasCorr1: 1 - b1, BiasCorr2: 1 - b2, GradScale: 1})
			dev.Scale(gb, n, 0.99)
		}
		out := make([]float32, n)
		require.NoError(t, dev.Download(p, out))
		for _, b := range []ops.Buf{p, gb, m, v} {
			dev.Free(b)
		}
		return out
	}
	want := run(ops.NewCPU())
	got := run(d)
	require.LessOrEqual(t, len(d.uniforms), 2*d.maxUniforms, "the cache was dropped")
	requireClose(t, got, want, 1e-6, 1e-4)
}
