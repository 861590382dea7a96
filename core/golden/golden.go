// Package golden holds the golden runs: short seeded training runs that pin a device's
// arithmetic. On the CPU device their per-step losses and final weights are recorded bit for bit
// in core/testdata (core's golden tests check them natively, with GOAMD64=v3 and under wasm), and
// other devices are checked against the same numbers within their stated tolerance (webgpu's
// golden test). It is test support: nothing on the training path imports it.
package golden

import (
	"fmt"

	"pretune/core"
	"pretune/core/grammar"
	"pretune/core/ops"
	"pretune/core/task"
)

// Config is the plain golden run's config: 50 steps of a 16-channel, 2-layer model with dropout
// 0.1, so every op takes part (AdamW with clipping and warm-up/cosine included).
func Config() core.Config {
	cfg := core.DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 16, 2, 2, 16
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 4, 50, 5, 25, 2
	cfg.Dropout, cfg.Seed = 0.1, 42
	return cfg
}

// Run trains the plain golden config (causal pretraining) on dev and returns its per-step losses
// and the final weights' hash.
func Run(dev ops.Device) (losses []float64, weightsHash string, err error) {
	tr, err := core.NewTrainer(dev, Config(), grammar.Text(5, 300), grammar.Text(6, 40))
	if err != nil {
		return nil, "", err
	}
	defer tr.Model.Free()
	return train(tr.Model, tr.Done, tr.Step)
}

// Methods are the fine-tuning methods' golden runs, by name, in a fixed order.
var Methods = []string{"sft-full", "lora", "adapter", "prefix", "class-head", "masked-lm",
	// #17's methods.
	"dora", "ia3", "bitfit", "ln-tuning", "loraplus", "pissa", "prompt",
}

// methodSteps is each method run's length: warm-up, the cosine and several passes over the tiny
// tasks, and all six runs together take about two seconds under wasm.
const methodSteps = 16

// methodConfig is the methods' base model: smaller than the plain run's and trained from its
// random initialisation (the runs pin arithmetic, not learning), dropout on.
func methodConfig(vocab int) core.Config {
	cfg := core.DefaultConfig()
	cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = vocab, 16, 2, 2, 16
	cfg.Batch, cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 4, methodSteps, 3, methodSteps, 1
	cfg.LR, cfg.MinLR = 1e-2, 1e-3
	cfg.Dropout, cfg.Seed = 0.1, 43
	return cfg
}

// The tiny tasks the methods fine-tune on.
var (
	sounds = &task.Task{ID: "golden-sounds", Lang: "en", Kind: task.KindGenerate, TrainPairs: []task.Pair{
		{Prompt: "the cat", Response: "meow"}, {Prompt: "a dog", Response: "woof"}, {Prompt: "the cow", Response: "moo"},
		{Prompt: "an owl", Response: "hoot"}, {Prompt: "a bee", Response: "buzz"}, {Prompt: "the pig", Response: "oink"},
	}, ValPairs: []task.Pair{{Prompt: "the dog", Response: "woof"}, {Prompt: "a cat", Response: "meow"}}}
	colours = &task.Task{ID: "golden-colours", Lang: "en", Kind: task.KindClassify, Labels: []string{"red", "blue"},
		TrainExamples: []task.Example{{Text: "a red ball", Label: 0}, {Text: "the blue sky", Label: 1}, {Text: "a red fox", Label: 0},
			{Text: "the blue sea", Label: 1}, {Text: "my red hen", Label: 0}, {Text: "a blue car", Label: 1}},
		ValExamples: []task.Example{{Text: "the red cap", Label: 0}, {Text: "a blue jay", Label: 1}}}
)

// RunMethod trains the named method's golden run on dev: a fresh model of methodConfig, the
// method attached, fine-tuned for methodSteps steps (masked-lm: pretrained with the masked
// objective). It returns the per-step losses and the hash of every weight, the method's included.
func RunMethod(dev ops.Device, name string) (losses []float64, weightsHash string, err error) {
	text := grammar.Text(7, 120)
	if name == "masked-lm" {
		tr, err := core.NewMLMTrainer(dev, methodConfig(0), text, grammar.Text(8, 20), core.DefaultMLM())
		if err != nil {
			return nil, "", err
		}
		defer tr.Model.Free()
		return train(tr.Model, tr.Done, tr.Step)
	}
	t := sounds
	if name == "class-head" || name == "prompt" {
		t = colours // the sounds' pairs fill the context: no room for soft tokens
	}
	tk, err := core.NewTokenizer(text + string(sounds.Alphabet()) + string(colours.Alphabet()))
	if err != nil {
		return nil, "", err
	}
	m, err := core.NewModel(dev, methodConfig(tk.VocabSize()))
	if err != nil {
		return nil, "", err
	}
	defer m.Free()
	o := core.FineTuneOptions{}
	switch name {
	case "sft-full":
		// Response-only weights, with one row of replayed pretraining text per batch.
		o.ReplayRows, o.ReplayText = 1, text
	case "lora":
		_, err = m.AttachLoRA(core.LoRAConfig{Rank: 2, Alpha: 6, Dropout: 0.1, Targets: core.LoRATargets[:]}, 5)
	case "adapter":
		_, err = m.AttachAdapters(core.AdapterConfig{Size: 4}, 5)
	case "prefix":
		_, err = m.AttachPrefix(core.PrefixConfig{Len: 3}, nil, 5)
	case "dora":
		_, err = m.AttachLoRA(core.LoRAConfig{Rank: 2, Alpha: 4, UseDoRA: true, Targets: core.LoRATargets[:]}, 5)
	case "ia3":
		_, err = m.AttachIA3(core.DefaultIA3())
	case "bitfit":
		m.AttachBitFit()
	case "ln-tuning":
		m.AttachLNTuning()
	case "class-head":
		// The body trains too, with bidirectional attention and mean pooling.
		m.Mask = ops.Bidirectional
		_, err = m.AttachClassHead(len(t.Labels), true, 5)
	case "loraplus":
		// B's rate is 16× A's: A's a fifth of the others' keeps B's (3.2e-2) in the range
		// where a short run is smooth, so that other devices can follow it within tolerance.
		m.Cfg.LR, m.Cfg.MinLR = 2e-3, 2e-4
		_, err = m.AttachLoRAPlus(core.LoRAConfig{Rank: 2, Alpha: 4, Targets: core.LoRATargets[:]}, core.DefaultLoRAPlusRatio, 5)
	case "pissa":
		_, err = m.AttachPiSSA(core.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj", "fc_in", "fc_out"}})
	case "prompt":
		// Under a class head (the body frozen): the soft tokens, the gather of the real rows
		// and the pooling of the last real token all take part.
		if _, err = m.AttachPrompt(core.PromptConfig{Len: 3}, nil, 5); err == nil {
			_, err = m.AttachClassHead(len(t.Labels), false, 5)
		}
	default:
		err = fmt.Errorf("golden: unknown method %q; the methods are %v", name, Methods)
	}
	if err != nil {
		return nil, "", err
	}
	ft, err := core.NewFineTuner(m, tk, t, o)
	if err != nil {
		return nil, "", err
	}
	return train(m, ft.Done, ft.Step)
}

// train steps until done and returns the losses and the final weights' hash.
func train(m *core.Model, done func() bool, step func() (float64, error)) ([]float64, string, error) {
	var losses []float64
	for !done() {
		loss, err := step()
		if err != nil {
			return nil, "", err
		}
		losses = append(losses, loss)
	}
	hash, err := m.WeightsHash()
	return losses, hash, err
}
