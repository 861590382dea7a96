package app

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/runspec"
	"pretune/core/task"
)

// TestDefaultFormIsTheLesson: the form's defaults are the built-in lesson of the page's
// language, exactly: its base, task, schedule (compare.DefaultConfig) and methods.
func TestDefaultFormIsTheLesson(t *testing.T) {
	for _, tc := range []struct {
		lang   Lang
		lesson string
	}{{EN, "en-lesson"}, {ZH, "zh-lesson"}} {
		t.Run(tc.lesson, func(t *testing.T) {
			f := defaultCompareSetup(tc.lang)
			require.Equal(t, compare.DefaultSteps, compare.DefaultConfig(task.KindGenerate).Steps)
			spec, err := f.Spec(tc.lang)
			require.NoError(t, err)
			p, err := runspec.PresetByName(tc.lesson)
			require.NoError(t, err)
			require.Equal(t, p.Spec, spec)
			def := compare.DefaultConfig(task.KindGenerate)
			require.Equal(t, runspec.FineTune{Steps: def.Steps, Warmup: def.Warmup, EvalEvery: def.EvalEvery}, *spec.FineTune)
		})
	}
}

// TestMethodSpecs: a comparison becomes one spec per method, each a valid link of its own with
// the same base pretraining, task, schedule and seed, and nothing shared between them.
func TestMethodSpecs(t *testing.T) {
	f := defaultCompareSetup(EN)
	require.NoError(t, f.SetSeed("7"))
	lora := f.method(compare.LoRA)
	lora.SetTarget("fc_in", true)
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.VersionSeed, spec.Version, "a seed of its own: version 3")
	specs := methodSpecs(spec)
	require.Len(t, specs, 4)
	for i, s := range specs {
		require.Len(t, s.Methods, 1)
		require.Equal(t, spec.Methods[i], s.Methods[0])
		require.Equal(t, spec.Pretraining(), s.Pretraining())
		require.Equal(t, spec.Task, s.Task)
		require.Equal(t, *spec.FineTune, *s.FineTune)
		require.Equal(t, uint64(7), s.FineTuneSeed())
		code, err := runspec.Encode(s)
		require.NoError(t, err)
		back, err := runspec.Decode(code)
		require.NoError(t, err)
		require.Equal(t, s, back)
	}
	specs[1].Methods[0].Targets[0] = "changed"
	specs[1].FineTune.Steps = 1
	require.Equal(t, "q_proj", spec.Methods[1].Targets[0], "each spec has its own copy")
	require.Equal(t, 500, spec.FineTune.Steps)
}

// TestMethodSpecsCarryTheirFingerprints: a link's fingerprints per result go to the workers
// that check them: each method's spec carries the base's and its own, a valid version-4 link.
func TestMethodSpecsCarryTheirFingerprints(t *testing.T) {
	spec, err := defaultCompareSetup(EN).Spec(EN)
	require.NoError(t, err)
	spec.Fingerprints = map[string]string{compare.Base: "cpu:0000000000b0", "lora": "cpu:00000000000d", "prefix": "cpu:00000000000e"}
	specs := methodSpecs(spec)
	require.Len(t, specs, 4)
	for i, want := range []map[string]string{
		{compare.Base: "cpu:0000000000b0"},
		{compare.Base: "cpu:0000000000b0", "lora": "cpu:00000000000d"},
		{compare.Base: "cpu:0000000000b0"},
		{compare.Base: "cpu:0000000000b0", "prefix": "cpu:00000000000e"},
	} {
		s := specs[i]
		require.Equal(t, want, s.Fingerprints, s.Methods[0].Label())
		code, err := runspec.Encode(s)
		require.NoError(t, err)
		require.Equal(t, byte('4'), code[0])
	}
	specs[1].Fingerprints["lora"] = "changed"
	require.Equal(t, "cpu:00000000000d", spec.Fingerprints["lora"], "each spec has its own copy")
	spec.Fingerprints = nil
	for _, s := range methodSpecs(spec) {
		require.Nil(t, s.Fingerprints, "a link without them gives the workers none")
	}
}

// TestCompareSeed: the pretraining's seed gives a version-2 link; another seed, version 3, with
// the base's pretraining untouched.
func TestCompareSeed(t *testing.T) {
	f := defaultCompareSetup(EN)
	before, err := f.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.VersionCompare, before.Version)
	require.NoError(t, f.SetSeed("123"))
	after, err := f.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.VersionSeed, after.Version)
	require.Equal(t, uint64(123), after.FineTuneSeed())
	require.Equal(t, before.Pretraining(), after.Pretraining(), "the seed of the fine-tuning leaves the base alone")
	for _, bad := range []string{"0", "1.5", "x", "-3"} {
		require.Error(t, f.SetSeed(bad), bad)
	}
	require.Equal(t, uint64(123), f.Seed, "a refused seed changes nothing")
}

