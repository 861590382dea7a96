package core

// BitFit (Ben Zaken et al. 2022) and LayerNorm tuning (Zhao et al. 2024; PEFT's LN_TUNING) add
// no tensors: they choose which of the base model's own tensors train and freeze the rest. The
// forward and backward passes are the base model's, so there is nothing new to check but the
// choice; the optimizer keeps moments for the trainable tensors only.

// AttachBitFit freezes every base tensor but the biases (of every linear layer and LayerNorm)
// and returns the number of trainable base parameters.
func (m *Model) AttachBitFit() int {
	return m.trainOnly(func(p *Param) bool { return len(p.Shape) == 1 && !isGain(p.Name) })
}

// AttachLNTuning freezes every base tensor but the LayerNorms' gains and biases (ln1 and ln2
// of every block and the final ln_f) and returns the number of trainable base parameters.
func (m *Model) AttachLNTuning() int {
	ln := map[*Param]bool{m.lnfW: true, m.lnfB: true}
	for _, bl := range m.blocks {
		ln[bl.ln1W], ln[bl.ln1B], ln[bl.ln2W], ln[bl.ln2B] = true, true, true, true
	}
	return m.trainOnly(func(p *Param) bool { return ln[p] })
}

func (m *Model) trainOnly(keep func(*Param) bool) int {
	n := 0
	for _, p := range m.BaseParams() {
		p.Frozen = !keep(p)
		if !p.Frozen {
			n += p.Size()
		}
	}
	return n
}
