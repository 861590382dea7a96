package job

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/runspec"
)

// TestLoadDoRAAndIA3Adapters: a comparison's DoRA and IA3 methods each save an adapter file
// (the worker's save path, compare.AdapterOf by name), and the load path the worker takes
// (LoadAdapter onto the base checkpoint) answers as the method did, with its kind and
// trainable parameters; DoRA's off answers are the base's.
func TestLoadDoRAAndIA3Adapters(t *testing.T) {
	spec := tinyComparison(t)
	spec.FineTune = &runspec.FineTune{Steps: 6, Warmup: 1, EvalEvery: 3}
	spec.Methods = []compare.Method{compare.Defaults(compare.DoRA).Canonical(), compare.Defaults(compare.IA3)}
	res, load := compareFromSavedBase(t, spec)
	require.Len(t, res.Compare, 3)
	for _, r := range res.Compare[1:] {
		t.Run(r.Kind, func(t *testing.T) {
			file, err := compare.AdapterOf(res.Compare, r.Method)
			require.NoError(t, err)
			e, err := LoadAdapter(spec, load(), file)
			require.NoError(t, err)
			require.Equal(t, compare.Loaded, e.Method)
			require.Equal(t, r.Kind, e.Kind)
			require.Equal(t, r.Answers, e.Answers)
			require.Equal(t, r.TrainableParams, e.TrainableParams)
			if r.Kind == compare.DoRA {
				require.Equal(t, res.Compare[0].Answers, e.AnswersOff)
				require.Equal(t, r.LoRAUpdates, e.LoRAUpdates)
			}
		})
	}
	_, err := compare.AdapterOf(res.Compare, "")
	require.ErrorContains(t, err, "2 LoRA methods", "two files to choose from: the caller must name one")
}
