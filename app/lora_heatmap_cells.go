package app

import (
	"fmt"
	"html"
	"strconv"
	"strings"
)

// writeHeatCells writes loraHeatmap's cells, each a rect with its value and a tooltip saying
// where it is and how much. A 64×64 update is four thousand cells, and a translation, Sprintf
// and escape per cell took the page's only thread for tens of milliseconds under wasm when a
// LoRA method's result arrived; so the rows' and columns' names are made once, each tooltip's
// words are split around its two values once, and the numbers are appended with strconv.
// Words that do not put the place before the value are translated cell by cell. It writes
// cells [from, to) of cells (all of a heatmap's: a cell's place is its index).
func writeHeatCells(b *strings.Builder, l Lang, cells []heatCell, from, to, nc, cs int, m float64) {
	tips, ok := splitTip(l, "lora.cell")
	tipsMean, okMean := splitTip(l, "lora.cell_mean")
	if !ok || !okMean {
		for k := from; k < to; k++ {
			c := cells[k]
			where := rowSpan(l, c.R0, c.R1) + ", " + colSpan(l, c.C0, c.C1)
			tip := l.T("lora.cell", where, fmtDelta(c.V))
			if c.R1-c.R0 > 1 || c.C1-c.C0 > 1 {
				tip = l.T("lora.cell_mean", where, fmtDelta(c.V))
			}
			fmt.Fprintf(b, `<rect class="cell" x="%d" y="%d" width="%d" height="%d" fill="%s" data-v="%g"><title>%s</title></rect>`,
				heatPadL+(k%nc)*cs, heatPadT+(k/nc)*cs, cs, cs, divColour(c.V, m), float32(c.V), html.EscapeString(tip))
		}
		return
	}
	if from >= to {
		return
	}
	b.Grow((to - from) * 200)
	// Every cell of a row shares its row's name, of a column its column's; the comma between
	// them and the words around the value are escaped once (escaping works piece by piece).
	rows := make([]string, len(cells)/nc)
	cols := make([]string, nc)
	for r := from / nc; r <= (to-1)/nc; r++ {
		c := cells[r*nc]
		rows[r] = html.EscapeString(rowSpan(l, c.R0, c.R1) + ", ")
	}
	for k, c := range cells[:nc] {
		cols[k] = html.EscapeString(colSpan(l, c.C0, c.C1))
	}
	var num []byte
	for k := from; k < to; k++ {
		c := cells[k]
		words := tips
		if c.R1-c.R0 > 1 || c.C1-c.C0 > 1 {
			words = tipsMean
		}
		b.WriteString(`<rect class="cell" x="`)
		b.WriteString(strconv.Itoa(heatPadL + (k%nc)*cs))
		b.WriteString(`" y="`)
		b.WriteString(strconv.Itoa(heatPadT + (k/nc)*cs))
		b.WriteString(`" width="`)
		b.WriteString(strconv.Itoa(cs))
		b.WriteString(`" height="`)
		b.WriteString(strconv.Itoa(cs))
		b.WriteString(`" fill="`)
		writeColour(b, c.V, m)
		b.WriteString(`" data-v="`)
		num = strconv.AppendFloat(num[:0], float64(float32(c.V)), 'g', -1, 32) // fmt's %g of a float32
		b.Write(num)
		b.WriteString(`"><title>`)
		b.WriteString(words[0])
		b.WriteString(rows[k/nc])
		b.WriteString(cols[k%nc])
		b.WriteString(words[1])
		b.WriteString(fmtDelta(c.V)) // digits, a sign, a point and e: nothing to escape
		b.WriteString(words[2])
		b.WriteString(`</title></rect>`)
	}
}

// splitTip is the words of a cell's tooltip (key's, with the place then the value, both %s)
// around its two values, each escaped: before the place, between place and value, after the
// value. ok is false when the words do not put the place first.
func splitTip(l Lang, key string) (words [3]string, ok bool) {
	const place, value = "\x00", "\x01"
	s := l.T(key, place, value)
	i, j := strings.Index(s, place), strings.Index(s, value)
	if i < 0 || j < i || strings.Count(s, place) != 1 || strings.Count(s, value) != 1 {
		return words, false
	}
	return [3]string{html.EscapeString(s[:i]), html.EscapeString(s[i+1 : j]), html.EscapeString(s[j+1:])}, true
}

// writeColour writes divColour(v, m) (#rrggbb) without Sprintf.
func writeColour(b *strings.Builder, v, m float64) {
	const hex = "0123456789abcdef"
	r, g, bl := divRGB(v, m)
	var out [7]byte
	out[0] = '#'
	for i, c := range [3]int{r, g, bl} {
		out[1+2*i], out[2+2*i] = hex[c>>4&15], hex[c&15]
	}
	b.Write(out[:])
}
