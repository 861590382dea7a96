//go:build !js

package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/testenv"
)

// layoutCheck measures the page as shown: every visible input, select and button whose text
// does not fit its box, every reset button wrapped under its field (a select's scrollWidth does not grow with its option, so its chosen
// text is measured with the select's own font, padding and arrow), the header's height, and
// the smallest chart text in CSS pixels (its font size times the SVG's scale).
const layoutCheck = `(() => {
	const shown = el => el.getClientRects().length > 0 && !el.closest('[hidden]');
	const canvas = document.createElement('canvas').getContext('2d');
	const clipped = [];
	for (const el of document.querySelectorAll('input, select, button')) {
		if (!shown(el) || el.type === 'checkbox' || el.type === 'radio' || el.type === 'file') continue;
		let need = el.scrollWidth;
		if (el.tagName === 'SELECT' && el.selectedOptions.length) {
			const cs = getComputedStyle(el);
			canvas.font = cs.font;
			need = Math.ceil(canvas.measureText(el.selectedOptions[0].text).width + parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) + 20);
		}
		if (need > el.clientWidth + 1) clipped.push((el.id || el.tagName) + ' "' + (el.tagName === 'SELECT' ? el.selectedOptions[0]?.text : (el.value || el.textContent)).slice(0, 50) + '" needs ' + need + ' has ' + el.clientWidth);
	}
	// A reset button sits beside its field, not on a line of its own under it.
	for (const btn of document.querySelectorAll('button.reset')) {
		const box = btn.closest('.field');
		const input = box && box.querySelector('input, select');
		if (!shown(btn) || !input) continue;
		if (btn.getBoundingClientRect().top >= input.getBoundingClientRect().bottom) clipped.push(btn.id + ' wraps under its field');
	}
	let minFont = 1e9, where = '';
	for (const svg of document.querySelectorAll('svg.chart')) {
		if (!shown(svg) || !svg.viewBox.baseVal || !svg.viewBox.baseVal.width) continue;
		const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
		for (const tx of svg.querySelectorAll('text')) {
			if (!tx.textContent.trim()) continue;
			const px = parseFloat(getComputedStyle(tx).fontSize) * scale;
			if (px < minFont) { minFont = px; where = (svg.id || 'chart') + ': ' + tx.textContent.slice(0, 30); }
		}
	}
	return {clipped, header: document.querySelector('header.top').getBoundingClientRect().height, minFont, where};
})()`

type layoutReport struct {
	Clipped []string `json:"clipped"`
	Header  float64  `json:"header"`
	MinFont float64  `json:"minFont"`
	Where   string   `json:"where"`
}

// TestLayout shows every tab at 1024x768, 1366x768 and 1920x1080 in English and Chinese (with
// the CJK font .ci/run installs): no control's text is cut, the header keeps one height on every
// tab, switching tabs shifts nothing (a layout-shift score of 0), and chart text is at least
// 12 px on screen. It saves the README's layout screenshots: the compare view at 1024x768 in
// English and at 1920x1080 in Chinese.
func TestLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	// Without a Chinese font the Chinese pages draw boxes of one width, and measure nothing real.
	if out, _ := exec.Command("fc-list", ":lang=zh").Output(); len(bytes.TrimSpace(out)) == 0 {
		testenv.Missing(t, testenv.Browser, "no Chinese font for the layout test (apt-get install fonts-wqy-microhei; .ci/run does)")
	}
	registerRoutes()
	u := serveApp(t)
	ctx := newBrowser(t, 4*time.Minute)
	openApp(t, ctx, u)
	// Layout shifts the page makes by itself (a tab switch by script is no user input).
	require.True(t, eval[bool](t, ctx, `(() => { window.__shift = 0; window.__shifts = [];
		new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) {
			window.__shift += e.value; window.__shifts.push(e.sources.map(s => s.node && (s.node.id || s.node.className || s.node.nodeName)).join(',')); } })
			.observe({type: 'layout-shift'}); return true; })()`))
	sizes := [][2]int64{{1024, 768}, {1366, 768}, {1920, 1080}}
	for _, lang := range []string{"en", "zh"} {
		choose(t, ctx, "#lang", lang)
		waitFor(t, ctx, fmt.Sprintf(`document.querySelector('.app').lang === %q`, lang), 10*time.Second)
		for _, size := range sizes {
			do(t, ctx, chromedp.EmulateViewport(size[0], size[1]))
			name := fmt.Sprintf("%s %dx%d", lang, size[0], size[1])
			headers := map[string]float64{}
			for _, v := range []string{"path", "pretrain", "compare", "feedback", "bench", "presets", "teacher"} {
				eval[bool](t, ctx, `(() => { window.__shift = 0; window.__shifts = []; return true; })()`)
				click(t, ctx, "#nav-"+v)
				waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#nav-%s').getAttribute('aria-pressed') === 'true'`, v), 10*time.Second)
				time.Sleep(300 * time.Millisecond) // let the shifts of this switch be reported
				r := eval[layoutReport](t, ctx, layoutCheck)
				headers[v] = r.Header
				for _, c := range r.Clipped {
					t.Errorf("%s, %s tab: clipped %s", name, v, c)
				}
				if r.MinFont < 12-0.01 {
					t.Errorf("%s, %s tab: chart text %.1f px (%s)", name, v, r.MinFont, r.Where)
				}
				if s := eval[float64](t, ctx, `window.__shift`); s > 0 {
					t.Errorf("%s, switching to the %s tab shifted the layout by %.4f (%v)", name, v, s, eval[[]string](t, ctx, `window.__shifts`))
				}
			}
			for v, h := range headers {
				if h != headers["pretrain"] {
					t.Errorf("%s: the header is %.0f px high on the %s tab, %.0f px on the pretraining tab", name, h, v, headers["pretrain"])
				}
			}
			if (lang == "en" && size[0] == 1024) || (lang == "zh" && size[0] == 1920) { // the README's pair
				click(t, ctx, "#nav-compare")
				screenshot(t, ctx, fmt.Sprintf("layout-%d.png", size[0]))
			}
		}
	}
}
