package job

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/runspec"
)

func TestCompareConfig(t *testing.T) {
	p, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	spec := p.Spec
	spec.Methods = append(spec.Methods, runspec.Method{Name: "mlp", Kind: runspec.MethodLoRA, Rank: 2, Targets: []string{"fc_in"}, LR: 0.02})
	cfg := CompareConfig(spec)
	require.Equal(t, spec.FineTune.Steps, cfg.Steps)
	require.Equal(t, spec.FineTune.Warmup, cfg.Warmup)
	require.Equal(t, spec.FineTune.EvalEvery, cfg.EvalEvery)
	require.Equal(t, spec.Config.Seed, cfg.Seed)
	require.Len(t, cfg.Methods, 5)
	for _, tc := range []struct {
		i    int
		want compare.Method
	}{
		{0, compare.Method{Name: "full", Kind: compare.Full}},
		{1, compare.Method{Name: "lora", Kind: compare.LoRA, LoRA: core.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj"}}}},
		{2, compare.Method{Name: "adapter", Kind: compare.Adapter, Adapter: core.AdapterConfig{Size: 16}}},
		{3, compare.Method{Name: "prefix", Kind: compare.Prefix, Prefix: core.PrefixConfig{Len: 16}}},
		{4, compare.Method{Name: "mlp", Kind: compare.LoRA, LR: 0.02, LoRA: core.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"fc_in"}}}},
	} {
		t.Run(tc.want.Name, func(t *testing.T) {
			require.Equal(t, tc.want, cfg.Methods[tc.i])
		})
	}
}

// TestComparisonRefusesALoadedBase: a comparison's base needs the tasks' characters in its
// vocabulary, so it is always pretrained by the run itself.
func TestComparisonRefusesALoadedBase(t *testing.T) {
	p, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	_, err = Run(context.Background(), p.Spec, core.NewCPU(), Options{Base: &checkpoint.Checkpoint{}})
	require.ErrorContains(t, err, "a comparison pretrains its own base")
}
