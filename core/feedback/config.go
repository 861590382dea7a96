package feedback

import (
	"errors"
	"fmt"

	"pretune/core"
)

// Config is a feedback comparison: where the pairs come from, the reward model's training, and
// the methods, which all start from the same SFT model with the same seed, prompts and steps.
type Config struct {
	// Taste is the built-in taste (BuiltinTaste) that judges the results and, without a
	// learner's pairs (Inputs.Pairs), labels pairs of the SFT model's samples too; "" when a
	// learner's pairs teach and the reward model is the only judge.
	Taste string `json:"taste,omitempty"`
	// Flip is the share of the taste's labels flipped, as real people disagree and misclick.
	Flip float32 `json:"flip"`
	// Pairs is how many pairs the taste labels for the reward model to learn from (more are
	// labelled on the held-out prompts to measure it).
	Pairs int `json:"pairs"`
	// RewardSteps and RewardLR train the reward model, PairsPerStep pairs a step.
	RewardSteps  int     `json:"reward_steps"`
	RewardLR     float32 `json:"reward_lr"`
	PairsPerStep int     `json:"pairs_per_step"`
	// Steps is each method's optimizer steps (PPO: batches of rollouts, each optimised
	// ppo_epochs times); Batch the responses per step (GRPO: num_generations per prompt, so
	// Batch/num_generations prompts); DPO takes PairsPerStep pairs a step.
	Steps int `json:"steps"`
	Batch int `json:"batch"`
	// Tokens bounds a sampled answer.
	Tokens int `json:"tokens"`
	// EvalEvery is the steps between measurements of reward and KL on the held-out prompts.
	EvalEvery int `json:"eval_every"`
	// EvalSamples is how many answers each model gives to each held-out prompt for the final
	// measures (reward, KL, win rate).
	EvalSamples int      `json:"eval_samples"`
	Seed        uint64   `json:"seed"`
	Methods     []Method `json:"methods"`
}

// DefaultConfig is the feedback lesson on a taste, tuned on the English food taste to fit well
// within two minutes on two cores natively (the README's table): 300 pairs with a tenth of the
// labels flipped, a reward model trained 150 steps, then 40 steps of each method on 32
// responses a step (GRPO: 4 prompts × 8). Fewer responses a step starved GRPO (2 prompts a
// step reached a gold win rate of 0.57 to 0.71 where 4 reach 0.77); longer answers than 18
// tokens are never right here ("in the mountains" is 16).
func DefaultConfig(taste string) Config {
	return Config{Taste: taste, Flip: 0.1, Pairs: 300, RewardSteps: 150, RewardLR: 5e-4, PairsPerStep: 8,
		Steps: 40, Batch: 32, Tokens: 18, EvalEvery: 10, EvalSamples: 8, Seed: 1, Methods: DefaultMethods()}
}

// Limits of a Config (a link carries one).
const (
	MaxSteps       = 5000
	MaxTokens      = 256
	MaxMethods     = 8
	MaxEvalSamples = 16
)

// Validate checks the config (a taste's id against the built-in tastes).
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, a ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, a...))
		}
	}
	if c.Taste != "" {
		_, err := BuiltinTaste(c.Taste)
		check(err == nil, "%v", err)
	}
	check(c.Flip >= 0 && c.Flip < 0.5, "flip %g is outside 0..0.5 (at a half the labels say nothing)", c.Flip)
	check(c.Pairs >= 8 && c.Pairs <= MaxPairs, "pairs %d is outside 8..%d", c.Pairs, MaxPairs)
	check(c.RewardSteps >= 1 && c.RewardSteps <= MaxSteps, "reward_steps %d is outside 1..%d", c.RewardSteps, MaxSteps)
	check(c.RewardLR > 0 && c.RewardLR <= 1, "reward_lr %g is outside 0..1", c.RewardLR)
	check(c.PairsPerStep >= 1 && 2*c.PairsPerStep <= core.MaxBatch, "pairs_per_step %d is outside 1..%d", c.PairsPerStep, core.MaxBatch/2)
	check(c.Steps >= 1 && c.Steps <= MaxSteps, "steps %d is outside 1..%d", c.Steps, MaxSteps)
	check(c.Batch >= 2 && c.Batch <= core.MaxBatch, "batch %d is outside 2..%d", c.Batch, core.MaxBatch)
	check(c.Tokens >= 1 && c.Tokens <= MaxTokens, "tokens %d is outside 1..%d", c.Tokens, MaxTokens)
	check(c.EvalEvery >= 1 && c.EvalEvery <= max(c.Steps, 1), "eval_every %d is outside 1..%d (the steps)", c.EvalEvery, c.Steps)
	check(c.EvalSamples >= 1 && c.EvalSamples <= MaxEvalSamples, "eval_samples %d is outside 1..%d", c.EvalSamples, MaxEvalSamples)
	check(len(c.Methods) >= 1 && len(c.Methods) <= MaxMethods, "%d methods; a comparison has 1..%d", len(c.Methods), MaxMethods)
	seen := map[string]bool{}
	for i, m := range c.Methods {
		if err := m.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("method %d (%s): %w", i+1, m.Label(), err))
			continue
		}
		if m.Kind == GRPO && (c.Batch%m.NumGenerations != 0) {
			errs = append(errs, fmt.Errorf("method %d (%s): num_generations %d must divide the batch %d", i+1, m.Label(), m.NumGenerations, c.Batch))
		}
		if m.Kind == GRPO && m.Reward == RewardFromJudge && c.Taste == "" {
			errs = append(errs, fmt.Errorf("method %d (%s): a reward from the judge needs a built-in taste; with your own pairs use the reward model", i+1, m.Label()))
		}
		check(!seen[m.Label()], "two methods are named %q; give one a name", m.Label())
		seen[m.Label()] = true
	}
	return errors.Join(errs...)
}
