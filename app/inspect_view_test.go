package app

import (
	htmlpkg "html"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// luminance is a colour's relative brightness (Rec. 709 weights on the sRGB channels; the
// order is what matters here, not the exact value).
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	require.Regexp(t, `^#[0-9a-f]{6}$`, hex)
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	require.NoError(t, err)
	r, g, b := float64(v>>16), float64(v>>8&0xff), float64(v&0xff)
	return 0.2126*r + 0.7152*g + 0.0722*b
}

// TestProbColourIsMonotone: a more likely token or a stronger attention is always darker, from
// white at 0 to the deepest blue at 1, and values outside [0,1] stay on the scale.
func TestProbColourIsMonotone(t *testing.T) {
	require.Equal(t, "#ffffff", probColour(0))
	require.Equal(t, probColour(1), probColour(1.5))
	require.Equal(t, probColour(0), probColour(-0.1))
	prevR, prevG, prevB := probRGB(0)
	prevL := luminance(t, probColour(0))
	for i := 1; i <= 100; i++ {
		p := float32(i) / 100
		r, g, b := probRGB(p)
		require.True(t, r <= prevR && g <= prevG && b <= prevB, "p=%g: every channel falls", p)
		l := luminance(t, probColour(p))
		require.Less(t, l, prevL, "p=%g is darker than p=%g", p, float32(i-1)/100)
		prevR, prevG, prevB, prevL = r, g, b, l
	}
	// The samples' underline: darker the surer the model, never white (it would not show).
	require.NotEqual(t, "#ffffff", underlineColour(0))
	require.Greater(t, luminance(t, underlineColour(0.1)), luminance(t, underlineColour(0.9)))
}

func TestPct(t *testing.T) {
	for p, want := range map[float32]string{0: "0%", 0.00001: "<0.1%", 0.0123: "1.2%", 0.5: "50%", 1: "100%"} {
		require.Equal(t, want, pct(p), "%g", p)
	}
}

var testNext = []core.TokenProb{{ID: 5, Token: " ", Prob: 0.5}, {ID: 7, Token: "e", Prob: 0.25}, {ID: 8, Token: "<b>", Prob: 0.004}}

func TestNextTokenBars(t *testing.T) {
	root := parseSVG(t, nextTokenBars("next-bars", EN, []string{"T", "h"}, testNext))
	require.Equal(t, "img", root.attr("role"))
	require.Contains(t, root.attr("aria-label"), "␣ 50% · e 25% · <b> 0.4%", "the label reads the bars aloud")
	var bars []svgNode
	root.walk(func(n svgNode) {
		if n.XMLName.Local == "g" && n.attr("class") == "bar" {
			bars = append(bars, n)
		}
	})
	require.Len(t, bars, len(testNext))
	prevW := 1e9
	for i, bar := range bars {
		var label, percent, title string
		var width float64
		bar.walk(func(n svgNode) {
			switch {
			case n.XMLName.Local == "title":
				title = n.Text
			case n.XMLName.Local == "text" && strings.Contains(n.attr("class"), "token"):
				label = n.Text
				require.Contains(t, n.attr("class"), "data", "a token is data, not a word of the interface")
			case n.XMLName.Local == "text" && n.attr("class") == "pct":
				percent = n.Text
			case n.XMLName.Local == "rect" && n.attr("class") == "fill":
				w, err := strconv.ParseFloat(n.attr("width"), 64)
				require.NoError(t, err)
				width = w
			}
		})
		require.Equal(t, tokenLabel(testNext[i].Token), label)
		require.Equal(t, pct(testNext[i].Prob), percent)
		require.Equal(t, EN.T("next.bar", tokenLabel(testNext[i].Token), pct(testNext[i].Prob)), title)
		require.InDelta(t, float64(testNext[i].Prob)*barW, width, 0.05, "bar %d: length is the probability on a 0-100%% scale", i)
		require.Less(t, width, prevW)
		prevW = width
	}
}

// heatRows is a causal 4×4 attention map with uneven rows.
var heatTokens = []string{"T", "h", " ", "e"}
var heatRows = [][]float32{{1, 0, 0, 0}, {0.75, 0.25, 0, 0}, {0.1, 0.3, 0.6, 0}, {0.05, 0.15, 0.2, 0.6}}

