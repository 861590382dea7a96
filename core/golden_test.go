package core

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/ops"
)

var updateGolden = flag.Bool("update", false, "rewrite core/testdata/golden.json from this run")

// golden is a short seeded run: its losses as exact float64 bits and the final weights' hash.
type golden struct {
	Note          string   `json:"note"`
	Losses        []string `json:"losses"`
	WeightsSHA256 string   `json:"weights_sha256"`
}

func goldenRun(t *testing.T) golden {
	losses, hash, err := GoldenRun(ops.NewCPU())
	require.NoError(t, err)
	g := golden{Note: "50 steps of GoldenConfig (core/golden.go); losses are float64 bits; must be identical natively, " +
		"with GOAMD64=v3 and under GOOS=js", WeightsSHA256: hash}
	for _, l := range losses {
		g.Losses = append(g.Losses, fmt.Sprintf("%#016x", math.Float64bits(l)))
	}
	return g
}

// TestGoldenRun pins the CPU device's arithmetic: the same seeded run must produce the same 50
// losses and final weights, bit for bit, on every processor and in the browser.
func TestGoldenRun(t *testing.T) {
	path := filepath.Join("testdata", "golden.json")
	got := goldenRun(t)
	if *updateGolden {
		data, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
		t.Logf("wrote %s", path)
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -run TestGoldenRun -update ./core/ once to create it")
	var want golden
	require.NoError(t, json.Unmarshal(data, &want))
	require.Len(t, got.Losses, 50)
	for i := range want.Losses {
		require.Equal(t, want.Losses[i], got.Losses[i], "loss of step %d differs", i+1)
	}
	require.Equal(t, want.WeightsSHA256, got.WeightsSHA256, "final weights differ")
}
