package runspec

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/task"
)

// feedbackSpec is the en-feedback preset's spec.
func feedbackSpec(t testing.TB) Spec {
	p, err := PresetByName("en-feedback")
	require.NoError(t, err)
	return p.Spec
}

// prefsText is a valid preference file of n pairs in TSV.
func prefsText(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "What does the fox eat?\t %s eggs.\t %s grass.\n", strings.Repeat("it eats ", i+1), strings.Repeat("it sees ", i+1))
	}
	return sb.String()
}

// TestFeedbackPresets: each feedback preset is its language's lesson with full fine-tuning alone
// and the default feedback config on its language's default taste (derived from DefaultConfig,
// whatever its values), written as version 5 and decoded to the same Spec; its SFT spec is a
// version-2 comparison that the lesson's own full method trains identically.
func TestFeedbackPresets(t *testing.T) {
	ps := FeedbackPresets()
	require.Len(t, ps, 2)
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			lang := p.Spec.Lang
			lesson, err := PresetByName(lang + "-lesson")
			require.NoError(t, err)
			byName, err := PresetByName(p.Name)
			require.NoError(t, err)
			require.Equal(t, p, byName)
			want := feedback.DefaultConfig(feedback.DefaultTaste(lang))
			require.Equal(t, &want, p.Spec.Feedback)
			require.Nil(t, p.Spec.Prefs)
			require.Equal(t, []compare.Method{compare.Defaults(compare.Full)}, p.Spec.Methods)
			require.Equal(t, lesson.Spec.Pretraining(), p.Spec.Pretraining())
			require.Equal(t, lesson.Spec.Task, p.Spec.Task)
			code, err := Encode(p.Spec)
			require.NoError(t, err)
			require.Equal(t, byte('5'), code[0])
			s, err := Decode(code)
			require.NoError(t, err)
			require.Equal(t, p.Spec, s)

			sft := p.Spec.SFT()
			require.Equal(t, VersionCompare, sft.Version)
			require.Nil(t, sft.Feedback)
			sftCode, err := Encode(sft)
			require.NoError(t, err)
			require.Equal(t, byte('2'), sftCode[0])
			require.True(t, SameSFT(p.Spec, sft))
			// The lesson's full method alone is the same SFT model, whatever it is named.
			one := lesson.Spec
			one.Methods = []compare.Method{{Name: "sft please", Kind: compare.Full}}
			require.True(t, SameSFT(p.Spec, one))
			one.Methods[0].LR = 2e-3
			require.False(t, SameSFT(p.Spec, one), "another learning rate is another model")
			other := p.Spec
			ft := *other.FineTune
			ft.Steps++
			other.FineTune = &ft
			require.False(t, SameSFT(p.Spec, other))
		})
	}
}

// TestFeedbackRefuses: what a feedback link may not be, each refused with its reason and one
// sentinel.
func TestFeedbackRefuses(t *testing.T) {
	good := feedbackSpec(t)
	edit := func(f func(m map[string]any)) string { return rawCodeV(t, 5, specJSON(t, good, f)) }
	fb := func(key string, v any) string {
		return edit(func(m map[string]any) { m["feedback"].(map[string]any)[key] = v })
	}
	prefs, err := UserPrefsRef("mine.tsv", prefsText(12))
	require.NoError(t, err)
	tests := []struct {
		name, code string
		want       error
		msg        string
	}{
		{"two methods", edit(func(m map[string]any) {
			m["methods"] = []map[string]any{{"kind": "full"}, {"kind": "lora", "r": 4, "alpha": 8}}
		}), ErrInvalid, "exactly one method, full or lora fine-tuning, not 2"},
		{"an adapter method", edit(func(m map[string]any) { m["methods"] = []map[string]any{{"kind": "adapter", "size": 4}} }), ErrInvalid, "full or lora fine-tuning, not adapter: its layers cannot be folded"},
		{"a prefix method", edit(func(m map[string]any) { m["methods"] = []map[string]any{{"kind": "prefix", "len": 2}} }), ErrInvalid, "not prefix"},
		{"a head method", edit(func(m map[string]any) { m["methods"] = []map[string]any{{"kind": "head"}} }), ErrInvalid, "a class head needs a classify task"},
		{"no comparison", edit(func(m map[string]any) {
			delete(m, "task")
			delete(m, "finetune")
			delete(m, "methods")
		}), ErrInvalid, "starts from a comparison's SFT model"},
		{"taste in another language", fb("taste", "zh-food"), ErrInvalid, `taste zh-food is in "zh" but the corpus is in "en"`},
		{"unknown taste", fb("taste", "en-jokes"), ErrInvalid, `unknown taste "en-jokes"`},
		{"neither taste nor prefs", fb("taste", ""), ErrInvalid, "give one"},
		{"prefs without feedback", rawCodeV(t, 4, specJSON(t, good, func(m map[string]any) {
			delete(m, "feedback")
			m["v"] = 4
			m["prefs"] = prefs
			m["fingerprints"] = map[string]string{"full": "cpu:0123456789ab"}
		})), ErrInvalid, "belongs to a feedback stage"},
		{"bad config", fb("steps", 0), ErrInvalid, "steps 0 is outside"},
		{"unknown feedback field", fb("lr", 1), ErrMalformed, `unknown field "lr"`},
		{"version 4 with feedback", rawCodeV(t, 4, specJSON(t, good, func(m map[string]any) {
			m["v"] = 4
			m["fingerprints"] = map[string]string{"sft": "cpu:0123456789ab"}
		})), ErrInvalid, "needs link version 5"},
		{"version 5 without feedback", edit(func(m map[string]any) { delete(m, "feedback") }), ErrInvalid, "a version 5 link carries a feedback stage"},
		{"a comparison's fingerprint name", edit(func(m map[string]any) { m["fingerprints"] = map[string]string{"base": "cpu:0123456789ab"} }), ErrInvalid, `a fingerprint for "base"`},
		{"a classify task", edit(func(m map[string]any) {
			tk, _ := task.Builtin("en-truth")
			m["task"] = map[string]any{"id": "en-truth", "hash": tk.Hash()}
		}), ErrInvalid, "must be fine-tuned on a generate task"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Decode(tc.code)
			require.Equal(t, Spec{}, s)
			requireKind(t, err, tc.want, tc.msg)
		})
	}
}

