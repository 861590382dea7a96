//go:build !js

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/runspec"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = commandLine(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// presetCode returns the share code -presets prints for name.
func presetCode(t *testing.T, name string) string {
	t.Helper()
	code, out, _ := runCLI("-presets")
	require.Equal(t, 0, code)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		n, c, ok := strings.Cut(line, "\t")
		require.True(t, ok, "line %q has no tab", line)
		if n == name {
			return c
		}
	}
	t.Fatalf("no preset %q in -presets output:\n%s", name, out)
	return ""
}

func TestPresetsListsEveryPresetWithADecodableCode(t *testing.T) {
	code, out, _ := runCLI("-presets")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	all := append(runspec.Presets(), runspec.ComparisonPresets()...)
	all = append(all, runspec.FeedbackPresets()...)
	require.Len(t, lines, len(all))
	for i, line := range lines {
		name, c, ok := strings.Cut(line, "\t")
		require.True(t, ok)
		require.Equal(t, all[i].Name, name)
		spec, err := runspec.Decode(c)
		require.NoError(t, err, name)
		require.Equal(t, all[i].Spec, spec)
	}
}

// TestRunJSONIsReproducible runs the fastest preset twice through the command line: the JSON
// lines must carry the documented fields, and the fingerprints must be equal; a code carrying
// that fingerprint then reports "matches".
func TestRunJSONIsReproducible(t *testing.T) {
	c := presetCode(t, "en-tiny")
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "model.ckpt")
	results := make([]map[string]any, 2)
	for i := range results {
		args := []string{"-run", "https://example.org/pretune/#r=" + c, "-json"}
		if i == 0 {
			args = append(args, "-out", ckpt)
		}
		code, out, errOut := runCLI(args...)
		require.Equal(t, 0, code, errOut)
		var evals int
		for _, e := range jsonEvents(t, out) {
			require.Equal(t, "pretrain", e["method"])
			switch e["event"] {
			case "eval":
				evals++
				for _, k := range []string{"step", "train_loss", "val_loss"} {
					require.Contains(t, e, k)
				}
			case "result":
				results[i] = e
			}
		}
		require.Positive(t, evals)
		require.NotNil(t, results[i], "no result line in:\n%s", out)
		for _, k := range []string{"val_loss", "tokens_per_s", "trainable_params", "device", "fingerprint"} {
			require.Contains(t, results[i], k)
		}
		require.Equal(t, "cpu", results[i]["device"])
	}
	require.Equal(t, results[0]["fingerprint"], results[1]["fingerprint"])

	// The checkpoint loads and holds the trained weights.
	f, err := os.Open(ckpt)
	require.NoError(t, err)
	defer f.Close()
	loaded, err := checkpoint.Load(f, ops.NewCPU())
	require.NoError(t, err)
	require.Equal(t, int(results[0]["trainable_params"].(float64)), loaded.Model.ParamCount())

	// A link that carries the expected fingerprint is checked against it.
	spec, err := runspec.Decode(c)
	require.NoError(t, err)
	spec.Fingerprint = results[0]["fingerprint"].(string)
	withFP, err := runspec.Encode(spec)
	require.NoError(t, err)
	code, out, _ := runCLI("-run", withFP)
	require.Equal(t, 0, code)
	require.Contains(t, out, "matches the link's fingerprint")

	spec.Fingerprint = "cpu:000000000000"
	wrongFP, err := runspec.Encode(spec)
	require.NoError(t, err)
	code, out, _ = runCLI("-run", wrongFP)
	require.Equal(t, 0, code)
	require.Contains(t, out, "DIFFERS")
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"garbage code", []string{"-run", "not a code at all"}, "pretune:"},
		{"stray argument", []string{"-presets", "extra"}, "unexpected argument"},
		{"unknown flag", []string{"-frobnicate"}, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(tc.args...)
			require.NotEqual(t, 0, code)
			require.Empty(t, out)
			require.Contains(t, errOut, tc.want)
		})
	}
	c := presetCode(t, "en-tiny")
	code, _, errOut := runCLI("-run", c, "-device", "tpu")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `unknown device "tpu"`)
}

