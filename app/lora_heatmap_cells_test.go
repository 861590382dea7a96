package app

import (
	"fmt"
	"html"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
)

// heatmapReference is loraHeatmap as it was first written, translating, formatting and escaping
// each cell's tooltip with fmt: writeHeatCells must write the same bytes faster.
func heatmapReference(id string, l Lang, u core.LoRAUpdate) string {
	cells, _, nc := deltaCells(u, heatMaxSide)
	m := 0.0
	for _, c := range cells {
		m = math.Max(m, math.Abs(c.V))
	}
	cs := max(1, heatSide/max(len(cells)/max(nc, 1), nc, 1))
	var b strings.Builder
	for k, c := range cells {
		where := rowSpan(l, c.R0, c.R1) + ", " + colSpan(l, c.C0, c.C1)
		tip := l.T("lora.cell", where, fmtDelta(c.V))
		if c.R1-c.R0 > 1 || c.C1-c.C0 > 1 {
			tip = l.T("lora.cell_mean", where, fmtDelta(c.V))
		}
		fmt.Fprintf(&b, `<rect class="cell" x="%d" y="%d" width="%d" height="%d" fill="%s" data-v="%g"><title>%s</title></rect>`,
			heatPadL+(k%nc)*cs, heatPadT+(k/nc)*cs, cs, cs, divColour(c.V, m), float32(c.V), html.EscapeString(tip))
	}
	// The rest of the heatmap (axes, frame, scale) is loraHeatmap's own: splice the cells in.
	whole := loraHeatmap(id, l, u)
	i, j := strings.Index(whole, `<g class="cells">`)+len(`<g class="cells">`), strings.Index(whole, `</g>`)
	return whole[:i] + b.String() + whole[j:]
}

// TestLoRAHeatmapFast: the heatmap's cells are the reference's byte for byte, in both languages, for
// an update drawn weight by weight, one drawn in blocks (the mean tooltips), one of zeros, a short
// Delta, extreme and tiny values, and an update with no cells.
func TestLoRAHeatmapFast(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name string
		u    core.LoRAUpdate
	}{
		{"64x64 random", update(1, "v_proj", 64, 64, func(i, j int) float32 { return float32(r.NormFloat64() * 1e-3) })},
		{"blocks 256x64", update(0, "fc_in", 256, 64, func(i, j int) float32 { return float32(i-j) * 1e-4 })},
		{"odd blocks 130x7", update(2, "o_proj", 130, 7, func(i, j int) float32 { return float32(r.Float64() - 0.5) })},
		{"zeros", update(0, "q_proj", 2, 2, func(i, j int) float32 { return 0 })},
		{"extremes", update(0, "k_proj", 3, 3, func(i, j int) float32 {
			return []float32{math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, -1e-30, 1, -1, 0.1, 123456.7, -0}[i*3+j]
		})},
		{"short delta", core.LoRAUpdate{Layer: 0, Target: "q_proj", Rows: 4, Cols: 4, Delta: []float32{1, -2, 3}}},
		{"no cells", core.LoRAUpdate{Layer: 0, Target: "q_proj"}},
	}
	for _, tt := range tests {
		for _, l := range []Lang{EN, ZH} {
			t.Run(tt.name+"/"+string(l), func(t *testing.T) {
				require.Equal(t, heatmapReference("m", l, tt.u), loraHeatmap("m", l, tt.u))
			})
		}
	}
}

// BenchmarkLoRAHeatmap: a 64×64 update (en-lesson's LoRA), the reference way and loraHeatmap's.
func BenchmarkLoRAHeatmap(b *testing.B) {
	u := update(1, "v_proj", 64, 64, func(i, j int) float32 { return float32(i*64+j) * 1e-5 })
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			heatmapReference("m", EN, u)
		}
	})
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			loraHeatmap("m", EN, u)
		}
	})
}

// TestHeatmapShell: a kept heatmap's shell is its markup with an empty cells group, and its
// chunks, each written when the page adds it, put back in order are the cells (every chunk but
// the last holds heatmapChunk cells).
func TestHeatmapShell(t *testing.T) {
	for _, side := range []int{1, 7, 64} {
		u := update(0, "q_proj", side, side, func(i, j int) float32 { return float32(i - j) })
		html := loraHeatmap("shell-test", ZH, u)
		e := keptEntry("shell-test", ZH, u)
		var chunks []string
		for k := range e.chunks() {
			chunks = append(chunks, e.chunk(k))
		}
		require.Equal(t, html, strings.Replace(e.shell, `<g class="cells">`, `<g class="cells">`+strings.Join(chunks, ""), 1), "side %d", side)
		require.Len(t, chunks, (side*side+heatmapChunk-1)/heatmapChunk)
		for i, ch := range chunks {
			n := strings.Count(ch, `<rect class="cell"`)
			if i < len(chunks)-1 {
				require.Equal(t, heatmapChunk, n)
			} else {
				require.Equal(t, side*side-i*heatmapChunk, n)
			}
		}
		require.NotContains(t, e.shell, `<rect class="cell"`)
		require.Contains(t, e.shell, `<g class="cells"></g>`)
	}
	e := keptEntry("shell-test", EN, core.LoRAUpdate{Layer: 0, Target: "q_proj"})
	require.Zero(t, e.chunks(), "no cells")
}

// TestHeatGrid: heatGrid is deltaCells's grid for every shape up to 200×200 and a few beyond.
func TestHeatGrid(t *testing.T) {
	check := func(rows, cols int) {
		_, nr, nc := deltaCells(core.LoRAUpdate{Rows: rows, Cols: cols}, heatMaxSide)
		gr, gc := heatGrid(rows, cols, heatMaxSide)
		require.Equal(t, [2]int{nr, nc}, [2]int{gr, gc}, "%d×%d", rows, cols)
	}
	for rows := 0; rows <= 200; rows++ {
		for cols := 0; cols <= 200; cols += 7 {
			check(rows, cols)
		}
	}
	check(1024, 4096)
	check(-1, 5)
}
