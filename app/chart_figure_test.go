package app

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"
)

// TestChartRows: the data table has a column for x and one for each line with points, a row for
// each x where a line that is not faint has a point (x ascending), blanks where a line has no
// point there, and a faint line's values at those rows only.
func TestChartRows(t *testing.T) {
	var trend [][2]float64
	for s := 1; s <= 60; s++ {
		trend = append(trend, [2]float64{float64(s), 4 - float64(s)/30})
	}
	p := plot{XLabel: "step", Lines: []chartLine{
		{Label: "train", Points: [][2]float64{{40, 2.5}, {20, 3.5}, {60, 2.0}}},
		{Label: "held-out", Dashed: true, Points: [][2]float64{{20, 3.61234}, {50, 2.7}}},
		{Label: "nothing yet"},
		{Label: "trend", Faint: true, Points: trend},
	}}
	head, rows := chartRows(p)
	require.Equal(t, []string{"step", "train", "held-out", "trend"}, head)
	require.Equal(t, [][]string{
		{"20", "3.5", "3.612", "3.333"},
		{"40", "2.5", "", "2.667"},
		{"50", "", "2.7", "2.333"},
		{"60", "2", "", "2"},
	}, rows)

	// Only faint lines: their own points make the rows.
	head, rows = chartRows(plot{XLabel: "x", Lines: []chartLine{{Label: "a", Faint: true, Points: [][2]float64{{2, 1}, {1, 0.5}}}}})
	require.Equal(t, []string{"x", "a"}, head)
	require.Equal(t, [][]string{{"1", "0.5"}, {"2", "1"}}, rows)

	head, rows = chartRows(plot{XLabel: "x", Lines: []chartLine{{Label: "a"}}})
	require.Empty(t, head)
	require.Empty(t, rows)
}

// TestChartFigure: on the page a chart is an image named by its title and described (each
// line from its first point to its last), with a closed "Data table" under it; open, the table
// has a caption, column headers and row headers, in the page's language.
func TestChartFigure(t *testing.T) {
	p := plot{ID: "c", Title: "Loss", XLabel: "step", YLabel: "loss", Empty: "no data", Lines: []chartLine{
		{Label: "run 1 training", Color: palette[0], Points: [][2]float64{{20, 3.5}, {60, 2.0}}},
	}}
	root := parseSVG(t, p.SVG(EN))
	require.Equal(t, "img", root.attr("role"))
	var title, desc string
	root.walk(func(n svgNode) {
		switch n.XMLName.Local {
		case "title":
			title = n.Text
		case "desc":
			desc = n.Text
		}
	})
	require.Equal(t, "Loss", title)
	require.Contains(t, desc, "run 1 training: from 3.5 at 20 to 2 at 60.")
	require.Contains(t, desc, "data table")
	zhDesc := ""
	parseSVG(t, p.SVG(ZH)).walk(func(n svgNode) {
		if n.XMLName.Local == "desc" {
			zhDesc = n.Text
		}
	})
	require.Contains(t, zhDesc, "run 1 training：从 20 处的 3.5 到 60 处的 2。")
	require.Contains(t, zhDesc, "数据表")

	closed := app.HTMLString(&chartFigure{Lang: EN, Plot: p})
	require.Regexp(t, `<details (class="chart-data" id="c-data"|id="c-data" class="chart-data")>`, closed, "closed: no open attribute at all")
	require.Contains(t, closed, "<summary>Data table</summary>")
	require.NotContains(t, closed, "<table", "no hidden rows while closed")

	html := app.HTMLString(p.table().render())
	for _, want := range []string{`<caption>Loss</caption>`, `<th scope="col">step</th>`, `<th scope="col">run 1 training</th>`,
		`<th scope="row">20</th>`, `<td>3.5</td>`, `<th scope="row">60</th>`, `<td>2</td>`} {
		require.Contains(t, html, want)
	}
	require.Contains(t, app.HTMLString(plot{Empty: "no data"}.table().render()), "no data")
	require.Contains(t, app.HTMLString(&chartFigure{Lang: ZH, Plot: p}), "<summary>数据表</summary>")
}

