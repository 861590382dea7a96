package core_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/golden"
	"pretune/core/ops"
)

// The golden tests pin the CPU device's arithmetic: the same seeded runs (core/golden) must
// produce the same losses and final weights, bit for bit, on every processor and in the
// browser. make test runs them natively, with GOAMD64=v3 and under GOOS=js (they do not skip
// under -short). After an intended change of arithmetic, rewrite the files with
//
//	go test ./core/ -run 'TestGolden' -update
//
// and say in the commit why the numbers moved.
var updateGolden = flag.Bool("update", false, "rewrite core/testdata/golden*.json from this run")

// goldenRecord is one run: its losses as exact float64 bits and the final weights' hash.
type goldenRecord struct {
	Method        string   `json:"method,omitempty"`
	Note          string   `json:"note,omitempty"`
	Losses        []string `json:"losses"`
	WeightsSHA256 string   `json:"weights_sha256"`
}

func record(losses []float64, hash string) goldenRecord {
	g := goldenRecord{WeightsSHA256: hash}
	for _, l := range losses {
		g.Losses = append(g.Losses, fmt.Sprintf("%#016x", math.Float64bits(l)))
	}
	return g
}

// checkGolden writes got to path under -update, then requires the file to hold exactly got.
func checkGolden[T any](t *testing.T, path string, got T, compare func(want T)) {
	t.Helper()
	if *updateGolden {
		data, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
		t.Logf("wrote %s", path)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./core/ -run TestGolden -update once to create it")
	var want T
	require.NoError(t, json.Unmarshal(data, &want))
	compare(want)
}

// requireSameRun compares two records loss by loss, then the weights.
func requireSameRun(t *testing.T, want, got goldenRecord) {
	t.Helper()
	require.Len(t, got.Losses, len(want.Losses), "number of steps")
	for i := range want.Losses {
		require.Equal(t, want.Losses[i], got.Losses[i], "loss of step %d differs", i+1)
	}
	require.Equal(t, want.WeightsSHA256, got.WeightsSHA256, "final weights differ")
}

// TestGoldenRun: causal pretraining, 50 steps of golden.Config.
func TestGoldenRun(t *testing.T) {
	losses, hash, err := golden.Run(ops.NewCPU())
	require.NoError(t, err)
	require.Len(t, losses, 50)
	got := record(losses, hash)
	// The note is the file's as first recorded (GoldenConfig is now golden.Config in
	// core/golden), so that -update leaves golden.json byte-identical.
	got.Note = "50 steps of GoldenConfig (core/golden.go); losses are float64 bits; must be identical natively, " +
		"with GOAMD64=v3 and under GOOS=js"
	checkGolden(t, filepath.Join("testdata", "golden.json"), got, func(want goldenRecord) { requireSameRun(t, want, got) })
}

// goldenMethods is core/testdata/golden_methods.json.
type goldenMethods struct {
	Note string         `json:"note"`
	Runs []goldenRecord `json:"runs"`
}

// TestGoldenMethods: each fine-tuning method's short run (golden.RunMethod): SFT full
// fine-tuning with replay, LoRA, adapters, a prefix, a class head with its body, masked-LM
// pretraining.
func TestGoldenMethods(t *testing.T) {
	got := goldenMethods{Note: "golden.RunMethod for each of golden.Methods (core/golden); losses are float64 bits; " +
		"must be identical natively, with GOAMD64=v3 and under GOOS=js"}
	for _, name := range golden.Methods {
		losses, hash, err := golden.RunMethod(ops.NewCPU(), name)
		require.NoError(t, err, name)
		r := record(losses, hash)
		r.Method = name
		got.Runs = append(got.Runs, r)
	}
	checkGolden(t, filepath.Join("testdata", "golden_methods.json"), got, func(want goldenMethods) {
		require.Len(t, want.Runs, len(got.Runs), "golden_methods.json has other methods: run with -update")
		for i, w := range want.Runs {
			t.Run(w.Method, func(t *testing.T) {
				require.Equal(t, w.Method, got.Runs[i].Method)
				requireSameRun(t, w, got.Runs[i])
			})
		}
	})
}
