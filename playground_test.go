//go:build !js

// End-to-end tests of the playground: the real handler, the real UI and trainer wasm, headless
// Chromium driven by chromedp, as a learner would use it.

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/job"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// requestLog records every URL a tab (and its dedicated workers) asks for.
type requestLog struct {
	mu   sync.Mutex
	urls []string
}

func (l *requestLog) listen(t *testing.T, ctx context.Context) {
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if e.Request != nil {
				l.mu.Lock()
				l.urls = append(l.urls, e.Request.URL)
				l.mu.Unlock()
			}
		case *cdpruntime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, a.Description+string(a.Value))
			}
			consoleLog.add(string(e.Type) + ": " + strings.Join(parts, " "))
		case *cdpruntime.EventExceptionThrown:
			if e.ExceptionDetails != nil {
				msg := e.ExceptionDetails.Text
				if e.ExceptionDetails.Exception != nil {
					msg += " " + e.ExceptionDetails.Exception.Description
				}
				consoleLog.add("exception: " + msg)
			}
		}
	}))
}

// consoleLog keeps the pages' console lines, shown when a wait times out.
var consoleLog = &lines{}

type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) add(s string) {
	l.mu.Lock()
	l.l = append(l.l, s)
	l.mu.Unlock()
}

func (l *lines) last(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l[max(0, len(l.l)-n):], "\n")
}

// offOrigin lists the requests that went anywhere but origin (data: and blob: URLs stay in the
// page).
func (l *requestLog) offOrigin(origin string) (all int, off []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range l.urls {
		if strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:") || strings.HasPrefix(u, origin+"/") || u == origin {
			continue
		}
		off = append(off, u)
	}
	return len(l.urls), off
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// waitFor polls a JS condition; on a timeout it fails with what the page says.
func waitFor(t *testing.T, ctx context.Context, expr string, timeout time.Duration) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(150*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ""`))
		t.Fatalf("waiting for %s: %v\nthe page says:\n%s\nthe console says:\n%s", expr, err, body, consoleLog.last(30))
	}
}

// choose sets a <select> and fires its change event, as a learner's pick does.
func choose(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	require.True(t, eval[bool](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
		el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value)), sel)
}

// typeInto sets an input's value and fires change.
func typeInto(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	require.True(t, eval[bool](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
		el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value)), sel)
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	require.True(t, eval[bool](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el || el.disabled) return false; el.click(); return true; })()`, sel)),
		"%s is missing or disabled", sel)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector(%q); return el ? el.textContent : ""; })()`, sel))
}

// updateScreenshots rewrites the README's pictures in web/screenshots; without it the tests
// write them to a temporary folder, so make test leaves the tracked files alone.
var updateScreenshots = flag.Bool("screenshots", false, "save the pages' screenshots under web/screenshots")

// screenshot saves the page (under web/screenshots with -screenshots).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NotEmpty(t, buf)
	dir := filepath.Join(os.TempDir(), "pretune-screenshots")
	if *updateScreenshots {
		dir = filepath.Join("web", "screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), buf, 0o644))
}

// openApp loads the playground and waits until go-app has drawn it.
func openApp(t *testing.T, ctx context.Context, u string) {
	t.Helper()
	do(t, ctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(u))
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 90*time.Second)
}

// lossCurve reads the current run's training curve back from the chart: (x, y) in SVG units.
func lossCurve(t *testing.T, ctx context.Context) [][2]float64 {
	t.Helper()
	pts := eval[string](t, ctx, `(() => { const l = document.querySelector('#loss-chart polyline[data-line="0"]'); return l ? l.getAttribute('points') : ""; })()`)
	var out [][2]float64
	for _, p := range strings.Fields(pts) {
		xy := strings.Split(p, ",")
		require.Len(t, xy, 2)
		x, err := strconv.ParseFloat(xy[0], 64)
		require.NoError(t, err)
		y, err := strconv.ParseFloat(xy[1], 64)
		require.NoError(t, err)
		out = append(out, [2]float64{x, y})
	}
	return out
}

// startNew clicks a button that starts a run and waits until the page shows the new run (the
// status line changes), so a later wait cannot see the previous run's end.
//
// A run the page estimates at over two minutes on this machine asks first (after measuring the
// device when it has no speed for the model): the tests answer Start anyway, since whether it
// asks depends on the machine's speed.
func startNew(t *testing.T, ctx context.Context, button string) {
	t.Helper()
	before := text(t, ctx, "#status")
	click(t, ctx, button)
	waitFor(t, ctx, fmt.Sprintf(`!!document.querySelector('#long-run') || (document.querySelector('#status').textContent !== %q &&
		['running', 'done', 'failed', 'stopped'].includes(document.querySelector('#status').dataset.status))`, before), time.Minute)
	if eval[bool](t, ctx, `!!document.querySelector('#long-run')`) {
		click(t, ctx, "#long-start")
	}
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#status').textContent !== %q`, before), 10*time.Second)
}

