package app

import (
	"html"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/runspec"
)

// DoRA, IA3, BitFit and LayerNorm tuning in the compare view (issue #17, part a).

// TestPEFTKindsInTheForm: each new kind has its row in the method picker with its one-sentence
// explanation in both languages, DoRA its rank, α and layers with their defaults, the others
// only a learning rate; ticked, they go into the link and come back from it.
func TestPEFTKindsInTheForm(t *testing.T) {
	kinds := []string{compare.DoRA, compare.IA3, compare.BitFit, compare.LNTuning}
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			c := &Compare{Lang: l, compareState: compareState{form: defaultCompareSetup(l)}}
			page := render(t, c)
			require.NotContains(t, page, "[method.", "a missing text shows as [key]")
			for _, k := range kinds {
				require.True(t, hasTag(page, "input", `id="m-`+k+`"`, `type="checkbox"`), k)
				require.Contains(t, page, html.EscapeString(l.T("method.about."+k)), k)
				require.Contains(t, page, html.EscapeString(methodName(l, k)), k)
				require.Contains(t, page, `id="m-`+k+`-lr"`, "%s's learning rate", k)
			}
			require.Contains(t, page, `id="m-dora-rank"`)
			require.Contains(t, page, `id="m-dora-alpha"`)
			require.Contains(t, page, `id="m-dora-targets"`)
			require.True(t, hasTag(page, "input", `id="m-dora-target-fc_in"`, `type="checkbox"`))
			require.Contains(t, page, `id="m-lora-targets"`, "LoRA's layers keep their ids")
			for _, k := range []string{compare.IA3, compare.BitFit, compare.LNTuning} {
				require.NotContains(t, page, `id="m-`+k+`-rank"`, "%s has no rank", k)
			}
		})
	}
	require.Equal(t, []string{"lr", "rank", "alpha"}, fieldKeys(compare.DoRA))
	for _, k := range []string{compare.IA3, compare.BitFit, compare.LNTuning} {
		require.Equal(t, []string{"lr"}, fieldKeys(k), k)
	}

	f := defaultCompareSetup(EN)
	for _, k := range kinds {
		f.method(k).On = true
	}
	dora := f.method(compare.DoRA)
	require.NoError(t, dora.SetField("rank", "2"))
	dora.SetTarget("fc_out", true)
	require.NoError(t, f.method(compare.IA3).SetField("lr", "0.05"))
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	require.Len(t, spec.Methods, 8)
	u, err := runspec.URL("https://example.org/pretune/", spec)
	require.NoError(t, err)
	back, err := runspec.Decode(u)
	require.NoError(t, err)
	require.Equal(t, spec, back)
	g := setupFromComparison(back, builtinBaseOf(back))
	again, err := g.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, spec, again)
	require.Equal(t, []string{"q_proj", "k_proj", "v_proj", "o_proj", "fc_out"}, g.method(compare.DoRA).targets())
	for _, k := range kinds {
		require.True(t, g.method(k).On, k)
	}

	dora.SetTarget("q_proj", false)
	dora.SetTarget("k_proj", false)
	dora.SetTarget("v_proj", false)
	dora.SetTarget("o_proj", false)
	dora.SetTarget("fc_out", false)
	_, err = f.Spec(EN)
	require.ErrorIs(t, err, errNoTargets, "DoRA on no layer is refused as LoRA's is")
}

func fieldKeys(kind string) []string {
	var out []string
	for _, f := range fieldsOf(kind) {
		out = append(out, f.Key)
	}
	return out
}

// TestIA3PanelOffersItsFile: a finished IA3 method has a panel in the LoRA view, with nothing to
// draw and its adapter file to save, and its lane asks the worker for that file.
func TestIA3PanelOffersItsFile(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			cmp := finishedComparison(t)
			cmp.Lanes[1].Method = compare.Method{Kind: compare.IA3}
			cmp.Lanes[1].Result.Method, cmp.Lanes[1].Result.Kind = compare.IA3, compare.IA3
			cmp.Lanes[1].Result.LoRAUpdates = nil // IA3 has none
			require.True(t, cmp.Lanes[1].wantsAdapter())
			require.False(t, cmp.Lanes[0].wantsAdapter(), "full fine-tuning has no file")
			c := &Compare{Lang: l, compareState: compareState{form: defaultCompareSetup(l), cmp: cmp}}
			page := render(t, c)
			require.Contains(t, page, `id="lora-1"`)
			require.Contains(t, page, html.EscapeString(l.T("ia3.panel_about")))
			require.True(t, hasTag(page, "button", `id="lora-1-save"`, ` disabled`), "no file yet")
			require.NotContains(t, page, `id="lora-1-map"`)
			cmp.Lanes[1].Adapter = []byte("file")
			require.False(t, hasTag(render(t, c), "button", `id="lora-1-save"`, ` disabled`))
		})
	}
}