func TestMethodFields(t *testing.T) {
	m := defaultMethod(compare.LoRA)
	require.True(t, m.IsDefault("lr"))
	require.Equal(t, float64(compare.DefaultLR(compare.LoRA)), fieldOf(t, m, "lr").Get(m))
	require.Equal(t, 8.0, fieldOf(t, m, "alpha").Get(m), "α defaults to 2r")
	require.NoError(t, m.SetField("rank", "8"))
	require.Equal(t, 16.0, fieldOf(t, m, "alpha").Get(m), "the default α follows the rank")
	require.True(t, m.IsDefault("alpha"))
	require.NoError(t, m.SetField("alpha", "5"))
	require.NoError(t, m.SetField("rank", "2"))
	require.Equal(t, 5.0, fieldOf(t, m, "alpha").Get(m), "a chosen α stays")
	require.False(t, m.IsDefault("alpha"))
	m.Reset("alpha")
	require.Equal(t, 4.0, fieldOf(t, m, "alpha").Get(m))
	require.True(t, m.IsDefault("alpha"))
	m.Reset("rank")
	require.Equal(t, compare.Defaults(compare.LoRA).Rank, m.Rank)

	for _, tc := range []struct {
		key, text, code string
	}{
		{"rank", "x", "not_number"},
		{"rank", "2.5", "not_integer"},
		{"rank", "0", "range"},
		{"lr", "2", "range"},
		{"lr", "NaN", "not_number"},
	} {
		t.Run(tc.key+" "+tc.text, func(t *testing.T) {
			before := m
			err := m.SetField(tc.key, tc.text)
			var fe *fieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.code, fe.Code)
			require.Equal(t, before, m, "a refused value changes nothing")
		})
	}
	require.Error(t, m.SetField("size", "4"), "LoRA has no bottleneck width")
	require.NoError(t, m.SetField("lr", "0.02"))
	require.Equal(t, float32(0.02), m.Link().LR)
	m.Reset("lr")
	require.Zero(t, m.Link().LR, "a default learning rate stays unsaid in the link")

	a := defaultMethod(compare.Adapter)
	require.NoError(t, a.SetField("size", "8"))
	require.Equal(t, compare.Method{Kind: compare.Adapter, Size: 8}, a.Link())
	a.Reset("size")
	require.Equal(t, compare.Defaults(compare.Adapter).Size, a.Size)
	p := defaultMethod(compare.Prefix)
	require.NoError(t, p.SetField("len", "4"))
	require.Equal(t, compare.Method{Kind: compare.Prefix, Len: 4}, p.Link())
}

func fieldOf(t *testing.T, m methodSetup, key string) methodField {
	t.Helper()
	for _, f := range fieldsOf(m.Kind) {
		if f.Key == key {
			return f
		}
	}
	t.Fatalf("no field %q for %s", key, m.Kind)
	return methodField{}
}

// TestLoRATargets: ticking layers keeps core's order; the default four are left unsaid; none at
// all is refused with runspec's reason.
func TestLoRATargets(t *testing.T) {
	f := defaultCompareSetup(EN)
	m := f.method(compare.LoRA)
	m.SetTarget("fc_out", true)
	m.SetTarget("k_proj", false)
	require.Equal(t, []string{"q_proj", "v_proj", "o_proj", "fc_out"}, m.Link().Targets)
	m.SetTarget("fc_out", false)
	m.SetTarget("k_proj", true)
	require.Nil(t, m.Targets, "the default four again")
	require.True(t, m.IsDefault("targets"))
	for _, name := range []string{"q_proj", "k_proj", "v_proj", "o_proj"} {
		m.SetTarget(name, false)
	}
	_, err := f.Spec(EN)
	require.ErrorIs(t, err, errNoTargets, "none at all is not the default four")
	m.Reset("targets")
	_, err = f.Spec(EN)
	require.NoError(t, err)
}

// TestTaskAndBase: a classify task ticks the head; a head never goes into a generate task's
// comparison; another base's language brings its own task; no method at all is refused.
func TestTaskAndBase(t *testing.T) {
	f := defaultCompareSetup(EN)
	f.SetTask("en-truth")
	require.Equal(t, task.KindClassify, f.TaskKind())
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	var kinds []string
	for _, m := range spec.Methods {
		kinds = append(kinds, m.Kind)
	}
	require.Equal(t, []string{compare.LoRA, compare.Head}, kinds)
	f.method(compare.Head).TrainBody = true
	spec, err = f.Spec(EN)
	require.NoError(t, err)
	require.True(t, spec.Methods[1].TrainBody)

	f.SetTask("en-facts")
	f.method(compare.Head).On = true // ticked by hand: still left out
	spec, err = f.Spec(EN)
	require.NoError(t, err)
	for _, m := range spec.Methods {
		require.NotEqual(t, compare.Head, m.Kind)
	}

	zh, err := runspec.PresetByName("zh-base")
	require.NoError(t, err)
	f.SetBase("zh-base", zh.Spec)
	require.Equal(t, "zh", f.Lang())
	require.Equal(t, "zh-facts", f.Task)
	require.Equal(t, []string{"zh-facts", "zh-truth"}, tasksFor("zh", false))

	for i := range f.Methods {
		f.Methods[i].On = false
	}
	_, err = f.Spec(ZH)
	require.ErrorIs(t, err, errNoMethod)
}

