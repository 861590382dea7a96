package compare

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/corpus"
	"pretune/core/fingerprint"
	"pretune/core/ops"
	"pretune/core/task"
)

// quickBase is a barely trained small model on the English corpus: enough for the plumbing.
func quickBase(t *testing.T) (*core.Model, *core.Tokenizer, *corpus.Corpus) {
	t.Helper()
	c, err := corpus.Builtin("en-world")
	require.NoError(t, err)
	tk, err := core.PretrainTokenizer(c)
	require.NoError(t, err)
	cfg := core.DefaultConfig()
	cfg.Vocab, cfg.Dim, cfg.Heads, cfg.Layers, cfg.Batch = tk.VocabSize(), 16, 2, 1, 4
	cfg.Steps, cfg.Warmup, cfg.EvalEvery, cfg.EvalBatches = 10, 2, 10, 1
	m, err := core.NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	tr, err := core.NewTrainerFor(m, tk, c.Train, c.Val)
	require.NoError(t, err)
	for !tr.Done() {
		_, err := tr.Step()
		require.NoError(t, err)
	}
	return m, tk, c
}

func TestRunMeasuresEveryMethod(t *testing.T) {
	base, tk, c := quickBase(t)
	hash, err := base.WeightsHash()
	require.NoError(t, err)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 4, 2
	cfg.Methods = append(cfg.Methods, Method{Name: "lora-mlp", Kind: LoRA, Rank: 2, Alpha: 2, Targets: []string{"fc_in", "fc_out"}})
	var events []Event
	run := func() []Result {
		events = nil
		res, err := Run(context.Background(), base, tk, tsk, c, cfg, func(e Event) { events = append(events, e) })
		require.NoError(t, err)
		return res
	}
	res := run()
	require.Len(t, res, 1+len(cfg.Methods))
	require.Equal(t, Base, res[0].Method)
	require.Zero(t, res[0].Forgetting)
	require.Zero(t, res[0].TrainableParams)
	results := 0
	for _, e := range events {
		if e.Kind == "result" {
			results++
		}
	}
	require.Equal(t, len(res), results, "one result event per method and the base")
	fingerprints := map[string]bool{}
	for i, r := range res {
		require.Len(t, r.Answers, 4, r.Method)
		require.GreaterOrEqual(t, r.TaskAccuracy, 0.0)
		require.LessOrEqual(t, r.TaskAccuracy, 1.0)
		require.Contains(t, r.Fingerprint, "cpu:")
		require.False(t, fingerprints[r.Fingerprint], "%s has another method's fingerprint", r.Method)
		fingerprints[r.Fingerprint] = true
		if i == 0 {
			require.Zero(t, r.ActivationBytes, "the base does not train")
			continue
		}
		require.Positive(t, r.ActivationBytes)
		require.Len(t, r.TrainCurve, cfg.Steps)
		require.Len(t, r.ValCurve, 1+cfg.Steps/cfg.EvalEvery)
		require.Equal(t, 8*r.TrainableParams, r.OptimizerBytes, "two float32 moments per trainable parameter")
		require.Positive(t, r.MsPerStep)
		require.Positive(t, r.TokensPerS)
		require.NotZero(t, r.Forgetting, r.Method)
	}
	require.Equal(t, 1.0, res[1].TrainableShare)
	require.Less(t, res[2].TrainableShare, 0.2)
	after, err := base.WeightsHash()
	require.NoError(t, err)
	require.Equal(t, hash, after, "the base model is left unchanged")

	again := run()
	for i := range res {
		require.Equal(t, res[i].Fingerprint, again[i].Fingerprint, "same config and seed, same run: %s", res[i].Method)
		require.Equal(t, res[i].TrainCurve, again[i].TrainCurve)
	}
}

func TestRunClassify(t *testing.T) {
	base, tk, c := quickBase(t)
	tsk, err := task.Builtin("en-truth")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 3, 3
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, nil)
	require.NoError(t, err)
	require.Len(t, res, 1+len(cfg.Methods))
	byName := map[string]Result{}
	for _, r := range res {
		byName[r.Method] = r
		for _, a := range r.Answers {
			require.Contains(t, tsk.Labels, a.Answer)
		}
	}
	require.Zero(t, byName["head"].Forgetting, "a frozen body keeps the language model exactly")
	require.NotZero(t, byName["head+body"].Forgetting)
	require.Less(t, byName["head"].TrainableParams, byName["lora+head"].TrainableParams)
}

