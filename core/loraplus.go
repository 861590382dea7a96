package core

import "fmt"

// LoRA+ (Hayou et al. 2024) is LoRA whose B matrices learn faster than its A matrices: B's
// learning rate is ratio × A's. With a shared rate, A (which starts random) and B (which
// starts at zero) are updated on the same scale although their roles are not symmetric; a larger
// rate for B moves the update s·B·A away from zero sooner and, in the paper, trains faster at
// the same cost. Everything else (the parameters, the forward and backward passes, the
// optimizer's memory, merging) is LoRA's: the ratio lives in the B tensors' Param.LRScale,
// which only Optimizer.Update reads.

// DefaultLoRAPlusRatio is B's learning rate over A's unless told otherwise: the paper's and
// PEFT's suggested 16.
const DefaultLoRAPlusRatio = 16

// MaxLoRAPlusRatio bounds the ratio: beyond it B's steps would dwarf any learning rate.
const MaxLoRAPlusRatio = 1024

// AttachLoRAPlus adds LoRA as AttachLoRA does (the same tensors, initialisation and seed
// stream) and gives every B tensor ratio × the learning rate of its A. It returns the number of
// parameters added.
func (m *Model) AttachLoRAPlus(c LoRAConfig, ratio float32, seed uint64) (int, error) {
	if !(ratio > 0 && ratio <= MaxLoRAPlusRatio) {
		return 0, fmt.Errorf("lora+: ratio %g is outside (0, %d]", ratio, MaxLoRAPlusRatio)
	}
	n, err := m.AttachLoRA(c, seed)
	if err != nil {
		return 0, err
	}
	for _, bl := range m.blocks {
		for _, lo := range bl.lora {
			if lo != nil {
				lo.B.LRScale = ratio
			}
		}
	}
	return n, nil
}
