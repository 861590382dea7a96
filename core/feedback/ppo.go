package feedback

import (
	"math"

	"pretune/core/ops"
)

// PPO as InstructGPT and TRL's PPOTrainer run it, one batch of rollouts per step:
//
//  1. the policy answers Batch training prompts (sampling stream);
//  2. the reward model scores each answer: score;
//  3. each answer token t gets the reward r_t = -kl_coef·(log π_old(y_t) - log π_ref(y_t)),
//     plus the score at the last token: the KL leash is paid token by token;
//  4. the value head's V_t and GAE give advantages: δ_t = r_t + γ·V_{t+1} - V_t,
//     A_t = δ_t + γλ·A_{t+1} (V and A past the last token are 0), returns R_t = A_t + V_t; the
//     advantages are whitened over the batch (mean 0, deviation 1);
//  5. ppo_epochs passes over the batch, each one optimizer step on
//     L = mean_t max(-A_t·ρ_t, -A_t·clip(ρ_t, 1-ε, 1+ε))
//     + vf_coef · mean_t ½·max((V_t - R_t)², (V_old,t + clip(V_t - V_old,t, -ε, ε) - R_t)²),
//     with ρ_t = π(y_t)/π_old(y_t) and ε = cliprange (TRL's cliprange_value is 0.2 too).
//
// Means run over all answer tokens of the batch (TRL's masked_mean).

// ppoStep runs one PPO step and returns the mean loss of its last pass.
func (r *policyRun) ppoStep(s int) (float64, error) {
	seqs, err := r.policy.sample(r.nextPrompts(r.cfg.Batch), r.cfg.Tokens, r.sampling)
	if err != nil {
		return 0, err
	}
	scores, err := r.rm.scores(seqs)
	if err != nil {
		return 0, err
	}
	ref, _, err := r.ref.logProbs(seqs)
	if err != nil {
		return 0, err
	}
	// The first pass runs the policy that sampled the batch: its log-probabilities and values
	// are π_old and V_old, so no separate forward pass is needed for them.
	var old, oldV, adv, ret [][]float32
	var loss float64
	for epoch := 0; epoch < r.meth.PPOEpochs; epoch++ {
		loss, err = r.update(s, seqs, func(logp, values [][]float32) (float64, [][]float32, [][]float32) {
			if old == nil {
				old, oldV = logp, values
				adv, ret = ppoAdvantages(old, ref, oldV, scores, r.meth)
			}
			return ppoLoss(logp, values, old, oldV, adv, ret, r.meth)
		})
		if err != nil {
			return 0, err
		}
	}
	return loss, nil
}

// ppoAdvantages returns the whitened GAE advantages and the returns of a batch of rollouts.
func ppoAdvantages(old, ref, values [][]float32, scores []float32, meth Method) (adv, ret [][]float32) {
	adv, ret = zerosLike(old), zerosLike(old)
	var all []float32
	for i := range old {
		n := len(old[i])
		rew := make([]float32, n)
		for t := 0; t < n; t++ {
			rew[t] = -float32(meth.KLCoef * (old[i][t] - ref[i][t]))
		}
		rew[n-1] += scores[i]
		var last float32
		for t := n - 1; t >= 0; t-- {
			var next float32
			if t+1 < n {
				next = values[i][t+1]
			}
			delta := rew[t] + float32(meth.Gamma*next) - values[i][t]
			last = delta + float32(float32(meth.Gamma*meth.Lam)*last)
			adv[i][t] = last
			ret[i][t] = last + values[i][t]
		}
		all = append(all, adv[i]...)
	}
	// Whitening divides by the unbiased deviation (n-1), as TRL's masked_whiten does by default.
	mean, variance := meanVar(all)
	inv := 1 / float32(math.Sqrt(float64(variance+1e-8)))
	for i := range adv {
		for t := range adv[i] {
			adv[i][t] = float32((adv[i][t] - mean) * inv)
		}
	}
	return adv, ret
}

// ppoLoss is PPO's loss on one pass and its derivatives with respect to each token's
// log-probability and value.
func ppoLoss(logp, values, old, oldV, adv, ret [][]float32, meth Method) (float64, [][]float32, [][]float32) {
	dlogp, dvalues := zerosLike(logp), zerosLike(logp)
	n := 0
	for i := range logp {
		n += len(logp[i])
	}
	inv, eps := 1/float32(n), meth.ClipRange
	var pgSum, vfSum float32
	for i := range logp {
		for t := range logp[i] {
			a := adv[i][t]
			ratio := ops.Exp32(logp[i][t] - old[i][t])
			unclipped, clipped := -float32(a*ratio), -float32(a*clip(ratio, 1-eps, 1+eps))
			if unclipped >= clipped {
				pgSum += unclipped
				dlogp[i][t] = float32(unclipped * inv) // ∂(-A·ρ)/∂log π = -A·ρ
			} else {
				pgSum += clipped // the clip holds the ratio: no gradient
			}
			v, vOld, R := values[i][t], oldV[i][t], ret[i][t]
			diff := v - vOld
			vClipped := vOld + clip(diff, -eps, eps)
			e1, e2 := v-R, vClipped-R
			sq1, sq2 := float32(e1*e1), float32(e2*e2)
			if sq1 >= sq2 {
				vfSum += sq1
				dvalues[i][t] = float32(float32(meth.VFCoef*e1) * inv)
			} else {
				// The clipped error is larger only when the clip holds the value (inside the
				// clip the two are equal): no gradient.
				vfSum += sq2
			}
		}
	}
	loss := float64(pgSum*inv) + float64(float32(meth.VFCoef*0.5)*float32(vfSum*inv))
	return loss, dlogp, dvalues
}