// shortComparison is a comparison code that runs in seconds: the en-tiny base (60 steps), then
// 20 steps of en-facts with full fine-tuning and LoRA.
func shortComparison(t *testing.T) (string, runspec.Spec) {
	t.Helper()
	spec, err := runspec.Decode(presetCode(t, "en-tiny"))
	require.NoError(t, err)
	spec.Task = &runspec.TaskRef{ID: "en-facts"}
	spec.FineTune = &runspec.FineTune{Steps: 20, Warmup: 2, EvalEvery: 10}
	spec.Methods = []compare.Method{{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 2}}
	c, err := runspec.Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('2'), c[0])
	return c, spec
}

// TestPresetsListComparisons: -presets lists a comparison per sample corpus, as version-2
// codes whose task is in the corpus's language.
func TestPresetsListComparisons(t *testing.T) {
	for _, tc := range []struct{ name, corpus, task string }{
		{"en-lesson", "en-world", "en-facts"},
		{"zh-lesson", "zh-world", "zh-facts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := presetCode(t, tc.name)
			require.Equal(t, byte('2'), c[0])
			spec, err := runspec.Decode(c)
			require.NoError(t, err)
			require.Equal(t, tc.corpus, spec.Corpus.ID)
			require.Equal(t, tc.task, spec.Task.ID)
			var kinds []string
			for _, m := range spec.Methods {
				kinds = append(kinds, m.Kind)
			}
			require.Equal(t, []string{"full", "lora", "adapter", "prefix"}, kinds)
		})
	}
}

// TestRunComparisonJSON runs a short comparison twice through the command line: each method
// reports evaluations and one result, the base one result, with the documented fields, and the
// fingerprints repeat exactly on the second run.
func TestRunComparisonJSON(t *testing.T) {
	c, spec := shortComparison(t)
	runs := make([]map[string]map[string]any, 2) // method -> its result line
	for i := range runs {
		code, out, errOut := runCLI("-run", c, "-json")
		require.Equal(t, 0, code, errOut)
		runs[i] = map[string]map[string]any{}
		evals := map[string]int{}
		for _, e := range jsonEvents(t, out) {
			method := e["method"].(string)
			switch e["event"] {
			case "eval":
				evals[method]++
				for _, k := range []string{"step", "train_loss", "val_loss"} {
					require.Contains(t, e, k, "%s eval", method)
				}
			case "result":
				require.NotContains(t, runs[i], method, "two results for %s", method)
				runs[i][method] = e
			}
		}
		names := []string{"pretrain", "base"}
		for _, m := range spec.Methods {
			names = append(names, m.Label())
			require.Equal(t, spec.FineTune.Steps/spec.FineTune.EvalEvery, evals[m.Label()], "%s's evaluations", m.Label())
		}
		require.ElementsMatch(t, names, keys(runs[i]), "one result per method, the base's and the pretraining's:\n%s", out)
		for _, name := range names[1:] {
			r := runs[i][name]
			fields := []string{"task_accuracy", "forgetting", "trainable_share", "optimizer_bytes", "activation_bytes", "ms_per_step", "fingerprint", "device"}
			if name != "base" {
				fields = append(fields, "trainable_params", "tokens_per_s")
			}
			for _, k := range fields {
				require.Contains(t, r, k, "%s's result", name)
			}
			require.Equal(t, "cpu", r["device"])
			acc := r["task_accuracy"].(float64)
			require.True(t, acc >= 0 && acc <= 1, "accuracy %v", acc)
		}
		require.Equal(t, 1.0, runs[i]["full"]["trainable_share"])
		require.Less(t, runs[i]["lora"]["trainable_share"].(float64), 0.1)
		require.Less(t, runs[i]["lora"]["optimizer_bytes"].(float64), runs[i]["full"]["optimizer_bytes"].(float64))
		require.NotEqual(t, runs[i]["full"]["fingerprint"], runs[i]["lora"]["fingerprint"])
	}
	for name, r := range runs[0] {
		require.Equal(t, r["fingerprint"], runs[1][name]["fingerprint"], "%s's fingerprint on a second run", name)
	}
}

