package core

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
	"pretune/core/task"
)

// smallModel is a model from scratch big enough to memorise a handful of examples quickly.
func smallModel(t *testing.T, tk *Tokenizer, steps int, lr float32) *Model {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = tk.VocabSize(), 24, 2, 2, 32
	cfg.Batch, cfg.Steps, cfg.LR, cfg.MinLR, cfg.Warmup, cfg.EvalEvery, cfg.Seed = 8, steps, lr, lr/10, 10, 50, 2
	m, err := NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	return m
}

func lookupTask() *task.Task {
	pairs := []task.Pair{{Prompt: "cat", Response: "meow"}, {Prompt: "dog", Response: "woof"}, {Prompt: "cow", Response: "moo"}, {Prompt: "owl", Response: "hoot"}, {Prompt: "bee", Response: "buzz"}, {Prompt: "pig", Response: "oink"}}
	return &task.Task{ID: "test", Lang: "en", Kind: task.KindGenerate, TrainPairs: pairs, ValPairs: pairs[:4]}
}

func tokenizerFor(t *testing.T, tt *task.Task) *Tokenizer {
	tk, err := NewTokenizer(string(tt.Alphabet()))
	require.NoError(t, err)
	return tk
}

// TestFineTuneMethodsLearn: every method, from the same random model, lowers the held-out task loss;
// full fine-tuning memorises the pairs (the held-out pairs are training pairs here).
func TestFineTuneMethodsLearn(t *testing.T) {
	if testing.Short() {
		t.Skip("trains five small models")
	}
	tt := lookupTask()
	tk := tokenizerFor(t, tt)
	cases := []struct {
		name   string
		lr     float32
		attach func(m *Model) error
		minAcc float64
		drop   float64 // the held-out loss must fall below this share of its start
	}{
		{"full", 3e-3, func(m *Model) error { return nil }, 1, 0.3},
		{"lora", 3e-2, func(m *Model) error {
			_, err := m.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8, Targets: LoRATargets[:]}, 1)
			return err
		}, 0, 0.9},
		// A frozen random model leaves an adapter or a prefix little to work with: they must
		// still lower the loss clearly.
		{"adapter", 3e-2, func(m *Model) error { _, err := m.AttachAdapters(AdapterConfig{Size: 8}, 1); return err }, 0, 0.9},
		{"prefix", 3e-2, func(m *Model) error { _, err := m.AttachPrefix(PrefixConfig{Len: 4}, nil, 1); return err }, 0, 0.97},
		// DoRA, IA3, BitFit and LayerNorm tuning: each must lower the loss clearly too.
		{"dora", 3e-2, func(m *Model) error {
			_, err := m.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8, UseDoRA: true, Targets: LoRATargets[:]}, 1)
			return err
		}, 0, 0.9},
		{"ia3", 1e-1, func(m *Model) error { _, err := m.AttachIA3(DefaultIA3()); return err }, 0, 0.95},
		{"bitfit", 3e-2, func(m *Model) error { m.AttachBitFit(); return nil }, 0, 0.9},
		{"ln_tuning", 3e-2, func(m *Model) error { m.AttachLNTuning(); return nil }, 0, 0.85},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := smallModel(t, tk, 150, c.lr)
			require.NoError(t, c.attach(m))
			ft, before, after := fineTuneWhole(t, m, tk, tt)
			require.Less(t, after, before*c.drop, "held-out task loss %.3f -> %.3f", before, after)
			acc, err := ft.Accuracy()
			require.NoError(t, err)
			require.GreaterOrEqual(t, acc, c.minAcc)
		})
	}
}

// TestFineTuneSameSeedSameRun: two runs with the same seed are bit-identical; the data order
// does not depend on the method.
func TestFineTuneSameSeedSameRun(t *testing.T) {
	tt := lookupTask()
	tk := tokenizerFor(t, tt)
	run := func() (string, []float64) {
		m := smallModel(t, tk, 12, 3e-3)
		_, err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Dropout: 0.1, Targets: []string{"q_proj", "fc_in"}}, 3)
		require.NoError(t, err)
		ft, err := NewFineTuner(m, tk, tt, FineTuneOptions{PromptLoss: true})
		require.NoError(t, err)
		var losses []float64
		for !ft.Done() {
			l, err := ft.Step()
			require.NoError(t, err)
			losses = append(losses, l)
		}
		h, err := m.WeightsHash()
		require.NoError(t, err)
		return h, losses
	}
	h1, l1 := run()
	h2, l2 := run()
	require.Equal(t, h1, h2)
	require.Equal(t, l1, l2)
}

func TestClassHeadLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small models")
	}
	var ex []task.Example
	for _, w := range []string{"red ball", "red cap", "blue sky", "blue sea", "red fox", "blue jay", "red hen", "blue car"} {
		label := 0
		if w[0] == 'b' {
			label = 1
		}
		ex = append(ex, task.Example{Text: w, Label: label})
	}
	tt := &task.Task{ID: "test", Lang: "en", Kind: task.KindClassify, Labels: []string{"red", "blue"}, TrainExamples: ex, ValExamples: ex}
	tk := tokenizerFor(t, tt)
	for _, mask := range []ops.MaskMode{ops.Causal, ops.Bidirectional} {
		t.Run(mask.String(), func(t *testing.T) {
			m := smallModel(t, tk, 60, 3e-3)
			m.Mask = mask
			_, err := NewFineTuner(m, tk, tt, FineTuneOptions{})
			require.Error(t, err, "a classify task needs a head")
			_, err = m.AttachClassHead(2, true, 1)
			require.NoError(t, err)
			require.True(t, m.Param("lm_head.weight").Frozen)
			ft, err := NewFineTuner(m, tk, tt, FineTuneOptions{})
			require.NoError(t, err)
			for !ft.Done() {
				_, err := ft.Step()
				require.NoError(t, err)
			}
			acc, err := ft.Accuracy()
			require.NoError(t, err)
			require.Equal(t, 1.0, acc)
		})
	}
}

// TestFrozenBodyHeadKeepsBase: with the body frozen only the head changes, so the language
// model (and with it the forgetting measure) is exactly the base's.
func TestFrozenBodyHeadKeepsBase(t *testing.T) {
	m, _ := tinyModel(t, 0)
	in := fixedInput(m)
	base := logitsOf(t, m, in)
	n, err := m.AttachClassHead(3, false, 1)
	require.NoError(t, err)
	require.Equal(t, n, m.TrainableCount())
	require.False(t, m.bodyTrainable())
	require.Equal(t, base, logitsOf(t, m, in))
	_, err = m.GreedyBatch(nil, []string{"a"}, 1, "")
	require.Error(t, err)
}

// fineTuneWhole fine-tunes m on tt for all its steps and returns the tuner with the held-out
// task loss before and after.
func fineTuneWhole(t *testing.T, m *Model, tk *Tokenizer, tt *task.Task) (ft *FineTuner, before, after float64) {
	t.Helper()
	ft, err := NewFineTuner(m, tk, tt, FineTuneOptions{})
	require.NoError(t, err)
	before, err = ft.Evaluate()
	require.NoError(t, err)
	for !ft.Done() {
		_, err := ft.Step()
		require.NoError(t, err)
	}
	after, err = ft.Evaluate()
	require.NoError(t, err)
	return ft, before, after
}
