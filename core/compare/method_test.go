package compare

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/task"
)

func TestLoRAConfigDefaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		m         Method
		alpha     float32
		targetsIn []string
	}{
		{"alpha 2r", Method{Kind: LoRA, Rank: 4}, 8, []string{"q_proj", "k_proj", "v_proj", "o_proj"}},
		{"alpha 2r at rank 3", Method{Kind: LoRA, Rank: 3}, 6, []string{"q_proj", "k_proj", "v_proj", "o_proj"}},
		{"given", Method{Kind: LoRA, Rank: 2, Alpha: 3, Targets: []string{"fc_in"}}, 3, []string{"fc_in"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.m.LoRAConfig()
			require.Equal(t, tc.m.Rank, c.Rank)
			require.Equal(t, tc.alpha, c.Alpha)
			require.Equal(t, tc.targetsIn, c.Targets)
			require.False(t, c.RSLoRA)
			require.Zero(t, c.Dropout)
		})
	}
}

// TestFilledAndCanonical: Filled says every default a zero stands for; Canonical writes a method
// as a link does, and both forms run the same method.
func TestFilledAndCanonical(t *testing.T) {
	attention := []string{"q_proj", "k_proj", "v_proj", "o_proj"}
	for _, tc := range []struct {
		name              string
		m, filled, linked Method
	}{
		{"full", Method{Kind: Full}, Method{Kind: Full, LR: 1e-3}, Method{Kind: Full}},
		{"full, default lr said", Method{Kind: Full, LR: 1e-3}, Method{Kind: Full, LR: 1e-3}, Method{Kind: Full}},
		{"lora", Defaults(LoRA), Method{Kind: LoRA, LR: 1e-2, Rank: 4, Alpha: 8, Targets: attention}, Method{Kind: LoRA, Rank: 4, Alpha: 8}},
		{"lora, default targets said", Method{Kind: LoRA, Rank: 2, Targets: attention}, Method{Kind: LoRA, LR: 1e-2, Rank: 2, Alpha: 4, Targets: attention}, Method{Kind: LoRA, Rank: 2, Alpha: 4}},
		{"lora, chosen", Method{Name: "mlp", Kind: LoRA, LR: 0.02, Rank: 2, Alpha: 3, Targets: []string{"fc_in"}},
			Method{Name: "mlp", Kind: LoRA, LR: 0.02, Rank: 2, Alpha: 3, Targets: []string{"fc_in"}},
			Method{Name: "mlp", Kind: LoRA, LR: 0.02, Rank: 2, Alpha: 3, Targets: []string{"fc_in"}}},
		{"adapter", Defaults(Adapter), Method{Kind: Adapter, LR: 1e-2, Size: 16}, Method{Kind: Adapter, Size: 16}},
		{"prefix", Defaults(Prefix), Method{Kind: Prefix, LR: 1e-1, Len: 16}, Method{Kind: Prefix, Len: 16}},
		{"head+body", Method{Kind: Head, TrainBody: true, LR: 1e-3}, Method{Kind: Head, TrainBody: true, LR: 1e-3}, Method{Kind: Head, TrainBody: true, LR: 1e-3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.filled, tc.m.Filled())
			require.Equal(t, tc.linked, tc.m.Canonical())
			require.Equal(t, tc.filled, tc.m.Canonical().Filled(), "the link's form runs the same method")
		})
	}
	m := Method{Kind: LoRA, Rank: 2, Targets: []string{"fc_in"}}
	m.Filled().Targets[0] = "changed"
	m.Canonical().Targets[0] = "changed"
	require.Equal(t, "fc_in", m.Targets[0], "Filled and Canonical copy the targets")
}

// TestDefaultMethodsLink: the default lesson's methods as a link writes them (the comparison
// presets' codes depend on these bytes).
func TestDefaultMethodsLink(t *testing.T) {
	js, err := json.Marshal(DefaultMethods(task.KindGenerate))
	require.NoError(t, err)
	require.JSONEq(t, `[{"kind":"full"},{"kind":"lora","r":4,"alpha":8},{"kind":"adapter","size":16},{"kind":"prefix","len":16}]`, string(js))
	js, err = json.Marshal(DefaultMethods(task.KindClassify))
	require.NoError(t, err)
	require.JSONEq(t, `[{"name":"head","kind":"head"},{"name":"head+body","kind":"head","lr":0.001,"train_body":true},{"name":"lora+head","kind":"lora","r":4,"alpha":8}]`, string(js))
	for _, m := range append(DefaultMethods(task.KindGenerate), DefaultMethods(task.KindClassify)...) {
		require.Equal(t, m, m.Canonical(), "%s is written as a link writes it", m.Label())
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Method
		task string
		err  string
	}{
		{"every default", Defaults(LoRA), task.KindGenerate, ""},
		{"head on a classify task", Defaults(Head), task.KindClassify, ""},
		{"head on a generate task", Defaults(Head), task.KindGenerate, "needs a classify task"},
		{"unknown kind", Method{Kind: "magic"}, task.KindGenerate, `kind "magic" is not one of`},
		{"named base", Method{Name: Base, Kind: Full}, task.KindGenerate, "not \"base\""},
		{"named pretrain", Method{Name: "pretrain", Kind: Full}, task.KindGenerate, "not \"base\" or \"pretrain\""},
		{"name too long", Method{Name: strings.Repeat("é", MaxNameBytes/2+1), Kind: Full}, task.KindGenerate, "at most 200 bytes"},
		{"name not UTF-8", Method{Name: "\xff", Kind: Full}, task.KindGenerate, "must be UTF-8"},
		{"longest name", Method{Name: strings.Repeat("é", MaxNameBytes/2), Kind: Full}, task.KindGenerate, ""},
		{"lr above 1", Method{Kind: Full, LR: 2}, task.KindGenerate, "outside 0..1"},
		{"rank on full", Method{Kind: Full, Rank: 2}, task.KindGenerate, "no rank, alpha or targets"},
		{"size on lora", Method{Kind: LoRA, Rank: 2, Size: 3}, task.KindGenerate, "no size"},
		{"adapter too wide", Method{Kind: Adapter, Size: 4*64 + 1}, task.KindGenerate, "outside 1..256"},
		{"prefix too long", Method{Kind: Prefix, Len: MaxPrefixLen + 1}, task.KindGenerate, "outside 1..256"},
		{"lora rank 0", Method{Kind: LoRA}, task.KindGenerate, "rank"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate(64, tc.task)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}
