package webgpu

import (
	"pretune/core/ops"
)

// Embed sets out[b,t,:] = wte[ids[b,t],:] + wpe[t,:].
func (d *Device) Embed(out, ids, wte, wpe ops.Buf, B, T, C int) {
	ob, ib, teb, peb := d.fbuf(out), d.ibuf(ids), d.fbuf(wte), d.fbuf(wpe)
	checkLen("Embed", B*T*C, ob)
	checkLen("Embed", B*T, ib)
	checkLen("Embed", T*C, peb)
	if B*T*C == 0 {
		return
	}
	x, y := grid1(B*T*C, 256)
	d.dispatch("embed", []*buffer{ib, teb, peb, ob}, u32s{uint32(B * T), uint32(T), uint32(C)}, x, y, 1)
}

// EmbedBackward adds dout into the rows of dwte named by ids and into dwpe[t,:], in increasing
// (b,t) order without atomics (embed_backward.wgsl: one invocation per gradient element).
func (d *Device) EmbedBackward(dwte, dwpe, dout, ids ops.Buf, B, T, C int) {
	teb, peb, db, ib := d.fbuf(dwte), d.fbuf(dwpe), d.fbuf(dout), d.ibuf(ids)
	checkLen("EmbedBackward", B*T*C, db)
	checkLen("EmbedBackward", B*T, ib)
	checkLen("EmbedBackward", T*C, peb)
	if B*T*C == 0 {
		return
	}
	V := teb.n / C
	d.dispatch("embed_backward", []*buffer{db, ib, teb, peb},
		u32s{uint32(B), uint32(T), uint32(C), uint32(V)}, (C+63)/64, V+T, 1)
}
