package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/runspec"
)

// TestNewKindsInTheForm (#17, peft-b): LoRA+, PiSSA and prompt tuning each get a row with their
// settings and defaults (LoRA+: rank, α, ratio 16; PiSSA: rank, α = r; prompt tuning: 8 soft
// tokens), unticked in the default lesson; ticked, they make a link that decodes to them.
func TestNewKindsInTheForm(t *testing.T) {
	f := defaultCompareSetup(EN)
	want := map[string][]string{
		compare.LoRAPlus: {"lr", "rank", "alpha", "ratio"},
		compare.PiSSA:    {"lr", "rank", "alpha"},
		compare.Prompt:   {"lr", "soft_tokens"},
	}
	for kind, keys := range want {
		m := f.method(kind)
		require.NotNil(t, m, kind)
		require.False(t, m.On, "%s is not in the default lesson", kind)
		var got []string
		for _, fd := range fieldsOf(kind) {
			got = append(got, fd.Key)
			require.True(t, m.IsDefault(fd.Key), "%s %s starts at its default", kind, fd.Key)
		}
		require.Equal(t, keys, got, kind)
	}
	plus, pissa, prompt := f.method(compare.LoRAPlus), f.method(compare.PiSSA), f.method(compare.Prompt)
	require.Equal(t, 16.0, fieldOf(t, *plus, "ratio").Default(*plus))
	require.Equal(t, 8.0, fieldOf(t, *plus, "alpha").Get(*plus), "LoRA+'s α is LoRA's 2r")
	require.Equal(t, 4.0, fieldOf(t, *pissa, "alpha").Get(*pissa), "PiSSA's α is r")
	require.Equal(t, 8.0, fieldOf(t, *prompt, "soft_tokens").Default(*prompt))

	require.NoError(t, plus.SetField("ratio", "4"))
	require.False(t, plus.IsDefault("ratio"))
	var fe *fieldError
	require.ErrorAs(t, plus.SetField("ratio", "0.5"), &fe, "B slower than A is not LoRA+")
	require.NoError(t, prompt.SetField("soft_tokens", "5"))
	require.ErrorAs(t, prompt.SetField("soft_tokens", "2.5"), &fe)
	pissa.SetTarget("fc_in", true)
	for _, m := range []*methodSetup{plus, pissa, prompt} {
		m.On = true
	}
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, []compare.Method{
		{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 4, Alpha: 8}, {Kind: compare.Adapter, Size: 16}, {Kind: compare.Prefix, Len: 16},
		{Kind: compare.LoRAPlus, Rank: 4, Alpha: 8, Ratio: 4},
		{Kind: compare.PiSSA, Rank: 4, Alpha: 4, Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "fc_in"}},
		{Kind: compare.Prompt, Len: 5},
	}, spec.Methods)
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	back, err := runspec.Decode(code)
	require.NoError(t, err)
	require.Equal(t, spec.Methods, back.Methods)

	for _, name := range []string{"q_proj", "k_proj", "v_proj", "o_proj", "fc_in"} {
		pissa.SetTarget(name, false)
	}
	_, err = f.Spec(EN)
	require.ErrorIs(t, err, errNoTargets, "PiSSA needs layers as LoRA does")
	plus.Reset("ratio")
	require.Equal(t, float32(16), plus.Link().Ratio)
}
