package app

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
)

// TestDivColour: white at no change, blue for a decrease and red for an increase, darker (every
// channel lower) the larger the change, the ends held beyond the scale, white when nothing
// changed at all.
func TestDivColour(t *testing.T) {
	require.Equal(t, "#ffffff", divColour(0, 1))
	require.Equal(t, "#ffffff", divColour(0.5, 0), "a scale of 0: nothing changed")
	require.Equal(t, divColour(1, 1), divColour(3, 1))
	require.Equal(t, divColour(-1, 1), divColour(-3, 1))
	r, _, b := divRGB(-0.5, 1)
	require.Greater(t, b, r, "a decrease is blue")
	r, _, b = divRGB(0.5, 1)
	require.Greater(t, r, b, "an increase is red")
	for _, sign := range []float64{-1, 1} {
		pr, pg, pb := divRGB(0, 1)
		prevL := luminance(t, divColour(0, 1))
		for i := 1; i <= 50; i++ {
			v := sign * float64(i) / 50
			r, g, b := divRGB(v, 1)
			require.True(t, r <= pr && g <= pg && b <= pb, "v=%g: every channel falls", v)
			l := luminance(t, divColour(v, 1))
			require.Less(t, l, prevL, "v=%g is darker", v)
			pr, pg, pb, prevL = r, g, b, l
		}
	}
	require.Equal(t, divColour(0.25, 1), divColour(2.5e-5, 1e-4), "the colour depends on the share of the scale")
}

func TestFmtDelta(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 0.0123456: "+0.0123", -2.5e-5: "-2.5e-05", 1: "+1"} {
		require.Equal(t, want, fmtDelta(v), "%g", v)
	}
}

// update is a Rows×Cols update whose value at (i, j) is f(i, j).
func update(layer int, target string, rows, cols int, f func(i, j int) float32) core.LoRAUpdate {
	u := core.LoRAUpdate{Layer: layer, Target: target, Rows: rows, Cols: cols, Delta: make([]float32, rows*cols)}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			u.Delta[i*cols+j] = f(i, j)
		}
	}
	return u
}

// TestDeltaCells: a matrix that fits is drawn weight by weight; a larger one in blocks that
// cover every weight once, each cell the mean of its block; values a short Delta lacks are 0.
func TestDeltaCells(t *testing.T) {
	small := update(0, "q_proj", 3, 2, func(i, j int) float32 { return float32(10*i + j) })
	cells, nr, nc := deltaCells(small, 64)
	require.Equal(t, 3, nr)
	require.Equal(t, 2, nc)
	require.Len(t, cells, 6)
	for k, c := range cells {
		require.Equal(t, heatCell{R0: k / 2, R1: k/2 + 1, C0: k % 2, C1: k%2 + 1, V: float64(10*(k/2) + k%2)}, c)
	}

	big := update(0, "fc_in", 130, 64, func(i, j int) float32 { return float32(i) })
	cells, nr, nc = deltaCells(big, 64)
	require.Equal(t, 44, nr, "blocks of 3 rows: 43 whole and one of 1")
	require.Equal(t, 64, nc, "the columns fit")
	covered := 0
	for _, c := range cells {
		covered += (c.R1 - c.R0) * (c.C1 - c.C0)
		want := 0.0
		for i := c.R0; i < c.R1; i++ {
			want += float64(i)
		}
		require.InDelta(t, want/float64(c.R1-c.R0), c.V, 1e-9)
	}
	require.Equal(t, 130*64, covered, "every weight in exactly one cell")
	require.Equal(t, heatCell{R0: 129, R1: 130, C0: 63, C1: 64, V: 129}, cells[len(cells)-1])

	short := core.LoRAUpdate{Rows: 2, Cols: 2, Delta: []float32{1, 2, 3}}
	cells, _, _ = deltaCells(short, 64)
	require.Equal(t, 0.0, cells[3].V)
	cells, nr, nc = deltaCells(core.LoRAUpdate{}, 64)
	require.Empty(t, cells)
	require.Zero(t, nr+nc)
}

