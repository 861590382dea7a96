package app

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// svgNode is enough of an SVG tree to read back what lossChart drew.
type svgNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []svgNode  `xml:",any"`
}

func (n svgNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n svgNode) walk(fn func(svgNode)) {
	fn(n)
	for _, c := range n.Children {
		c.walk(fn)
	}
}

func parseSVG(t *testing.T, s string) svgNode {
	t.Helper()
	var root svgNode
	require.NoError(t, xml.Unmarshal([]byte(s), &root), "the chart must be well-formed XML:\n%s", s)
	return root
}

func TestLossChart(t *testing.T) {
	lines := []chartLine{
		{Label: "run 1 train", Color: "#000", Points: [][2]float64{{20, 3.5}, {40, 2.5}, {60, 2.0}}},
		{Label: "run 1 held-out <val>", Color: "#000", Dashed: true, Points: [][2]float64{{20, 3.6}, {40, 2.7}, {60, 2.2}}},
	}
	root := parseSVG(t, lossChart("c", "Loss", "step", "loss (nats per token)", "no data", lines))
	var polylines []svgNode
	var texts []string
	root.walk(func(n svgNode) {
		switch n.XMLName.Local {
		case "polyline":
			polylines = append(polylines, n)
		case "text":
			texts = append(texts, n.Text)
		}
	})
	require.Contains(t, texts, "step")
	require.Contains(t, texts, "loss (nats per token)")
	require.Contains(t, texts, "run 1 held-out <val>", "labels are escaped, not dropped")
	require.NotContains(t, texts, "no data")
	require.Len(t, polylines, 2)
	require.Equal(t, "6 4", polylines[1].attr("stroke-dasharray"))

	// Points map left to right with the step and downwards with a falling loss (SVG y grows
	// downwards), inside the plot area.
	for _, pl := range polylines {
		pts := strings.Fields(pl.attr("points"))
		require.Len(t, pts, 3)
		var prevX, prevY float64
		for i, p := range pts {
			xy := strings.Split(p, ",")
			x, err := strconv.ParseFloat(xy[0], 64)
			require.NoError(t, err)
			y, err := strconv.ParseFloat(xy[1], 64)
			require.NoError(t, err)
			require.True(t, x >= padL && x <= padL+plotW && y >= padT && y <= padT+plotH, "point %v outside the plot", p)
			if i > 0 {
				require.Greater(t, x, prevX)
				require.Greater(t, y, prevY, "a lower loss is drawn lower")
			}
			prevX, prevY = x, y
		}
	}
}

func TestLossChartEmptyAndSingle(t *testing.T) {
	var texts []string
	parseSVG(t, lossChart("c", "Loss", "step", "loss", "no data yet", nil)).walk(func(n svgNode) {
		if n.XMLName.Local == "text" {
			texts = append(texts, n.Text)
		}
	})
	require.Contains(t, texts, "no data yet")

	var marks int
	parseSVG(t, lossChart("c", "Loss", "step", "loss", "", []chartLine{{Label: "a", Color: "#000", Points: [][2]float64{{5, 2}}}})).walk(func(n svgNode) {
		if n.XMLName.Local == "g" && n.attr("class") == "markers" {
			marks += len(n.Children)
		}
	})
	require.Equal(t, 1, marks, "a single evaluation still shows (its marker)")
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		n      int
	}{
		{0, 60, 6}, {1.93, 4.61, 5}, {0, 1, 5}, {2.5, 2.5, 5}, {0, 100000, 6}, {0.001, 0.004, 4},
	}
	for _, tc := range tests {
		t.Run(strconv.FormatFloat(tc.hi, 'g', -1, 64), func(t *testing.T) {
			ticks := niceTicks(tc.lo, tc.hi, tc.n)
			require.GreaterOrEqual(t, len(ticks), 2)
			require.LessOrEqual(t, ticks[0], tc.lo)
			require.GreaterOrEqual(t, ticks[len(ticks)-1], tc.hi)
			require.LessOrEqual(t, len(ticks), 2*tc.n+2)
			for i := 1; i < len(ticks); i++ {
				require.Greater(t, ticks[i], ticks[i-1])
			}
		})
	}
}

// TestLossChartLegendGrows: a chart with more lines than two legend rows hold grows taller so
// every label shows, and a faint line is drawn see-through.
func TestLossChartLegendGrows(t *testing.T) {
	var lines []chartLine
	for i := 0; i < 11; i++ {
		lines = append(lines, chartLine{Label: strconv.Itoa(i), Color: "#000", Faint: i%2 == 1, Points: [][2]float64{{1, 1}, {2, 0.5}}})
	}
	root := parseSVG(t, lossChart("c", "Loss", "step", "loss", "", lines))
	var h float64
	_, err := fmt.Sscanf(root.attr("viewBox"), "0 0 %d %g", new(int), &h)
	require.NoError(t, err)
	var lastLegend float64
	faint := 0
	root.walk(func(n svgNode) {
		if n.XMLName.Local == "text" && n.attr("class") == "legend" {
			y, err := strconv.ParseFloat(n.attr("y"), 64)
			require.NoError(t, err)
			lastLegend = max(lastLegend, y)
		}
		if n.XMLName.Local == "polyline" && n.attr("stroke-opacity") != "" {
			faint++
		}
	})
	require.LessOrEqual(t, lastLegend+legendRowH/2, h, "the last legend row is inside the picture")
	require.Greater(t, h, float64(chartH))
	require.Equal(t, 5, faint)
	short := parseSVG(t, lossChart("c", "Loss", "step", "loss", "", lines[:legendCols]))
	require.Equal(t, fmt.Sprintf("0 0 %d %d", chartW, chartH), short.attr("viewBox"), "one row fits the usual size")
}
