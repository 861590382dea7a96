//go:build !js

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// shortFeedback is the code of a feedback preset with its stage cut to seconds (2 steps of each
// method, 8 pairs, short answers): its SFT spec is the preset's, so it starts from the kept SFT
// model (web/base/<lang>-sft.ckpt) and never runs the preset's two-minute lesson.
func shortFeedback(t *testing.T, name string) (string, runspec.Spec) {
	t.Helper()
	spec, err := runspec.Decode(presetCode(t, name))
	require.NoError(t, err)
	cfg := *spec.Feedback
	cfg.Steps, cfg.RewardSteps, cfg.Pairs, cfg.EvalEvery, cfg.EvalSamples, cfg.Tokens = 2, 2, 8, 1, 1, 12
	spec.Feedback = &cfg
	c, err := runspec.Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('5'), c[0])
	return c, spec
}

// TestPresetsListFeedback: -presets lists a feedback stage per sample corpus, as version-5 codes
// with one full method and the language's taste.
func TestPresetsListFeedback(t *testing.T) {
	for _, lang := range []string{"en", "zh"} {
		c := presetCode(t, lang+"-feedback")
		require.Equal(t, byte('5'), c[0])
		spec, err := runspec.Decode(c)
		require.NoError(t, err)
		require.Equal(t, feedback.DefaultTaste(lang), spec.Feedback.Taste)
		require.Len(t, spec.Methods, 1)
	}
}

// TestRunFeedbackJSON: a feedback link runs from the command line with -json from the kept SFT
// model: evaluations per method with reward and KL, one result per model (the pretraining's
// from the kept file, the SFT model's, the reward model's, each method's) with the feedback
// measures.
func TestRunFeedbackJSON(t *testing.T) {
	c, spec := shortFeedback(t, "en-feedback")
	rmPath := filepath.Join(t.TempDir(), "rm.safetensors")
	code, out, errOut := runCLI("-run", c, "-json", "-no-leash", "-out", rmPath)
	require.Equal(t, 0, code, errOut)
	rmFile, err := os.ReadFile(rmPath)
	require.NoError(t, err, "-out saves the reward model")
	scorer, err := feedback.OpenReward(rmFile, ops.NewCPU())
	require.NoError(t, err)
	_, err = scorer.Score("What does the fox like?", "eggs")
	require.NoError(t, err)
	scorer.Close()
	spec.Feedback.Methods = append(spec.Feedback.Methods, feedback.NoLeash()) // -no-leash adds it
	results := map[string]map[string]any{}
	evals := map[string]int{}
	for _, e := range jsonEvents(t, out) {
		method := e["method"].(string)
		switch e["event"] {
		case "eval":
			evals[method]++
			if method != feedback.RewardModel {
				require.Contains(t, e, "reward", "%s eval", method)
				require.Contains(t, e, "kl", "%s eval", method)
			}
		case "result":
			require.NotContains(t, results, method, "two results for %s", method)
			results[method] = e
		}
	}
	names := []string{"pretrain", feedback.SFT, feedback.RewardModel}
	for _, m := range spec.Feedback.Methods {
		names = append(names, m.Label())
		require.GreaterOrEqual(t, evals[m.Label()], spec.Feedback.Steps/spec.Feedback.EvalEvery, "%s's evaluations", m.Label())
	}
	require.ElementsMatch(t, names, keys(results), "one result per model:\n%s", out)
	require.Zero(t, evals[feedback.SFT], "the SFT model comes from the kept file, not trained again")
	require.Contains(t, results["pretrain"]["note"], "kept copy of the SFT model")
	for _, name := range names[1:] {
		r := results[name]
		fields := []string{"fingerprint", "device", "kind"}
		if name == feedback.RewardModel {
			fields = append(fields, "rm_accuracy", "rm_gold_accuracy")
		} else {
			fields = append(fields, "reward", "kl", "gold_win_rate", "win_judge", "taste_score", "task_accuracy", "forgetting")
		}
		for _, k := range fields {
			require.Contains(t, r, k, "%s's result", name)
		}
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r["fingerprint"])
	}
	require.Equal(t, 0.5, results[feedback.SFT]["gold_win_rate"])
}

// writePrefs writes a preference file into a test's folder.
func writePrefs(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// TestRunFeedbackOnYourPrefs: -prefs learns from the learner's pairs instead of the taste and
// prints the table; a bad file is refused with its line, an empty one as empty, one with
// characters the model never saw naming them, -prefs without a feedback stage saying what it
// needs: none of them trains anything or saves a file.
func TestRunFeedbackOnYourPrefs(t *testing.T) {
	c, _ := shortFeedback(t, "en-feedback")
	var tsv strings.Builder
	for _, a := range []string{"fox", "cat", "owl", "bear"} {
		fmt.Fprintf(&tsv, "Tell me about the %s.\t The %s eats eggs.\t The %s is red.\n", a, a, a)
		fmt.Fprintf(&tsv, "What does the %s like?\t It likes to eat fish.\t It likes the wood.\n", a)
		fmt.Fprintf(&tsv, "Say something about the %s.\t It eats seeds.\t It sleeps.\n", a)
	}
	good := writePrefs(t, "food.tsv", tsv.String())
	code, out, errOut := runCLI("-run", c, "-prefs", good)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `a reward model from your preference pairs "food.tsv"`)
	require.Regexp(t, `(?s)\| model \| reward .*\n\| sft \|.*\n\| reward_model \|.*\n\| ppo \|.*\n\| dpo \|.*\n\| grpo \|`, out)
	require.Contains(t, out, "(RM)", "without a taste the reward model judges the win rates")
	require.Regexp(t, `fingerprint grpo +cpu:[0-9a-f]{12}`, out)

	outFile := filepath.Join(t.TempDir(), "m.ckpt")
	for _, tc := range []struct{ name, file, text, want string }{
		{"a bad line", "bad.tsv", tsv.String() + "no tabs on this line\n", "line 13"},
		{"empty", "empty.tsv", "\n\n", "empty"},
		{"unknown characters", "signs.tsv", strings.Replace(tsv.String(), "eggs", "eggs ✓", 1), `pair 1: "✓"`},
		{"too few pairs", "few.tsv", strings.Join(strings.SplitAfter(tsv.String(), "\n")[:4], ""), "too few"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI("-run", c, "-prefs", writePrefs(t, tc.file, tc.text), "-pretrain", "-out", outFile)
			require.Equal(t, 1, code)
			require.Contains(t, errOut, tc.want)
			require.NotRegexp(t, `step +\d+/\d+`, out, "nothing trains")
			require.NotContains(t, out, "| model |")
			require.NoFileExists(t, outFile)
		})
	}
	code, _, errOut = runCLI("-run", "en-lesson", "-no-leash")
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "-no-leash needs a feedback stage")
	code, _, errOut = runCLI("-run", "en-lesson", "-prefs", good)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "-prefs needs a feedback stage")
}
