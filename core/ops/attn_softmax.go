package ops

// AttnSoftmax turns each of BH Tq×Tk score matrices s into attention probabilities
// p = softmax(scale·s) over the keys of each query row. Keys that the mask hides get exactly 0
// and take no part in the max or the sum. Under Causal, query t sees keys j <= t + (Tk-Tq): with
// Tk > Tq the first Tk-Tq keys are a prefix every query sees. A row that sees no key at all (only
// possible with Tk < Tq) is all zeros.
//
// Per row: m = max_j scale·s_j, e_j = Exp32(scale·s_j - m), Σ = Σ_j e_j in increasing j,
// p_j = e_j / Σ.
func (d *CPU) AttnSoftmax(p, s Buf, BH, Tq, Tk int, scale float32, mode MaskMode) {
	pv, sv := f32(p)[:BH*Tq*Tk], f32(s)[:BH*Tq*Tk]
	for r := 0; r < BH*Tq; r++ {
		t := r % Tq
		src, dst := sv[r*Tk:(r+1)*Tk], pv[r*Tk:(r+1)*Tk]
		visible := attnVisible(mode, t, Tq, Tk)
		if visible == 0 {
			clear(dst)
			continue
		}
		m := float32(scale * src[0])
		for j := 1; j < visible; j++ {
			if v := float32(scale * src[j]); v > m {
				m = v
			}
		}
		var sum float32
		for j := 0; j < visible; j++ {
			e := Exp32(float32(scale*src[j]) - m)
			dst[j] = e
			sum += e
		}
		for j := 0; j < visible; j++ {
			dst[j] /= sum
		}
		clear(dst[visible:])
	}
}

// attnVisible is how many keys (a prefix 0..n-1 of the Tk) query t of Tq may attend to.
func attnVisible(mode MaskMode, t, Tq, Tk int) int {
	if mode == Bidirectional {
		return Tk
	}
	n := t + (Tk - Tq) + 1
	return max(0, min(n, Tk))
}

// AttnSoftmaxBackward adds the gradient of the scores into ds, row by row:
// ds_j += scale·p_j·(dp_j - Σ_k p_k·dp_k), the dot product summed in increasing k. Masked keys
// have p = 0 and so get no gradient; the mask mode is not needed.
func (d *CPU) AttnSoftmaxBackward(ds, p, dp Buf, BH, Tq, Tk int, scale float32) {
	dsv, pv, dpv := f32(ds)[:BH*Tq*Tk], f32(p)[:BH*Tq*Tk], f32(dp)[:BH*Tq*Tk]
	for r := 0; r < BH*Tq; r++ {
		pr, dpr, dsr := pv[r*Tk:(r+1)*Tk], dpv[r*Tk:(r+1)*Tk], dsv[r*Tk:(r+1)*Tk]
		var dot float32
		for j, v := range pr {
			dot += float32(v * dpr[j])
		}
		for j, v := range pr {
			dsr[j] += float32(float32(scale*v) * (dpr[j] - dot))
		}
	}
}