func TestAttentionHeatmap(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			root := parseSVG(t, attentionHeatmap("attention-map", l, heatTokens, heatRows, 1, 0))
			require.Equal(t, "1", root.attr("data-layer"))
			require.Equal(t, "0", root.attr("data-head"))
			require.Equal(t, l.T("attn.aria", 2, 1, 4), root.attr("aria-label"))
			type cell struct {
				p      float64
				colour string
				title  string
				x, y   float64
			}
			var cells []cell
			var labels, texts []string
			root.walk(func(n svgNode) {
				switch {
				case n.XMLName.Local == "rect" && n.attr("class") == "cell":
					p, err := strconv.ParseFloat(n.attr("data-p"), 64)
					require.NoError(t, err)
					x, _ := strconv.ParseFloat(n.attr("x"), 64)
					y, _ := strconv.ParseFloat(n.attr("y"), 64)
					c := cell{p: p, colour: n.attr("fill"), x: x, y: y}
					for _, ch := range n.Children {
						if ch.XMLName.Local == "title" {
							c.title = ch.Text
						}
					}
					cells = append(cells, c)
				case n.XMLName.Local == "text" && strings.Contains(n.attr("class"), "tok-label"):
					require.Contains(t, n.attr("class"), "data")
					labels = append(labels, n.Text)
				case n.XMLName.Local == "text":
					texts = append(texts, n.Text)
				}
			})
			require.Len(t, cells, 16, "T×T cells, the masked future included")
			require.Equal(t, []string{"T", "T", "h", "h", "␣", "␣", "e", "e"}, labels, "each token on both axes")
			require.Contains(t, texts, l.T("attn.keys"))
			require.Contains(t, texts, l.T("attn.queries"))
			require.Contains(t, texts, l.T("attn.scale"), "the scale says what it measures and its range")
			for _, tick := range []string{"0", "0.5", "1"} {
				require.Contains(t, texts, tick)
			}
			// Row q, column k: the cell's place, value and words agree with the map.
			for i, c := range cells {
				q, k := i/4, i%4
				require.InDelta(t, float64(heatRows[q][k]), c.p, 1e-7)
				require.InDelta(t, float64(heatPadL)+float64(k)*heatSide/4, c.x, 0.01)
				require.InDelta(t, float64(heatPadT)+float64(q)*heatSide/4, c.y, 0.01)
				require.Equal(t, l.T("attn.cell", tokenLabel(heatTokens[q]), q+1, tokenLabel(heatTokens[k]), k+1, pct(heatRows[q][k])), c.title)
			}
			// Colours: more attention, darker cell.
			sort.SliceStable(cells, func(i, j int) bool { return cells[i].p < cells[j].p })
			for i := 1; i < len(cells); i++ {
				if cells[i].p > cells[i-1].p {
					require.Less(t, luminance(t, cells[i].colour), luminance(t, cells[i-1].colour), "p %g vs %g", cells[i].p, cells[i-1].p)
				} else {
					require.Equal(t, cells[i].colour, cells[i-1].colour)
				}
			}
		})
	}
}

func TestSamplePromptOf(t *testing.T) {
	r := newRun("otter", runspec.Presets()[0].Spec, 1)
	require.Equal(t, "", samplePromptOf(r))
	r.Samples = []sample{{Step: 20, Text: "The fox ran", Tokens: []core.TokenProb{{Token: " "}, {Token: "r"}, {Token: "a"}, {Token: "n"}}}}
	require.Equal(t, "The fox", samplePromptOf(r))
	r.Samples = append(r.Samples, sample{Step: 40, Text: "kept by an older page"})
	require.Equal(t, "", samplePromptOf(r), "without tokens the prompt is unknown")
}

// inspectedPage is a pretraining page whose finished run was looked inside.
func inspectedPage(l Lang) *Pretrain {
	spec := runspec.Presets()[0].Spec
	r := newRun("otter", spec, 1)
	r.Status, r.Device = statusDone, "cpu"
	r.Points = []point{{20, 3, 3.1}}
	r.Samples = []sample{
		{Step: 20, Text: "Thhh", Tokens: []core.TokenProb{{Token: "h", Prob: 0.9}, {Token: "h", Prob: 0.05}}},
		{Step: 40, Text: "The fox", Tokens: []core.TokenProb{{Token: " ", Prob: 0.3}, {Token: "f", Prob: 0.01}, {Token: "o", Prob: 0.6}, {Token: "x", Prob: 0.8}}},
	}
	p := &Pretrain{Lang: l, pretrainState: pretrainState{form: defaultSetup(), runs: []*run{r}, cur: r}}
	p.insp = inspectState{RunName: "otter", Step: 60, Result: &core.Inspection{
		Tokens: heatTokens, Cut: 2, Next: testNext,
		Attention: [][][][]float32{{heatRows, heatRows}, {heatRows, heatRows}},
	}}
	return p
}

