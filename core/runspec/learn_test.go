package runspec

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/ops"
)

// TestPresetsLearn trains each preset on the CPU and logs its losses and a sample, to choose
// and check the presets' step counts. It takes minutes, so it runs only when asked:
//
//	PRETUNE_PRESET_LEARN=en-small go test -run TestPresetsLearn -v ./core/runspec/
func TestPresetsLearn(t *testing.T) {
	want := os.Getenv("PRETUNE_PRESET_LEARN")
	if want == "" {
		t.Skip("set PRETUNE_PRESET_LEARN to a preset name (or all) to run")
	}
	for _, p := range Presets() {
		if want != "all" && want != p.Name {
			continue
		}
		t.Run(p.Name, func(t *testing.T) {
			c, err := p.Spec.Resolve()
			require.NoError(t, err)
			tr, err := core.NewTrainer(ops.NewCPU(), p.Spec.Config, c.Train, c.Val)
			require.NoError(t, err)
			start := time.Now()
			var first float64
			tr.OnEvent = func(e core.Event) {
				if e.Kind == "eval" {
					if first == 0 {
						first = e.ValLoss
					}
					t.Logf("step %4d  train %.3f  val %.3f  %.0f tok/s", e.Step, e.TrainLoss, e.ValLoss, e.TokensPerS)
				}
			}
			for !tr.Done() {
				_, err := tr.Step()
				require.NoError(t, err)
			}
			prompt := "The "
			if p.Spec.Lang == "zh" {
				prompt = "小"
			}
			out, err := tr.Model.Generate(tr.Tok, prompt, core.SampleOptions{Tokens: 200, Temperature: 0.8, TopK: 10, Seed: 1})
			require.NoError(t, err)
			_, val := tr.LastLosses()
			t.Logf("%s: vocab %d, %d params, %s; val %.3f\n%s", p.Name, tr.Tok.VocabSize(), tr.Model.ParamCount(), time.Since(start).Round(time.Second), val, out)
			require.Less(t, val, first)
		})
	}
}
