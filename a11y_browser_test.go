//go:build !js

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"pretune/core/testenv"
)

// axePath is axe-core's browser build, pinned in .npm/package-lock.json (make npm-deps).
const axePath = ".npm/node_modules/axe-core/axe.min.js"

// axeViolation is one rule axe-core found broken, with the elements that break it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun runs axe-core on the page as shown (hidden views are not checked: axe skips hidden
// elements) against WCAG 2.0 and 2.1, levels A and AA, and returns the serious and critical
// violations, each with its elements (a CSS selector and the failure summary).
const axeRun = `(async () => {
	const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
	return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
		id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.slice(0, 8).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 300)),
	}));
})()`

// injectAxe puts axe-core into the page from disk: the test serves nothing new and nothing is
// fetched, so the page's no-request-leaves-the-origin check still holds.
func injectAxe(t *testing.T, ctx context.Context) {
	t.Helper()
	src, err := os.ReadFile(axePath)
	if err != nil {
		testenv.Missing(t, testenv.Browser, "axe-core is not installed: run make npm-deps ("+err.Error()+")")
	}
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](string(src)+"\n;typeof axe === 'object'"))
	require.NoError(t, err)
}

// checkAxe fails the test with every serious or critical violation on the page as shown.
func checkAxe(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	for _, v := range vs {
		t.Errorf("%s: %s (%s): %s\n\t%s", where, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n\t"))
	}
}

// navViews lists the views the header's nav offers, read from the page, so a view added later is
// checked without changing this test.
func navViews(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `[...document.querySelectorAll('header.top nav button[id^="nav-"]')].map(b => b.id.slice(4))`)
}

// showView clicks a view's nav button and waits until it shows.
func showView(t *testing.T, ctx context.Context, v string) {
	t.Helper()
	click(t, ctx, "#nav-"+v)
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#nav-%s').getAttribute('aria-pressed') === 'true'`, v), 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the view's own first redraw
}

// noSideScroll reports whether the page as shown scrolls sideways, and what sticks out most.
const noSideScroll = `(() => {
	const d = document.documentElement;
	if (d.scrollWidth <= d.clientWidth) return '';
	let worst = null;
	for (const el of document.querySelectorAll('body *')) {
		const r = el.getBoundingClientRect();
		if (r.width && r.right > d.clientWidth + 1 && (!worst || r.right > worst.r)) worst = {r: r.right, el};
	}
	const el = worst && worst.el;
	return 'the page is ' + d.scrollWidth + ' px wide in a ' + d.clientWidth + ' px window' +
		(el ? '; widest: ' + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined ? '.' + String(el.className).split(' ').join('.') : '') + ' to ' + Math.round(worst.r) + ' px' : '');
})()`

// keyboardCheck lists what a keyboard cannot reach on the page as shown: a visible element that
// looks clickable (a pointer cursor) with no control, link, summary, label or tabindex around
// it (a click-only div), and a visible control taken out of the tab order.
const keyboardCheck = `(() => {
	const shown = el => el.getClientRects().length > 0 && !el.closest('[hidden]');
	const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
	const out = [];
	for (const el of document.querySelectorAll('.app *')) {
		if (!shown(el) || getComputedStyle(el).cursor !== 'pointer' || el.closest('svg')) continue;
		if (!el.closest('button, a[href], summary, label, input, select, textarea, [tabindex]')) out.push('click-only: ' + name(el));
	}
	for (const el of document.querySelectorAll('button, a[href], summary, input, select, textarea')) {
		if (shown(el) && !el.disabled && el.tabIndex < 0) out.push('out of the tab order: ' + name(el));
	}
	return out;
})()`