func TestPretrainRendersAnInspection(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			html := render(t, inspectedPage(l))
			require.NotContains(t, html, "[", "a missing text shows as [key]")
			require.Contains(t, html, `id="next-bars"`)
			require.Len(t, regexp.MustCompile(`class="bar"`).FindAllString(html, -1), len(testNext))
			require.Contains(t, html, `id="attention-map"`)
			require.Len(t, regexp.MustCompile(`class="cell"`).FindAllString(html, -1), 16)
			require.Contains(t, html, l.T("inspect.from", runLabel(l, "otter"), 60))
			require.Contains(t, html, l.T("inspect.cut", 2, 4))
			// The selects are labelled and list every layer and head.
			require.Contains(t, html, `for="attn-layer"`)
			require.Contains(t, html, `for="attn-head"`)
			require.Contains(t, html, l.T("attn.layer", 2))
			require.Contains(t, html, l.T("attn.head", 2))
			require.Contains(t, html, `for="inspect-prompt"`)
			// Without a worker there is no model to ask: the button waits and says when.
			require.Regexp(t, `<button[^>]*(id="inspect-go"[^>]*disabled|disabled[^>]*id="inspect-go")`, html)
			require.Contains(t, html, htmlpkg.EscapeString(l.T("inspect.when")))
			// The samples' prompt is the text to look at by default.
			require.Regexp(t, `<input[^>]*(id="inspect-prompt"[^>]*value="The"|value="The"[^>]*id="inspect-prompt")`, html)

			// Samples: oldest first, every written token shaded with its percentage as title.
			require.Less(t, strings.Index(html, `data-step="20"`), strings.Index(html, `data-step="40"`))
			toks := regexp.MustCompile(`<span[^>]*class="tok"[^>]*>`).FindAllString(html, -1)
			require.Len(t, toks, 6)
			require.Contains(t, toks[2], l.T("samples.token_prob", "30%"))
			require.Contains(t, toks[2], "border-bottom-color:"+underlineColour(0.3))
			require.NotContains(t, toks[2], "background", "an underline, never a background like selected text")
			require.Contains(t, html, l.T("samples.shading"))
		})
	}
}

// TestInspectMessages: the page takes its own request's answer or refusal, clamps the head it
// shows to the new model's, and leaves other messages to the run.
func TestInspectMessages(t *testing.T) {
	p := inspectedPage(EN)
	r := p.cur
	p.insp.Layer, p.insp.Head, p.insp.ReqID = 1, 1, 5

	require.False(t, p.onInspectMessage(r, protocol.Message{ID: 4, Kind: protocol.Inspection}), "another request's")
	require.False(t, p.onInspectMessage(&run{}, protocol.Message{ID: 5, Kind: protocol.Inspection}), "another run's worker")

	one := &core.Inspection{Tokens: []string{"a"}, Attention: [][][][]float32{{{{1}}}}}
	require.True(t, p.onInspectMessage(r, protocol.Message{ID: 5, Kind: protocol.Inspection, Step: 80, Inspection: one}))
	require.Same(t, one, p.insp.Result)
	require.Zero(t, p.insp.ReqID)
	require.Equal(t, 80, p.insp.Step)
	require.Equal(t, 0, p.insp.Layer, "one layer now")
	require.Equal(t, 0, p.insp.Head, "one head now")
	require.False(t, p.onInspectMessage(r, protocol.Message{ID: 5, Kind: protocol.Done}), "answered: the done is the run's to ignore")

	p.insp.ReqID = 6
	require.True(t, p.onInspectMessage(r, protocol.Message{ID: 6, Kind: protocol.Error, Error: "no model yet: start a run first"}))
	require.Zero(t, p.insp.ReqID)
	html := render(t, p)
	require.Contains(t, html, `id="inspect-error"`)
	require.Contains(t, html, EN.T("inspect.no_model"))
	require.Equal(t, ZH.T("inspect.failed"), inspectErrText(ZH, "inspect: the prompt is empty"))
}
