package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
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
	require.Len(t, lines, len(runspec.Presets()))
	for i, line := range lines {
		name, c, ok := strings.Cut(line, "\t")
		require.True(t, ok)
		require.Equal(t, runspec.Presets()[i].Name, name)
		spec, err := runspec.Decode(c)
		require.NoError(t, err, name)
		require.Equal(t, runspec.Presets()[i].Spec.Config, spec.Config)
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
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var e map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &e), sc.Text())
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
	loaded, err := checkpoint.Load(f, core.NewCPU())
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
