package feedback

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"pretune/core"
	"pretune/core/compare"
)

// Method kinds. A new kind is written here: its constant, its settings in Method (JSON names
// follow TRL's configs, and share links carry them), its defaults in Defaults, its checks in
// Validate; then Run trains it (run.go) with its step in a file of its own (ppo.go, dpo.go,
// grpo.go).
const (
	PPO  = "ppo"  // rollouts scored by the reward model, a KL penalty to the reference, a value head, GAE, clipped updates
	DPO  = "dpo"  // the preference pairs directly: no reward model, no sampling
	GRPO = "grpo" // G samples per prompt, advantages relative to the group, a KL term; no value head

	// Result names that are not methods.
	SFT         = "sft"          // the model every method starts from (and the reference)
	RewardModel = "reward_model" // the reward model trained on the pairs
)

// Kinds are the method kinds in the order the lesson shows them.
var Kinds = []string{PPO, DPO, GRPO}

// Rewards GRPO can optimise.
const (
	RewardFromModel = "model" // the reward model's score (the default)
	RewardFromJudge = "judge" // the built-in taste's own score: verifiable rewards, no reward model
)

// Method is one way to learn from the feedback, with every setting it uses spelled out (a link
// carries them all, so a default changed in a later build cannot change an old link's run).
// Settings a kind does not use stay zero and are left out of the JSON.
type Method struct {
	Name string  `json:"name,omitempty"` // shown in results; "" means Kind
	Kind string  `json:"kind"`
	LR   float32 `json:"lr"` // peak learning rate
	// Rank 0 trains the whole policy; r > 0 trains LoRA of rank r (α = 2r) on the attention
	// projections only, as TRL does with a PEFT config.
	Rank int `json:"r,omitempty"`

	// PPO (TRL's PPOConfig names).
	KLCoef    float32 `json:"kl_coef,omitempty"`    // β of the per-token KL penalty in the reward; 0 is no leash
	ClipRange float32 `json:"cliprange,omitempty"`  // ε of the clipped policy ratio (also GRPO's)
	VFCoef    float32 `json:"vf_coef,omitempty"`    // weight of the value loss
	Gamma     float32 `json:"gamma,omitempty"`      // discount
	Lam       float32 `json:"lam,omitempty"`        // GAE's λ
	PPOEpochs int     `json:"ppo_epochs,omitempty"` // optimisation passes over each batch of rollouts

	// DPO and GRPO: β, the strength of the pull to the reference (DPOConfig.beta,
	// GRPOConfig.beta).
	Beta float32 `json:"beta,omitempty"`
	// GRPO: samples per prompt (GRPOConfig.num_generations) and where the reward comes from.
	NumGenerations int `json:"num_generations,omitempty"`
	NumIterations  int `json:"num_iterations,omitempty"` // optimisation passes per batch (μ)
	// ScaleRewards divides each group's centred rewards by the group's deviation, as the
	// GRPO paper and TRL's default do. Off in the lesson (Dr. GRPO, Liu et al. 2025): when a
	// group's answers are all equally good or bad, the reward model's small differences between
	// them are noise, and dividing by their small deviation blows the noise up to full-size
	// advantages; the policy then drifts away from the reference learning nothing.
	ScaleRewards bool   `json:"scale_rewards,omitempty"`
	Reward       string `json:"reward,omitempty"`
}

// Label is the method's name in results.
func (m Method) Label() string {
	if m.Name != "" {
		return m.Name
	}
	return m.Kind
}

// Defaults is a kind's method as the lesson starts it. PPO starts from TRL's defaults
// (kl_coef 0.05, cliprange 0.2, vf_coef 0.1, gamma 1, lam 0.95, 4 PPO epochs) with two
// changes for this size: kl_coef 0.2 (answers are a few tokens long, so at 0.05 the leash
// costs almost nothing against reward-model scores that span ±4) and 2 epochs over 32
// rollouts (the same updates per rollout as 4 over 16, at half the sampling). DPO keeps β 0.1.
// GRPO keeps 8 generations, β 0.04 (TRL's default before 0.15) and one pass per batch, and
// does not divide by the group's deviation (see ScaleRewards). The learning rates are this
// model's: TRL's 1e-5 .. 1e-6 are for models of billions of parameters.
func Defaults(kind string) Method {
	m := Method{Kind: kind}
	switch kind {
	case PPO:
		m.LR, m.KLCoef, m.ClipRange, m.VFCoef, m.Gamma, m.Lam, m.PPOEpochs = 1.5e-4, 0.2, 0.2, 0.1, 1, 0.95, 2
	case DPO:
		m.LR, m.Beta = 2e-4, 0.1
	case GRPO:
		m.LR, m.Beta, m.ClipRange, m.NumGenerations, m.NumIterations, m.Reward = 3e-4, 0.04, 0.2, 8, 1, RewardFromModel
	}
	return m
}

