package app

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// chartLine is one curve of the loss chart.
type chartLine struct {
	Label  string
	Color  string
	Dashed bool // held-out curves are dashed, training curves solid
	// Faint draws the line thin and see-through: a curve that gives context behind the ones
	// the chart is about (the comparison's training losses behind its held-out ones).
	Faint bool
	// Marker is the shape drawn at the line's points and in its legend (an index into
	// markerShapes), so that runs differ without colour too; series gives it with the colour.
	Marker int
	Points [][2]float64
}

// strokeStyle is a line's dash and faintness attributes.
func (l chartLine) strokeStyle() string {
	s := ""
	if l.Dashed {
		s += ` stroke-dasharray="6 4"`
	}
	if l.Faint {
		s += ` stroke-opacity="0.4"`
	}
	return s
}

// markerStyle is a line's markers' faintness attribute: faint like their line.
func (l chartLine) markerStyle() string {
	if l.Faint {
		return ` fill-opacity="0.4"`
	}
	return ""
}

func (l chartLine) strokeWidth() string {
	if l.Faint {
		return "1.5"
	}
	return "2"
}

// chart geometry in SVG user units; the SVG scales to its box (viewBox), so it reads on a
// laptop and on a projector alike.
const (
	chartW, chartH         = 720, 360
	padL, padR, padT, padB = 64, 16, 16, 76
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	// The legend: two labels a row, rows far enough apart for the text web/chart-text.js
	// enlarges on a narrow screen (up to about twice its units, to stay 12 px on screen).
	legendRowH, legendColWidth, legendCols = 26, 330, 2
)

// palette gives each run its colour; held-out and training curves of one run share it. These
// are Okabe and Ito's colours for colour-blind readers (Color Universal Design, 2008), those of
// them that stand 3:1 against the white chart as WCAG 2.1 asks of lines (their orange, sky blue
// and yellow do not), and the page's slate grey. TestPalette checks the contrast, and that every
// two colours stay apart under simulated protanopia, deuteranopia and tritanopia. The colours
// are under 4.5:1, too light for text: a legend in HTML shows a swatch beside plain text.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#000000", "#5b6475"}

// markerShapes are the shapes at a line's points, one a run, so that two runs differ for a
// reader who cannot tell their colours apart, and in a grey print (WCAG 1.4.1).
var markerShapes = []string{"circle", "square", "triangle", "diamond", "triangle-down", "cross"}

// series is run i's colour and marker. Runs past the sixth repeat the first's.
func series(i int) (color string, marker int) {
	return palette[i%len(palette)], i % len(markerShapes)
}

// markerR is a marker's half-width in SVG units.
const markerR = 4.5

// markerPath is an SVG path drawing marker shape m centred on (x, y).
func markerPath(m int, x, y float64) string {
	r := markerR
	switch markerShapes[m%len(markerShapes)] {
	case "square":
		return fmt.Sprintf("M%.1f %.1fh%.1fv%.1fh%.1fz", x-r*0.85, y-r*0.85, 1.7*r, 1.7*r, -1.7*r)
	case "triangle":
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fz", x, y-r*1.1, x+r, y+r*0.8, x-r, y+r*0.8)
	case "diamond":
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz", x, y-r*1.2, x+r, y, x, y+r*1.2, x-r, y)
	case "triangle-down":
		return fmt.Sprintf("M%.1f %.1fL%.1f %.1fL%.1f %.1fz", x, y+r*1.1, x+r, y-r*0.8, x-r, y-r*0.8)
	case "cross":
		w := r * 0.35
		return fmt.Sprintf("M%.1f %.1fh%.1fv%.1fh%.1fv%.1fh%.1fv%.1fh%.1fv%.1fh%.1fv%.1fh%.1fz",
			x-w, y-r, 2*w, r-w, r-w, 2*w, -(r - w), r-w, -2*w, -(r - w), -(r - w), -2*w, r-w)
	}
	return fmt.Sprintf("M%.1f %.1fa%.1f %.1f 0 1 0 %.1f 0a%.1f %.1f 0 1 0 %.1f 0z", x-r, y, r, r, 2*r, r, r, -2*r)
}

// maxMarkers is the most markers a line gets: a line with more points (the smoothed trend,
// one point a step) gets them at evenly spaced points, the last always among them.
const maxMarkers = 12

// markerPoints are the indices of a line's n points that carry a marker.
func markerPoints(n int) []int {
	if n <= maxMarkers {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, maxMarkers)
	for k := range out {
		out[k] = (n - 1) - (maxMarkers-1-k)*(n-1)/(maxMarkers-1)
	}
	return out
}

// lossChart draws lines as an SVG: labelled axes with their units, ticks, one polyline per line
// with its markers, and a legend. The title, axis labels and an empty-chart note come in the
// page's language. The picture is one image to a screen reader (role="img", named by its title);
// chartFigure adds what it shows as text.
func lossChart(id, title, xLabel, yLabel, empty string, lines []chartLine) string {
	return lossChartDesc(id, title, xLabel, yLabel, empty, "", lines)
}

