package runspec

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/task"
)

// lessonSpec is the en-lesson preset's spec: a valid version-2 comparison.
func lessonSpec(t *testing.T) Spec {
	t.Helper()
	p, err := PresetByName("en-lesson")
	require.NoError(t, err)
	return p.Spec
}

// TestCompareRoundTrip: a comparison is written as version 2 and decodes to the same Spec; the
// same spec without its comparison fields is written as version 1, which older builds read.
func TestCompareRoundTrip(t *testing.T) {
	s := lessonSpec(t)
	s.Task.Hash = "" // Encode fills it in
	code, err := Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('2'), code[0])
	got, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	tk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	require.Equal(t, tk.Hash(), got.Task.Hash)
	require.Equal(t, lessonSpec(t), got)

	plain := got
	plain.Task, plain.FineTune, plain.Methods = nil, nil, nil
	code, err = Encode(plain)
	require.NoError(t, err)
	require.Equal(t, byte('1'), code[0], "a spec without a comparison stays version 1")
	got, err = Decode(code)
	require.NoError(t, err)
	require.Equal(t, 1, got.Version)
	require.False(t, got.Compares())
}

// TestFineTuneSeed: a comparison with its own fine-tuning seed is written as version 3 and
// decodes to the same Spec; without one it stays version 2 and the methods use the
// pretraining's seed.
func TestFineTuneSeed(t *testing.T) {
	s := lessonSpec(t)
	require.Equal(t, s.Config.Seed, s.FineTuneSeed(), "version 2: the pretraining's seed")
	ft := *s.FineTune
	ft.Seed = 42
	s.FineTune = &ft
	require.Equal(t, uint64(42), s.FineTuneSeed())
	code, err := Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('3'), code[0])
	got, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, VersionSeed, got.Version)
	s.Version = VersionSeed
	require.Equal(t, s, got)
	require.Equal(t, lessonSpec(t).Pretraining(), got.Pretraining(), "the seed of the fine-tuning leaves the base alone")

	ft.Seed = 0
	code, err = Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('2'), code[0], "no seed of its own: version 2, which older builds read")
}

// TestMethodFingerprints: a comparison with its results' fingerprints is written as version 4
// and decodes to the same Spec; without them it keeps its older version; each fingerprint names
// the base or a method and parses.
func TestMethodFingerprints(t *testing.T) {
	s := lessonSpec(t)
	s.Fingerprint = "cpu:00000000000a"
	s.Fingerprints = map[string]string{compare.Base: "cpu:0000000000b0", "full": "cpu:000000000c00", "lora": "webgpu/Apple M2: 1:00000000d000"}
	code, err := Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('4'), code[0])
	got, err := Decode(code)
	require.NoError(t, err)
	s.Version = VersionFingerprints
	require.Equal(t, s, got)
	require.Equal(t, lessonSpec(t).Pretraining(), got.Pretraining(), "the fingerprints leave the pretraining alone")
	again, err := Encode(got)
	require.NoError(t, err)
	require.Equal(t, code, again, "the map is written in one order")

	s.Fingerprints = nil
	code, err = Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('2'), code[0], "no fingerprints per method: version 2, which older builds read")

	v4 := func(edit func(m map[string]any)) string {
		return rawCodeV(t, 4, specJSON(t, lessonSpec(t), func(m map[string]any) {
			m["v"] = 4
			m["fingerprints"] = map[string]any{"base": "cpu:0123456789ab", "lora": "cpu:0123456789ab"}
			edit(m)
		}))
	}
	_, err = Decode(v4(func(map[string]any) {}))
	require.NoError(t, err, "the edits below are what make the codes invalid")
	for _, tc := range []struct {
		name, code string
		want       error
		msg        string
	}{
		{"version 2 with fingerprints", rawCodeV(t, 2, specJSON(t, lessonSpec(t), func(m map[string]any) {
			m["fingerprints"] = map[string]any{"full": "cpu:0123456789ab"}
		})), ErrInvalid, "fingerprints per method need link version 4, not 2"},
		{"version 4 without them", v4(func(m map[string]any) { delete(m, "fingerprints") }), ErrInvalid, "a version 4 link carries fingerprints per method"},
		{"version 4 without a comparison", v4(func(m map[string]any) {
			delete(m, "fingerprints")
			delete(m, "task")
			delete(m, "finetune")
			delete(m, "methods")
		}), ErrInvalid, "must carry a comparison"},
		{"fingerprints without a comparison", v4(func(m map[string]any) {
			delete(m, "task")
			delete(m, "finetune")
			delete(m, "methods")
		}), ErrInvalid, "belong to a comparison"},
		{"an unknown method", v4(func(m map[string]any) { m["fingerprints"].(map[string]any)["dora"] = "cpu:0123456789ab" }), ErrInvalid, `a fingerprint for "dora"`},
		{"the pretraining's", v4(func(m map[string]any) { m["fingerprints"].(map[string]any)["pretrain"] = "cpu:0123456789ab" }), ErrInvalid, `a fingerprint for "pretrain"`},
		{"a bad fingerprint", v4(func(m map[string]any) { m["fingerprints"].(map[string]any)["full"] = "cpu:0123" }), ErrInvalid, "the fingerprint of full"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(tc.code)
			require.Equal(t, Spec{}, s)
			requireKind(t, err, tc.want, tc.msg)
		})
	}
}

