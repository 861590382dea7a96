package core

import (
	"strings"

	"pretune/core/ops"
)

// The golden run is a short seeded training run that pins a device's arithmetic: on the CPU
// device its 50 losses and final weights are recorded bit for bit in core/testdata/golden.json
// (natively, with GOAMD64=v3 and under wasm they must all match), and other devices are checked
// against the same numbers within their stated tolerance (webgpu's golden test).

// GoldenConfig is the golden run's config: 50 steps of a 16-channel, 2-layer model with dropout
// 0.1, so every op takes part (AdamW with clipping and warm-up/cosine included).
func GoldenConfig() Config {
	cfg := DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 16, 2, 2, 16
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 4, 50, 5, 25, 2
	cfg.Dropout, cfg.Seed = 0.1, 42
	return cfg
}

// GoldenRun trains the golden config on dev and returns its per-step losses and the final
// weights' hash.
func GoldenRun(dev ops.Device) (losses []float64, weightsHash string, err error) {
	tr, err := NewTrainer(dev, GoldenConfig(), GrammarText(5, 300), GrammarText(6, 40))
	if err != nil {
		return nil, "", err
	}
	defer tr.Model.Free()
	for !tr.Done() {
		loss, err := tr.Step()
		if err != nil {
			return nil, "", err
		}
		losses = append(losses, loss)
	}
	weightsHash, err = tr.Model.WeightsHash()
	return losses, weightsHash, err
}

// GrammarText writes n sentences from a small seeded grammar: enough structure that a model can
// predict far better than letter frequencies alone. Tests and benchmarks train on it.
func GrammarText(seed uint64, n int) string {
	r := NewRNG(seed, "test-grammar")
	subjects := []string{"the cat", "a dog", "my friend", "the old man", "a small bird"}
	verbs := []string{"sees", "likes", "finds", "follows", "paints"}
	objects := []string{"the river", "a red ball", "the garden", "some bread", "the moon"}
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(subjects[r.Intn(len(subjects))])
		sb.WriteString(" ")
		sb.WriteString(verbs[r.Intn(len(verbs))])
		sb.WriteString(" ")
		sb.WriteString(objects[r.Intn(len(objects))])
		sb.WriteString(".\n")
	}
	return sb.String()
}