// lossChartDesc is lossChart with a description (the SVG's <desc>), "" for none.
func lossChartDesc(id, title, xLabel, yLabel, empty, desc string, lines []chartLine) string {
	var b strings.Builder
	// The legend takes legendCols lines a row under the plot; chartH has room for one row, and
	// the picture grows for more (runs overlaid, or a comparison's methods).
	rows := max(1, (len(lines)+legendCols-1)/legendCols)
	height := max(chartH, padT+plotH+50+rows*legendRowH)
	fmt.Fprintf(&b, `<svg id="%s" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		id, chartW, height, html.EscapeString(title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(title))
	if desc != "" {
		fmt.Fprintf(&b, `<desc>%s</desc>`, html.EscapeString(desc))
	}
	xmax, ymin, ymax, n := 1.0, math.Inf(1), math.Inf(-1), 0
	for _, l := range lines {
		for _, p := range l.Points {
			xmax = math.Max(xmax, p[0])
			ymin, ymax = math.Min(ymin, p[1]), math.Max(ymax, p[1])
			n++
		}
	}
	if n == 0 {
		ymin, ymax = 0, 1
	}
	yticks := niceTicks(ymin, ymax, 5)
	ymin, ymax = math.Min(ymin, yticks[0]), math.Max(ymax, yticks[len(yticks)-1])
	if ymax-ymin < 1e-9 {
		ymin, ymax = ymin-0.5, ymax+0.5
	}
	xticks := niceTicks(0, xmax, 6)
	xmax = math.Max(xmax, xticks[len(xticks)-1])
	sx := func(x float64) float64 { return padL + x/xmax*plotW }
	sy := func(y float64) float64 { return padT + (ymax-y)/(ymax-ymin)*plotH }

	// Grid and ticks.
	b.WriteString(`<g class="axis" font-size="12" fill="#5b6475">`)
	for _, y := range yticks {
		if y < ymin-1e-9 || y > ymax+1e-9 {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#dde1ea"/>`, padL, padL+plotW, sy(y), sy(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, padL-6, sy(y), fmtTick(y))
	}
	for _, x := range xticks {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#dde1ea"/>`, sx(x), sx(x), padT, padT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, sx(x), padT+plotH+16, fmtTick(x))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#5b6475"/>`, padL, padT, plotW, plotH)
	fmt.Fprintf(&b, `<text class="x-label" x="%d" y="%d" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		padL+plotW/2, padT+plotH+34, html.EscapeString(xLabel))
	fmt.Fprintf(&b, `<text class="y-label" transform="translate(16 %d) rotate(-90)" text-anchor="middle" font-size="13" fill="#1d2330">%s</text>`,
		padT+plotH/2, html.EscapeString(yLabel))
	b.WriteString(`</g>`)

	if n == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#5b6475">%s</text>`, padL+plotW/2, padT+plotH/2, html.EscapeString(empty))
	}
	for i, l := range lines {
		if len(l.Points) == 0 {
			continue
		}
		var pts []string
		for _, p := range l.Points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", sx(p[0]), sy(p[1])))
		}
		fmt.Fprintf(&b, `<polyline class="line" data-line="%d" fill="none" stroke="%s" stroke-width="%s"%s points="%s"/>`,
			i, l.Color, l.strokeWidth(), l.strokeStyle(), strings.Join(pts, " "))
		// Markers, also where a line has one point only (one evaluation), which no line shows.
		fmt.Fprintf(&b, `<g class="markers" data-line="%d" data-marker="%s" fill="%s"%s>`, i, markerShapes[l.Marker%len(markerShapes)], l.Color, l.markerStyle())
		for _, k := range markerPoints(len(l.Points)) {
			fmt.Fprintf(&b, `<path d="%s"/>`, markerPath(l.Marker, sx(l.Points[k][0]), sy(l.Points[k][1])))
		}
		b.WriteString(`</g>`)
	}
	// Legend under the plot, legendCols columns.
	for i, l := range lines {
		x, y := padL+(i%legendCols)*legendColWidth, padT+plotH+50+(i/legendCols)*legendRowH
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="%s" stroke-width="%s"%s/>`, x, x+24, y, y, l.Color, l.strokeWidth(), l.strokeStyle())
		fmt.Fprintf(&b, `<path class="legend-marker" d="%s" fill="%s"%s/>`, markerPath(l.Marker, float64(x+12), float64(y)), l.Color, l.markerStyle())
		fmt.Fprintf(&b, `<text class="legend" x="%d" y="%d" dominant-baseline="middle" font-size="12" fill="#1d2330">%s</text>`,
			x+30, y, html.EscapeString(l.Label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// niceTicks returns about n round tick values covering [lo, hi] (1, 2 or 5 times a power of ten
// apart).
func niceTicks(lo, hi float64, n int) []float64 {
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := math.Floor(lo/step) * step; v <= hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	if out[len(out)-1] < hi {
		out = append(out, out[len(out)-1]+step)
	}
	return out
}

func fmtTick(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e6 {
		return fmt.Sprintf("%d", int64(v))
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// swatch is run i's colour and marker as a small picture, for a legend in HTML: a name beside it
// stays in the text colour, since the palette is too light for text (4.5:1) on white.
func swatch(i int) string {
	color, mark := series(i)
	return fmt.Sprintf(`<svg class="series-swatch" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false"><path d="%s" fill="%s"/></svg>`,
		markerPath(mark, 8, 8), color)
}
