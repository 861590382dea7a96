package runspec

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var updateCodes = flag.Bool("update-codes", false, "write testdata/codes_v1.json (only when version 1 is new: old codes must never change)")

// goldenCode is a real code kept forever with the Spec it stood for when it was made.
type goldenCode struct {
	Name string `json:"name"`
	Code string `json:"code"`
	Spec Spec   `json:"spec"`
}

const codesV1 = "testdata/codes_v1.json"

func goldenSpecs(t *testing.T) []goldenCode {
	minimal := Presets()[0].Spec
	minimal.Device, minimal.Lang = "", ""
	user := userSpec(t, "fox.txt", englishText)
	zh := userSpec(t, "狐狸", chineseText)
	zh.Fingerprint, zh.Device = "webgpu/Apple M2:00ff00ff00ff", DeviceWebGPU
	var out []goldenCode
	for _, p := range Presets() {
		out = append(out, goldenCode{Name: "preset " + p.Name, Spec: p.Spec})
	}
	return append(out,
		goldenCode{Name: "minimal", Spec: minimal},
		goldenCode{Name: "english text", Spec: user},
		goldenCode{Name: "chinese text", Spec: zh})
}

// TestGoldenCodes: codes made by earlier builds keep decoding to the same Spec. A built-in
// corpus that has changed since is reported (ErrCorpusChanged) but the Spec still comes back.
func TestGoldenCodes(t *testing.T) {
	if *updateCodes {
		gs := goldenSpecs(t)
		for i := range gs {
			code, err := Encode(gs[i].Spec)
			require.NoError(t, err)
			gs[i].Code = code
		}
		data, err := json.MarshalIndent(gs, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(codesV1, append(data, '\n'), 0o644))
	}
	data, err := os.ReadFile(filepath.FromSlash(codesV1))
	require.NoError(t, err)
	var gs []goldenCode
	require.NoError(t, json.Unmarshal(data, &gs))
	require.GreaterOrEqual(t, len(gs), 6)
	for _, g := range gs {
		t.Run(g.Name, func(t *testing.T) {
			require.Equal(t, byte('1'), g.Code[0])
			s, err := Decode(g.Code)
			if errors.Is(err, ErrCorpusChanged) {
				t.Logf("the built-in corpus changed since this code was made: %v", err)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, g.Spec, s)
		})
	}
}
