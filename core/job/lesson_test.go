package job

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// keptBaseDir holds the base checkpoints make base writes (web/base from the repository root).
var keptBaseDir = filepath.Join("..", "..", "web", "base")

// loadKeptBase loads the kept base of a base preset; a missing or stale file fails the test with
// what to run, since the comparison presets depend on it.
func loadKeptBase(t *testing.T, preset string) (*checkpoint.Checkpoint, []byte) {
	t.Helper()
	path := filepath.Join(keptBaseDir, preset+".ckpt")
	data, err := os.ReadFile(path)
	require.NoError(t, err, "the kept base is missing: run make base")
	ck, err := checkpoint.Load(bytes.NewReader(data), ops.NewCPU())
	require.NoError(t, err, "%s is damaged: run make base", path)
	return ck, data
}

// TestKeptBasesAreUnderTwoMegabytes: the kept bases are committed, so they must stay small, and
// each is the result of its preset's pretraining (its recorded spec matches this build's).
func TestKeptBasesAreUnderTwoMegabytes(t *testing.T) {
	for _, p := range runspec.BasePresets() {
		ck, data := loadKeptBase(t, p.Name)
		require.Less(t, len(data), 2<<20, p.Name)
		require.True(t, IsBaseOf(ck, p.Spec), "%s.ckpt is not the result of the %s preset: run make base", p.Name, p.Name)
		require.False(t, ck.HasOptimizer, p.Name)
	}
}

// TestKeptZhBaseRegenerates pretrains zh-base again (1000 steps, under a minute) and checks the
// bytes equal the kept file: the kept base is what the preset produces, bit for bit. en-base
// (20000 steps, about 15 minutes) is checked by make base alone.
func TestKeptZhBaseRegenerates(t *testing.T) {
	if testing.Short() {
		t.Skip("pretrains 1000 steps")
	}
	p, err := runspec.PresetByName("zh-base")
	require.NoError(t, err)
	_, kept := loadKeptBase(t, p.Name)
	res, err := Run(context.Background(), p.Spec, ops.NewCPU(), Options{})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, SaveBase(&buf, p.Spec, res))
	require.True(t, bytes.Equal(kept, buf.Bytes()), "web/base/zh-base.ckpt differs from what the zh-base preset trains now: run make base and commit it if the change is intended")
}

// TestDefaultLesson is the fine-tuning issue's acceptance, on the default generative lesson (the
// en-lesson preset: core/compare's default config, from the kept en-base): full fine-tuning
// reaches at least 0.8 held-out accuracy, every method beats the base, LoRA trains under 5% of
// the parameters. It logs the table the README shows (go test -run TestDefaultLesson -v
// ./core/job/, or make lesson for the command line's version). About a minute.
func TestDefaultLesson(t *testing.T) {
	if testing.Short() {
		t.Skip("fine-tunes the small model four ways for 500 steps each")
	}
	p, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	base, _ := loadKeptBase(t, "en-base")
	require.True(t, IsBaseOf(base, p.Spec), "web/base/en-base.ckpt is not en-lesson's base: run make base")
	res, err := Run(context.Background(), p.Spec, ops.NewCPU(), Options{Base: base})
	require.NoError(t, err)
	t.Log("\n" + compare.Markdown(res.Compare))
	for _, r := range res.Compare {
		for _, a := range r.Answers {
			t.Logf("%-8s %q -> %q", r.Method, a.Prompt, a.Answer)
		}
	}
	byName := map[string]compare.Result{}
	for _, r := range res.Compare {
		byName[r.Method] = r
	}
	require.Equal(t, compare.Base, res.Compare[0].Method)
	require.GreaterOrEqual(t, byName[compare.Full].TaskAccuracy, 0.8, "full fine-tuning")
	for _, r := range res.Compare[1:] {
		require.Greater(t, r.TaskAccuracy, byName[compare.Base].TaskAccuracy, "%s must beat the base", r.Method)
	}
	require.Less(t, byName[compare.LoRA].TrainableShare, 0.05)
}
