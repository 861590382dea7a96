package ops

import "fmt"

// CrossEntropy computes, for each of N rows of V logits, probs = softmax(logits) and
// losses[i] = weights[i]·(-log probs[i,targets[i]]). Per row: m = max logits, e_j = Exp32(l_j - m),
// Σ = Σ_j e_j in increasing j, probs_j = e_j/Σ. The loss is taken as Log32(Σ) - (l_t - m) rather
// than -Log32(probs_t), so it stays finite and accurate when probs_t underflows.
func (d *CPU) CrossEntropy(losses, probs, logits, targets, weights Buf, N, V int) {
	lv, pv, xv := f32(losses)[:N], f32(probs)[:N*V], f32(logits)[:N*V]
	tv, wv := i32(targets)[:N], f32(weights)[:N]
	for i := 0; i < N; i++ {
		row, pr := xv[i*V:(i+1)*V], pv[i*V:(i+1)*V]
		tgt := int(tv[i])
		if tgt < 0 || tgt >= V {
			panic(fmt.Sprintf("ops: CrossEntropy: target %d of row %d outside [0,%d)", tgt, i, V))
		}
		m, sum := Softmax32(pr, row)
		nll := Log32(sum) - (row[tgt] - m)
		lv[i] = wv[i] * nll
	}
}

// CrossEntropyBackward adds scale·weights[i]·(probs[i,:] - onehot(targets[i])) into dlogits[i,:].
// The trainer passes scale = 1/Σweights so that the loss is a weighted mean.
func (d *CPU) CrossEntropyBackward(dlogits, probs, targets, weights Buf, N, V int, scale float32) {
	dv, pv := f32(dlogits)[:N*V], f32(probs)[:N*V]
	tv, wv := i32(targets)[:N], f32(weights)[:N]
	for i := 0; i < N; i++ {
		pr, dr := pv[i*V:(i+1)*V], dv[i*V:(i+1)*V]
		tgt := int(tv[i])
		if tgt < 0 || tgt >= V {
			panic(fmt.Sprintf("ops: CrossEntropyBackward: target %d of row %d outside [0,%d)", tgt, i, V))
		}
		g := float32(scale * wv[i])
		for j, p := range pr {
			if j == tgt {
				p -= 1
			}
			dr[j] += float32(g * p)
		}
	}
}

// Softmax32 writes softmax(row) into out and returns the row's maximum and the sum of the
// shifted exponentials: subtract the maximum, Exp32, sum in increasing index, divide. The CPU
// device's CrossEntropy computes its probabilities (and, from max and sum, its losses) with it;
// the model's inspection and sampling call it too, so probabilities shown to the learner agree
// with the losses the learner sees.
func Softmax32(out, row []float32) (mx, sum float32) {
	mx = row[0]
	for _, v := range row[1:] {
		if v > mx {
			mx = v
		}
	}
	for j, v := range row {
		e := Exp32(v - mx)
		out[j] = e
		sum += e
	}
	for j := range out {
		out[j] /= sum
	}
	return mx, sum
}