// DefaultMethods are the lesson's methods: PPO, DPO and GRPO with their defaults.
func DefaultMethods() []Method {
	return []Method{Defaults(PPO), Defaults(DPO), Defaults(GRPO)}
}

// NoLeash is PPO without its KL penalty: the variant that shows what the leash is for.
func NoLeash() Method {
	m := Defaults(PPO)
	m.Name, m.KLCoef = "ppo-no-leash", 0
	return m
}

// MaxNameBytes bounds a method's name; MaxGenerations bounds GRPO's group.
const (
	MaxNameBytes   = 200
	MaxGenerations = 64
	MaxPPOEpochs   = 16
	MaxRank        = 64
)

// loraConfig is the policy's LoRA for a method with a rank: the fine-tuning comparison's LoRA
// of that rank, its defaults (α = 2r, the attention projections) filled there.
func (m Method) loraConfig() core.LoRAConfig {
	return compare.Method{Kind: compare.LoRA, Rank: m.Rank}.LoRAConfig()
}

// Validate checks one method. Settings the kind does not use must be zero: a link carrying
// them was made by hand or damaged.
func (m Method) Validate() error {
	if len(m.Name) > MaxNameBytes || !utf8.ValidString(m.Name) || m.Name == SFT || m.Name == RewardModel || m.Name == "pretrain" || m.Name == "base" {
		return fmt.Errorf("the name must be UTF-8 of at most %d bytes and not %q, %q, \"pretrain\" or \"base\"", MaxNameBytes, SFT, RewardModel)
	}
	in := func(v, lo, hi float32, what string) error {
		if !(v >= lo && v <= hi) { // also refuses NaN
			return fmt.Errorf("%s %g is outside %g..%g", what, v, lo, hi)
		}
		return nil
	}
	unused := func(ok bool, what string) error {
		if !ok {
			return fmt.Errorf("a %s method has no %s setting", m.Kind, what)
		}
		return nil
	}
	errs := []error{in(m.LR, 1e-7, 1, "learning rate")}
	if m.Rank < 0 || m.Rank > MaxRank {
		errs = append(errs, fmt.Errorf("LoRA rank %d is outside 0..%d (0 trains the whole policy)", m.Rank, MaxRank))
	}
	ppo, grpo := m.Kind == PPO, m.Kind == GRPO
	switch m.Kind {
	case PPO:
		errs = append(errs, in(m.KLCoef, 0, 10, "kl_coef"), in(m.ClipRange, 0.01, 10, "cliprange"), in(m.VFCoef, 0, 10, "vf_coef"),
			in(m.Gamma, 0.01, 1, "gamma"), in(m.Lam, 0, 1, "lam"))
		if m.PPOEpochs < 1 || m.PPOEpochs > MaxPPOEpochs {
			errs = append(errs, fmt.Errorf("ppo_epochs %d is outside 1..%d", m.PPOEpochs, MaxPPOEpochs))
		}
	case DPO:
		errs = append(errs, in(m.Beta, 0.001, 10, "beta"))
	case GRPO:
		errs = append(errs, in(m.Beta, 0, 10, "beta"), in(m.ClipRange, 0.01, 10, "cliprange"))
		if m.NumGenerations < 2 || m.NumGenerations > MaxGenerations {
			errs = append(errs, fmt.Errorf("num_generations %d is outside 2..%d: a group needs two samples to compare", m.NumGenerations, MaxGenerations))
		}
		if m.NumIterations < 1 || m.NumIterations > MaxPPOEpochs {
			errs = append(errs, fmt.Errorf("num_iterations %d is outside 1..%d", m.NumIterations, MaxPPOEpochs))
		}
		if m.Reward != RewardFromModel && m.Reward != RewardFromJudge {
			errs = append(errs, fmt.Errorf("reward %q is not %q or %q", m.Reward, RewardFromModel, RewardFromJudge))
		}
	default:
		return fmt.Errorf("kind %q is not one of %s, %s, %s", m.Kind, PPO, DPO, GRPO)
	}
	errs = append(errs,
		unused(ppo || (m.KLCoef == 0 && m.VFCoef == 0 && m.Gamma == 0 && m.Lam == 0 && m.PPOEpochs == 0), "kl_coef, vf_coef, gamma, lam or ppo_epochs"),
		unused(ppo || grpo || m.ClipRange == 0, "cliprange"),
		unused(!ppo || m.Beta == 0, "beta"),
		unused(grpo || (m.NumGenerations == 0 && m.NumIterations == 0 && m.Reward == "" && !m.ScaleRewards), "num_generations, num_iterations, reward or scale_rewards"))
	return errors.Join(errs...)
}