// borderCheck lists the visible fields and buttons whose border stands less than 3:1 against
// what is behind them (WCAG 2.1, 1.4.11 Non-text contrast, which axe-core does not check): their
// border is what tells them from the page. A button filled with a colour of its own is told by
// its fill instead.
const borderCheck = `(() => {
	const rgb = s => (s.match(/[\d.]+/g) || []).map(Number);
	const lum = c => { const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
	const ratio = (a, b) => { const x = lum(a) + 0.05, y = lum(b) + 0.05; return Math.max(x, y) / Math.min(x, y); };
	const behind = el => { for (let p = el.parentElement; p; p = p.parentElement) { const c = rgb(getComputedStyle(p).backgroundColor); if (c.length === 3 || c[3] > 0) return c; } return [255, 255, 255]; };
	const out = [];
	for (const el of document.querySelectorAll('input[type=text], input[type=number], select, textarea, button')) {
		if (!el.getClientRects().length || el.closest('[hidden]') || el.disabled) continue;
		const cs = getComputedStyle(el), back = behind(el), fill = rgb(cs.backgroundColor);
		if (fill.length === 3 || fill[3] > 0) { if (ratio(fill.slice(0, 3), back) >= 3) continue; }
		if (cs.borderTopStyle === 'none' || parseFloat(cs.borderTopWidth) === 0 || rgb(cs.borderTopColor)[3] === 0) continue; // a text-like button (a tab, a link)
		const r = ratio(rgb(cs.borderTopColor).slice(0, 3), back);
		if (r < 3) out.push((el.id || el.tagName.toLowerCase()) + ' border ' + r.toFixed(2) + ':1');
	}
	return out;
})()`

// focusShows reports how the focused element shows its focus: its outline's style and width,
// and whether it is inside the window.
const focusShows = `(() => {
	const el = document.activeElement, cs = getComputedStyle(el), r = el.getBoundingClientRect();
	return {id: el.id, outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth), inside: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth};
})()`

type focusReport struct {
	ID      string  `json:"id"`
	Outline string  `json:"outline"`
	Width   float64 `json:"width"`
	Inside  bool    `json:"inside"`
}

// becomes polls a JS condition until it holds (true) or the time is up (false), for a check
// that should fail the test without ending it.
func becomes(ctx context.Context, expr string, timeout time.Duration) bool {
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	return err == nil
}

