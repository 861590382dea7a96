package webgpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/grammar"
	"pretune/core/ops"
)

// BenchmarkTrainStep measures training steps of the "small" preset (the README's model) on the
// CPU device and on WebGPU in the same run, in tokens/s.
//
//	go test -run '^$' -bench TrainStep -benchtime 10x ./webgpu/
func BenchmarkTrainStep(b *testing.B) {
	for _, name := range []string{"cpu", "webgpu"} {
		b.Run(name, func(b *testing.B) {
			var dev ops.Device = ops.NewCPU()
			if name == "webgpu" {
				dev = testDevice(b)
			}
			cfg := core.DefaultConfig()
			cfg.Steps = b.N + 1 + cfg.Warmup // the schedule needs Steps >= Warmup
			tr, err := core.NewTrainer(dev, cfg, grammar.Text(3, 2000), grammar.Text(4, 100))
			require.NoError(b, err)
			defer tr.Model.Free()
			_, err = tr.Step() // compile kernels and fill pools outside the timer
			require.NoError(b, err)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, err := tr.Step()
				require.NoError(b, err)
			}
			b.ReportMetric(float64(cfg.Batch*cfg.Context*b.N)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}