// TestComparisonLinkRoundTrip: what the form builds survives a share link and comes back into
// the form unchanged, seed and every setting included.
func TestComparisonLinkRoundTrip(t *testing.T) {
	f := defaultCompareSetup(EN)
	require.NoError(t, f.SetSteps("40"))
	require.NoError(t, f.SetSeed("9"))
	lora := f.method(compare.LoRA)
	require.NoError(t, lora.SetField("rank", "2"))
	require.NoError(t, lora.SetField("alpha", "3"))
	lora.SetTarget("fc_in", true)
	require.NoError(t, f.method(compare.Full).SetField("lr", "0.0005"))
	f.method(compare.Prefix).On = false
	spec, err := f.Spec(EN)
	require.NoError(t, err)

	u, err := runspec.URL("https://example.org/pretune/", spec)
	require.NoError(t, err)
	back, err := runspec.Decode(u)
	require.NoError(t, err)
	require.Equal(t, spec, back)
	g := setupFromComparison(back, builtinBaseOf(back))
	require.Equal(t, "en-base", g.Base)
	again, err := g.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, spec, again)
	require.False(t, g.method(compare.Prefix).On)
	require.Equal(t, 40, g.Steps)
	require.Equal(t, uint64(9), g.Seed)
}

func TestSchedule(t *testing.T) {
	require.Equal(t, runspec.FineTune{Steps: 500, Warmup: 20, EvalEvery: 50}, runspec.ScheduleFor(500))
	require.Equal(t, runspec.FineTune{Steps: 20, Warmup: 2, EvalEvery: 2}, runspec.ScheduleFor(20))
	require.Equal(t, runspec.FineTune{Steps: 1, Warmup: 0, EvalEvery: 1}, runspec.ScheduleFor(1))
	for steps := 1; steps < 2000; steps += 37 {
		s := runspec.ScheduleFor(steps)
		require.LessOrEqual(t, s.Warmup, s.Steps)
		require.LessOrEqual(t, s.EvalEvery, s.Steps)
		require.GreaterOrEqual(t, s.EvalEvery, 1)
	}
}

// TestCompareOnYourTask: the form's own-task choice builds a version-3 link carrying the
// learner's file, refuses a bad file with its line in both languages, and comes back from the
// link; a masked-LM base offers labelling tasks only.
func TestCompareOnYourTask(t *testing.T) {
	f := defaultCompareSetup(EN)
	require.Contains(t, f.Tasks(), runspec.UserTask)
	f.SetTask(runspec.UserTask)
	_, err := f.Spec(EN)
	require.ErrorIs(t, err, errNoUserTask)

	var tsv strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&tsv, "Where does the %sfox live?\tin the forest\n", strings.Repeat("big ", i))
	}
	f.UserText, f.UserName = tsv.String(), "homes.tsv"
	spec, err := f.Spec(EN)
	require.NoError(t, err)
	require.Equal(t, runspec.UserTask, spec.Task.ID)
	require.Equal(t, "homes.tsv", spec.Task.Name)
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('3'), code[0])
	back, err := runspec.Decode(code)
	require.NoError(t, err)
	again := setupFromComparison(back, f.Base)
	require.Equal(t, f.UserText, again.UserText)
	require.Equal(t, task.KindGenerate, again.TaskKind())

	f.UserText += "no tab here\n"
	_, err = f.Spec(EN)
	var pe *task.ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "Line 13: one tab must separate the two columns.", taskFileErrText(EN, pe))
	require.Equal(t, "第 13 行： 两列之间要用一个制表符分开。", taskFileErrText(ZH, pe))

	f.SetUserKind(task.KindClassify)
	require.True(t, f.method(compare.Head).On, "a labelling task ticks the head")

	masked := f.Pre
	masked.Objective = runspec.ObjectiveMasked
	f.SetBase(basePretrained, masked)
	require.True(t, f.Masked())
	for _, id := range f.Tasks() {
		if id != runspec.UserTask {
			tk, err := task.Builtin(id)
			require.NoError(t, err)
			require.Equal(t, task.KindClassify, tk.Kind, id)
		}
	}
}
