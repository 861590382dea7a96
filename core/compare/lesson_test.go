package compare

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/corpus"
	"pretune/core/task"
)

// pretrainedBase pretrains the "small" preset, with layers blocks (0 keeps the preset's) for
// steps steps (0 keeps the preset's), on a built-in corpus with core.PretrainTokenizer, caching
// the checkpoint in the temp folder by corpus hash and shape so that repeated runs skip it.
func pretrainedBase(t *testing.T, corpusID string, layers, steps int) (*core.Model, *core.Tokenizer, *corpus.Corpus) {
	t.Helper()
	c, err := corpus.Builtin(corpusID)
	require.NoError(t, err)
	p, err := core.SizePreset("small")
	require.NoError(t, err)
	if steps > 0 {
		p.Config.Steps = steps
	}
	if layers > 0 {
		p.Config.Layers = layers
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("pretune-base-%s-small-%s-L%d-%d.ckpt", corpusID, c.Hash(), p.Config.Layers, p.Config.Steps))
	if data, err := os.ReadFile(path); err == nil {
		if ck, err := checkpoint.Load(bytes.NewReader(data), core.NewCPU()); err == nil {
			return ck.Model, ck.Tok, c
		}
	}
	tk, err := core.PretrainTokenizer(c)
	require.NoError(t, err)
	cfg := p.Config
	cfg.Vocab = tk.VocabSize()
	m, err := core.NewModel(core.NewCPU(), cfg)
	require.NoError(t, err)
	tr, err := core.NewTrainerFor(m, tk, c.Train, c.Val)
	require.NoError(t, err)
	for !tr.Done() {
		_, err := tr.Step()
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, checkpoint.Save(&buf, m, tk, nil))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return m, tk, c
}

// The default lesson's base: the "small" preset (2 blocks of 64 channels) pretrained for 20000
// steps instead of its 600. Held-out exact match depends on how well the base knows the world:
// full fine-tuning of the same lesson reached 0.21 from 600 steps, 0.47 from 3000, 0.63 from
// 8000 and 0.82 from 20000 (a 4-block base at 1500 steps, despite a lower pretraining loss,
// reached only 0.24). PRETUNE_BASE_LAYERS and PRETUNE_BASE_STEPS override these.
const (
	lessonBaseLayers = 2
	lessonBaseSteps  = 20000
)

// TestDefaultLesson measures the default generative lesson (task en-facts from a base pretrained
// on en-world, DefaultConfig) and checks the acceptance targets: full fine-tuning reaches
// at least 0.8 held-out accuracy, every method beats the base, LoRA trains under 5% of the
// parameters. It prints the table the README shows:
//
//	make lesson   (PRETUNE_LESSON=1 go test -run TestDefaultLesson -v -timeout 60m ./core/compare/)
//
// The first run pretrains the base (20000 steps: about 17 minutes on two busy cores) and caches
// it in the temp folder; later runs take about a minute. Too long for make test, so it runs only
// when PRETUNE_LESSON is set.
func TestDefaultLesson(t *testing.T) {
	if testing.Short() || os.Getenv("PRETUNE_LESSON") == "" {
		t.Skip("pretrains a model for minutes and fine-tunes it four ways: run it with make lesson")
	}
	layers, steps := lessonBaseLayers, lessonBaseSteps
	fmt.Sscan(os.Getenv("PRETUNE_BASE_LAYERS"), &layers)
	fmt.Sscan(os.Getenv("PRETUNE_BASE_STEPS"), &steps)
	base, tk, c := pretrainedBase(t, "en-world", layers, steps)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	if s := os.Getenv("PRETUNE_LESSON_STEPS"); s != "" {
		fmt.Sscan(s, &cfg.Steps)
	}
	start := time.Now()
	results, err := Run(context.Background(), base, tk, tsk, c, cfg, func(e Event) {
		if e.Kind == "eval" {
			t.Logf("%-8s step %3d train %.3f held-out %.3f (%v)", e.Method, e.Step, e.TrainLoss, e.ValLoss, time.Since(start).Round(time.Second))
		}
	})
	require.NoError(t, err)
	t.Log("\n" + Markdown(results))
	for _, r := range results {
		for _, a := range r.Answers {
			t.Logf("%-8s %q -> %q", r.Method, a.Prompt, a.Answer)
		}
	}
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Method] = r
	}
	require.GreaterOrEqual(t, byName[Full].TaskAccuracy, 0.8, "full fine-tuning")
	for _, r := range results[1:] {
		require.Greater(t, r.TaskAccuracy, byName[Base].TaskAccuracy, "%s must beat the base", r.Method)
	}
	require.Less(t, byName[LoRA].TrainableShare, 0.05)
}