// TestRunComparisonText: text mode ends with the comparison's table, the base first.
func TestRunComparisonText(t *testing.T) {
	c, _ := shortComparison(t)
	code, out, errOut := runCLI("-run", c)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "then fine-tunes that base on task en-facts, 20 steps with each method: full, lora")
	require.Regexp(t, `(?s)\| method \| task accuracy .*\n\| base \|.*\n\| full \|.*\n\| lora \|`, out)
	require.Regexp(t, `lora +step +20/20`, out)
	require.Regexp(t, `fingerprint lora +cpu:[0-9a-f]{12}`, out)
}

// TestRunComparisonChecksFingerprints: a comparison's link with its results' fingerprints
// (version 4) is checked on running it: the command line says per method whether it matches,
// and DIFFERS for a method whose expected fingerprint was altered.
func TestRunComparisonChecksFingerprints(t *testing.T) {
	_, spec := shortComparison(t)
	c, err := runspec.Encode(spec)
	require.NoError(t, err)
	code, out, errOut := runCLI("-run", c)
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, out, "the link's", "a link without fingerprints gets no verdict")
	pre := regexp.MustCompile(`(?m)^fingerprint (cpu:[0-9a-f]{12})$`).FindStringSubmatch(out)
	require.NotNil(t, pre, out)
	spec.Fingerprint = pre[1]
	spec.Fingerprints = map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^fingerprint (\S+) +(cpu:[0-9a-f]{12})$`).FindAllStringSubmatch(out, -1) {
		spec.Fingerprints[m[1]] = m[2]
	}
	require.Len(t, spec.Fingerprints, 3, out) // the base, full and lora
	lora := spec.Fingerprints["lora"]
	altered := "cpu:" + strings.Repeat("0", 12)
	if lora == altered {
		altered = "cpu:" + strings.Repeat("1", 12)
	}
	spec.Fingerprints["lora"] = altered
	c, err = runspec.Encode(spec)
	require.NoError(t, err)
	require.Equal(t, byte('4'), c[0])

	code, out, errOut = runCLI("-run", c)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "matches the link's fingerprint: the run reproduced bit for bit", "the pretraining")
	require.Regexp(t, `(?m)^fingerprint base +cpu:[0-9a-f]{12}  matches the link's$`, out)
	require.Regexp(t, `(?m)^fingerprint full +cpu:[0-9a-f]{12}  matches the link's$`, out)
	require.Regexp(t, `(?m)^fingerprint lora +`+lora+`  DIFFERS from the link's `+altered+`$`, out)
}

// jsonEvents parses -json's output: one event object per line.
func jsonEvents(t *testing.T, out string) []map[string]any {
	t.Helper()
	var events []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), sc.Text())
		events = append(events, e)
	}
	require.NoError(t, sc.Err())
	return events
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestRunTakesAPresetName: -run accepts a preset's name as well as its code.
func TestRunTakesAPresetName(t *testing.T) {
	code, out, errOut := runCLI("-run", "en-tiny")
	require.Equal(t, 0, code, errOut)
	byCode, out2, errOut := runCLI("-run", presetCode(t, "en-tiny"))
	require.Equal(t, 0, byCode, errOut)
	fp := regexp.MustCompile(`fingerprint cpu:[0-9a-f]{12}`)
	require.Equal(t, fp.FindString(out2), fp.FindString(out))
	require.NotEmpty(t, fp.FindString(out))
}

// TestRunComparisonOutNeedsPretrain: a comparison starts from a kept base, so -out (which saves
// the pretrained model) asks for -pretrain instead of saving nothing.
func TestRunComparisonOutNeedsPretrain(t *testing.T) {
	code, _, errOut := runCLI("-run", "en-lesson", "-out", filepath.Join(t.TempDir(), "m.ckpt"))
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "add -pretrain")
}

// TestWriteBasesIsReproducible: writing a base twice gives the same bytes, and the second write
// says so; the file is a base of its preset (job.IsBaseOf) without optimizer state.
func TestWriteBasesIsReproducible(t *testing.T) {
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	dir := t.TempDir()
	var first, second strings.Builder
	require.NoError(t, writeBases(context.Background(), dir, []runspec.Preset{p}, &first))
	require.Contains(t, first.String(), "en-tiny.ckpt")
	require.Contains(t, first.String(), ": new")
	data, err := os.ReadFile(filepath.Join(dir, "en-tiny.ckpt"))
	require.NoError(t, err)
	require.NoError(t, writeBases(context.Background(), dir, []runspec.Preset{p}, &second))
	require.Contains(t, second.String(), "identical to the file it replaces")
	again, err := os.ReadFile(filepath.Join(dir, "en-tiny.ckpt"))
	require.NoError(t, err)
	require.Equal(t, data, again)
	ck, err := checkpoint.Load(bytes.NewReader(data), ops.NewCPU())
	require.NoError(t, err)
	require.True(t, job.IsBaseOf(ck, p.Spec))
	require.False(t, ck.HasOptimizer)
}

