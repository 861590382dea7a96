package core

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/grammar"
	"pretune/core/ops"
)

// tinyModel builds a small model on the CPU device for gradient and golden tests.
func tinyModel(t testing.TB, dropout float32) (*Model, *Tokenizer) {
	t.Helper()
	tk, err := NewTokenizer("abcdefghij klmno.")
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = tk.VocabSize(), 6, 2, 2, 8
	cfg.Batch, cfg.Dropout, cfg.Seed = 2, dropout, 3
	m, err := NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	return m, tk
}

// TestModelGradients checks every parameter's analytic gradient against central finite
// differences of the whole model's loss (checkModelGradients), with and without dropout, and
// with uneven loss weights.
func TestModelGradients(t *testing.T) {
	for _, dropout := range []float32{0, 0.2} {
		t.Run(fmt.Sprintf("dropout=%g", dropout), func(t *testing.T) {
			m, _ := tinyModel(t, dropout)
			randomizeForGradients(m, 1)
			b := gradBatch(m, 2, 2, m.Cfg.Context)
			pass := Pass{Train: true, DropoutSeed: 99, Step: 4}
			var weight float64
			lossAt := func() float64 {
				m.forward(m.train, b, pass)
				l, w, err := m.loss(m.train, b)
				require.NoError(t, err)
				weight = w
				return l
			}
			checkModelGradients(t, m, lossAt, func() { m.backward(m.train, b, pass, weight) })
		})
	}
}

func TestModelParamCountMatchesConfig(t *testing.T) {
	m, tk := tinyModel(t, 0)
	require.Equal(t, m.Cfg.ParamCount(tk.VocabSize()), m.ParamCount())
	require.Equal(t, m.ParamCount(), m.TrainableCount())
	m.Params[0].Frozen = true
	require.Equal(t, m.ParamCount()-m.Params[0].Size(), m.TrainableCount())
}

func TestLearningRateSchedule(t *testing.T) {
	c := DefaultConfig()
	c.Steps, c.Warmup, c.LR, c.MinLR = 110, 10, 1, 0.1
	require.InDelta(t, 0.1, LearningRate(c, 0), 1e-7)
	require.InDelta(t, 1.0, LearningRate(c, 9), 1e-7)
	require.InDelta(t, 1.0, LearningRate(c, 10), 1e-7)
	require.InDelta(t, 0.55, LearningRate(c, 10+99/2), 0.01)
	require.InDelta(t, 0.1, LearningRate(c, 109), 1e-7)
	for x := 0.0; x <= 1; x += 0.01 {
		require.InDelta(t, math.Cos(math.Pi*x), cosPi(x), 1e-15)
	}
}

// TestForwardShapesAgree runs the same sequence as row 1 of a training batch and alone (the
// sampling path, B=1 and a shorter T): the logits must be identical, since every op works row by
// row and the larger buffers are only partly used.
func TestForwardShapesAgree(t *testing.T) {
	m, tk := tinyModel(t, 0)
	seq := tk.Encode("fedcba")
	T := 4
	b := NewBatch(m.Dev, m.Cfg.Batch, m.Cfg.Context)
	in := append(append([]int32{}, tk.Encode("abcd")...), seq[:T]...)
	b.Set(m.Dev, 2, T, in, make([]int32, 2*T), nil)
	m.forward(m.train, b, Pass{})
	batched := append([]float32{}, ops.Floats(m.train.logits)[T*m.Cfg.Vocab:2*T*m.Cfg.Vocab]...)

	one := NewBatch(m.Dev, 1, m.Cfg.Context)
	one.Set(m.Dev, 1, T, seq[:T], make([]int32, T), nil)
	m.forward(m.single, one, Pass{})
	require.Equal(t, batched, ops.Floats(m.single.logits)[:T*m.Cfg.Vocab])
}

// smallDevice is a CPU device that claims a one-buffer limit, as a GPU does.
type smallDevice struct {
	*ops.CPU
	limit int
}

func (d smallDevice) MaxBufferElements() int { return d.limit }

func TestTrainerRefusesModelsTooLargeForTheDevice(t *testing.T) {
	text := grammar.Text(1, 50)
	cfg := DefaultConfig()
	_, err := NewTrainer(smallDevice{CPU: ops.NewCPU(), limit: 1 << 20}, cfg, text, text)
	require.NoError(t, err)
	cfg.Batch, cfg.Context, cfg.Heads = 64, 512, 8 // attention scores: 64·8·512·512 floats = 512 MiB
	_, err = NewTrainer(smallDevice{CPU: ops.NewCPU(), limit: 1 << 20}, cfg, text, text)
	require.ErrorContains(t, err, "too large for cpu: one of its buffers needs 512 MiB and the device allows 4 MiB")
}
