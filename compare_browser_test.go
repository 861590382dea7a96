//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/ops"
	"pretune/core/runspec"
	"pretune/core/task"
)

// TestCompareView drives the fine-tune and compare view as a learner: a built-in base missing
// on the server and a damaged one are refused with why; then pretrain en-tiny, fine-tune the
// model just pretrained on en-facts with full fine-tuning and LoRA for 20 steps, one worker
// each, and see the table, the chart and the answers filled; see what LoRA learned, switch its
// adapter off, save it, load it back and see a damaged and a mismatched file refused; see which
// characters the loss counts; export the CSV and the SVG; share the comparison and open the link
// in a fresh browser, which pretrains the base itself and gets the same fingerprints; stop a
// long comparison mid-run; and in Chinese no English is left.
func TestCompareView(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	buildWeb(t)
	registerRoutes()
	// The built-in bases as a server may have them: the English one missing, the Chinese one
	// damaged (a model file with a flipped byte), whatever web/base holds.
	_, damaged, _, _ := modelFiles(t)
	bad, err := os.ReadFile(damaged)
	require.NoError(t, err)
	h := newHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/web/base/en-base.ckpt":
			http.NotFound(w, r)
		case "/web/base/zh-base.ckpt":
			w.Write(bad)
		default:
			h.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	origin := srv.URL
	ctx := newBrowser(t, 8*time.Minute)
	var reqs requestLog
	reqs.listen(t, ctx)
	downloads := t.TempDir()
	_, err = chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: "allow", DownloadPath: downloads})
		return err
	}))
	require.NoError(t, err)

	openApp(t, ctx, origin+"/")
	click(t, ctx, "#nav-compare")
	waitFor(t, ctx, `!!document.querySelector('#cmp-run') && !document.querySelector('#compare').closest('[hidden]')`, 10*time.Second)
	require.True(t, eval[bool](t, ctx, `document.querySelector('#cmp-base option[value="pretrained"]').disabled`), "nothing pretrained yet")
	require.NotEmpty(t, text(t, ctx, "#cmp-pretrained-hint"))

	// A built-in base the server lacks, then a damaged one: each says why, nothing runs.
	require.Equal(t, "en-base", eval[string](t, ctx, `document.querySelector('#cmp-base').value`))
	runComparison(t, ctx)
	waitFor(t, ctx, `document.querySelector('#cmp-status').dataset.phase === 'failed'`, 30*time.Second)
	require.Contains(t, text(t, ctx, "#cmp-run-error"), "not on this server")
	require.Contains(t, text(t, ctx, "#cmp-run-error"), "404")
	choose(t, ctx, "#cmp-base", "zh-base")
	waitFor(t, ctx, `document.querySelector('#cmp-task').value === 'zh-facts'`, 5*time.Second)
	runComparison(t, ctx)
	waitFor(t, ctx, `document.querySelector('#cmp-status').dataset.phase === 'failed' && document.querySelector('#cmp-run-error').textContent.includes('damaged')`, 30*time.Second)
	require.Contains(t, text(t, ctx, "#cmp-run-error"), "cannot be used")

	// Pretrain en-tiny; it becomes the base the compare view offers.
	click(t, ctx, "#nav-pretrain")
	click(t, ctx, "#preset-en-tiny")
	click(t, ctx, "#start")
	runToEnd(t, ctx)
	click(t, ctx, "#nav-compare")
	waitFor(t, ctx, `!document.querySelector('#cmp-base option[value="pretrained"]').disabled`, 10*time.Second)
	choose(t, ctx, "#cmp-base", "pretrained")
	waitFor(t, ctx, `document.querySelector('#cmp-task').value === 'en-facts'`, 5*time.Second)
	choose(t, ctx, "#cmp-task", "en-facts")
	for _, kind := range []string{"adapter", "prefix"} { // leave full fine-tuning and LoRA
		click(t, ctx, "#m-"+kind)
		waitFor(t, ctx, `!document.querySelector('#m-`+kind+`').checked`, 5*time.Second)
	}
	typeInto(t, ctx, "#cmp-steps", "20")
	waitFor(t, ctx, `document.querySelector('#cmp-schedule').textContent.includes('every 2 steps')`, 5*time.Second)
	// A LoRA step large enough to change en-tiny's answers within 20 steps, so that switching
	// its adapter off visibly gives the base's answers back.
	typeInto(t, ctx, "#m-lora-lr", "0.1")
	waitFor(t, ctx, `!document.querySelector('#m-lora-lr-reset').disabled`, 5*time.Second)
	runComparison(t, ctx)
	waitFor(t, ctx, `document.querySelectorAll('#cmp-lanes li').length === 2`, 30*time.Second)
	waitFor(t, ctx, `['done','failed','stopped'].includes(document.querySelector('#cmp-status').dataset.phase)`, 4*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#cmp-status').dataset.phase`), "lanes: %s", text(t, ctx, "#cmp-lanes"))

	// The table: the base first, then both methods, every number in.
	rows := compareTable(t, ctx)
	require.Len(t, rows, 3)
	require.Equal(t, []string{"base", "full", "lora"}, []string{rows[0].method, rows[1].method, rows[2].method})
	for _, r := range rows {
		require.Equal(t, "done", r.status, r.method)
		acc := percent(t, r.cells[0])
		require.True(t, acc >= 0 && acc <= 100)
		_, err = strconv.ParseFloat(r.cells[1], 64)
		require.NoError(t, err, "%s forgetting %q", r.method, r.cells[1])
	}
	for _, r := range rows[1:] {
		for i, c := range r.cells[2:6] {
			require.NotEqual(t, "–", c, "%s column %d", r.method, i+2)
		}
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.fingerprint)
	}
	full, lora := paramCount(t, rows[1].cells[2]), paramCount(t, rows[2].cells[2])
	require.Greater(t, full, 10*lora, "LoRA trains a small share of what full fine-tuning trains")
	require.Contains(t, text(t, ctx, "#cmp-base-line"), "just pretrained")
	require.Equal(t, text(t, ctx, "#fingerprint"), text(t, ctx, "#cmp-base-fingerprint"), "the base is the pretraining the Pretrain view finished")
	// The chart: each method's held-out and training curves.
	require.Equal(t, 4, eval[int](t, ctx, `[...document.querySelectorAll('#compare-chart polyline')].filter(p => p.getAttribute('points').split(' ').length >= 2).length`))
	require.Equal(t, 2, eval[int](t, ctx, `document.querySelectorAll('#cmp-answers thead th').length - 3`), "an answer column a method, after prompt, expected and base")
	require.GreaterOrEqual(t, eval[int](t, ctx, `document.querySelectorAll('#cmp-answers tbody tr').length`), 1)
	screenshot(t, ctx, "compare.png")
	checkLoRAView(t, ctx, downloads)
	checkSFTExample(t, ctx)

	// Export: the CSV holds the table; the SVG is the chart.
	click(t, ctx, "#cmp-csv")
	recs, err := csv.NewReader(strings.NewReader(string(downloaded(t, downloads, "comparison.csv")))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	require.True(t, strings.HasPrefix(recs[0][0], "Method: "), "headings with their explanations: %q", recs[0][0])
	require.Equal(t, []string{"base (not fine-tuned)", "full fine-tuning", "LoRA"}, []string{recs[1][0], recs[2][0], recs[3][0]})
	for i, r := range rows {
		csvAcc, err := strconv.ParseFloat(recs[i+1][1], 64)
		require.NoError(t, err)
		require.InDelta(t, percent(t, r.cells[0]), csvAcc, 0.5, "the CSV's accuracy (one decimal) is the table's (a whole percentage)")
		require.Equal(t, r.fingerprint, recs[i+1][7])
	}
	require.Equal(t, strconv.Itoa(full), recs[2][3])
	click(t, ctx, "#cmp-svg")
	var svg struct {
		XMLName   xml.Name
		Polylines []struct{} `xml:"polyline"`
	}
	require.NoError(t, xml.Unmarshal(downloaded(t, downloads, "comparison-loss.svg"), &svg))
	require.Equal(t, "svg", svg.XMLName.Local)
	require.Len(t, svg.Polylines, 4)

	// Share, and open the link in a fresh browser: no kept base there, so it pretrains en-tiny
	// first in one worker, then fans out, and every fingerprint is the same (all on the CPU): the
	// link carries each result's (version 4), and every row says it matches.
	click(t, ctx, "#cmp-share")
	waitFor(t, ctx, `!!document.querySelector('#cmp-share-url')`, 10*time.Second)
	link := eval[string](t, ctx, `document.querySelector('#cmp-share-url').value`)
	require.True(t, strings.HasPrefix(link, origin+"/#r=4"), link)
	fresh, cancelFresh := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelFresh()
	reqs.listen(t, fresh)
	openApp(t, fresh, link)
	waitFor(t, fresh, `!!document.querySelector('#cmp-link') && !document.querySelector('#compare').closest('[hidden]')`, 20*time.Second)
	require.Contains(t, text(t, fresh, "#cmp-link"), "fine-tuning comparison")
	waitFor(t, fresh, `['done','failed','stopped'].includes(document.querySelector('#cmp-status').dataset.phase)`, 4*time.Minute)
	require.Equal(t, "done", eval[string](t, fresh, `document.querySelector('#cmp-status').dataset.phase`), "%s", text(t, fresh, "#cmp-status-box"))
	require.Contains(t, text(t, fresh, "#cmp-base-line"), "pretrained first")
	require.Equal(t, "matches", eval[string](t, fresh, `document.querySelector('#cmp-match').dataset.match`))
	again := compareTable(t, fresh)
	require.Len(t, again, 3)
	for i := range rows {
		require.Equal(t, rows[i].fingerprint, again[i].fingerprint, "%s reproduces", rows[i].method)
		require.Equal(t, rows[i].cells[0], again[i].cells[0])
	}
	require.Equal(t, []string{"matches", "matches", "matches"}, eval[[]string](t, fresh,
		`[...document.querySelectorAll('#cmp-table tbody tr')].map(tr => (tr.querySelector('td.fingerprint [data-match]') || {dataset: {}}).dataset.match || '')`))
	require.Empty(t, text(t, fresh, "#link-error"), "the pretraining view does not refuse the link")
	cancelFresh()

	// Stop ends every method's worker at once, mid-run.
	typeInto(t, ctx, "#cmp-steps", "5000")
	runComparison(t, ctx)
	waitFor(t, ctx, `[...document.querySelectorAll('#cmp-lanes li')].filter(li => li.dataset.status === 'running').length === 2`, time.Minute)
	click(t, ctx, "#cmp-stop")
	waitFor(t, ctx, `document.querySelector('#cmp-status').dataset.phase === 'stopped'`, 5*time.Second)
	require.Equal(t, 2, eval[int](t, ctx, `[...document.querySelectorAll('#cmp-lanes li')].filter(li => li.dataset.status === 'stopped').length`))
	require.False(t, eval[bool](t, ctx, `document.querySelector('#cmp-run').disabled`), "a new comparison can start")

	// A "try this" link loads its setting and highlights the control it changed.
	click(t, ctx, "#compare .explain button.try")
	waitFor(t, ctx, `document.querySelector('#m-lora-rank').value === '1' && document.activeElement.id === 'm-lora-rank'`, 10*time.Second)
	click(t, ctx, "#m-lora-rank-reset")

	// Your own task: a line without its tab is refused with the line's number; a good file
	// shows which of its characters the loss counts, and the form can run.
	var tsv strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&tsv, "Where does the %sfox live?\tin the forest\n", strings.Repeat("big ", i))
	}
	choose(t, ctx, "#cmp-task", "user")
	waitFor(t, ctx, `!!document.querySelector('#cmp-user-task')`, 10*time.Second)
	typeInto(t, ctx, "#cmp-user-task", tsv.String()+"no tab here\n")
	waitFor(t, ctx, `(document.querySelector('#cmp-error') || {}).textContent?.includes('Line 13')`, 10*time.Second)
	typeInto(t, ctx, "#cmp-user-task", tsv.String())
	waitFor(t, ctx, `!document.querySelector('#cmp-error') && !!document.querySelector('#sft-example')`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#sft-example"), "Where does the fox live?")
	choose(t, ctx, "#cmp-task", "en-facts")

	// Chinese: no English left in the compare view.
	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('#cmp-run').textContent === '微调并比较'`, 10*time.Second)
	requireNoEnglish(t, ctx, "compare")
	screenshot(t, ctx, "compare-zh.png")

	n, off := reqs.offOrigin(origin)
	require.Greater(t, n, 5)
	require.Empty(t, off, "requests that left the origin")
}

// compareRow is one row of the results table as the page shows it.
type compareRow struct {
	method, status string
	cells          []string // accuracy, forgetting, trainable, share, optimizer, ms/step
	fingerprint    string
}

func compareTable(t *testing.T, ctx context.Context) []compareRow {
	t.Helper()
	raw := eval[[]map[string]any](t, ctx, `[...document.querySelectorAll('#cmp-table tbody tr')].map(tr => ({
		method: tr.dataset.method, status: tr.dataset.status,
		cells: [...tr.querySelectorAll('td.num')].map(td => td.textContent),
		fingerprint: tr.querySelector('code').textContent}))`)
	var out []compareRow
	for _, r := range raw {
		row := compareRow{method: r["method"].(string), status: r["status"].(string), fingerprint: r["fingerprint"].(string)}
		for _, c := range r["cells"].([]any) {
			row.cells = append(row.cells, c.(string))
		}
		require.Len(t, row.cells, 6)
		out = append(out, row)
	}
	return out
}

func paramCount(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err, s)
	return n
}

// downloaded waits for the browser to finish writing a download and returns its bytes.
func downloaded(t *testing.T, dir, name string) []byte {
	t.Helper()
	path := filepath.Join(dir, name)
	var data []byte
	require.Eventually(t, func() bool {
		d, err := os.ReadFile(path)
		if err != nil || len(d) == 0 {
			return false
		}
		data = d
		return true
	}, 30*time.Second, 100*time.Millisecond, "%s did not arrive", name)
	time.Sleep(200 * time.Millisecond) // the download finishes writing
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// answerColumn reads one model's column of the answers table.
func answerColumn(t *testing.T, ctx context.Context, method string) []string {
	t.Helper()
	return eval[[]string](t, ctx, `[...document.querySelectorAll('#cmp-answers td[data-method="`+method+`"]')].map(td => td.textContent)`)
}

// checkLoRAView: after the en-tiny comparison with full fine-tuning and LoRA (lane 1), LoRA's
// heatmap draws every weight of the chosen update, which is the s·B·A of the adapter file it
// saves; switched off, its answers are the base's; the file loads back onto the base and
// answers as LoRA did; a damaged file and another model's adapter are refused with why.
func checkLoRAView(t *testing.T, ctx context.Context, downloads string) {
	t.Helper()
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	dim := tiny.Spec.Config.Dim
	// The heatmap's cells are added a chunk a frame after its markup is mounted (heatmapLater):
	// every one of them comes.
	allCells := func(id string) string {
		return fmt.Sprintf(`document.querySelectorAll('#%s rect.cell').length === %d`, id, dim*dim)
	}
	waitFor(t, ctx, allCells("lora-1-map"), 10*time.Second) // q_proj: Rows×Cols cells
	require.False(t, eval[bool](t, ctx, `!!document.querySelector('#lora-0-map')`), "full fine-tuning has no LoRA view")
	require.Equal(t, strconv.Itoa(dim), eval[string](t, ctx, `document.querySelector('#lora-1-map').dataset.rows`))
	choose(t, ctx, "#lora-1-layer", "1")
	choose(t, ctx, "#lora-1-target", "v_proj")
	waitFor(t, ctx, `document.querySelector('#lora-1-map').dataset.target === 'v_proj' && document.querySelector('#lora-1-map').dataset.layer === '1'`, 5*time.Second)
	waitFor(t, ctx, allCells("lora-1-map"), 5*time.Second)
	drawn := eval[[]float64](t, ctx, `[...document.querySelectorAll('#lora-1-map rect.cell')].map(r => parseFloat(r.dataset.v))`)
	require.Len(t, drawn, dim*dim)
	require.NotEmpty(t, text(t, ctx, "#lora-1-map rect.cell title"), "every cell has its tooltip")

	// The switch: off gives the base's answers exactly, merged the adapter's; on gives them back.
	on, base := answerColumn(t, ctx, "lora"), answerColumn(t, ctx, "base")
	require.NotEmpty(t, on)
	require.NotEqual(t, base, on, "LoRA learned something: its answers differ from the base's")
	click(t, ctx, "#lora-1-mode-off")
	waitFor(t, ctx, `document.querySelector('#cmp-answers th[data-method="lora"]').textContent.includes('adapter off')`, 5*time.Second)
	require.Equal(t, base, answerColumn(t, ctx, "lora"), "adapter off: the base model's answers")
	click(t, ctx, "#lora-1-mode-merged")
	waitFor(t, ctx, `document.querySelector('#cmp-answers th[data-method="lora"]').textContent.includes('merged')`, 5*time.Second)
	require.Equal(t, on, answerColumn(t, ctx, "lora"), "merged into the weights: the same answers")
	click(t, ctx, "#lora-1-mode-on")
	waitFor(t, ctx, `!document.querySelector('#cmp-answers th[data-method="lora"] .hint')`, 5*time.Second)
	require.Equal(t, on, answerColumn(t, ctx, "lora"))

	// Save: the file is LoRA's alone, and its s·B·A is what the heatmap drew.
	waitFor(t, ctx, `!document.querySelector('#lora-1-save').disabled`, 30*time.Second)
	click(t, ctx, "#lora-1-save")
	file := downloaded(t, downloads, "lora-adapter.safetensors")
	m := freshCPUModel(t, tiny.Spec)
	require.NoError(t, m.ImportLoRA(bytes.NewReader(file)))
	lcfg, ok := m.LoRA()
	require.True(t, ok)
	require.Equal(t, core.AttentionTargets(), lcfg.Targets)
	updates, err := m.LoRAUpdates()
	require.NoError(t, err)
	var shown *core.LoRAUpdate
	for i, u := range updates {
		if u.Layer == 1 && u.Target == "v_proj" {
			shown = &updates[i]
		}
	}
	require.NotNil(t, shown)
	nonzero := false
	for i, v := range shown.Delta {
		require.InDelta(t, float64(v), drawn[i], 1e-6*(1+math.Abs(float64(v))), "cell %d", i)
		nonzero = nonzero || v != 0
	}
	require.True(t, nonzero, "20 steps moved B off zero")

	// Load it back: one more column with LoRA's answers, and its heatmap.
	dir := t.TempDir()
	load := func(name string, data []byte) {
		t.Helper()
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, data, 0o644))
		do(t, ctx, chromedp.SetUploadFiles("#cmp-adapter-file", []string{path}))
	}
	load("lora-adapter.safetensors", file)
	waitFor(t, ctx, `document.querySelectorAll('#cmp-answers td[data-method="loaded"]').length > 0 || !!document.querySelector('#cmp-adapter-error')`, 2*time.Minute)
	require.Empty(t, text(t, ctx, "#cmp-adapter-error"))
	require.Equal(t, on, answerColumn(t, ctx, "loaded"), "the loaded adapter answers as LoRA did")
	require.Contains(t, text(t, ctx, `#cmp-answers th[data-method="loaded"]`), "lora-adapter.safetensors")
	waitFor(t, ctx, allCells("lora-loaded-map"), 10*time.Second)

	// A damaged file, then another model's adapter: each refused with why, nothing shown.
	load("cut.safetensors", file[:len(file)-9])
	waitFor(t, ctx, `!!document.querySelector('#cmp-adapter-error')`, 2*time.Minute)
	require.Contains(t, text(t, ctx, "#cmp-adapter-error"), "damaged or cut short")
	require.Zero(t, eval[int](t, ctx, `document.querySelectorAll('#cmp-answers td[data-method="loaded"]').length`))
	wide := m.Cfg
	wide.Dim *= 2
	other, err := core.NewModel(ops.NewCPU(), wide)
	require.NoError(t, err)
	_, err = other.AttachLoRA(compare.Defaults(compare.LoRA).LoRAConfig(), 1)
	require.NoError(t, err)
	var otherFile bytes.Buffer
	require.NoError(t, other.ExportLoRA(&otherFile))
	load("wide.safetensors", otherFile.Bytes())
	waitFor(t, ctx, `(document.querySelector('#cmp-adapter-error') || {textContent: ''}).textContent.includes('wide.safetensors')`, 2*time.Minute)
	require.Contains(t, text(t, ctx, "#cmp-adapter-error"), "another shape")
	require.Contains(t, text(t, ctx, "#cmp-adapter-error"), "has shape")
}