// TestLossChartMarkers: every line carries its run's marker at its points (at most maxMarkers,
// evenly spread, the first and last among them), in its legend too, and two runs' markers
// differ in shape, so runs differ without colour.
func TestLossChartMarkers(t *testing.T) {
	var long [][2]float64
	for s := 1; s <= 500; s++ {
		long = append(long, [2]float64{float64(s), 1 / float64(s)})
	}
	var lines []chartLine
	for i := range 3 {
		color, mark := series(i)
		lines = append(lines, chartLine{Label: "run " + strconv.Itoa(i), Color: color, Marker: mark, Points: [][2]float64{{1, 3}, {2, 2}, {3, 1}}})
	}
	lines = append(lines, chartLine{Label: "trend", Color: palette[0], Faint: true, Points: long})
	root := parseSVG(t, lossChart("c", "Loss", "step", "loss", "", lines))
	shapes := map[string]int{}
	var legend int
	root.walk(func(n svgNode) {
		if n.XMLName.Local == "path" && n.attr("class") == "legend-marker" {
			legend++
		}
		if n.XMLName.Local != "g" || n.attr("class") != "markers" {
			return
		}
		i, err := strconv.Atoi(n.attr("data-line"))
		require.NoError(t, err)
		require.Equal(t, lines[i].Color, n.attr("fill"))
		want := min(len(lines[i].Points), maxMarkers)
		require.Len(t, n.Children, want, "line %d", i)
		if i < 3 {
			shapes[n.attr("data-marker")]++
		} else {
			require.Equal(t, "0.4", n.attr("fill-opacity"), "a faint line's markers are faint")
		}
	})
	require.Len(t, shapes, 3, "three runs, three shapes: %v", shapes)
	require.Equal(t, len(lines), legend, "each legend entry shows its marker")

	require.Equal(t, []int{0, 1, 2}, markerPoints(3))
	idx := markerPoints(500)
	require.Len(t, idx, maxMarkers)
	require.Equal(t, 0, idx[0])
	require.Equal(t, 499, idx[len(idx)-1])
	for k := 1; k < len(idx); k++ {
		require.Greater(t, idx[k], idx[k-1])
	}

	// Every shape draws a closed path of its own.
	seen := map[string]bool{}
	for m := range markerShapes {
		d := markerPath(m, 10, 10)
		require.True(t, strings.HasPrefix(d, "M") && strings.HasSuffix(d, "z"), d)
		require.False(t, seen[d], "shape %d draws like another", m)
		seen[d] = true
	}
}

// TestPalette: each run's colour stands 3:1 against the white chart (WCAG 2.1, 1.4.11), and
// every two colours stay apart (CIE76 colour difference at least 15) for normal vision and
// under simulated protanopia, deuteranopia and tritanopia (Machado, Oliveira and Fernandes 2009,
// severity 1).
func TestPalette(t *testing.T) {
	white := srgbLinear("#ffffff")
	for _, c := range palette {
		require.GreaterOrEqual(t, contrastRatio(srgbLinear(c), white), 3.0, "%s against white", c)
	}
	for name, m := range cvdSims {
		for i := range palette {
			for j := i + 1; j < len(palette); j++ {
				a, b := cieLab(simulate(m, srgbLinear(palette[i]))), cieLab(simulate(m, srgbLinear(palette[j])))
				d := math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
				require.GreaterOrEqual(t, d, 15.0, "%s: %s and %s look alike", name, palette[i], palette[j])
			}
		}
	}
	require.Equal(t, len(palette), len(markerShapes), "colour and shape repeat together")
}

// TestColourScales: the heatmaps' and samples' scales read without colour vision: the
// probability scales (attention, next-token bars, the samples' underlines) darken steadily as
// the probability grows (luminance alone carries them), and the LoRA map's diverging scale keeps
// its two ends apart under each simulated colour blindness, each side darkening away from white.
func TestColourScales(t *testing.T) {
	lum := func(hex string) float64 {
		c := srgbLinear(hex)
		return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	}
	for name, scale := range map[string]func(float32) string{"probColour": probColour, "underlineColour": underlineColour} {
		prev := 2.0
		for k := 0; k <= 20; k++ {
			l := lum(scale(float32(k) / 20))
			require.Less(t, l, prev, "%s: p=%.2f is not darker than the step before", name, float64(k)/20)
			prev = l
		}
		require.GreaterOrEqual(t, contrastRatio(srgbLinear(scale(0)), srgbLinear(scale(1))), 4.5, "%s: its ends", name)
	}
	const m = 1.0
	for k := 1; k <= 10; k++ {
		v := float64(k) / 10
		require.Less(t, lum(divColour(v, m)), lum(divColour(v-0.1, m)), "red side at %.1f", v)
		require.Less(t, lum(divColour(-v, m)), lum(divColour(-(v-0.1), m)), "blue side at %.1f", -v)
	}
	for _, sim := range []string{"protanopia", "deuteranopia", "tritanopia"} {
		mat := cvdSims[sim]
		a, b := cieLab(simulate(mat, srgbLinear(divColour(-m, m)))), cieLab(simulate(mat, srgbLinear(divColour(m, m))))
		d := math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
		require.GreaterOrEqual(t, d, 15.0, "%s: the two ends of the LoRA scale look alike", sim)
	}
}