// TestAccessibility runs axe-core (WCAG 2.0 and 2.1, A and AA) on every view the nav offers, in
// English and in Chinese, first as opened and again with results on screen (a short
// pretraining run's chart, samples and inspection, a two-step comparison of two methods on the
// model just pretrained, the feedback view's pairs and picks, every chart's data table open), and fails on
// each serious or critical violation. On every view a keyboard reaches every control (nothing
// click-only), the skip button comes first, focus shows, and space on a button presses it even
// in the feedback view. At 1024x768 and on a 768-pixel-wide tablet no view scrolls sideways (axe
// again there, and a screenshot of the compare view at each size). No request leaves the origin.
func TestAccessibility(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	registerRoutes()
	origin := serveApp(t)
	start := time.Now()
	ctx := newBrowser(t, 6*time.Minute) // a minute and a half on an idle 2-core machine
	var reqs requestLog
	reqs.listen(t, ctx)
	openApp(t, ctx, origin+"/")
	injectAxe(t, ctx)

	views := navViews(t, ctx)
	require.Contains(t, views, "pretrain")
	t.Logf("views: %v", views)
	// Pinch zoom is allowed (go-app's viewport tag forbids it; zoomScript lifts that).
	vp := eval[string](t, ctx, `[...document.querySelectorAll('meta[name="viewport"]')].map(m => m.content).join(' | ')`)
	require.NotContains(t, vp, "user-scalable=0")
	require.NotContains(t, vp, "maximum-scale=1")

	// The keyboard's first stop is the skip button, shown with a visible focus; it moves the
	// focus to the view.
	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	f := eval[focusReport](t, ctx, focusShows)
	require.Equal(t, "skip", f.ID, "the first Tab")
	require.True(t, f.Outline != "none" && f.Width >= 2 && f.Inside, "the focused skip button shows: %+v", f)
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, `document.activeElement.id === 'content'`, 5*time.Second)
	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	f = eval[focusReport](t, ctx, focusShows)
	require.True(t, f.Outline != "none" && f.Width >= 2, "the next control's focus shows: %+v", f)

	sweep := func(state string) {
		for _, lang := range []string{"en", "zh"} {
			choose(t, ctx, "#lang", lang)
			waitFor(t, ctx, fmt.Sprintf(`document.querySelector('.app').lang === %q`, lang), 10*time.Second)
			for _, v := range views {
				showView(t, ctx, v)
				where := fmt.Sprintf("%s, %s, %s view", state, lang, v)
				checkAxe(t, ctx, where)
				for _, bad := range eval[[]string](t, ctx, keyboardCheck) {
					t.Errorf("%s: %s", where, bad)
				}
				if bad := eval[[]string](t, ctx, borderCheck); len(bad) > 0 {
					t.Errorf("%s: under 3:1 against the page: %s", where, strings.Join(bad[:min(len(bad), 8)], ", "))
				}
				if lang == "zh" { // the charts' descriptions and tables, the skip button, the boxes' names
					requireNoEnglish(t, ctx, where)
				}
			}
		}
		choose(t, ctx, "#lang", "en")
		waitFor(t, ctx, `document.querySelector('.app').lang === 'en'`, 10*time.Second)
	}
	sweep("opened")
	t.Logf("%.0f s: every view checked as opened", time.Since(start).Seconds())

	// Results on screen, each kept short: the tiny preset for 20 steps (one evaluation)...
	showView(t, ctx, "pretrain")
	click(t, ctx, "#preset-en-tiny")
	typeInto(t, ctx, "#f-steps", "20")
	startNew(t, ctx, "#start")
	runToEnd(t, ctx)
	click(t, ctx, "#inspect-go") // the next-token bars and the attention map
	waitFor(t, ctx, `!!document.querySelector('#attention-map') || !!document.querySelector('#inspect-error')`, time.Minute)
	// ...full fine-tuning and LoRA on that model for 2 steps (two lanes, two colours; the kept
	// base's small model once took most of this part)...
	showView(t, ctx, "compare")
	waitFor(t, ctx, `!document.querySelector('#cmp-base option[value="pretrained"]').disabled`, 10*time.Second)
	choose(t, ctx, "#cmp-base", "pretrained")
	waitFor(t, ctx, `document.querySelector('#cmp-task').value === 'en-facts'`, 5*time.Second)
	for _, kind := range []string{"adapter", "prefix"} {
		if eval[bool](t, ctx, `!!(document.querySelector('#m-`+kind+`') || {}).checked`) {
			click(t, ctx, "#m-"+kind)
		}
	}
	typeInto(t, ctx, "#cmp-steps", "2")
	runComparison(t, ctx)
	waitFor(t, ctx, `['done','failed','stopped'].includes((document.querySelector('#cmp-status') || {dataset: {}}).dataset.phase)`, 3*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#cmp-status').dataset.phase`), "%s", text(t, ctx, "#cmp-run-error"))
	// ...and the feedback view's kept SFT model (nothing trains) with two picks made.
	showView(t, ctx, "feedback")
	click(t, ctx, "#fb-open")
	waitFor(t, ctx, `!!document.querySelector('#fb-offer')`, time.Minute)
	pickByKey(t, ctx, "1")
	pickByKey(t, ctx, "2")
	// Space on a focused button presses it, even where the feedback view takes space as a skip.
	picks := eval[string](t, ctx, `document.querySelector('#fb-counter').dataset.picks`)
	eval[bool](t, ctx, `(() => { document.querySelector('#nav-bench').focus(); return true; })()`)
	do(t, ctx, chromedp.KeyEvent(" "))
	if !becomes(ctx, `document.querySelector('#nav-bench').getAttribute('aria-pressed') === 'true'`, 5*time.Second) {
		t.Errorf("space on the focused bench tab did not press it")
	}
	if got := eval[string](t, ctx, `document.querySelector('#fb-counter').dataset.picks`); got != picks {
		t.Errorf("space on a button counted as a pick: %s picks, were %s", got, picks)
	}
	// The view's keys keep no focus: Tab goes on from a pick button, and back.
	showView(t, ctx, "feedback")
	eval[bool](t, ctx, `(() => { document.querySelector('#fb-pick-a').focus(); return true; })()`)
	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	if id := eval[string](t, ctx, `document.activeElement.id`); id != "fb-pick-b" {
		t.Errorf("Tab from the first answer went to %q, not the second", id)
	}
	do(t, ctx, chromedp.KeyEvent(kb.Tab))
	if id := eval[string](t, ctx, `document.activeElement.id`); id == "fb-pick-a" || id == "fb-pick-b" || id == "" {
		t.Errorf("Tab from the second answer stayed (%q)", id)
	}
	// Every chart's data table open, so its table is checked too, each with a row per evaluation.
	for _, v := range []string{"pretrain", "compare"} {
		showView(t, ctx, v)
		eval[bool](t, ctx, `(() => { document.querySelectorAll('details.chart-data:not([open]) summary').forEach(s => { if (s.getClientRects().length) s.click(); }); return true; })()`)
	}
	if !becomes(ctx, `document.querySelectorAll('#loss-chart-table tbody tr').length === 1 && document.querySelectorAll('#compare-chart-table tbody tr').length >= 1 &&
		document.querySelectorAll('#attention-map-table tbody tr').length === document.querySelectorAll('#attention-map-table thead th').length - 1`, 5*time.Second) {
		t.Errorf("the charts' data tables did not open with their rows")
	}
	t.Logf("%.0f s: results on screen", time.Since(start).Seconds())
	sweep("with results")
	t.Logf("%.0f s: every view checked with results", time.Since(start).Seconds())

	// Small screens: nothing scrolls sideways.
	for _, size := range [][2]int64{{1024, 768}, {768, 1024}} {
		do(t, ctx, chromedp.EmulateViewport(size[0], size[1]))
		for _, v := range views {
			showView(t, ctx, v)
			if why := eval[string](t, ctx, noSideScroll); why != "" {
				t.Errorf("%dx%d, %s view: %s", size[0], size[1], v, why)
			}
			checkAxe(t, ctx, fmt.Sprintf("%dx%d, %s view", size[0], size[1], v)) // scrolling boxes, reflowed text
		}
		showView(t, ctx, "compare")
		eval[bool](t, ctx, `(() => { document.activeElement.blur(); return true; })()`) // no focus ring in the picture
		screenshot(t, ctx, fmt.Sprintf("a11y-%dx%d.png", size[0], size[1]))
	}

	t.Logf("%.0f s: small screens checked", time.Since(start).Seconds())
	all, off := reqs.offOrigin(origin)
	require.NotZero(t, all)
	require.Empty(t, off, "requests that left the origin")
}

