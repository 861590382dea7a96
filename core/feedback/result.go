package feedback

import (
	"fmt"
	"strings"

	"pretune/core"
	"pretune/core/fingerprint"
)

// Point is one point of a curve over steps.
type Point struct {
	Step  int     `json:"step"`
	Value float64 `json:"value"`
}

// Sample is one answer a model gave to a held-out prompt, with its reward-model score and, with
// a taste, the taste's.
type Sample struct {
	Step   int     `json:"step,omitempty"` // for samples over time: the step they were drawn after
	Prompt string  `json:"prompt"`
	Answer string  `json:"answer"`
	Reward float32 `json:"reward"`
	Taste  float32 `json:"taste"`
}

// Win judges: who decides a win rate.
const (
	JudgeTaste       = "taste"        // the built-in taste that made the pairs
	JudgeRewardModel = "reward_model" // a learner's own pairs: no judge but the reward model
)

// Result is one model's measurements: the SFT start, the reward model, or a method.
type Result struct {
	Method string `json:"method"`
	Kind   string `json:"kind"`
	// Reward is the reward model's mean score of the model's answers to the held-out prompts.
	Reward float64 `json:"reward"`
	// TasteScore is the taste's mean score of the same answers (a taste's share of answers it
	// likes); 0 without a taste.
	TasteScore float64 `json:"taste_score"`
	// GoldWinRate is how often WinJudge prefers the model's answer to the SFT model's, on the
	// same held-out prompts (ties count half): 0.5 for the SFT model itself.
	GoldWinRate float64 `json:"gold_win_rate"`
	WinJudge    string  `json:"win_judge"`
	// KL is the mean per-token KL divergence to the reference (the SFT model) on the model's own
	// answers, in nats: the mean of log π(y_t) - log π_ref(y_t) over their tokens.
	KL float64 `json:"kl"`
	// TaskAccuracy and Forgetting are measured as the fine-tuning comparison measures them:
	// exact-match accuracy on the facts task's held-out questions, and the held-out
	// pretraining-text loss after minus before (the SFT model's), nats per token.
	TaskAccuracy float64 `json:"task_accuracy"`
	Forgetting   float64 `json:"forgetting"`
	// The reward model's held-out pair accuracy against the pairs' labels, and against the
	// taste (flipped labels counted the right way round).
	RMAccuracy     float64 `json:"rm_accuracy,omitempty"`
	RMGoldAccuracy float64 `json:"rm_gold_accuracy,omitempty"`

	TrainableParams int     `json:"trainable_params"`
	OptimizerBytes  int     `json:"optimizer_bytes"`
	MsPerStep       float64 `json:"ms_per_step"`
	TokensPerS      float64 `json:"tokens_per_s"`

	RewardCurve []Point  `json:"reward_curve,omitempty"` // held-out reward over steps
	KLCurve     []Point  `json:"kl_curve,omitempty"`     // held-out KL over steps
	LossCurve   []Point  `json:"loss_curve,omitempty"`   // training loss over steps
	RMCurve     []Point  `json:"rm_curve,omitempty"`     // the reward model's held-out accuracy
	Samples     []Sample `json:"samples,omitempty"`      // answers to the held-out prompts
	OverTime    []Sample `json:"over_time,omitempty"`    // a few prompts' answers at every evaluation
	Fingerprint string   `json:"fingerprint"`
	// File is the reward model as safetensors (ExportReward), for the reward model's result.
	File []byte `json:"-"`
}

// Event is what Run reports: "progress" after each step, "eval" at each measurement (a
// method's Reward and KL on the held-out prompts; the reward model's held-out loss and
// Accuracy), and "result" when a model is measured. The step, the steps and the losses are a
// trainer's event's (core.Event); LR, GradNorm and TokensPerS stay zero.
type Event struct {
	core.Event
	Method   string  `json:"method"`
	Accuracy float64 `json:"accuracy,omitempty"`
	Reward   float64 `json:"reward,omitempty"`
	KL       float64 `json:"kl,omitempty"`
	Result   *Result `json:"result,omitempty"`
}

// WeightsFingerprint is the fingerprint of a model nothing trained here (the SFT model's
// result's): its device class and weights, with no training losses.
func WeightsFingerprint(m *core.Model) (string, error) {
	hash, err := m.WeightsHash()
	if err != nil {
		return "", err
	}
	return fingerprintOf(m, nil, hash), nil
}

// fingerprintOf is a result's fingerprint: its device class, training losses and weights.
func fingerprintOf(m *core.Model, losses []float64, weightsHash string) string {
	return fingerprint.Of(m.Dev.Name(), losses, weightsHash)
}

// Markdown formats results as the README's table.
func Markdown(results []Result) string {
	var sb strings.Builder
	sb.WriteString("| model | reward | taste score | gold win rate | KL (nats/token) | task accuracy | forgetting | RM accuracy | trainable params | optimizer memory | ms/step |\n")
	sb.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range results {
		if r.Kind == RewardModel {
			rm := fmt.Sprintf("%.3f", r.RMAccuracy)
			if r.RMGoldAccuracy > 0 {
				rm += fmt.Sprintf(" (taste %.3f)", r.RMGoldAccuracy)
			}
			fmt.Fprintf(&sb, "| %s |  |  |  |  |  |  | %s | %d | %.1f KB | %.1f |\n",
				r.Method, rm, r.TrainableParams, float64(r.OptimizerBytes)/1024, r.MsPerStep)
			continue
		}
		win, taste := fmt.Sprintf("%.3f", r.GoldWinRate), ""
		if r.WinJudge == JudgeRewardModel {
			win += " (RM)"
		} else {
			taste = fmt.Sprintf("%.3f", r.TasteScore)
		}
		fmt.Fprintf(&sb, "| %s | %+.3f | %s | %s | %.4f | %.3f | %+.3f |  | %d | %.1f KB | %.1f |\n",
			r.Method, r.Reward, taste, win, r.KL, r.TaskAccuracy, r.Forgetting, r.TrainableParams, float64(r.OptimizerBytes)/1024, r.MsPerStep)
	}
	return sb.String()
}
