package runspec

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode: no input panics; a refusal wraps exactly one sentinel and returns no Spec (except
// ErrCorpusChanged, which returns it); anything accepted re-encodes and decodes to the same Spec.
func FuzzDecode(f *testing.F) {
	for _, path := range []string{codesV1, codesV2, codesV3, codesV4, codesV5} {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		var gs []goldenCode
		require.NoError(f, json.Unmarshal(data, &gs))
		for _, g := range gs {
			f.Add(g.Code)
			f.Add("https://example.org/#r=" + g.Code)
			f.Add(g.Code[:len(g.Code)/2])
		}
	}
	f.Add("")
	f.Add("2abc")
	f.Add("3abc")
	f.Add("4abc")
	f.Add("5abc")
	f.Add(rawCodeV(f, 2, `{"v":2,"corpus":{"id":"en-world","hash":""},"config":{},"task":{"id":"en-facts","hash":""},"finetune":{"steps":1,"warmup":0,"eval_every":1},"methods":[{"kind":"lora","r":0}]}`))
	f.Add("?r=1")
	f.Add(rawCode(f, `{"v":1,"corpus":{"id":"user","hash":"","text":"x"},"config":{}}`))
	f.Fuzz(func(t *testing.T, code string) {
		s, err := Decode(code)
		if err != nil {
			n := 0
			for _, e := range sentinels {
				if errors.Is(err, e) {
					n++
				}
			}
			require.Equal(t, 1, n, "error %q should wrap exactly one sentinel", err)
			if !errors.Is(err, ErrCorpusChanged) {
				require.Equal(t, Spec{}, s)
			}
			return
		}
		again, err := Encode(s)
		require.NoError(t, err)
		s2, err := Decode(again)
		require.NoError(t, err)
		require.Equal(t, s, s2)
	})
}