// TestRunMaskedObjective: a masked-LM link runs from the command line, says its objective,
// reports the fill-in-the-blank probe and shows filled blanks instead of a sample.
func TestRunMaskedObjective(t *testing.T) {
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	spec.Objective, spec.MaskRate = runspec.ObjectiveMasked, 0.2
	c, err := runspec.Encode(spec)
	require.NoError(t, err)
	code, out, errOut := runCLI("-run", c)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "masked LM (20% masked)")
	require.Regexp(t, `fill-in-the-blank probe: [0-9.]+% of blanked held-out characters restored`, out)
	require.Regexp(t, `blanks: ".*_.*"\nfilled: "`, out)
	require.NotContains(t, out, "sample:")
}

// TestRunComparisonOnYourTask: -task fine-tunes a comparison on the learner's file; a bad file
// is refused with its line number, and -task without a comparison says what it needs.
func TestRunComparisonOnYourTask(t *testing.T) {
	c, _ := shortComparison(t)
	var tsv strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&tsv, "Where does the %s live?\tin the forest\n", strings.Repeat("big ", i)+"fox")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "homes.tsv")
	require.NoError(t, os.WriteFile(good, []byte(tsv.String()), 0o644))
	code, out, errOut := runCLI("-run", c, "-task", good)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `on task "homes.tsv" (yours)`)
	require.Regexp(t, `\| lora \|`, out)

	digits := filepath.Join(dir, "sums.tsv")
	require.NoError(t, os.WriteFile(digits, []byte(strings.ReplaceAll(tsv.String(), "fox", "fox 7")), 0o644))
	code, _, errOut = runCLI("-run", c, "-task", digits)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `cannot write "7", which your task needs`)

	bad := filepath.Join(dir, "bad.tsv")
	require.NoError(t, os.WriteFile(bad, []byte(tsv.String()+"no tab\n"), 0o644))
	code, _, errOut = runCLI("-run", c, "-task", bad)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "line 13")

	code, _, errOut = runCLI("-run", "en-tiny", "-task", good)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "-task needs a comparison")
}

// TestRunShardsSameOnAnyWorkers: a sharded link (4 shards) gives one fingerprint whether 1, 2
// or 3 goroutines compute its shards (-workers); -shards 1 turns it into the unsharded run of
// the same link, which is another run.
func TestRunShardsSameOnAnyWorkers(t *testing.T) {
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	spec.Config.Steps, spec.Config.Warmup, spec.Config.EvalEvery, spec.Config.Shards = 12, 2, 6, 4
	c, err := runspec.Encode(spec)
	require.NoError(t, err)
	fingerprintOf := func(args ...string) string {
		code, out, errOut := runCLI(append([]string{"-run", c, "-json"}, args...)...)
		require.Equal(t, 0, code, errOut)
		for _, e := range jsonEvents(t, out) {
			if e["event"] == "result" {
				if len(args) == 2 && args[0] == "-workers" {
					require.Equal(t, args[1], fmt.Sprint(e["workers"]), "the result says how many workers computed the shards")
				}
				return e["fingerprint"].(string)
			}
		}
		t.Fatalf("no result in:\n%s", out)
		return ""
	}
	want := fingerprintOf("-workers", "1")
	for _, w := range []string{"2", "3"} {
		require.Equal(t, want, fingerprintOf("-workers", w), "%s workers", w)
	}
	spec.Config.Shards = 0
	plain, err := runspec.Encode(spec)
	require.NoError(t, err)
	one := fingerprintOf("-shards", "1")
	require.NotEqual(t, want, one)
	code, out, errOut := runCLI("-run", plain, "-json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, one, "-shards 1 is the link without shards")
}
