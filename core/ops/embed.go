package ops

import "fmt"

// Embed writes out[b,t,:] = wte[ids[b,t],:] + wpe[t,:] for a B×T batch of token ids; wte is V×C
// and wpe has at least T rows of C.
func (d *CPU) Embed(out, ids, wte, wpe Buf, B, T, C int) {
	o, iv, te, pe := f32(out)[:B*T*C], i32(ids)[:B*T], f32(wte), f32(wpe)[:T*C]
	V := len(te) / C
	for bt := 0; bt < B*T; bt++ {
		id := int(iv[bt])
		if id < 0 || id >= V {
			panic(fmt.Sprintf("ops: Embed: token id %d at %d outside [0,%d)", id, bt, V))
		}
		t := bt % T
		dst, tok, pos := o[bt*C:(bt+1)*C], te[id*C:(id+1)*C], pe[t*C:(t+1)*C]
		for c := range dst {
			dst[c] = tok[c] + pos[c]
		}
	}
}

// EmbedBackward scatters dout back: dwte[ids[b,t],:] += dout[b,t,:] and dwpe[t,:] += dout[b,t,:],
// visiting (b,t) in increasing order so that repeated tokens accumulate in a fixed order.
func (d *CPU) EmbedBackward(dwte, dwpe, dout, ids Buf, B, T, C int) {
	dte, dpe, do, iv := f32(dwte), f32(dwpe)[:T*C], f32(dout)[:B*T*C], i32(ids)[:B*T]
	V := len(dte) / C
	for bt := 0; bt < B*T; bt++ {
		id := int(iv[bt])
		if id < 0 || id >= V {
			panic(fmt.Sprintf("ops: EmbedBackward: token id %d at %d outside [0,%d)", id, bt, V))
		}
		t := bt % T
		g, tok, pos := do[bt*C:(bt+1)*C], dte[id*C:(id+1)*C], dpe[t*C:(t+1)*C]
		for c := range g {
			tok[c] += g[c]
			pos[c] += g[c]
		}
	}
}
