package webgpu

import (
	"pretune/core/ops"
)

// CrossEntropy sets probs = softmax(logits) row by row and losses[i] = weights[i]·(-log
// probs[i,targets[i]]) (cross_entropy.wgsl, a workgroup per row).
func (d *Device) CrossEntropy(losses, probs, logits, targets, weights ops.Buf, N, V int) {
	lb, pb, gb, tb, wb := d.fbuf(losses), d.fbuf(probs), d.fbuf(logits), d.ibuf(targets), d.fbuf(weights)
	checkLen("CrossEntropy", N*V, pb, gb)
	checkLen("CrossEntropy", N, lb, tb, wb)
	if N == 0 || V == 0 {
		return
	}
	x, y := gridGroups(N)
	d.dispatch("cross_entropy", []*buffer{gb, tb, wb, lb, pb}, u32s{uint32(N), uint32(V)}, x, y, 1)
}

// CrossEntropyBackward adds scale·weights[i]·(probs[i,:] - onehot(targets[i])) into dlogits.
func (d *Device) CrossEntropyBackward(dlogits, probs, targets, weights ops.Buf, N, V int, scale float32) {
	db, pb, tb, wb := d.fbuf(dlogits), d.fbuf(probs), d.ibuf(targets), d.fbuf(weights)
	checkLen("CrossEntropyBackward", N*V, db, pb)
	checkLen("CrossEntropyBackward", N, tb, wb)
	if N*V == 0 {
		return
	}
	x, y := grid1(N*V, 256)
	d.dispatch("cross_entropy_backward", []*buffer{pb, tb, wb, db}, u32s{uint32(N), uint32(V), f(scale)}, x, y, 1)
}
