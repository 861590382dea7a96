package app

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/runspec"
)

func TestSetupFromPresetGivesItsSpecBack(t *testing.T) {
	for _, p := range runspec.Presets() {
		t.Run(p.Name, func(t *testing.T) {
			s, err := setupFromSpec(p.Spec)
			require.NoError(t, err)
			spec, err := s.Spec(Lang(p.Spec.Lang))
			require.NoError(t, err)
			require.Equal(t, p.Spec, spec, "the form runs exactly the preset")
			require.Greater(t, s.Params(), 1000)
		})
	}
}

func TestSetupFieldsDefaultsAndReset(t *testing.T) {
	s := defaultSetup()
	def := s.Cfg
	require.NoError(t, s.SetField("dim", "64"))
	require.Equal(t, 64, s.Cfg.Dim)
	before := s.Params()
	require.NoError(t, s.SetField("layers", "4"))
	require.Greater(t, s.Params(), before, "the parameter count follows the fields")

	var fe *fieldError
	for _, tc := range []struct{ key, text, code string }{
		{"dim", "abc", "not_number"}, {"layers", "2.5", "not_integer"}, {"layers", "99", "range"}, {"lr", "0", "range"},
	} {
		err := s.SetField(tc.key, tc.text)
		require.True(t, errors.As(err, &fe), "%s=%s", tc.key, tc.text)
		require.Equal(t, tc.code, fe.Code)
	}
	require.Equal(t, 4, s.Cfg.Layers, "a refused value changes nothing")

	require.NoError(t, s.SetField("heads", "3"))
	require.True(t, errors.As(s.Check(), &fe))
	require.Equal(t, "heads", fe.Code)
	_, err := s.Spec(EN)
	require.Error(t, err, "no spec from settings that cannot run")

	require.NoError(t, s.SetField("steps", "3"))
	require.LessOrEqual(t, s.Cfg.Warmup, 3, "warm-up stays inside the run")

	for _, f := range fields {
		s.Reset(f.Key)
	}
	require.Equal(t, def, s.Cfg, "every field resets to the preset's value")

	require.NoError(t, s.SetSize("small"))
	small, err := core.SizePreset("small")
	require.NoError(t, err)
	require.Equal(t, small.Config.Dim, s.Cfg.Dim)
	require.Equal(t, s.Cfg, s.Default, "a size's values become the defaults")
}

func TestSetupUserText(t *testing.T) {
	s := defaultSetup()
	s.CorpusID = runspec.UserCorpus
	s.UserText = "too short"
	_, err := s.Spec(EN)
	var te *corpus.TextError
	require.True(t, errors.As(err, &te))
	require.Equal(t, corpus.CodeTooShort, te.Code)
	require.Zero(t, s.Params())
	require.Contains(t, textErrText(ZH, err), "文本太短")
	require.Contains(t, textErrText(EN, err), "too short")

	s.UserText = strings.Repeat("The quick brown fox jumps over the lazy dog.\n", 20)
	s.UserName = "fox.txt"
	spec, err := s.Spec(ZH)
	require.NoError(t, err)
	require.Equal(t, "zh", spec.Lang)
	require.Equal(t, s.UserText, spec.Corpus.Text)
	require.Greater(t, s.Params(), 0)
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	back, err := runspec.Decode(code)
	require.NoError(t, err)
	s2, err := setupFromSpec(back)
	require.NoError(t, err)
	require.Equal(t, s.UserText, s2.UserText, "a link carries the learner's text")
}

func TestErrorTexts(t *testing.T) {
	_, err := runspec.Decode("1!!!")
	require.Equal(t, EN.T("link.err.malformed"), linkErrText(EN, err))
	_, err = runspec.Decode("9abc")
	require.Equal(t, ZH.T("link.err.newer"), linkErrText(ZH, err))
	_, err = loadCheckpoint([]byte("PRETUNE\x00\x01\x00"))
	require.Error(t, err)
	require.NotEqual(t, EN.T("ckpt.err.invalid"), checkpointErrText(EN, err), "a truncated file says so: %v", err)
	_, err = loadCheckpoint([]byte("\x89PNG\r\n\x1a\n"))
	require.Equal(t, EN.T("ckpt.err.not_checkpoint"), checkpointErrText(EN, err))
	require.Equal(t, ZH.T("field.err.range", "1", "12"), fieldErrText(ZH, &fieldError{Code: "range", Min: 1, Max: 12}))
}

// TestSetupObjective: the masked objective gives a version-3 spec (the default rate implicit, a
// chosen one carried), a masked link fills the form back, and bad rates are refused.
func TestSetupObjective(t *testing.T) {
	s := defaultSetup()
	require.Equal(t, runspec.ObjectiveCausal, s.Objective)
	s.Objective = runspec.ObjectiveMasked
	spec, err := s.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.VersionObjective, spec.Version)
	require.Equal(t, runspec.ObjectiveMasked, spec.Objective)
	require.Zero(t, spec.MaskRate, "the default rate stays implicit")

	require.NoError(t, s.SetMaskRate("0.3"))
	spec, err = s.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, float32(0.3), spec.MaskRate)
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	back, err := runspec.Decode(code)
	require.NoError(t, err)
	again, err := setupFromSpec(back)
	require.NoError(t, err)
	require.Equal(t, runspec.ObjectiveMasked, again.DefaultObjective)
	require.Equal(t, float32(0.3), again.DefaultMaskRate)

	var fe *fieldError
	require.ErrorAs(t, s.SetMaskRate("0.9"), &fe)
	require.Equal(t, "range", fe.Code)
	require.ErrorAs(t, s.SetMaskRate("lots"), &fe)
	require.Equal(t, "not_number", fe.Code)
	require.Equal(t, float32(0.3), s.MaskRate, "a refused rate changes nothing")
}