// srgbLinear is a #rrggbb colour's linear RGB.
func srgbLinear(hex string) [3]float64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil {
		panic(err)
	}
	var out [3]float64
	for i, shift := range []uint{16, 8, 0} {
		c := float64(v>>shift&255) / 255
		if c <= 0.04045 {
			out[i] = c / 12.92
		} else {
			out[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return out
}

// contrastRatio is WCAG's contrast ratio of two linear RGB colours.
func contrastRatio(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 { return 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2] }
	la, lb := lum(a)+0.05, lum(b)+0.05
	return math.Max(la, lb) / math.Min(la, lb)
}

// cvdSims are colour vision simulations on linear RGB: Machado, Oliveira and Fernandes (2009),
// severity 1, beside normal vision.
var cvdSims = map[string][3][3]float64{
	"normal vision": {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}},
	"protanopia":    {{0.152286, 1.052583, -0.204868}, {0.114503, 0.786281, 0.099216}, {-0.003882, -0.048116, 1.051998}},
	"deuteranopia":  {{0.367322, 0.860646, -0.227968}, {0.280085, 0.672501, 0.047413}, {-0.011820, 0.042940, 0.968881}},
	"tritanopia":    {{1.255528, -0.076749, -0.178779}, {-0.078411, 0.930809, 0.147602}, {0.004733, 0.691367, 0.303900}},
}

func simulate(m [3][3]float64, c [3]float64) [3]float64 {
	var out [3]float64
	for i := range out {
		out[i] = math.Min(1, math.Max(0, m[i][0]*c[0]+m[i][1]*c[1]+m[i][2]*c[2]))
	}
	return out
}

// cieLab is a linear RGB colour in CIE L*a*b* (D65).
func cieLab(c [3]float64) [3]float64 {
	x := (0.4124*c[0] + 0.3576*c[1] + 0.1805*c[2]) / 0.95047
	y := 0.2126*c[0] + 0.7152*c[1] + 0.0722*c[2]
	z := (0.0193*c[0] + 0.1192*c[1] + 0.9505*c[2]) / 1.08883
	f := func(t float64) float64 {
		if t > 216.0/24389 {
			return math.Cbrt(t)
		}
		return (24389.0/27*t + 16) / 116
	}
	return [3]float64{116*f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))}
}

// TestAttentionTable: the attention map as a table, a row for each token looking and a column
// for each token looked at, in the order the map draws them, with the cells' percentages.
func TestAttentionTable(t *testing.T) {
	tab := attentionTable("attention-map", EN, []string{"a", " ", "b"}, [][]float32{{1, 0, 0}, {0.25, 0.75, 0}, {0.5, 0.25, 0.25}}, 0, 1)
	require.Equal(t, "attention-map-table", tab.ID)
	require.Equal(t, EN.T("attn.aria", 1, 2, 3), tab.Caption)
	require.Equal(t, []string{EN.T("attn.queries"), "a", tokenLabel(" "), "b"}, tab.Head)
	require.Equal(t, [][]string{
		{"a", pct(1), pct(0), pct(0)},
		{tokenLabel(" "), pct(0.25), pct(0.75), pct(0)},
		{"b", pct(0.5), pct(0.25), pct(0.25)},
	}, tab.Rows)
	require.Equal(t, "75%", pct(0.75))
	html := app.HTMLString(&chartFigure{Lang: ZH, SVG: "<svg></svg>", Table: tab})
	require.Contains(t, html, `id="attention-map-table-data"`)
	require.Contains(t, html, "<summary>数据表</summary>")
}