// TestCompareRefuses: every comparison check, on a version-2 code made by hand.
func TestCompareRefuses(t *testing.T) {
	good := lessonSpec(t)
	edit := func(f func(m map[string]any)) string { return rawCodeV(t, 2, specJSON(t, good, f)) }
	method := func(i int, key string, v any) string {
		return edit(func(m map[string]any) { m["methods"].([]any)[i].(map[string]any)[key] = v })
	}
	ft := func(key string, v any) string {
		return edit(func(m map[string]any) { m["finetune"].(map[string]any)[key] = v })
	}
	tests := []struct {
		name, code string
		want       error
		msg        string
	}{
		{"version 2 without a comparison", edit(func(m map[string]any) {
			delete(m, "task")
			delete(m, "finetune")
			delete(m, "methods")
		}), ErrInvalid, "must carry a comparison"},
		{"no methods", edit(func(m map[string]any) { delete(m, "methods") }), ErrInvalid, "at least one method"},
		{"no schedule", edit(func(m map[string]any) { delete(m, "finetune") }), ErrInvalid, "a fine-tuning schedule"},
		{"unknown task", edit(func(m map[string]any) { m["task"] = map[string]any{"id": "fr-facts", "hash": "x"} }), ErrInvalid, `unknown built-in task "fr-facts"`},
		{"task in another language", edit(func(m map[string]any) {
			tk, _ := task.Builtin("zh-facts")
			m["task"] = map[string]any{"id": "zh-facts", "hash": tk.Hash()}
		}), ErrInvalid, `is in "zh" but the corpus is in "en"`},
		{"steps 0", ft("steps", 0), ErrInvalid, "fine-tuning steps 0 is outside"},
		{"warm-up over steps", ft("warmup", 501), ErrInvalid, "warm-up 501 is outside 0..500"},
		{"eval_every 0", ft("eval_every", 0), ErrInvalid, "eval_every 0 is outside"},
		{"unknown kind", method(0, "kind", "magic"), ErrInvalid, `kind "magic" is not one of`},
		{"lora rank too big", method(1, "r", 65), ErrInvalid, "rank 65 is outside 1..64"},
		{"lora rank 0", method(1, "r", 0), ErrInvalid, "rank 0 is outside"},
		{"lora bad target", method(1, "targets", []string{"wte"}), ErrInvalid, "wte"},
		{"rank on full", method(0, "r", 4), ErrInvalid, "a full method has no rank"},
		{"adapter size 0", method(2, "size", 0), ErrInvalid, "adapter size 0 is outside"},
		{"prefix len huge", method(3, "len", 1000), ErrInvalid, "prefix len 1000 is outside"},
		{"negative lr", method(0, "lr", -1), ErrInvalid, "learning rate -1 is outside"},
		{"head on a generate task", edit(func(m map[string]any) {
			m["methods"] = []map[string]any{{"kind": "head"}}
		}), ErrInvalid, "a class head needs a classify task"},
		{"same name twice", edit(func(m map[string]any) {
			m["methods"] = []map[string]any{{"kind": "full"}, {"kind": "full"}}
		}), ErrInvalid, `two methods are named "full"`},
		{"named base", method(0, "name", "base"), ErrInvalid, `not "base"`},
		{"unknown method field", method(0, "dora", true), ErrMalformed, `unknown field "dora"`},
		{"version 1 with a task", rawCode(t, specJSON(t, good, func(m map[string]any) { m["v"] = 1 })), ErrInvalid, "needs link version 2"},
		{"version 2 with a seed", ft("seed", 5), ErrInvalid, "a fine-tuning seed needs link version 3"},
		{"version 3 without a seed", rawCodeV(t, 3, specJSON(t, good, func(m map[string]any) { m["v"] = 3 })), ErrInvalid, "a version 3 link carries a fine-tuning seed, the masked objective or your own task"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(tc.code)
			require.Equal(t, Spec{}, s)
			requireKind(t, err, tc.want, tc.msg)
		})
	}
	t.Run("task changed", func(t *testing.T) {
		s, err := Decode(edit(func(m map[string]any) { m["task"].(map[string]any)["hash"] = "0123456789abcdef" }))
		requireKind(t, err, ErrCorpusChanged, "task en-facts has hash")
		require.Equal(t, "en-facts", s.Task.ID, "the spec comes back so the caller can run it anyway")
	})
	t.Run("the JSON keeps v1's fields", func(t *testing.T) {
		b, err := json.Marshal(Presets()[0].Spec)
		require.NoError(t, err)
		for _, k := range []string{"task", "finetune", "methods"} {
			require.NotContains(t, string(b), `"`+k+`"`, "a version-1 spec's JSON must not change")
		}
	})
}

