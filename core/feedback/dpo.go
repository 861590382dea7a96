package feedback

// DPO (Rafailov et al. 2023) learns from the pairs directly: with
// z = β·((log π(y_w|x) - log π_ref(y_w|x)) - (log π(y_l|x) - log π_ref(y_l|x))), where log π(y|x)
// sums the answer's tokens, the loss is -log σ(z), averaged over PairsPerStep pairs a step in
// an order drawn from the data stream. ∂L/∂log π(y_w) = -β·σ(-z) = -∂L/∂log π(y_l), the same
// for every token of the answer.

// dpoStep runs one DPO step and returns its mean loss.
func (r *policyRun) dpoStep(s int) (float64, error) {
	idx := r.next(r.cfg.PairsPerStep, len(r.pairs))
	seqs := make([]sequence, 0, 2*len(idx))
	for _, i := range idx {
		seqs = append(seqs, r.pairs[i][0], r.pairs[i][1])
	}
	return r.update(s, seqs, func(logp, _ [][]float32) (float64, [][]float32, [][]float32) {
		refs := make([][2]float32, len(idx))
		for k, i := range idx {
			refs[k] = r.refPairs[i]
		}
		loss, dlogp := dpoLoss(logp, refs, r.meth.Beta)
		return loss, dlogp, nil
	})
}

// dpoLoss is DPO's mean loss over pairs whose answers' token log-probabilities are logp (rows
// 2k chosen, 2k+1 rejected) and whose reference log-probabilities are refs, with its
// derivatives.
func dpoLoss(logp [][]float32, refs [][2]float32, beta float32) (float64, [][]float32) {
	dlogp := zerosLike(logp)
	P := len(refs)
	var total float32
	for k := 0; k < P; k++ {
		w, l := sum(logp[2*k])-refs[k][0], sum(logp[2*k+1])-refs[k][1]
		z := float32(beta * (w - l))
		total += softplus(-z)
		g := float32(beta*sigmoid(-z)) / float32(P)
		for t := range dlogp[2*k] {
			dlogp[2*k][t] = -g
		}
		for t := range dlogp[2*k+1] {
			dlogp[2*k+1][t] = g
		}
	}
	return float64(total / float32(P)), dlogp
}