// drawnCell is a LoRA heatmap's cell read back: value, colour, title and place.
type drawnCell struct {
	v          float64
	colour     string
	title      string
	x, y, w, h int
}

func readLoRAHeatmap(t *testing.T, svg string) (root svgNode, cells []drawnCell, texts []string) {
	t.Helper()
	root = parseSVG(t, svg)
	root.walk(func(n svgNode) {
		switch {
		case n.XMLName.Local == "rect" && n.attr("class") == "cell":
			c := drawnCell{colour: n.attr("fill")}
			var err error
			c.v, err = strconv.ParseFloat(n.attr("data-v"), 64)
			require.NoError(t, err)
			for _, a := range []struct {
				name string
				to   *int
			}{{"x", &c.x}, {"y", &c.y}, {"width", &c.w}, {"height", &c.h}} {
				*a.to, err = strconv.Atoi(n.attr(a.name))
				require.NoError(t, err, "whole units keep the SVG short")
			}
			for _, ch := range n.Children {
				if ch.XMLName.Local == "title" {
					c.title = ch.Text
				}
			}
			cells = append(cells, c)
		case n.XMLName.Local == "text":
			texts = append(texts, n.Text)
		}
	})
	return root, cells, texts
}

func TestLoRAHeatmap(t *testing.T) {
	u := update(1, "v_proj", 4, 3, func(i, j int) float32 { return float32(i-j) * 0.01 })
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			root, cells, texts := readLoRAHeatmap(t, loraHeatmap("lora-map", l, u))
			require.Equal(t, "img", root.attr("role"))
			require.Equal(t, l.T("lora.aria", 2, 4, 3), root.attr("aria-label"))
			require.Equal(t, "4", root.attr("data-rows"))
			require.Equal(t, "3", root.attr("data-cols"))
			require.Equal(t, "v_proj", root.attr("data-target"))
			require.NotContains(t, strings.Join(texts, " "), "v_proj", "the target's name is data: the select shows it, not the chart's words")
			require.Len(t, cells, 12, "Rows×Cols cells at full resolution")
			for k, c := range cells {
				i, j := k/3, k%3
				want := float64(float32(i-j) * 0.01)
				require.InDelta(t, want, c.v, 1e-7)
				require.Equal(t, c.w, c.h, "square cells")
				require.Equal(t, heatPadL+j*c.w, c.x)
				require.Equal(t, heatPadT+i*c.h, c.y)
				require.Equal(t, l.T("lora.cell", l.T("lora.row", i+1)+", "+l.T("lora.col", j+1), fmtDelta(float64(float32(i-j)*0.01))), c.title)
				require.Equal(t, divColour(want, 0.03), c.colour, "the scale's ends are the largest change, 0.03")
			}
			require.Contains(t, texts, l.T("lora.scale"), "the scale says what it measures")
			require.Contains(t, texts, l.T("lora.rows", 4))
			require.Contains(t, texts, l.T("lora.cols", 3))
			require.Contains(t, texts, "+0.03")
			require.Contains(t, texts, "-0.03")
			require.Contains(t, texts, "0")
			// The legend's gradient is drawn with the cells' colours: blue at the bottom, red on top.
			var stops []string
			root.walk(func(n svgNode) {
				if n.XMLName.Local == "stop" {
					stops = append(stops, n.attr("stop-color"))
				}
			})
			require.Equal(t, divColour(-1, 1), stops[0])
			require.Equal(t, "#ffffff", stops[len(stops)/2])
			require.Equal(t, divColour(1, 1), stops[len(stops)-1])
		})
	}

	// A large matrix: 64 cells along its long side, each the mean of its block, and said so.
	big := update(0, "fc_in", 128, 32, func(i, j int) float32 { return float32(i % 2) })
	_, cells, _ := readLoRAHeatmap(t, loraHeatmap("big", EN, big))
	require.Len(t, cells, 64*32)
	require.Equal(t, EN.T("lora.cell_mean", EN.T("lora.row_span", 1, 2)+", "+EN.T("lora.col", 1), "+0.5"), cells[0].title)
	require.Less(t, len(loraHeatmap("big", EN, update(0, "fc_in", 256, 64, func(i, j int) float32 { return float32(i) }))), 700<<10,
		"a 256×64 update stays a few hundred kilobytes of SVG")

	// Nothing changed (a fresh adapter): all white, one tick.
	_, cells, texts := readLoRAHeatmap(t, loraHeatmap("zero", EN, update(0, "q_proj", 2, 2, func(i, j int) float32 { return 0 })))
	for _, c := range cells {
		require.Equal(t, "#ffffff", c.colour)
	}
	require.NotContains(t, texts, "+0")
}