// TestFeedbackFromLoRA: a feedback stage may start from a LoRA method's SFT model (the worker
// bakes its update into the weights): the link round-trips as version 5 with the method as
// written, its SFT spec is that one LoRA comparison (a version-2 code), and SameSFT tells the
// LoRA model from the full one and from a LoRA of another rank, but not from itself renamed.
func TestFeedbackFromLoRA(t *testing.T) {
	s := feedbackSpec(t)
	lora := compare.Method{Kind: compare.LoRA, Rank: 4, Alpha: 8, Targets: []string{"q_proj", "v_proj"}}
	s.Methods = []compare.Method{lora}
	code, err := Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('5'), code[0])
	got, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, s, got)
	require.Equal(t, []compare.Method{lora}, got.SFT().Methods)
	sftCode, err := Encode(got.SFT())
	require.NoError(t, err)
	require.Equal(t, byte('2'), sftCode[0])

	require.True(t, SameSFT(s, got.SFT()))
	named := s
	named.Methods = []compare.Method{lora}
	named.Methods[0].Name = "my lora"
	require.True(t, SameSFT(s, named), "a name changes no weight")
	require.False(t, SameSFT(s, feedbackSpec(t)), "LoRA's SFT model is not full fine-tuning's")
	other := s
	other.Methods = []compare.Method{lora}
	other.Methods[0].Rank = 2
	require.False(t, SameSFT(s, other), "another rank is another model")
}

// TestFeedbackFingerprints: a feedback link carries the fingerprints of its results by their
// names (the SFT model, the reward model, each method), still as version 5.
func TestFeedbackFingerprints(t *testing.T) {
	s := feedbackSpec(t)
	s.Fingerprints = map[string]string{feedback.SFT: "cpu:0123456789ab", feedback.RewardModel: "cpu:111111111111"}
	for _, m := range s.Feedback.Methods {
		s.Fingerprints[m.Label()] = "cpu:222222222222"
	}
	code, err := Encode(s)
	require.NoError(t, err)
	require.Equal(t, byte('5'), code[0])
	got, err := Decode(code)
	require.NoError(t, err)
	s.Version = VersionFeedback
	require.Equal(t, s, got)
	s.Fingerprints["full"] = "cpu:333333333333" // the comparison's method: its result is not reported
	_, err = Encode(s)
	requireKind(t, err, ErrInvalid, `a fingerprint for "full"`)
}

// TestPrefsRef: a learner's preference file travels in the link and comes back parsed; a bad
// one is refused with the line feedback.ParsePairs names, too few pairs with the reason, a
// changed text by its hash.
func TestPrefsRef(t *testing.T) {
	s := feedbackSpec(t)
	s.Feedback.Taste = ""
	text := prefsText(12)
	ref, err := UserPrefsRef("mine.tsv", text)
	require.NoError(t, err)
	s.Prefs = ref
	code, err := Encode(s)
	require.NoError(t, err)
	got, err := Decode(code)
	require.NoError(t, err)
	require.Equal(t, *ref, *got.Prefs)
	pairs, err := got.Prefs.Resolve()
	require.NoError(t, err)
	require.Len(t, pairs, 12)
	require.Equal(t, " it eats  eggs.", pairs[0].Chosen, "kept as written, spaces included")

	_, err = UserPrefsRef("mine.tsv", text+"no tabs here\n")
	requireKind(t, err, ErrInvalid, "line 13")
	var pe *task.ParseError
	require.True(t, errors.As(err, &pe), "the parse error comes through: %v", err)
	require.Equal(t, 13, pe.Line)
	_, err = UserPrefsRef("mine.tsv", "")
	requireKind(t, err, ErrInvalid, "empty")
	_, err = UserPrefsRef("mine.tsv", prefsText(4))
	requireKind(t, err, ErrInvalid, "too few")
	_, err = UserPrefsRef("mine.tsv", strings.Repeat("x", MaxLinkTextBytes+1))
	requireKind(t, err, ErrTooLarge, "a link carries at most")

	damaged := s
	damaged.Prefs = &PrefsRef{Hash: ref.Hash, Text: prefsText(11), Name: ref.Name}
	_, err = Encode(damaged)
	requireKind(t, err, ErrMalformed, "does not match its hash")

	// A taste beside the file judges it: the link keeps both.
	judged := s
	cfgJudged := *s.Feedback
	cfgJudged.Taste = "en-food"
	judged.Feedback = &cfgJudged
	code, err = Encode(judged)
	require.NoError(t, err)
	got, err = Decode(code)
	require.NoError(t, err)
	require.Equal(t, "en-food", got.Feedback.Taste)
	require.Equal(t, *ref, *got.Prefs)

	// A judge's reward needs a taste: with a learner's pairs the config refuses it.
	judge := s
	cfg := *s.Feedback
	cfg.Methods = []feedback.Method{feedback.Defaults(feedback.GRPO)}
	cfg.Methods[0].Reward = feedback.RewardFromJudge
	judge.Feedback = &cfg
	_, err = Encode(judge)
	requireKind(t, err, ErrInvalid, "needs a built-in taste")
}
