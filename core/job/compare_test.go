package job

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/fingerprint"
	"pretune/core/ops"
	"pretune/core/runspec"
	"pretune/core/task"
)

func TestCompareConfig(t *testing.T) {
	p, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	spec := p.Spec
	spec.Methods = append(spec.Methods, compare.Method{Name: "mlp", Kind: compare.LoRA, Rank: 2, Targets: []string{"fc_in"}, LR: 0.02})
	cfg := CompareConfig(spec)
	require.Equal(t, spec.FineTune.Steps, cfg.Steps)
	require.Equal(t, spec.FineTune.Warmup, cfg.Warmup)
	require.Equal(t, spec.FineTune.EvalEvery, cfg.EvalEvery)
	require.Equal(t, spec.Config.Seed, cfg.Seed, "version 2: the pretraining's seed")
	require.Len(t, cfg.Methods, 5)
	seeded := spec
	ft := *spec.FineTune
	ft.Seed = 9
	seeded.FineTune = &ft
	require.Equal(t, uint64(9), CompareConfig(seeded).Seed, "a fine-tuning seed of its own wins")
	// What each method runs: its label and its settings with the defaults filled.
	attention := []string{"q_proj", "k_proj", "v_proj", "o_proj"}
	for _, tc := range []struct {
		i     int
		label string
		want  compare.Method
	}{
		{0, "full", compare.Method{Kind: compare.Full, LR: 1e-3}},
		{1, "lora", compare.Method{Kind: compare.LoRA, LR: 1e-2, Rank: 4, Alpha: 8, Targets: attention}},
		{2, "adapter", compare.Method{Kind: compare.Adapter, LR: 1e-2, Size: 16}},
		{3, "prefix", compare.Method{Kind: compare.Prefix, LR: 1e-1, Len: 16}},
		{4, "mlp", compare.Method{Name: "mlp", Kind: compare.LoRA, LR: 0.02, Rank: 2, Alpha: 4, Targets: []string{"fc_in"}}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			require.Equal(t, tc.label, cfg.Methods[tc.i].Label())
			require.Equal(t, tc.want, cfg.Methods[tc.i].Filled())
		})
	}
}

// tinyComparison is a comparison small enough for make test: en-tiny's pretraining, then two
// methods for 20 steps.
func tinyComparison(t *testing.T) runspec.Spec {
	t.Helper()
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	lesson, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	spec := tiny.Spec
	spec.Version, spec.Task = runspec.VersionCompare, lesson.Spec.Task
	spec.FineTune = &runspec.FineTune{Steps: 20, Warmup: 2, EvalEvery: 10}
	spec.Methods = []compare.Method{{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 2}}
	return spec
}

// TestComparisonFromAKeptBaseIsTheSameRun: a comparison started from the base SaveBase wrote
// for its pretraining gives every method the same results, fingerprints included, as the
// comparison that pretrains its base itself, and reports the pretraining's fingerprint.
func TestComparisonFromAKeptBaseIsTheSameRun(t *testing.T) {
	spec := tinyComparison(t)
	whole, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)

	pre, err := Run(context.Background(), spec.Pretraining(), ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, SaveBase(&buf, spec.Pretraining(), pre))
	base, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	require.True(t, IsBaseOf(base, spec))
	require.False(t, base.HasOptimizer, "a base keeps no optimizer state")

	var events []Event
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{Base: base, OnEvent: func(e Event) { events = append(events, e) }})
	require.NoError(t, err)
	require.Equal(t, whole.Final.Fingerprint, events[0].Fingerprint, "the kept base reports its pretraining's fingerprint")
	require.Equal(t, whole.Final.ValLoss, events[0].ValLoss)
	require.Contains(t, events[0].Note, "kept copy")
	require.Len(t, res.Compare, 3)
	for i, r := range res.Compare {
		require.Equal(t, whole.Compare[i].Method, r.Method)
		require.Equal(t, whole.Compare[i].Fingerprint, r.Fingerprint, r.Method)
		require.Equal(t, whole.Compare[i].TaskAccuracy, r.TaskAccuracy, r.Method)
		require.Equal(t, whole.Compare[i].Forgetting, r.Forgetting, r.Method)
	}

	// Another pretraining (a different seed) is not this base's: the run says so.
	other := spec
	other.Config.Seed++
	require.False(t, IsBaseOf(base, other))
	base2, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	events = nil
	_, err = Run(context.Background(), other, ops.NewCPU(), Options{Base: base2, OnEvent: func(e Event) { events = append(events, e) }})
	require.NoError(t, err)
	require.Empty(t, events[0].Fingerprint)
	require.Contains(t, events[0].Note, "did not run here")
}

