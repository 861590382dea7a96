package webgpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
)

// TestModelsOverTheLimitsAreRefusedUpFront: a config whose attention scores exceed the adapter's
// one-buffer limit is refused by core.CheckFits with the sizes, before anything is allocated.
func TestModelsOverTheLimitsAreRefusedUpFront(t *testing.T) {
	d := testDevice(t)
	limit := d.MaxBufferElements()
	require.Positive(t, limit)
	cfg := core.DefaultConfig()
	cfg.Vocab = 100
	require.NoError(t, core.CheckFits(d, cfg))
	cfg.Batch, cfg.Context, cfg.Heads, cfg.Dim = 64, 512, 16, 512
	for cfg.LargestBuffer(cfg.Vocab) <= limit && cfg.Batch < 1<<20 {
		cfg.Batch *= 2 // beyond Validate's range, only to pass this adapter's limit
	}
	err := core.CheckFits(d, cfg)
	require.ErrorContains(t, err, "too large for "+d.Name())
}