// TestAccessibilityClass runs axe-core and the keyboard check on class mode: the teacher's page
// with a class open, and a student's page (opened from the class link in a browser of its own,
// an offer on screen) in English and in Chinese. No request leaves the origin.
func TestAccessibilityClass(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	buildWeb(t)
	registerRoutes()
	server := startClassServer(t, t.TempDir(), "127.0.0.1:0")
	origin := "http://" + server.addr
	teacher := newBrowser(t, 4*time.Minute)
	var reqs requestLog
	reqs.listen(t, teacher)
	openApp(t, teacher, origin+"/")
	showView(t, teacher, "feedback")
	waitFor(t, teacher, `!!document.querySelector('#class-panel #class-open')`, 20*time.Second)
	require.True(t, eval[bool](t, teacher, `(() => { const el = document.querySelector('#class-name');
		el.value = '7b biology'; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`))
	click(t, teacher, "#class-open")
	waitFor(t, teacher, `!!document.querySelector('#class-code') && document.querySelector('#class-code').textContent.length === 6`, 20*time.Second)
	link := text(t, teacher, "#class-link")
	injectAxe(t, teacher)
	checkAxe(t, teacher, "the teacher's class panel")

	student, cancel := chromedp.NewContext(teacher, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	reqs.listen(t, student)
	openApp(t, student, link)
	waitFor(t, student, `!!document.querySelector('#class-student') && !!document.querySelector('#fb-offer')`, 2*time.Minute)
	injectAxe(t, student)
	for _, lang := range []string{"en", "zh"} {
		choose(t, student, "#lang", lang)
		waitFor(t, student, fmt.Sprintf(`document.querySelector('.app').lang === %q`, lang), 10*time.Second)
		where := "a student's page, " + lang
		checkAxe(t, student, where)
		for _, bad := range eval[[]string](t, student, keyboardCheck) {
			t.Errorf("%s: %s", where, bad)
		}
		if lang == "zh" {
			requireNoEnglish(t, student, where)
		}
	}
	_, off := reqs.offOrigin(origin)
	require.Empty(t, off, "requests that left the origin")
}