// TestObjective: the masked objective takes version 3 (and only it), a mask rate in bounds, and
// a classify task when compared; causal specs keep their older versions.
func TestObjective(t *testing.T) {
	plain := Presets()[0].Spec
	masked := plain
	masked.Objective = ObjectiveMasked
	code, err := Encode(masked)
	require.NoError(t, err)
	require.Equal(t, byte('3'), code[0])
	back, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, ObjectiveMasked, back.Objective)
	require.Equal(t, float32(0.15), back.MLM().Rate)
	require.Nil(t, plain.MLM())

	code, err = Encode(plain)
	require.NoError(t, err)
	require.Equal(t, byte('1'), code[0], "a causal run stays version 1")
	require.Equal(t, masked.Pretraining().Objective, ObjectiveMasked, "the objective is part of the pretraining")

	for _, tc := range []struct {
		name string
		edit func(*Spec)
		msg  string
	}{
		{"unknown objective", func(s *Spec) { s.Objective = "span" }, `objective "span" is not causal`},
		{"rate without masked", func(s *Spec) { s.Objective, s.MaskRate = "", 0.2 }, "belongs to the masked objective"},
		{"rate too high", func(s *Spec) { s.MaskRate = 0.9 }, "mask rate 0.9 is outside"},
		{"generate task", func(s *Spec) {
			s.Task = &TaskRef{ID: "en-facts"}
			s.FineTune = &FineTune{Steps: 10, EvalEvery: 5}
			s.Methods = []compare.Method{{Kind: compare.Full}}
		}, "cannot generate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := masked
			tc.edit(&s)
			_, err := Encode(s)
			requireKind(t, err, ErrInvalid, tc.msg)
		})
	}
	// A version-1 or -2 link cannot carry the objective: an edited old link is refused.
	old := masked
	old.Version = 1
	requireKind(t, old.Validate(), ErrInvalid, "needs link version 3")
}

// userTaskText is a learner's task file: twelve questions and answers, as TSV.
func userTaskText() string {
	var b strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "Which animal is number %d?\tthe fox\n", i)
	}
	return b.String()
}

// TestUserTask: a comparison may carry a learner's task file (version 3), checked with the
// parser's line-numbered errors, its hash guarding against a changed text.
func TestUserTask(t *testing.T) {
	p, err := PresetByName("en-lesson")
	require.NoError(t, err)
	ref, err := UserTaskRef("animals.tsv", task.KindGenerate, userTaskText())
	require.NoError(t, err)
	spec := p.Spec
	spec.Task = ref
	code, err := Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('3'), code[0])
	back, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, *ref, *back.Task)
	tk, err := back.Task.Resolve()
	require.NoError(t, err)
	require.Equal(t, "user", tk.ID)
	require.NotEmpty(t, tk.ValPairs)

	_, err = UserTaskRef("bad.tsv", task.KindGenerate, userTaskText()+"no tab\n")
	requireKind(t, err, ErrInvalid, "your task: line 13")
	_, err = UserTaskRef("big.tsv", task.KindGenerate, strings.Repeat("q\ta\n", MaxLinkTextBytes))
	requireKind(t, err, ErrTooLarge, "your task is")

	changed := *ref
	changed.Text += "Which animal is last?\tthe bear\n"
	spec.Version, spec.Task = VersionUserTask, &changed
	requireKind(t, spec.Validate(), ErrMalformed, "does not match its hash")

	builtinWithText := *p.Spec.Task
	builtinWithText.Text = "x"
	spec.Task = &builtinWithText
	requireKind(t, spec.Validate(), ErrInvalid, "carries no kind, text or name")
}

// TestUserTaskResolvesToCopies: resolving the same learner's task again (the playground does
// on every redraw) gives an equal task that its caller may change without touching the next.
func TestUserTaskResolvesToCopies(t *testing.T) {
	ref, err := UserTaskRef("animals.tsv", task.KindGenerate, userTaskText())
	require.NoError(t, err)
	first, err := ref.Resolve()
	require.NoError(t, err)
	first.TrainPairs[0].Response = "changed"
	second, err := ref.Resolve()
	require.NoError(t, err)
	require.NotEqual(t, "changed", second.TrainPairs[0].Response)
	other, err := UserTaskRef("animals.tsv", task.KindClassify, userTaskText())
	require.Nil(t, other)
	require.Error(t, err, "the same text read as labelled lines has one label per line")
}
