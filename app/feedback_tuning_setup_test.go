package app

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
)

// tuningField returns the row's field key, failing the test when the kind has none.
func tuningFieldOf(t *testing.T, kind, key string) tuningField {
	t.Helper()
	for _, f := range tuningFieldsOf(kind) {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("%s has no field %q", kind, key)
	return tuningField{}
}

// TestTuningSetupDefaults: the form starts as the lesson of its language (every method ticked
// with feedback.Defaults), each field shows the default feedback gives, and its config is the
// lesson's own.
func TestTuningSetupDefaults(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		s := newTuningSetup(l)
		lesson := feedback.DefaultConfig(feedback.DefaultTaste(string(l)))
		require.Len(t, s.Methods, len(feedback.Kinds))
		for i, k := range feedback.Kinds {
			m := s.Methods[i]
			require.True(t, m.On, k)
			require.Equal(t, feedback.Defaults(k), m.Method)
			for _, f := range tuningFieldsOf(k) {
				require.Equal(t, f.Get(tuningMethod{Method: feedback.Defaults(k)}), f.Default(m), "%s %s", k, f.Key)
				require.True(t, f.IsDefault(m), "%s %s", k, f.Key)
			}
		}
		cfg, err := s.Config(lesson)
		require.NoError(t, err)
		require.Equal(t, lesson, cfg)
	}
	want := map[string][]string{
		feedback.PPO:  {"kl_coef", "cliprange", "ppo_epochs", "lr", "r"},
		feedback.DPO:  {"beta", "lr", "r"},
		feedback.GRPO: {"num_generations", "beta", "lr", "r"},
	}
	for k, keys := range want {
		var got []string
		for _, f := range tuningFieldsOf(k) {
			got = append(got, f.Key)
		}
		require.Equal(t, keys, got, k)
	}
}

// TestTuningSetupFieldsResetAndRefusals: a typed value is taken within feedback's ranges and
// reset puts the default back; a refused one (not a number, not whole, out of range, or a field
// the kind lacks) leaves the row as it was, is kept per field, and stops Config while its row is
// ticked.
func TestTuningSetupFieldsResetAndRefusals(t *testing.T) {
	s := newTuningSetup(EN)
	ppo := s.method(feedback.PPO)
	require.NoError(t, ppo.SetField("kl_coef", "0.5"))
	require.Equal(t, float32(0.5), ppo.KLCoef)
	require.False(t, tuningFieldOf(t, feedback.PPO, "kl_coef").IsDefault(*ppo))
	ppo.Reset("kl_coef")
	require.Equal(t, feedback.Defaults(feedback.PPO).KLCoef, ppo.KLCoef)

	require.NoError(t, ppo.SetField("r", "4"))
	require.Equal(t, 4, ppo.Rank)
	ppo.Reset("r")
	require.Zero(t, ppo.Rank, "full training is the default")

	grpo, dpo := s.method(feedback.GRPO), s.method(feedback.DPO)
	require.NoError(t, grpo.SetField("beta", "0"), "GRPO may drop its KL term")
	require.Zero(t, grpo.Beta)

	refused := []struct {
		m         *tuningMethod
		key, text string
		code      string
	}{
		{ppo, "kl_coef", "lots", "not_number"},
		{ppo, "ppo_epochs", "1.5", "not_integer"},
		{ppo, "ppo_epochs", "17", "range"},
		{ppo, "kl_coef", "-0.1", "range"},
		{dpo, "beta", "0", "range"}, // DPO without a pull to the reference is not DPO
		{grpo, "num_generations", "1", "range"},
		{ppo, "r", "65", "range"},
	}
	for _, tc := range refused {
		before := *tc.m
		err := tc.m.SetField(tc.key, tc.text)
		var fe *fieldError
		require.True(t, errors.As(err, &fe), "%s %s %q: %v", tc.m.Kind, tc.key, tc.text, err)
		require.Equal(t, tc.code, fe.Code)
		require.Equal(t, before, *tc.m, "a refused value changes nothing")
	}
	require.Error(t, dpo.SetField("kl_coef", "0.1"), "DPO has no leash")

	// A refusal shown in a ticked row stops the run; in an unticked one it does not matter.
	lesson := feedback.DefaultConfig("en-food")
	s.errs.set(EN, "fbt-m-dpo-beta", "0", func(text string) error { return dpo.SetField("beta", text) })
	require.Contains(t, s.errs, "fbt-m-dpo-beta")
	_, err := s.Config(lesson)
	require.ErrorIs(t, err, errRefused)
	dpo.On = false
	_, err = s.Config(lesson)
	require.NoError(t, err)
}

