package core

import (
	"strings"
	"testing"

	"pretune/core/grammar"
	"pretune/core/ops"
)

// benchText has about a hundred distinct characters, like the sample corpora, so the LM head's
// cost is realistic.
func benchText() string {
	var sb strings.Builder
	sb.WriteString(grammar.Text(9, 400))
	for r := rune(32); r < 127; r++ {
		sb.WriteRune(r)
	}
	return sb.String()
}

// BenchmarkTrainStep measures one training step (forward, backward, AdamW) of each size preset on
// the CPU device, in tokens per second and milliseconds per step.
func BenchmarkTrainStep(b *testing.B) {
	for _, p := range SizePresets() {
		b.Run(p.Name, func(b *testing.B) {
			cfg := p.Config
			cfg.Steps = max(cfg.Steps, b.N+2)
			cfg.EvalEvery = cfg.Steps // no evaluation inside the timed steps
			text := benchText()
			tr, err := NewTrainer(ops.NewCPU(), cfg, text, text[:1000])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := tr.Step(); err != nil { // warm up allocations
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := tr.Step(); err != nil {
					b.Fatal(err)
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*cfg.Batch*cfg.Context)/s, "tokens/s")
			b.ReportMetric(1000*s/float64(b.N), "ms/step")
			b.ReportMetric(float64(tr.Model.ParamCount()), "params")
		})
	}
}