func TestRunRejectsBadConfigs(t *testing.T) {
	base, tk, c := quickBase(t)
	gen, err := task.Builtin("en-facts")
	require.NoError(t, err)
	for name, cfg := range map[string]Config{
		"no steps":      {Methods: DefaultMethods(gen.Kind)},
		"no methods":    {Steps: 1},
		"unknown kind":  {Steps: 1, Methods: []Method{{Kind: "magic"}}},
		"head on gen":   {Steps: 1, Methods: []Method{{Kind: Head}}},
		"bad lora rank": {Steps: 1, Methods: []Method{{Kind: LoRA, Rank: 0, Alpha: 1, Targets: []string{"q_proj"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Run(context.Background(), base, tk, gen, c, cfg, nil)
			require.Error(t, err)
		})
	}
	base.Mask = ops.Bidirectional
	_, err = Run(context.Background(), base, tk, gen, c, DefaultConfig(gen.Kind), nil)
	require.Error(t, err, "a masked-LM base cannot do a generate task")
}

func TestMarkdown(t *testing.T) {
	md := Markdown([]Result{{Method: "lora", TaskAccuracy: 0.5, Forgetting: -0.25, TrainableParams: 4096, TrainableShare: 0.0368, OptimizerBytes: 32768, ActivationBytes: 2048, MsPerStep: 12.5, TokensPerS: 1000}})
	require.Contains(t, md, "| lora | 0.500 | -0.250 | 4096 | 3.68% | 32.0 KB | 2.0 KB | 12.5 | 1000 |")
}

// TestLoRAExtras: a LoRA method reports its learned updates (ΔW = s·B·A, checked against a
// product computed here from the exported A and B), the base's answers exactly when switched
// off, answers when merged, and an adapter file that loads back into the base.
func TestLoRAExtras(t *testing.T) {
	base, tk, c := quickBase(t)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 6, 3
	lcfg := core.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "fc_in"}}
	cfg.Methods = []Method{{Kind: Full}, {Kind: LoRA, Rank: lcfg.Rank, Alpha: lcfg.Alpha, Targets: lcfg.Targets}}
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, nil)
	require.NoError(t, err)
	baseRes, full, lora := res[0], res[1], res[2]
	require.Empty(t, full.LoRAUpdates, "only LoRA has updates to show")
	require.Nil(t, full.AdapterFile)

	require.Len(t, lora.LoRAUpdates, base.Cfg.Layers*2)
	require.Equal(t, baseRes.Answers, lora.AnswersOff, "switched off, the adapter gives the base's answers exactly")
	require.Len(t, lora.AnswersMerged, len(lora.Answers))

	// The adapter file loads into a fresh LoRA on the base, and its update is the reported one.
	m, err := base.Clone()
	require.NoError(t, err)
	defer m.Free()
	_, err = m.AttachLoRA(lcfg, 99)
	require.NoError(t, err)
	require.NoError(t, m.ImportLoRA(bytes.NewReader(lora.AdapterFile)))
	weights, err := m.Weights()
	require.NoError(t, err)
	byName := map[string][]float32{}
	for i, p := range m.Params {
		byName[p.Name] = weights[i]
	}
	s := lcfg.Scaling()
	nonzero := false
	for _, u := range lora.LoRAUpdates {
		module := map[string]string{"q_proj": "attn.q_proj", "fc_in": "mlp.fc_in"}[u.Target]
		A := byName[fmt.Sprintf("blocks.%d.%s.lora_A.weight", u.Layer, module)]
		B := byName[fmt.Sprintf("blocks.%d.%s.lora_B.weight", u.Layer, module)]
		require.NotNil(t, A, u.Target)
		require.Len(t, u.Delta, u.Rows*u.Cols)
		for i := 0; i < u.Rows; i++ {
			for j := 0; j < u.Cols; j++ {
				var want float32
				for k := 0; k < lcfg.Rank; k++ {
					want += s * B[i*lcfg.Rank+k] * A[k*u.Cols+j]
				}
				require.InDelta(t, want, u.Delta[i*u.Cols+j], 1e-5)
				nonzero = nonzero || u.Delta[i*u.Cols+j] != 0
			}
		}
	}
	require.True(t, nonzero, "training moved B off zero")
}

// TestTrainIsRunsMethod: Train trains one method exactly as Run does (the same result and
// fingerprint, the same events), returns the trained model (its weights are the fingerprint's)
// and leaves the base unchanged.
func TestTrainIsRunsMethod(t *testing.T) {
	base, tk, c := quickBase(t)
	before, err := base.WeightsHash()
	require.NoError(t, err)
	tsk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	cfg := DefaultConfig(tsk.Kind)
	cfg.Steps, cfg.EvalEvery = 4, 2
	var runEvents, trainEvents []Event
	res, err := Run(context.Background(), base, tk, tsk, c, cfg, func(e Event) {
		if e.Method == Full && e.Kind != "result" {
			runEvents = append(runEvents, e)
		}
	})
	require.NoError(t, err)
	m, r, err := Train(context.Background(), base, tk, tsk, c, cfg, Defaults(Full), func(e Event) { trainEvents = append(trainEvents, e) })
	require.NoError(t, err)
	defer m.Free()
	want := res[1]
	require.Equal(t, Full, want.Method)
	want.MsPerStep, want.TokensPerS, r.MsPerStep, r.TokensPerS = 0, 0, 0, 0
	require.Equal(t, want, *r)
	require.Len(t, trainEvents, len(runEvents))
	for i := range runEvents {
		require.Equal(t, runEvents[i].Kind, trainEvents[i].Kind)
		require.Equal(t, runEvents[i].Step, trainEvents[i].Step)
		require.Equal(t, runEvents[i].TrainLoss, trainEvents[i].TrainLoss)
	}
	hash, err := m.WeightsHash()
	require.NoError(t, err)
	var losses []float64
	for _, e := range trainEvents {
		if e.Kind == "progress" {
			losses = append(losses, e.TrainLoss)
		}
	}
	require.Equal(t, r.Fingerprint, fingerprint.Of(m.Dev.Name(), losses, hash), "the returned model is the one the fingerprint names")
	after, err := base.WeightsHash()
	require.NoError(t, err)
	require.Equal(t, before, after)
}