// runToEnd waits for the current run to end and requires that it finished.
func runToEnd(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, `(() => { const s = document.querySelector('#status'); return s && ['done','failed','stopped'].includes(s.dataset.status); })()`, 3*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#status').dataset.status`), "run error: %s", text(t, ctx, "#run-error"))
}

// TestPlayground drives the playground as a learner: pretrain the tiny preset and watch the loss
// fall, share the run and open the link in a fresh browser context (same fingerprint,
// "matches"), load a damaged model file, measure the bench, switch to Chinese, and reload with
// the network cut. Every request must stay on the origin.
func TestPlayground(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	buildWeb(t)
	registerRoutes() // main does this; tests do not run main
	srv := httptest.NewServer(newHandler())
	t.Cleanup(srv.Close)
	origin := srv.URL
	ctx := newBrowser(t, 6*time.Minute)
	var reqs requestLog
	reqs.listen(t, ctx)

	// Pretrain en-tiny (CPU: the headless adapter is software, so "auto" falls back and says so).
	openApp(t, ctx, origin+"/")
	screenshot(t, ctx, "start.png")
	click(t, ctx, "#preset-en-tiny")
	require.Contains(t, text(t, ctx, "#params"), "parameters")
	typeInto(t, ctx, "#prompt", "The fox")
	click(t, ctx, "#start")
	waitFor(t, ctx, `document.querySelectorAll('#samples li').length > 0`, 2*time.Minute)
	runToEnd(t, ctx)
	require.Equal(t, 3, eval[int](t, ctx, `[...document.querySelectorAll('#samples pre')].filter(p => p.textContent.startsWith('The fox')).length`),
		"a sample at each evaluation, from the chosen prompt")
	curve := lossCurve(t, ctx)
	require.Len(t, curve, 3, "en-tiny evaluates at steps 20, 40 and 60")
	require.Greater(t, curve[len(curve)-1][1], curve[0][1], "the training loss falls (drawn lower, larger SVG y)")
	require.Equal(t, "cpu", text(t, ctx, "#device-name"))
	require.NotEmpty(t, text(t, ctx, "#fallback"), "the page says why it is not on WebGPU")
	require.Regexp(t, `[\d,]+ tokens/s`, text(t, ctx, "#tokens"))
	fp := text(t, ctx, "#fingerprint")
	require.Regexp(t, `^cpu:[0-9a-f]{12}$`, fp)
	t.Logf("en-tiny in the browser: %s, fingerprint %s", text(t, ctx, "#tokens"), fp)

	// Samples read oldest first, each written character shaded, its probability as the title.
	require.Equal(t, []int{20, 40, 60}, eval[[]int](t, ctx, `[...document.querySelectorAll('#samples li')].map(li => Number(li.dataset.step))`))
	shaded := eval[[]string](t, ctx, `[...document.querySelectorAll('#samples li:last-child .tok')].map(s => s.title)`)
	require.Len(t, shaded, 80, "every written character of the last sample")
	for _, title := range shaded {
		require.Regexp(t, `^the model gave this character (<)?[\d.]+%$`, title)
	}

	// Look inside the trained model, at the samples' prompt: the next-token bars and one
	// head's attention over its 7 characters, then another layer's.
	require.Equal(t, "The fox", eval[string](t, ctx, `document.querySelector('#inspect-prompt').value`))
	click(t, ctx, "#inspect-go")
	waitFor(t, ctx, `!!document.querySelector('#attention-map') || !!document.querySelector('#inspect-error')`, 30*time.Second)
	require.Empty(t, text(t, ctx, "#inspect-error"))
	require.Contains(t, text(t, ctx, "#inspect-from"), "after 60 steps")
	next := eval[[]float64](t, ctx, `[...document.querySelectorAll('#next-bars .bar')].map(b => Number(b.dataset.p))`)
	require.Len(t, next, 10, "the ten most likely next characters")
	var total float64
	for i, p := range next {
		require.True(t, p > 0 && p <= 1, "p=%g", p)
		if i > 0 {
			require.LessOrEqual(t, p, next[i-1], "most likely first")
		}
		total += p
	}
	require.LessOrEqual(t, total, 1.0001)
	cells := eval[[]float64](t, ctx, `[...document.querySelectorAll('#attention-map rect.cell')].map(c => Number(c.dataset.p))`)
	require.Len(t, cells, 7*7, "T×T cells for the 7 characters of the prompt")
	for q := 0; q < 7; q++ {
		var row float64
		for k := 0; k < 7; k++ {
			if k > q {
				require.Zero(t, cells[q*7+k], "query %d cannot see the later key %d", q, k)
			}
			row += cells[q*7+k]
		}
		require.InDelta(t, 1, row, 1e-3, "row %d of the attention adds up to 1", q)
	}
	choose(t, ctx, "#attn-layer", "1")
	choose(t, ctx, "#attn-head", "1")
	waitFor(t, ctx, `(() => { const m = document.querySelector('#attention-map'); return m.dataset.layer === '1' && m.dataset.head === '1'; })()`, 5*time.Second)
	require.Len(t, eval[[]float64](t, ctx, `[...document.querySelectorAll('#attention-map rect.cell')].map(c => Number(c.dataset.p))`), 49)
	screenshot(t, ctx, "inspect.png")

	// Share: the link carries the setup and the fingerprint, on this origin.
	click(t, ctx, "#share")
	waitFor(t, ctx, `!!document.querySelector('#share-url')`, 10*time.Second)
	link := eval[string](t, ctx, `document.querySelector('#share-url').value`)
	require.True(t, strings.HasPrefix(link, origin+"/#r=1"), link)
	screenshot(t, ctx, "pretrain.png")

	// Open the link in a fresh browser context: it shows the setup, runs, and matches.
	fresh, cancelFresh := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelFresh()
	reqs.listen(t, fresh)
	openApp(t, fresh, link)
	require.Contains(t, text(t, fresh, "#link-setup"), "This link carries a run")
	runToEnd(t, fresh)
	require.Equal(t, fp, text(t, fresh, "#fingerprint"))
	require.Equal(t, "matches", eval[string](t, fresh, `document.querySelector('#match').dataset.match`))
	screenshot(t, fresh, "share-matches.png")

	// A link made on another device class: the run says so and offers the exact CPU run; both
	// runs are on the CPU here, so their losses do not differ at all.
	spec, err := runspec.Decode(link)
	require.NoError(t, err)
	spec.Fingerprint = "webgpu/Some GPU:0123456789ab"
	other, err := runspec.URL(origin+"/", spec)
	require.NoError(t, err)
	do(t, fresh, chromedp.Navigate("about:blank"))
	openApp(t, fresh, other)
	runToEnd(t, fresh)
	require.Equal(t, "other-device", eval[string](t, fresh, `document.querySelector('#match').dataset.match`))
	require.Contains(t, text(t, fresh, "#match"), "webgpu/Some GPU:0123456789ab")
	startNew(t, fresh, "#reproduce-cpu")
	runToEnd(t, fresh)
	require.Equal(t, "cpu-check", eval[string](t, fresh, `document.querySelector('#match').dataset.match`))
	require.Contains(t, text(t, fresh, "#loss-diff"), "Largest loss difference")
	require.Contains(t, text(t, fresh, "#loss-diff"), ": 0, over 3 evaluations")
	screenshot(t, fresh, "share-other-device.png")

	// A damaged link says why it cannot open.
	bad := link[:len(link)-12]
	do(t, fresh, chromedp.Navigate("about:blank"))
	openApp(t, fresh, bad)
	waitFor(t, fresh, `!!document.querySelector('#link-error')`, 20*time.Second)
	require.Contains(t, text(t, fresh, "#link-error"), "damaged or cut short")
	cancelFresh()

	// Save the model through the worker and load it back; a damaged copy is refused with why.
	good, damaged, truncated, safetensors := modelFiles(t)
	do(t, ctx, chromedp.SetUploadFiles("#load-model", []string{damaged}))
	waitFor(t, ctx, `!!document.querySelector('#load-error')`, 20*time.Second)
	require.Contains(t, text(t, ctx, "#load-error"), "damaged")
	screenshot(t, ctx, "load-error.png")
	do(t, ctx, chromedp.SetUploadFiles("#load-model", []string{truncated}))
	waitFor(t, ctx, `(document.querySelector('#load-error')||{}).textContent.includes('cut short')`, 20*time.Second)
	do(t, ctx, chromedp.SetUploadFiles("#load-model", []string{good}))
	waitFor(t, ctx, `!!document.querySelector('#base-info')`, 20*time.Second)
	require.Contains(t, text(t, ctx, "#base-info"), "2 layers")
	// Training from the loaded model: the run says so, and its link would not carry the model.
	startNew(t, ctx, "#start")
	runToEnd(t, ctx)
	require.Contains(t, text(t, ctx, "#runs-table"), "from a loaded model")
	require.True(t, eval[bool](t, ctx, `document.querySelector('#share').disabled`))
	click(t, ctx, "#forget-base")
	// A safetensors export loads too.
	do(t, ctx, chromedp.SetUploadFiles("#load-model", []string{safetensors}))
	waitFor(t, ctx, `!!document.querySelector('#base-info') && document.querySelector('#base-info').textContent.includes('safetensors')`, 20*time.Second)
	click(t, ctx, "#forget-base")

	// Stop answers at once, mid-run.
	click(t, ctx, "#preset-en-tiny")
	typeInto(t, ctx, "#f-steps", "2000")
	startNew(t, ctx, "#start")
	waitFor(t, ctx, `document.querySelector('#status').dataset.status === 'running' && Number((document.querySelector('#kept')||{dataset:{}}).dataset.step) >= 20`, time.Minute)
	// Looking inside a running model: the worker answers between two steps, and the run goes on.
	click(t, ctx, "#inspect-go")
	waitFor(t, ctx, `!!document.querySelector('#inspect-from') || !!document.querySelector('#inspect-error')`, 30*time.Second)
	require.Empty(t, text(t, ctx, "#inspect-error"))
	require.Equal(t, "running", eval[string](t, ctx, `document.querySelector('#status').dataset.status`))
	click(t, ctx, "#stop")
	waitFor(t, ctx, `document.querySelector('#status').dataset.status === 'stopped'`, 5*time.Second)

	// The learner's own text: a refusal says why, in words from corpus.FromText's checks.
	choose(t, ctx, "#corpus", "user")
	waitFor(t, ctx, `!!document.querySelector('#user-text')`, 5*time.Second)
	typeInto(t, ctx, "#user-text", "Too short to learn from.")
	waitFor(t, ctx, `(document.querySelector('#text-error')||{}).textContent.includes('too short')`, 5*time.Second)
	require.True(t, eval[bool](t, ctx, `document.querySelector('#start').disabled`), "no start with an unusable text")
	binary := filepath.Join(t.TempDir(), "picture.txt")
	require.NoError(t, os.WriteFile(binary, []byte("GIF89a\x00\x01\x02 not text"), 0o644))
	do(t, ctx, chromedp.SetUploadFiles("#user-file", []string{binary}))
	waitFor(t, ctx, `(document.querySelector('#text-error')||{}).textContent.includes('binary')`, 10*time.Second)
	typeInto(t, ctx, "#user-text", strings.Repeat("A small story about a fox and a crow who share their bread. ", 10))
	waitFor(t, ctx, `!document.querySelector('#text-error') && !document.querySelector('#start').disabled`, 5*time.Second)
	require.Contains(t, text(t, ctx, "#params"), "parameters")

	// Close the tab mid-run (a reload): the page offers to resume from the state it kept at
	// the last evaluation, and the resumed run ends exactly as an uninterrupted one.
	// Pausing holds the run still; a paused run's model saves as a file that loads natively.
	click(t, ctx, "#preset-en-tiny")
	typeInto(t, ctx, "#f-steps", "200")
	startNew(t, ctx, "#start")
	waitFor(t, ctx, `Number((document.querySelector('#kept')||{dataset:{}}).dataset.step) >= 40`, 2*time.Minute)
	click(t, ctx, "#pause")
	time.Sleep(300 * time.Millisecond) // the step in flight ends
	held := text(t, ctx, "#status")
	time.Sleep(time.Second)
	require.Equal(t, held, text(t, ctx, "#status"), "a paused run does not train")
	downloads := t.TempDir()
	_, err = chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: "allow", DownloadPath: downloads})
		return err
	}))
	require.NoError(t, err)
	click(t, ctx, "#save-pretune")
	var saved string
	require.Eventually(t, func() bool {
		m, _ := filepath.Glob(filepath.Join(downloads, "*.pretune"))
		if len(m) == 1 {
			saved = m[0]
		}
		return saved != ""
	}, 30*time.Second, 100*time.Millisecond, "the saved model did not arrive")
	time.Sleep(200 * time.Millisecond) // the download finishes writing
	f, err := os.Open(saved)
	require.NoError(t, err)
	ck, err := checkpoint.Load(f, ops.NewCPU())
	f.Close()
	require.NoError(t, err)
	require.Equal(t, 32, ck.Model.Cfg.Dim)
	require.True(t, ck.HasOptimizer)
	click(t, ctx, "#resume")
	waitFor(t, ctx, `document.querySelector('#status').dataset.status === 'running'`, 10*time.Second)
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #resume-offer')`, 60*time.Second)
	require.Contains(t, text(t, ctx, "#resume-offer"), "of 200")
	screenshot(t, ctx, "resume-offer.png")
	click(t, ctx, "#resume-run")
	runToEnd(t, ctx)
	require.Contains(t, text(t, ctx, "#status"), "resumed at step")
	require.Equal(t, uninterrupted(t, "en-tiny", 200), text(t, ctx, "#fingerprint"))
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 60*time.Second)
	time.Sleep(500 * time.Millisecond) // the offer would come from IndexedDB by now
	require.Empty(t, text(t, ctx, "#resume-offer"), "a finished run is not offered again")

	// Masked LM: the same tiny model with the other objective shows filled blanks instead of
	// samples, and the fill-in-the-blank probe that causal runs report too.
	click(t, ctx, "#preset-en-tiny")
	choose(t, ctx, "#objective", "masked")
	waitFor(t, ctx, `!!document.querySelector('#objective-masked') && !!document.querySelector('#f-mask_rate')`, 10*time.Second)
	startNew(t, ctx, "#start")
	runToEnd(t, ctx)
	require.Contains(t, text(t, ctx, "#samples"), "_", "the probe's blanks")
	require.NotEmpty(t, text(t, ctx, "#fill-probe"))
	choose(t, ctx, "#objective", "")
	waitFor(t, ctx, `!document.querySelector('#objective-masked')`, 10*time.Second)

	// The bench view measures this browser on the CPU.
	click(t, ctx, "#nav-bench")
	waitFor(t, ctx, `!!document.querySelector('#bench-start')`, 10*time.Second)
	choose(t, ctx, "#bench-device-pick", "cpu")
	click(t, ctx, "#bench-start")
	waitFor(t, ctx, `document.querySelector('#bench-status').dataset.done === 'true' || !!document.querySelector('#bench-error')`, 2*time.Minute)
	require.Empty(t, text(t, ctx, "#bench-error"))
	rows := eval[int](t, ctx, `document.querySelectorAll('#bench-table tbody tr').length`)
	require.Greater(t, rows, 2)
	require.Contains(t, text(t, ctx, "#bench-table"), "GFLOP/s")
	screenshot(t, ctx, "bench.png")
	click(t, ctx, "#nav-presets")
	waitFor(t, ctx, `!!document.querySelector('#presets')`, 10*time.Second)
	screenshot(t, ctx, "presets.png")

	// Chinese: no English left in the views, and the choice survives a reload.
	click(t, ctx, "#nav-pretrain")
	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('#start').textContent === '开始'`, 10*time.Second)
	requireNoEnglish(t, ctx, "pretrain")
	click(t, ctx, "#nav-bench")
	waitFor(t, ctx, `!!document.querySelector('#bench-start')`, 10*time.Second)
	requireNoEnglish(t, ctx, "bench")
	click(t, ctx, "#nav-presets")
	waitFor(t, ctx, `!!document.querySelector('#presets')`, 10*time.Second)
	requireNoEnglish(t, ctx, "presets")
	click(t, ctx, "#nav-pretrain")

	// Offline: once the service worker controls the page, cut the network and reload; the
	// page and a training run still work.
	// go-app's service worker does not claim the page that installed it: reload once online.
	eval[bool](t, ctx, `(navigator.serviceWorker.ready.then(() => { window.__swReady = true; }), true)`)
	waitFor(t, ctx, `window.__swReady === true`, 60*time.Second)
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `!!navigator.serviceWorker.controller && !!document.querySelector('.app[data-live="true"] #start')`, 60*time.Second)
	_, err = chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: ptrTo(true),
			MatchedNetworkConditions:    []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}},
		})
		return err
	}))
	require.NoError(t, err)
	srv.Close() // and really cut it
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 60*time.Second)
	require.Equal(t, "开始", text(t, ctx, "#start"), "the language was remembered")
	waitFor(t, ctx, `document.querySelector('.brand img').complete && document.querySelector('.brand img').naturalWidth > 0`, 10*time.Second)
	click(t, ctx, "#preset-en-tiny")
	click(t, ctx, "#start")
	runToEnd(t, ctx)
	require.Equal(t, fp, text(t, ctx, "#fingerprint"), "offline, the same run gives the same fingerprint")
	// The kept bases the compare view loads come from the offline cache too, byte for byte.
	kept, err := os.ReadFile(filepath.Join("web", "base", "en-base.ckpt"))
	require.NoError(t, err)
	eval[bool](t, ctx, `(fetch('/web/base/en-base.ckpt').then(r => r.arrayBuffer()).then(b => { window.__baseBytes = b.byteLength; }, e => { window.__baseBytes = -1; }), true)`)
	waitFor(t, ctx, `window.__baseBytes !== undefined`, 30*time.Second)
	require.Equal(t, len(kept), eval[int](t, ctx, `window.__baseBytes`), "en-base.ckpt offline")
	requireNoEnglish(t, ctx, "pretrain, after a run")
	screenshot(t, ctx, "pretrain-zh.png")

	n, off := reqs.offOrigin(origin)
	require.Greater(t, n, 5, "the listener saw the page's requests")
	require.Empty(t, off, "requests that left the origin")
}

var routeOnce sync.Once

// uninterrupted is the fingerprint of a preset with steps changed, run natively on the CPU
// (bit-exact with the CPU device in the browser).
func uninterrupted(t *testing.T, preset string, steps int) string {
	t.Helper()
	p, err := runspec.PresetByName(preset)
	require.NoError(t, err)
	spec := p.Spec
	spec.Config.Steps = steps
	spec.Config.Warmup = min(spec.Config.Warmup, steps)
	res, err := job.Run(context.Background(), spec, ops.NewCPU(), job.Options{})
	require.NoError(t, err)
	return res.Final.Fingerprint
}

func ptrTo[T any](v T) *T { return &v }

// requireNoEnglish checks the main view's words are all Chinese: it drops the data the page
// shows (codes, numbers, device names, the learner's text: class "data"), the product name and
// the language switch's own "English", and finds no Latin word left.
func requireNoEnglish(t *testing.T, ctx context.Context, view string) {
	t.Helper()
	words := eval[string](t, ctx, `(() => {
		const root = document.querySelector('.app').cloneNode(true);
		root.querySelectorAll('.data, option[value="en"], .brand .name, script, style, [hidden]').forEach(e => e.remove());
		const parts = []; // text node by text node: adjacent elements' words stay apart
		for (const w = document.createTreeWalker(root, NodeFilter.SHOW_TEXT); w.nextNode();) parts.push(w.currentNode.textContent);
		root.querySelectorAll('[title],[aria-label],[placeholder]').forEach(e => {
			for (const a of ['title', 'aria-label', 'placeholder']) if (e.getAttribute(a)) parts.push(e.getAttribute(a));
		});
		return parts.join(' ');
	})()`)
	// UTF, and the acronyms Chinese texts on machine learning write in Latin letters as they
	// are (KL 散度, the method names PPO, DPO, GRPO), as the feedback view's chart legends do.
	allowed := map[string]bool{"UTF": true, "KL": true, "PPO": true, "DPO": true, "GRPO": true}
	var english []string
	for _, w := range regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(words, -1) {
		if !allowed[w] {
			english = append(english, w)
		}
	}
	require.Empty(t, english, "English words left in the Chinese %s view", view)
	require.Regexp(t, `\p{Han}`, words)
}

// modelFiles writes a good checkpoint of a tiny model, a copy with one byte flipped, a copy cut
// short and a safetensors export, and returns their paths.
func modelFiles(t *testing.T) (good, damaged, truncated, safetensors string) {
	t.Helper()
	cfg := core.DefaultConfig()
	cfg.Context, cfg.Layers, cfg.Heads, cfg.Dim = 16, 2, 2, 16
	tk, err := core.NewTokenizer("abcdefghijklmnopqrstuvwxyz .,ABCDEFGHIJ")
	require.NoError(t, err)
	cfg.Vocab = tk.VocabSize()
	m, err := core.NewModel(ops.NewCPU(), cfg)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, checkpoint.Save(&buf, m, tk, nil))
	dir := t.TempDir()
	good = filepath.Join(dir, "good.pretune")
	damaged = filepath.Join(dir, "damaged.pretune")
	truncated = filepath.Join(dir, "truncated.pretune")
	data := buf.Bytes()
	require.NoError(t, os.WriteFile(good, data, 0o644))
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 0x40
	require.NoError(t, os.WriteFile(damaged, bad, 0o644))
	require.NoError(t, os.WriteFile(truncated, data[:len(data)*2/3], 0o644))
	var st bytes.Buffer
	require.NoError(t, checkpoint.ExportSafetensors(&st, m, tk))
	safetensors = filepath.Join(dir, "model.safetensors")
	require.NoError(t, os.WriteFile(safetensors, st.Bytes(), 0o644))
	return good, damaged, truncated, safetensors
}