// TestComparisonChecksEachFingerprint: a comparison's link carries its results' fingerprints
// (version 4); rerun, every result says whether it matches, and a method whose expected
// fingerprint was altered is reported as differing, one made on another device class as such.
func TestComparisonChecksEachFingerprint(t *testing.T) {
	spec := tinyComparison(t)
	first, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, SaveBase(&buf, spec.Pretraining(), first))

	spec.Fingerprint = first.Final.Fingerprint
	spec.Fingerprints = map[string]string{}
	for _, r := range first.Compare {
		spec.Fingerprints[r.Method] = r.Fingerprint
	}
	lora := spec.Fingerprints["lora"]
	altered := lora[:len(lora)-1] + "0" // its last hex digit changed
	if strings.HasSuffix(lora, "0") {
		altered = lora[:len(lora)-1] + "1"
	}
	spec.Fingerprints["lora"] = altered
	_, hash, err := fingerprint.Parse(spec.Fingerprints[compare.Base])
	require.NoError(t, err)
	spec.Fingerprints[compare.Base] = "webgpu/Some GPU:" + hash
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	spec, err = runspec.Decode(code)
	require.NoError(t, err)
	require.Equal(t, runspec.VersionFingerprints, spec.Version)

	base, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	results := map[string]Event{}
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{Base: base, OnEvent: func(e Event) {
		if e.Event == "result" {
			results[e.Method] = e
		}
	}})
	require.NoError(t, err)
	for method, want := range map[string]string{
		MethodPretrain: fingerprint.Matches, compare.Base: fingerprint.OtherDevice, "full": fingerprint.Matches, "lora": fingerprint.Differs,
	} {
		e := results[method]
		require.Equal(t, want, e.Match, method)
		require.NotEmpty(t, e.Expected, method)
	}
	require.Equal(t, altered, results["lora"].Expected)
	require.Equal(t, lora, results["lora"].Fingerprint, "the run itself reproduced")

	// A link without fingerprints per method gives no verdict for them, as before version 4.
	spec.Fingerprints = nil
	base, err = checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
	require.NoError(t, err)
	results = map[string]Event{}
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{Base: base, OnEvent: func(e Event) {
		if e.Event == "result" {
			results[e.Method] = e
		}
	}})
	require.NoError(t, err)
	for _, method := range []string{compare.Base, "full", "lora"} {
		require.Empty(t, results[method].Match, method)
		require.Empty(t, results[method].Expected, method)
	}
	require.Equal(t, fingerprint.Matches, results[MethodPretrain].Match)
}

// TestComparisonRefusesABaseWithoutTheTaskCharacters: a model whose vocabulary lacks characters
// the task needs could never write its answers; the run says which, instead of fine-tuning it.
func TestComparisonRefusesABaseWithoutTheTaskCharacters(t *testing.T) {
	spec := tinyComparison(t)
	c, err := spec.Resolve()
	require.NoError(t, err)
	tr, err := core.NewTrainer(ops.NewCPU(), spec.Config, c.Train, c.Val) // the corpus's characters only
	require.NoError(t, err)
	_, err = Run(context.Background(), spec, ops.NewCPU(), Options{Base: &checkpoint.Checkpoint{Model: tr.Model, Tok: tr.Tok}})
	require.ErrorContains(t, err, "the base model cannot write")
	require.ErrorContains(t, err, "en-facts")
}

// TestLessonPresetsAreTheDefaultLesson: the comparison presets run core/compare's default lesson
// for a generate task (the README's table is measured on it).
func TestLessonPresetsAreTheDefaultLesson(t *testing.T) {
	def := compare.DefaultConfig(task.KindGenerate)
	for _, p := range runspec.ComparisonPresets() {
		cfg := CompareConfig(p.Spec)
		require.Equal(t, def.Steps, cfg.Steps, p.Name)
		require.Equal(t, def.Warmup, cfg.Warmup, p.Name)
		require.Equal(t, def.EvalEvery, cfg.EvalEvery, p.Name)
		require.Equal(t, def.MinLRFrac, cfg.MinLRFrac, p.Name)
		require.Len(t, cfg.Methods, len(def.Methods), p.Name)
		require.Equal(t, def.Methods, cfg.Methods, p.Name)
	}
}

