package app

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"pretune/core"
)

// loraHeatmapFast is loraHeatmap's markup, byte for byte, written without fmt for each cell:
// a 64×64 update is four thousand cells, and loraHeatmap's two translations, Sprintf and escape
// per cell took the page's only thread for tens of milliseconds under wasm when a LoRA method's
// result arrived. The rows' and columns' names are made once, each tooltip's words are split
// around its two values once, and the numbers are appended with strconv.
func loraHeatmapFast(id string, l Lang, u core.LoRAUpdate) string {
	cells, nr, nc := deltaCells(u, heatMaxSide)
	tips, ok := splitTip(l, "lora.cell")
	tipsMean, okMean := splitTip(l, "lora.cell_mean")
	if !ok || !okMean || len(cells) == 0 { // words whose values are not in order: the plain way
		return loraHeatmap(id, l, u)
	}
	m := 0.0
	for _, c := range cells {
		m = math.Max(m, math.Abs(c.V))
	}
	cs := max(1, heatSide/max(nr, nc, 1))
	gw, gh := nc*cs, nr*cs
	sh := heatSide / 2
	w, h := heatPadL+gw+heatScaleW, heatPadT+max(gh, sh)+12
	title := l.T("lora.aria", u.Layer+1, u.Rows, u.Cols)
	var b strings.Builder
	b.Grow(len(cells) * 200)
	fmt.Fprintf(&b, `<svg id="%s" class="chart heatmap lora" viewBox="0 0 %d %d" role="img" aria-label="%s" data-layer="%d" data-target="%s" data-rows="%d" data-cols="%d" xmlns="http://www.w3.org/2000/svg">`,
		id, w, h, html.EscapeString(title), u.Layer, html.EscapeString(u.Target), u.Rows, u.Cols)
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="x-label" x="%d" y="14" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		heatPadL+gw/2, html.EscapeString(l.T("lora.cols", u.Cols)))
	fmt.Fprintf(&b, `<text class="y-label" transform="translate(14 %d) rotate(-90)" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		heatPadT+gh/2, html.EscapeString(l.T("lora.rows", u.Rows)))
	for _, a := range []struct {
		x, y   int
		anchor string
		n      int
	}{{heatPadL, heatPadT - 8, "start", 1}, {heatPadL + gw, heatPadT - 8, "end", u.Cols}, {heatPadL - 6, heatPadT + 10, "end", 1}, {heatPadL - 6, heatPadT + gh, "end", u.Rows}} {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="%s" font-size="11" fill="#5b6475">%d</text>`, a.x, a.y, a.anchor, a.n)
	}

	// Every cell of a row shares its row's name, of a column its column's; the comma between
	// them and the words around the value are escaped once (escaping works piece by piece).
	rows := make([]string, nr)
	cols := make([]string, nc)
	for k, c := range cells {
		if k%nc == 0 {
			rows[k/nc] = html.EscapeString(rowSpan(l, c.R0, c.R1) + ", ")
		}
		if k < nc {
			cols[k] = html.EscapeString(colSpan(l, c.C0, c.C1))
		}
	}
	var num []byte
	b.WriteString(`<g class="cells">`)
	for k, c := range cells {
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
		writeColour(&b, c.V, m)
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
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#5b6475"/>`, heatPadL, heatPadT, gw, gh)

	ticks := []scaleTick{{0, fmtDelta(-m)}, {0.5, "0"}, {1, fmtDelta(m)}}
	if m == 0 {
		ticks = ticks[1:2]
	}
	colourScale(&b, id, heatPadL+gw+24, heatPadT, 16, sh, func(t float64) string { return divColour((2*t-1)*m, m) }, ticks, l.T("lora.scale"))
	b.WriteString(`</svg>`)
	return b.String()
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