func TestLoRAViewPick(t *testing.T) {
	us := []core.LoRAUpdate{
		{Layer: 0, Target: "q_proj"}, {Layer: 0, Target: "v_proj"},
		{Layer: 1, Target: "q_proj"}, {Layer: 1, Target: "v_proj"},
	}
	for _, tc := range []struct {
		name  string
		view  loraView
		layer int
		tgt   string
	}{
		{"the first by default", loraView{}, 0, "q_proj"},
		{"chosen", loraView{Layer: 1, Target: "v_proj"}, 1, "v_proj"},
		{"a layer the model lacks", loraView{Layer: 5, Target: "v_proj"}, 0, "v_proj"},
		{"a target the model lacks", loraView{Layer: 1, Target: "fc_in"}, 1, "q_proj"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, layers, targets, ok := tc.view.pick(us)
			require.True(t, ok)
			require.Equal(t, []int{0, 1}, layers)
			require.Equal(t, []string{"q_proj", "v_proj"}, targets)
			require.Equal(t, tc.layer, u.Layer)
			require.Equal(t, tc.tgt, u.Target)
		})
	}
	_, _, _, ok := loraView{}.pick(nil)
	require.False(t, ok)
}

// loraComparison is finishedComparison with LoRA's extras in its result: answers with the
// adapter off (the base's) and merged, and its updates.
func loraComparison(t *testing.T) *comparison {
	t.Helper()
	c := finishedComparison(t)
	e := c.Lanes[1].Result
	require.Equal(t, "lora", e.Method)
	e.AnswersOff = c.BaseResult.Answers
	e.AnswersMerged = []compare.Answer{{Prompt: e.Answers[0].Prompt, Answer: "merged one"}, {Prompt: e.Answers[1].Prompt, Answer: "merged two"}}
	e.LoRAUpdates = []core.LoRAUpdate{
		update(0, "q_proj", 4, 4, func(i, j int) float32 { return float32(i - j) }),
		update(0, "v_proj", 4, 4, func(i, j int) float32 { return 1 }),
		update(1, "q_proj", 4, 4, func(i, j int) float32 { return -1 }),
	}
	return c
}

