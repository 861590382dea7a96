package webgpu

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/feedback"
	"pretune/core/feedback/feedbacktest"
	"pretune/core/ops"
	"pretune/core/task"
)

// feedbackRun is what one feedback stage reports, in the order it reports it: every number of
// every event (the reward model's training and held-out losses and accuracy; each method's
// training loss, held-out reward and KL), then the results.
type feedbackRun struct {
	values  []float64
	names   []string // what each value is, for the failure message
	results []feedback.Result
}

// runFeedback runs a tiny feedback stage on dev: a random 1-layer model (the golden runs' way:
// this pins arithmetic, not learning), feedbacktest's 15 pairs (12 teach the reward model, 3
// measure it), 4 steps of the reward model and 3 of PPO, DPO and GRPO each on 8 answers a step
// (in the browser, whose CPU device is wasm and whose adapter is software, 2 of each: see
// TestFeedbackStage).
func runFeedback(t *testing.T, dev ops.Device) feedbackRun {
	t.Helper()
	pairs, err := feedback.ParsePairs("food.tsv", []byte(feedbacktest.Prefs()))
	require.NoError(t, err)
	text := "abcdefghijklmnopqrstuvwxyz"
	for _, p := range pairs {
		text += task.PromptText(p.Prompt) + p.Chosen + p.Rejected
	}
	tk, err := core.NewTokenizer(text)
	require.NoError(t, err)
	mcfg := core.DefaultConfig()
	mcfg.Vocab, mcfg.Context, mcfg.Layers, mcfg.Heads, mcfg.Dim, mcfg.Seed = tk.VocabSize(), 64, 1, 2, 16, 7
	sft, err := core.NewModel(dev, mcfg)
	require.NoError(t, err)
	defer sft.Free()

	cfg := feedback.DefaultConfig("")
	cfg.Pairs, cfg.RewardSteps, cfg.Steps, cfg.Batch, cfg.EvalEvery, cfg.EvalSamples, cfg.Tokens = 8, 4, 3, 8, 1, 1, 8
	if runtime.GOOS == "js" {
		cfg.RewardSteps, cfg.Steps = 2, 2
	}
	var run feedbackRun
	record := func(e feedback.Event, what string, v float64) {
		run.values = append(run.values, v)
		run.names = append(run.names, fmt.Sprintf("%s %s %s at step %d", e.Method, e.Kind, what, e.Step))
	}
	run.results, err = feedback.Run(context.Background(), feedback.Inputs{SFT: sft, Tok: tk, Pairs: pairs}, cfg, func(e feedback.Event) {
		switch {
		case e.Kind == "progress":
			record(e, "training loss", e.TrainLoss)
		case e.Kind == "eval" && e.Method == feedback.RewardModel:
			record(e, "held-out loss", e.ValLoss)
			record(e, "held-out accuracy", e.Accuracy)
		case e.Kind == "eval":
			record(e, "reward", e.Reward)
			record(e, "KL", e.KL)
		}
	})
	require.NoError(t, err)
	require.Len(t, run.results, 5, "sft, reward model, ppo, dpo, grpo")
	return run
}

// TestFeedbackStage runs the feedback stage (reward model, PPO, DPO, GRPO) on WebGPU and on the
// CPU device from the same random start and the same pairs.
//
// Tolerance: every loss, reward, KL and accuracy, at every step, within 2e-6 + 1e-3·|cpu| of the
// CPU's. The golden run allows 1e-4 relative over 50 plain steps; here the values pass through
// more float32 reductions the GPU associates differently (a log-softmax over the vocabulary for
// every token, sums of log-probs per answer, the reward model's scalar head, PPO's value head and
// GAE, GRPO's group means), and several are near zero, where only an absolute bound means
// anything: KL starts at exactly 0 and stays near 1e-3, GRPO's loss is 0 up to rounding (its
// group advantages sum to zero), and a random reward model scores every answer near 0.006.
// On lavapipe the losses and KLs agree within 1e-5 relative and the rewards within 2e-6
// absolute, about a fifth of what is allowed; a real fault is far outside it (the GPU's
// cross-entropy backward ignoring negative advantages moves PPO's first loss by 40%).
//
// Sampling: PPO and GRPO learn from answers they sample, so one token drawn differently would
// send the two devices down different paths and nothing after it would be comparable. With
// logits agreeing to about 1e-6, a draw flips only if its uniform number falls that close to a
// boundary of the cumulative distribution, so we compare whole runs, and first check that both
// devices sampled the same answers (the held-out answers at every evaluation, drawn from the
// weights every step left): if a token ever flips on some adapter, the test says so rather than
// report a difference in numbers it cannot attribute.
//
// Determinism: a second run on the GPU repeats the first bit for bit (every value and every
// fingerprint: losses and final weights). In the browser (the in-browser suite runs every test
// of the package) the stage is shorter and not repeated: there the comparison with the CPU
// device is what is new (Dawn's WebGPU, not lavapipe's Vulkan), the suite checks determinism
// on its own, and the full stage twice took about 50 s on SwiftShader.
func TestFeedbackStage(t *testing.T) {
	d := testDevice(t)
	cpu := runFeedback(t, ops.NewCPU())
	gpu := runFeedback(t, d)

	for i, want := range cpu.results {
		got := gpu.results[i]
		require.Equal(t, want.Method, got.Method)
		require.Equal(t, answers(want), answers(got), "%s: the devices sampled different answers (a token flipped), so the runs cannot be compared after it", want.Method)
	}
	require.Len(t, gpu.values, len(cpu.values))
	worst := 0.0 // the largest share of its allowance a difference used
	check := func(what string, want, got float64) {
		t.Helper()
		const atol, rtol = 2e-6, 1e-3
		allowed := atol + rtol*math.Abs(want)
		require.False(t, math.IsNaN(got), what)
		require.InDelta(t, want, got, allowed, "%s: webgpu %v, cpu %v", what, got, want)
		worst = max(worst, math.Abs(got-want)/allowed)
	}
	for i, want := range cpu.values {
		check(cpu.names[i], want, gpu.values[i])
	}
	for i, want := range cpu.results {
		got := gpu.results[i]
		check(want.Method+"'s reward", want.Reward, got.Reward)
		check(want.Method+"'s KL", want.KL, got.KL)
		check(want.Method+"'s reward-model accuracy", want.RMAccuracy, got.RMAccuracy)
		check(want.Method+"'s win rate", want.GoldWinRate, got.GoldWinRate)
	}
	t.Logf("%d values at every step and %d results; the largest difference from the CPU device used %.0f%% of its allowance",
		len(cpu.values), len(cpu.results), 100*worst)

	if runtime.GOOS == "js" {
		return
	}
	again := runFeedback(t, d)
	for i, v := range gpu.values {
		require.Equal(t, math.Float64bits(v), math.Float64bits(again.values[i]), "%s repeats exactly", gpu.names[i])
	}
	for i, r := range gpu.results {
		require.NotEmpty(t, r.Fingerprint, r.Method)
		require.Equal(t, r.Fingerprint, again.results[i].Fingerprint, "%s's fingerprint repeats", r.Method)
	}
	require.NoError(t, d.Flush())
}

// answers are a result's sampled answers: the final ones and those over time.
func answers(r feedback.Result) []string {
	var out []string
	for _, s := range append(append([]feedback.Sample(nil), r.Samples...), r.OverTime...) {
		out = append(out, s.Prompt+" -> "+s.Answer)
	}
	return out
}
