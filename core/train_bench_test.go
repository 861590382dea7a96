package core

import (
	"sort"
	"strings"
	"testing"
	"time"

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

// BenchmarkShards measures data-parallel steps of the small preset on the CPU device: "1core"
// is the unsharded step on one core (one goroutine, matmuls included), the baseline; "S<n>" cuts
// the batch into n shards computed on min(n, GOMAXPROCS) goroutines. Compare tokens/s:
//
//	go test -run '^$' -bench 'BenchmarkShards' -benchtime 30x ./core/
//
// The ratio S2/1core on 2 cores is the target (>= 1.6); S4 and S8 show what more shards
// cost where there are no more cores, and gain where there are.
func BenchmarkShards(b *testing.B) {
	type variant struct {
		name            string
		shards, threads int // threads 0: every core
	}
	for _, v := range []variant{{"1core", 1, 1}, {"S1", 1, 0}, {"S2", 2, 0}, {"S4", 4, 0}, {"S8", 8, 0}} {
		b.Run(v.name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Shards = v.shards
			cfg.Steps = max(cfg.Steps, b.N+2)
			cfg.EvalEvery = cfg.Steps
			text := benchText()
			tr, err := NewTrainer(&ops.CPU{Threads: v.threads}, cfg, text, text[:1000])
			if err != nil {
				b.Fatal(err)
			}
			if v.threads == 1 {
				tr.Runner = NewLocalShards(tr.Model, 1)
			}
			if _, err := tr.Step(); err != nil {
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
		})
	}
}

// BenchmarkShardsInterleaved measures the same variants as BenchmarkShards, plus 4 shards on one
// core, taking one step of each in turn, b.N rounds, and reports each variant's median step as
// tokens/s and its ratio to the one-core step: alternating keeps a busy machine's drifting load
// out of the ratios. Under wasm (one thread) only the one-core variants mean anything:
//
//	go test -run '^$' -bench ShardsInterleaved -benchtime 30x ./core/
//	GOOS=js GOARCH=wasm go test -run '^$' -bench ShardsInterleaved -benchtime 20x -exec=$(go env GOROOT)/lib/wasm/go_js_wasm_exec ./core/
func BenchmarkShardsInterleaved(b *testing.B) {
	type variant struct {
		name                     string
		shards, threads, workers int // 0: every core
	}
	variants := []variant{{"1core", 1, 1, 1}, {"S4_1core", 4, 1, 1}, {"S1", 1, 0, 0}, {"S2", 2, 0, 0}, {"S4", 4, 0, 0}, {"S8", 8, 0, 0}}
	text := benchText()
	trainers := make([]*Trainer, len(variants))
	for i, v := range variants {
		cfg := DefaultConfig()
		cfg.Shards = v.shards
		cfg.Steps = max(cfg.Steps, b.N+2)
		cfg.EvalEvery = cfg.Steps
		tr, err := NewTrainer(&ops.CPU{Threads: v.threads}, cfg, text, text[:1000])
		if err != nil {
			b.Fatal(err)
		}
		tr.Runner = NewLocalShards(tr.Model, v.workers)
		if _, err := tr.Step(); err != nil {
			b.Fatal(err)
		}
		trainers[i] = tr
	}
	times := make([][]float64, len(variants))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, tr := range trainers {
			start := time.Now()
			if _, err := tr.Step(); err != nil {
				b.Fatal(err)
			}
			times[i] = append(times[i], time.Since(start).Seconds())
		}
	}
	b.StopTimer()
	cfg := DefaultConfig()
	var base float64
	for i, v := range variants {
		sort.Float64s(times[i])
		med := times[i][len(times[i])/2]
		tps := float64(cfg.Batch*cfg.Context) / med
		if i == 0 {
			base = tps
		}
		b.ReportMetric(tps, v.name+"_tokens/s")
		b.ReportMetric(tps/base, v.name+"_x")
	}
}