// TestAdapterSwitchChoosesAnswers: a LoRA column shows its answers on, off (the base's) or merged
// as its switch says; other columns have no switch; a loaded adapter is one more column.
func TestAdapterSwitchChoosesAnswers(t *testing.T) {
	c := loraComparison(t)
	lora := c.Lanes[1].Result
	column := func(j int) []string {
		var out []string
		for _, r := range c.AnswerRows() {
			out = append(out, r.Answers[j])
		}
		return out
	}
	texts := func(as []compare.Answer) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Answer)
		}
		return out
	}
	cols := c.AnswerColumns()
	require.Equal(t, []string{"base", "full", "lora"}, []string{cols[0].Name, cols[1].Name, cols[2].Name})
	require.Equal(t, "", cols[1].Mode, "full fine-tuning has no switch")
	require.Equal(t, adapterOn, cols[2].Mode)
	require.Equal(t, texts(lora.Answers), column(2))
	c.Lanes[1].LoRA.Mode = adapterOff
	require.Equal(t, column(0), column(2), "off: the base's answers")
	c.Lanes[1].LoRA.Mode = adapterMerged
	require.Equal(t, []string{"merged one", "merged two"}, column(2))
	require.Equal(t, adapterMerged, c.AnswerColumns()[2].Mode)

	c.Loaded = &loadedAdapter{Name: "lora-adapter.safetensors", ReqID: 1, Status: statusRunning}
	require.Len(t, c.AnswerColumns(), 3, "no column before it answered")
	loaded := *lora
	loaded.Method = compare.Loaded
	loaded.Answers = []compare.Answer{{Prompt: lora.Answers[1].Prompt, Answer: "loaded two"}}
	c.Loaded.Apply(protocol.Message{ID: 1, Kind: protocol.Result, Event: &loaded})
	c.Loaded.Apply(protocol.Message{ID: 1, Kind: protocol.Done})
	require.Equal(t, statusDone, c.Loaded.Status)
	require.Len(t, c.AnswerColumns(), 4)
	require.Equal(t, []string{"", "loaded two"}, column(3), "the prompt it did not answer is blank")
	c.Loaded.LoRA.Mode = adapterOff
	require.Equal(t, column(0), column(3))
}

// TestLaneAdapterMessages: a finished LoRA lane asks once for its adapter, keeps the file its
// worker sends or why not, and ignores what else comes; stopping while it waits says so.
func TestLaneAdapterMessages(t *testing.T) {
	c := loraComparison(t)
	full, lora := c.Lanes[0], c.Lanes[1]
	require.False(t, full.wantsAdapter(), "full fine-tuning has no adapter")
	require.True(t, lora.wantsAdapter())
	require.False(t, lora.awaitsAdapter())
	lora.AdapterReq = 2
	require.False(t, lora.wantsAdapter(), "asked once")
	require.True(t, lora.awaitsAdapter())
	c.Apply(1, protocol.Message{ID: 3, Kind: protocol.Saved, Data: []byte("other")})
	require.Nil(t, lora.Adapter, "another request's")
	c.Apply(1, protocol.Message{ID: 2, Kind: protocol.Saved, Format: protocol.FormatAdapter, Data: []byte("file")})
	require.Equal(t, []byte("file"), lora.Adapter)
	require.False(t, lora.awaitsAdapter())
	c.Apply(1, protocol.Message{ID: 2, Kind: protocol.Done})
	require.Equal(t, statusDone, lora.Status, "the save's done changes nothing")

	c = loraComparison(t)
	lora = c.Lanes[1]
	lora.AdapterReq = 2
	c.Apply(1, protocol.Message{Kind: protocol.Error, Error: "the trainer stopped with an error"})
	require.Equal(t, "the trainer stopped with an error", lora.AdapterErr, "a worker that died while saving")

	c = loraComparison(t)
	c.Lanes[1].AdapterReq = 2
	c.stop()
	require.NotEmpty(t, c.Lanes[1].AdapterErr)
}

func TestLoadedAdapterMessages(t *testing.T) {
	a := &loadedAdapter{Name: "x.safetensors", ReqID: 1, Status: statusRunning}
	a.Apply(protocol.Message{ID: 2, Kind: protocol.Error, Error: "another request's"})
	require.Equal(t, statusRunning, a.Status)
	a.Apply(protocol.Message{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: "lora"}})
	require.Nil(t, a.Result, "a method's result is not the loaded adapter's")
	a.Apply(protocol.Message{ID: 1, Kind: protocol.Error, Error: "lora file: made for another model: ...", Code: protocol.CodeAdapterMismatch})
	require.Equal(t, statusFailed, a.Status)
	require.Equal(t, protocol.CodeAdapterMismatch, a.Code)
	a.Apply(protocol.Message{ID: 1, Kind: protocol.Done})
	require.Equal(t, statusFailed, a.Status, "settled")

	b := &loadedAdapter{ReqID: 1, Status: statusRunning}
	b.Apply(protocol.Message{ID: 1, Kind: protocol.Done})
	require.Equal(t, statusFailed, b.Status, "done without a result")
	require.NotEmpty(t, b.Err)
}

