package checkpoint

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// countingCPU is the CPU device counting the float32s it allocates.
type countingCPU struct {
	*ops.CPU
	floats int64
}

func (d *countingCPU) Alloc(n int) ops.Buf {
	d.floats += int64(n)
	return d.CPU.Alloc(n)
}

// TestTrainingBytes keeps the estimate an upper bound within 10% of what core really allocates.
func TestTrainingBytes(t *testing.T) {
	for _, tc := range []struct {
		vocab, context, layers, heads, dim, batch int
		dropout                                   float32
	}{
		{10, 8, 1, 1, 4, 1, 0},
		{50, 16, 2, 2, 8, 4, 0.1},
		{300, 64, 3, 4, 32, 8, 0},
		{60, 32, 2, 8, 16, 3, 0.2},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim, cfg.Batch, cfg.Dropout = tc.vocab, tc.context, tc.layers, tc.heads, tc.dim, tc.batch, tc.dropout
			dev := &countingCPU{CPU: ops.NewCPU()}
			m, err := core.NewModel(dev, cfg)
			require.NoError(t, err)
			core.NewOptimizer(m)
			got, est := 4*dev.floats, TrainingBytes(cfg)
			require.GreaterOrEqual(t, est, got)
			require.LessOrEqual(t, float64(est), 1.1*float64(got))
		})
	}
}

func TestLoadRefusesHugeTraining(t *testing.T) {
	// Small weights, huge attention matrices: B·H·T·T·layers floats far beyond the limit.
	file := editHeader(t, trainedFile(t, false), func(h *header) {
		h.Config.Batch, h.Config.Heads = 64, 8
	})
	_, err := Load(bytesReader(file), ops.NewCPU())
	require.NoError(t, err, "a model this small is fine")

	cfg := core.DefaultConfig()
	cfg.Vocab, cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim, cfg.Batch = 100, 512, 12, 512, 512, 64
	require.NoError(t, cfg.Validate())
	require.Greater(t, TrainingBytes(cfg), int64(MaxTrainingBytes))
	hj := []byte(fmt.Sprintf(`{"config":%s,"tokenizer":{"alphabet":%s,"specials":["<unk>","<pad>","<mask>"]},"tensors":[]}`, mustJSON(t, cfg), mustJSON(t, alphabet(97))))
	_, err = Load(bytesReader(assemble(Version, hj, nil)), ops.NewCPU())
	requireKind(t, err, ErrTooLarge, "GiB to train")
}