// TestTuningSetupConfigChecks: no method ticked, or methods that do not fit the stage (a GRPO
// group that does not divide the batch), give no config.
func TestTuningSetupConfigChecks(t *testing.T) {
	lesson := feedback.DefaultConfig("en-food")
	s := newTuningSetup(EN)
	for i := range s.Methods {
		s.Methods[i].On = false
	}
	_, err := s.Config(lesson)
	require.ErrorIs(t, err, errNoMethod)

	s = newTuningSetup(EN)
	require.NoError(t, s.method(feedback.GRPO).SetField("num_generations", "5"))
	_, err = s.Config(lesson)
	require.ErrorContains(t, err, "must divide the batch")

	s = newTuningSetup(EN)
	s.method(feedback.PPO).On = false
	cfg, err := s.Config(lesson)
	require.NoError(t, err)
	require.Equal(t, []feedback.Method{feedback.Defaults(feedback.DPO), feedback.Defaults(feedback.GRPO)}, cfg.Methods)
	require.Equal(t, lesson.Steps, cfg.Steps, "the rest is the stage's")
}

// TestTuningSetupFromConfig: a link's methods fill the form (the kinds it lacks unticked, with
// their defaults) and come back from Config unchanged, settings the form does not show
// included; a name is dropped, as the form's rows are kinds.
func TestTuningSetupFromConfig(t *testing.T) {
	cfg := feedback.DefaultConfig("zh-food")
	dpo, grpo := feedback.Defaults(feedback.DPO), feedback.Defaults(feedback.GRPO)
	dpo.Beta, dpo.Rank = 0.3, 4
	grpo.NumIterations, grpo.ScaleRewards, grpo.Reward = 2, true, feedback.RewardFromJudge
	cfg.Methods = []feedback.Method{dpo, grpo}
	require.NoError(t, cfg.Validate())

	s := setupFromConfig(cfg)
	require.False(t, s.method(feedback.PPO).On)
	require.Equal(t, feedback.Defaults(feedback.PPO), s.method(feedback.PPO).Method)
	require.True(t, s.method(feedback.DPO).On)
	got, err := s.Config(cfg)
	require.NoError(t, err)
	require.Equal(t, cfg, got)

	noLeash := feedback.DefaultConfig("en-food")
	noLeash.Methods = []feedback.Method{feedback.NoLeash()}
	s = setupFromConfig(noLeash)
	got, err = s.Config(noLeash)
	require.NoError(t, err)
	want := feedback.NoLeash()
	want.Name = ""
	require.Equal(t, []feedback.Method{want}, got.Methods)
}

// TestTuningTryNoLeash: the "try this" link ticks PPO with kl_coef 0 (feedback.NoLeash's), keeps
// its other settings, and the form then says what to look at.
func TestTuningTryNoLeash(t *testing.T) {
	s := newTuningSetup(EN)
	ppo := s.method(feedback.PPO)
	ppo.On = false
	require.NoError(t, ppo.SetField("cliprange", "0.3"))
	s.errs.set(EN, "fbt-m-ppo-kl_coef", "x", func(text string) error { return ppo.SetField("kl_coef", text) })
	s.tryNoLeash()
	require.True(t, ppo.On)
	require.Zero(t, ppo.KLCoef)
	require.Equal(t, float32(0.3), ppo.ClipRange)
	require.NotContains(t, s.errs, "fbt-m-ppo-kl_coef", "the value it loaded is shown, not the old refusal")
	cfg, err := s.Config(feedback.DefaultConfig("en-food"))
	require.NoError(t, err)
	require.Zero(t, cfg.Methods[0].KLCoef)

	for _, l := range []Lang{EN, ZH} {
		page := render(t, &tuningTestView{l: l, setup: &s})
		require.Contains(t, page, `id="fbt-try-noleash-note"`)
		require.Contains(t, page, l.T("fbt.try.noleash_watch"))
		require.True(t, hasTag(page, "input", `id="fbt-m-ppo-kl_coef"`, `value="0"`))
	}
}

// TestTuningSchedule: the schedule fields start at the config's, Config puts the typed steps and
// batch in (the evaluations never further apart than the steps), and a refused value or a group
// that no longer divides the batch stops the run.
func TestTuningSchedule(t *testing.T) {
	lesson := feedback.DefaultConfig("en-food")
	s := setupFromConfig(lesson)
	require.Equal(t, lesson.Steps, s.Steps)
	require.Equal(t, lesson.Batch, s.Batch)

	s.errs.set(EN, tuningScheduleID+"steps", "4", func(text string) error { return s.setSchedule("steps", text) })
	cfg, err := s.Config(lesson)
	require.NoError(t, err)
	require.Equal(t, 4, cfg.Steps)
	require.Equal(t, 4, cfg.EvalEvery, "the default 10 steps between evaluations would never measure a 4-step run")

	s.errs.set(EN, tuningScheduleID+"batch", "1", func(text string) error { return s.setSchedule("batch", text) })
	require.Contains(t, s.errs, tuningScheduleID+"batch")
	_, err = s.Config(lesson)
	require.ErrorIs(t, err, errRefused)

	s.errs.set(EN, tuningScheduleID+"batch", "12", func(text string) error { return s.setSchedule("batch", text) })
	_, err = s.Config(lesson)
	require.ErrorContains(t, err, "must divide the batch", "GRPO's 8 answers a prompt do not divide 12")
}