// TestCompareRendersTheLoRAView: a LoRA method's panel has its labelled selects, its heatmap, the
// switch with a line for each position, and its save button once the file came; a loaded
// adapter adds a column and a panel; a refused file says why in the page's words.
func TestCompareRendersTheLoRAView(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			cmp := loraComparison(t)
			cmp.BaseData = []byte("base")
			c := &Compare{Lang: l, compareState: compareState{form: defaultCompareSetup(l), cmp: cmp}}
			page := render(t, c)
			require.NotContains(t, page, "[", "a missing text shows as [key]")
			require.Contains(t, page, `id="cmp-lora"`)
			require.Contains(t, page, `id="lora-1-map"`)
			require.NotContains(t, page, `id="lora-0-map"`, "full fine-tuning has no LoRA panel")
			require.Len(t, regexp.MustCompile(`class="cell"`).FindAllString(page, -1), 16, "the first layer's q_proj: 4×4")
			for _, sel := range []string{"lora-1-layer", "lora-1-target"} {
				require.Contains(t, page, `for="`+sel+`"`, "a labelled select")
			}
			require.Contains(t, page, l.T("attn.layer", 2), "both layers to choose from")
			require.Contains(t, page, ">v_proj<")
			for _, m := range adapterModes {
				require.True(t, hasTag(page, "input", `id="lora-1-mode-`+m+`"`, `type="radio"`), m)
				require.Contains(t, page, `for="lora-1-mode-`+m+`"`)
				require.Contains(t, page, html.EscapeString(l.T("lora.mode_about."+m)))
			}
			require.True(t, hasTag(page, "input", `id="lora-1-mode-on"`, ` checked`))
			require.True(t, hasTag(page, "button", `id="lora-1-save"`, ` disabled`), "no file yet")
			require.True(t, hasTag(page, "input", `id="cmp-adapter-file"`, `type="file"`))
			require.Contains(t, page, l.T("lora.load"))

			cmp.Lanes[1].Adapter = []byte("file")
			cmp.Lanes[1].LoRA = loraView{Mode: adapterOff, Layer: 0, Target: "v_proj"}
			loaded := *cmp.Lanes[1].Result
			loaded.Method = compare.Loaded
			cmp.Loaded = &loadedAdapter{Name: "mine.safetensors", Status: statusDone, Result: &loaded}
			page = render(t, c)
			require.False(t, hasTag(page, "button", `id="lora-1-save"`, ` disabled`))
			require.True(t, hasTag(page, "input", `id="lora-1-mode-off"`, ` checked`))
			require.Contains(t, page, l.T("lora.mode.off"), "the column says it shows the adapter off")
			require.True(t, hasTag(page, "svg", `id="lora-1-map"`, `data-target="v_proj"`, `data-layer="0"`))
			require.Contains(t, page, `id="lora-loaded-map"`)
			require.True(t, hasTag(page, "th", `data-method="loaded"`))
			require.Contains(t, page, "mine.safetensors")
			require.Len(t, regexp.MustCompile(`<td [^>]*data-method="loaded"`).FindAllString(page, -1), 2)

			cmp.Loaded = &loadedAdapter{Name: "other.safetensors", Status: statusFailed, Err: "lora file: made for another model: ...", Code: protocol.CodeAdapterMismatch}
			page = render(t, c)
			require.Contains(t, page, `id="cmp-adapter-error"`)
			require.Contains(t, page, html.EscapeString(l.T("lora.err."+protocol.CodeAdapterMismatch)))
			require.Contains(t, page, "made for another model")
		})
	}
	require.Equal(t, EN.T("lora.err.load"), adapterErrText(EN, ""))
	require.Equal(t, ZH.T("lora.err.adapter_damaged"), adapterErrText(ZH, protocol.CodeAdapterDamaged))
}