// TestLoadAdapter: the adapter a comparison's LoRA method saved, loaded onto the same base
// file, answers as that method did and reports its updates; a comparison's task is needed.
func TestLoadAdapter(t *testing.T) {
	spec := tinyComparison(t)
	res, load := compareFromSavedBase(t, spec)
	lora := res.Compare[2]
	require.Equal(t, compare.LoRA, lora.Kind)
	file, err := compare.AdapterOf(res.Compare, "")
	require.NoError(t, err)

	e, err := LoadAdapter(spec, load(), file)
	require.NoError(t, err)
	require.Equal(t, "result", e.Event)
	require.Equal(t, compare.Loaded, e.Method)
	require.Equal(t, lora.Answers, e.Answers)
	require.Equal(t, res.Compare[0].Answers, e.AnswersOff)
	require.Equal(t, lora.AnswersMerged, e.AnswersMerged)
	require.Equal(t, lora.LoRAUpdates, e.LoRAUpdates)
	require.Equal(t, lora.TrainableParams, e.TrainableParams)
	require.Nil(t, e.TaskAccuracy, "nothing measured the loaded adapter's accuracy")
	require.Equal(t, "cpu", e.Device)

	// The learner's own task: the same adapter answers its questions.
	var tsv strings.Builder
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&tsv, "Where does the %s live?\tin the forest\n", strings.Repeat("big ", i)+"fox")
	}
	own := spec
	own.Task, err = runspec.UserTaskRef("homes.tsv", task.KindGenerate, tsv.String())
	require.NoError(t, err)
	e, err = LoadAdapter(own, load(), file)
	require.NoError(t, err)
	require.NotEmpty(t, e.Answers)
	for _, a := range e.Answers {
		require.Contains(t, a.Prompt, "fox")
	}

	_, err = LoadAdapter(spec.Pretraining(), load(), file)
	require.ErrorContains(t, err, "needs a comparison")
	_, err = LoadAdapter(spec, load(), file[:len(file)/2])
	require.ErrorIs(t, err, core.ErrLoRADamaged)
	_, err = LoadAdapter(spec, &checkpoint.Checkpoint{}, file)
	require.ErrorContains(t, err, "no model")
}

// TestMaskedBaseComparesWithAHead: a comparison whose base is pretrained with the masked
// objective fine-tunes classification heads on a labelling task (the only methods that apply to
// it) and measures them like any other.
func TestMaskedBaseComparesWithAHead(t *testing.T) {
	spec := tinyComparison(t)
	truth, err := task.Builtin("en-truth")
	require.NoError(t, err)
	spec.Objective = runspec.ObjectiveMasked
	spec.Task = &runspec.TaskRef{ID: truth.ID, Hash: truth.Hash()}
	spec.Methods = []compare.Method{{Kind: compare.Head}, {Name: "head+body", Kind: compare.Head, TrainBody: true}}
	_, err = runspec.Encode(spec)
	require.NoError(t, err)
	res, err := Run(context.Background(), spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	require.Equal(t, ops.Bidirectional, res.Trainer.Model.Mask)
	require.Len(t, res.Compare, 3)
	for _, r := range res.Compare {
		require.True(t, r.TaskAccuracy >= 0 && r.TaskAccuracy <= 1, r.Method)
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.Fingerprint)
	}
	require.Zero(t, res.Compare[1].Forgetting, "a frozen body keeps the masked LM exactly")
}

// compareFromSavedBase pretrains spec's base, saves it as the page keeps a base, and runs the
// comparison from it; load reads that saved base again, for an adapter to be loaded onto.
func compareFromSavedBase(t *testing.T, spec runspec.Spec) (res *Result, load func() *checkpoint.Checkpoint) {
	t.Helper()
	pre, err := Run(context.Background(), spec.Pretraining(), ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, SaveBase(&buf, spec.Pretraining(), pre))
	load = func() *checkpoint.Checkpoint {
		ck, err := checkpoint.Load(bytes.NewReader(buf.Bytes()), ops.NewCPU())
		require.NoError(t, err)
		return ck
	}
	res, err = Run(context.Background(), spec, ops.NewCPU(), Options{Base: load()})
	require.NoError(t, err)
	return res, load
}