// checkSFTExample: the form shows en-facts' first training pair with only its response (and the
// line break that ends it) marked as counted in the loss.
func checkSFTExample(t *testing.T, ctx context.Context) {
	t.Helper()
	tk, err := task.Builtin("en-facts")
	require.NoError(t, err)
	p := tk.TrainPairs[0]
	counted := eval[string](t, ctx, `[...document.querySelectorAll('#sft-example .ch.counted')].map(s => s.textContent).join('')`)
	require.Equal(t, p.Response+"↵", counted)
	ignored := eval[string](t, ctx, `[...document.querySelectorAll('#sft-example .ch.ignored')].map(s => s.textContent).join('')`)
	require.Equal(t, strings.ReplaceAll(task.PromptText(p.Prompt), "\n", "↵"), ignored)
	require.NotEmpty(t, text(t, ctx, "#sft-legend"))
}

// runComparison presses the run button and, when the page asks first (the comparison would
// take more than two minutes at the speed measured here, which depends on the machine),
// answers Start anyway.
func runComparison(t *testing.T, ctx context.Context) {
	t.Helper()
	// The button is disabled while anything runs, measures or asks (TestPEFTMethodsInTheBrowser's
	// click, just after its pretraining ended, once found it so): wait until it can be pressed.
	waitFor(t, ctx, `!!document.querySelector('#cmp-run') && !document.querySelector('#cmp-run').disabled`, time.Minute)
	click(t, ctx, "#cmp-run")
	time.Sleep(300 * time.Millisecond) // the click's redraw: measuring, asking or running
	waitFor(t, ctx, `!document.querySelector('#cmp-measuring')`, time.Minute)
	time.Sleep(200 * time.Millisecond) // the answer's redraw
	if eval[bool](t, ctx, `!!document.querySelector('#cmp-long-start')`) {
		click(t, ctx, "#cmp-long-start")
	}
}

// percent reads a table's percentage ("82%").
func percent(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	require.NoError(t, err, "a percentage: %q", s)
	require.True(t, strings.HasSuffix(s, "%"), "a percentage: %q", s)
	return v
}

// freshCPUModel is a new, untrained model of spec's shape and tokenizer on the CPU device: what
// an adapter file the page saved is loaded onto to read it back.
func freshCPUModel(t *testing.T, spec runspec.Spec) *core.Model {
	t.Helper()
	c, err := spec.Resolve()
	require.NoError(t, err)
	tk, err := core.PretrainTokenizer(c)
	require.NoError(t, err)
	cfg := spec.Config
	cfg.Vocab = tk.VocabSize()
	m, err := core.NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	return m
}
