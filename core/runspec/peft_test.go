package runspec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
)

// TestLinksCarryThePEFTKinds: a comparison naming DoRA (with its rank, α and layers), IA3,
// BitFit and LayerNorm tuning is a valid link that decodes to the same spec, in version 6 (the
// kinds' version, methodVersions: an older build says the link is newer).
func TestLinksCarryThePEFTKinds(t *testing.T) {
	p, err := PresetByName("en-lesson")
	require.NoError(t, err)
	spec := p.Spec
	spec.Methods = []compare.Method{
		{Kind: compare.DoRA, Rank: 2, Alpha: 3, Targets: []string{"v_proj", "fc_in"}},
		compare.Defaults(compare.IA3),
		{Name: "biases", Kind: compare.BitFit, LR: 0.02},
		compare.Defaults(compare.LNTuning),
	}
	code, err := Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('6'), code[0])
	back, err := Decode(code)
	require.NoError(t, err)
	spec.Version = VersionMethods
	require.Equal(t, spec, back)

	bad := spec
	bad.Methods = []compare.Method{{Kind: compare.IA3, Rank: 2}}
	_, err = Encode(bad)
	require.ErrorIs(t, err, ErrInvalid, "IA3 has no rank")
}
