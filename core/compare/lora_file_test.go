package compare

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
	"pretune/core/task"
)

// TestLoadAdapter: a LoRA method's adapter file loaded onto the base gives that method's
// answers (on, off and merged), updates and trainable parameters exactly, leaves the base
// alone, and a damaged file, another model's adapter or a classify task are refused with why.
func TestLoadAdapter(t *testing.T) {
	base, tk, c := quickBase(t)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 6, 3
	lcfg := core.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"k_proj", "fc_out"}}
	cfg.Methods = []Method{{Kind: LoRA, Rank: lcfg.Rank, Alpha: lcfg.Alpha, Targets: lcfg.Targets}}
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, nil)
	require.NoError(t, err)
	baseRes, lora := res[0], res[1]
	hash, err := base.WeightsHash()
	require.NoError(t, err)

	got, err := LoadAdapter(base, tk, tsk, cfg, lora.AdapterFile)
	require.NoError(t, err)
	require.Equal(t, Loaded, got.Method)
	require.Equal(t, LoRA, got.Kind)
	require.Equal(t, lora.Answers, got.Answers, "the method's own answers")
	require.Equal(t, baseRes.Answers, got.AnswersOff, "off: the base's")
	require.Equal(t, lora.AnswersMerged, got.AnswersMerged)
	require.Equal(t, lora.LoRAUpdates, got.LoRAUpdates)
	require.Equal(t, lora.TrainableParams, got.TrainableParams)
	require.Equal(t, lora.TrainableShare, got.TrainableShare)
	after, err := base.WeightsHash()
	require.NoError(t, err)
	require.Equal(t, hash, after, "the base is unchanged")
	_, attached := base.LoRA()
	require.False(t, attached)

	damaged := bytes.Clone(lora.AdapterFile)
	damaged = damaged[:len(damaged)-10]
	_, err = LoadAdapter(base, tk, tsk, cfg, damaged)
	require.ErrorIs(t, err, core.ErrLoRADamaged)

	wide := base.Cfg
	wide.Dim = 32
	other, err := core.NewModel(ops.NewCPU(), wide)
	require.NoError(t, err)
	_, err = other.AttachLoRA(lcfg, 1)
	require.NoError(t, err)
	var otherFile bytes.Buffer
	require.NoError(t, other.ExportLoRA(&otherFile))
	_, err = LoadAdapter(base, tk, tsk, cfg, otherFile.Bytes())
	require.ErrorIs(t, err, core.ErrLoRAMismatch)
	require.ErrorContains(t, err, "has shape [2 32], want [2 16]")

	_, err = LoadAdapter(base, tk, tsk, cfg, nil)
	require.ErrorContains(t, err, "empty")
	cls, err := task.Builtin("en-truth")
	require.NoError(t, err)
	_, err = LoadAdapter(base, tk, cls, cfg, lora.AdapterFile)
	require.ErrorContains(t, err, "generate task only")
}

func TestAdapterOf(t *testing.T) {
	results := []Result{
		{Method: Base, Kind: Base},
		{Method: "full", Kind: Full},
		{Method: "lora", Kind: LoRA, AdapterFile: []byte("one")},
	}
	two := append(append([]Result(nil), results...), Result{Method: "lora-mlp", Kind: LoRA, AdapterFile: []byte("two")})
	for _, tc := range []struct {
		name    string
		results []Result
		method  string
		want    string
		err     string
	}{
		{"named", two, "lora-mlp", "two", ""},
		{"the only one", results, "", "one", ""},
		{"before the result", nil, "lora", "", "no comparison has finished"},
		{"not LoRA", results, "full", "", "full is full, not LoRA"},
		{"the base", results, Base, "", "not LoRA"},
		{"unknown", results, "prefix", "", "no method prefix"},
		{"which one", two, "", "", "2 LoRA methods"},
		{"none", results[:2], "", "", "no LoRA method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AdapterOf(tc.results, tc.method)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.Nil(t, got)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
		})
	}
}
