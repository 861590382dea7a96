package feedback

import (
	"math"

	"pretune/core/ops"
)

// GRPO (Shao et al. 2024, DeepSeekMath) drops the value head: each of Batch/num_generations
// prompts gets num_generations answers, each answer's advantage is its reward relative to its
// group, A = r - mean_group, divided by (std_group + 1e-4) with scale_rewards, and every token of the answer carries it.
// The loss per token is -min(ρ_t·A, clip(ρ_t, 1-ε, 1+ε)·A) + β·KL_t with the unbiased
// estimator KL_t = e^{ref_t - logπ_t} - (ref_t - logπ_t) - 1, averaged over each answer's
// tokens, then over the answers (TRL's original "grpo" loss). One optimizer step per batch
// (TRL's num_iterations = 1), so π_old is the policy itself and ρ_t = 1 where the gradient is
// taken: the clip only bites with more passes, which this step keeps general for.
//
// The reward is the reward model's, or the taste's own score (Reward "judge"): verifiable
// rewards, with no reward model to fool.

// grpoStep runs one GRPO step and returns its mean loss.
func (r *policyRun) grpoStep(s int) (float64, error) {
	G := r.meth.NumGenerations
	var prompts []string
	for _, p := range r.nextPrompts(r.cfg.Batch / G) {
		for k := 0; k < G; k++ {
			prompts = append(prompts, p)
		}
	}
	seqs, err := r.policy.sample(prompts, r.cfg.Tokens, r.sampling)
	if err != nil {
		return 0, err
	}
	rewards, err := r.rewards(seqs)
	if err != nil {
		return 0, err
	}
	ref, _, err := r.ref.logProbs(seqs)
	if err != nil {
		return 0, err
	}
	adv := groupAdvantages(rewards, G, r.meth.ScaleRewards)
	var old [][]float32 // π_old: the first pass's log-probabilities (the policy that sampled)
	var loss float64
	for it := 0; it < r.meth.NumIterations; it++ {
		loss, err = r.update(s, seqs, func(logp, _ [][]float32) (float64, [][]float32, [][]float32) {
			if old == nil {
				old = logp
			}
			loss, dlogp := grpoLoss(logp, old, ref, adv, r.meth)
			return loss, dlogp, nil
		})
		if err != nil {
			return 0, err
		}
	}
	return loss, nil
}

// groupAdvantages centres rewards within each group of G consecutive answers and, with scale,
// divides them by the group's standard deviation.
func groupAdvantages(rewards []float32, G int, scale bool) []float32 {
	adv := make([]float32, len(rewards))
	for g := 0; g < len(rewards); g += G {
		mean, variance := meanVar(rewards[g : g+G])
		std := float32(math.Sqrt(float64(variance)))
		for i := g; i < g+G; i++ {
			adv[i] = rewards[i] - mean
			if scale {
				adv[i] /= std + 1e-4
			}
		}
	}
	return adv
}

// grpoLoss is GRPO's loss given the answers' token log-probabilities under the policy (logp),
// the policy that sampled them (old) and the reference, with its derivatives.
func grpoLoss(logp, old, ref [][]float32, adv []float32, meth Method) (float64, [][]float32) {
	dlogp := zerosLike(logp)
	eps, beta := meth.ClipRange, meth.Beta
	var total float32
	B := float32(len(logp))
	for i := range logp {
		n := float32(len(logp[i]))
		var rowSum float32
		for t := range logp[i] {
			a := adv[i]
			ratio := ops.Exp32(logp[i][t] - old[i][t])
			unclipped, clipped := float32(ratio*a), float32(clip(ratio, 1-eps, 1+eps)*a)
			d := ref[i][t] - logp[i][t]
			e := ops.Exp32(d)
			kl := e - d - 1
			var g float32
			if unclipped <= clipped {
				rowSum -= unclipped
				g = -unclipped // ∂(-ρ·A)/∂log π = -ρ·A
			} else {
				rowSum -= clipped
			}
			rowSum += float32(beta * kl)
			g += float32(beta * (1 - e)) // ∂KL/∂log π = -e^d + 1
			dlogp[i][t] = g / float32(n*B)
		}
		total += rowSum / n
	}
	return float64(total / B), dlogp
}
