//go:build !js

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/runspec"
)

// slowWasm sends app.wasm in 64 KiB pieces 30 ms apart, as a slow school network would, so the
// loader's progress is seen between 0 and 100%.
type slowWasm struct{ next http.Handler }

func (s slowWasm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/app.wasm") {
		w = slowWriter{w}
	}
	s.next.ServeHTTP(w, r)
}

type slowWriter struct{ http.ResponseWriter }

func (s slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 64<<10)
		m, err := s.ResponseWriter.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		s.ResponseWriter.(http.Flusher).Flush()
		time.Sleep(30 * time.Millisecond)
		p = p[k:]
	}
	return n, nil
}

// loaderRecorder keeps every text the loader shows, sampled at each frame from the first paint
// (what a class sees), in window.__loaderTexts.
const loaderRecorder = `window.__loaderTexts = [];
(function frame() {
  const el = document.getElementById("app-wasm-loader-label");
  if (el) {
    const t = el.textContent.trim(), a = window.__loaderTexts;
    if (a[a.length - 1] !== t) a.push(t);
  }
  if (!document.querySelector('.app[data-live="true"]')) requestAnimationFrame(frame);
})();`

// TestPresetsTab: the loader shows real progress and then that the app compiles, never "NaN";
// the built-in runs tab opens a preset's card into its view without starting it, Run starts it
// there, a finished run's speed becomes the cards' estimate "on this device", and a pasted
// built-in code says which preset it is.
func TestPresetsTab(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	buildWeb(t)
	registerRoutes()
	srv := httptest.NewServer(slowWasm{newHandler()})
	defer srv.Close()
	ctx := newBrowser(t, 3*time.Minute)
	_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: loaderRecorder})
		return err
	}))
	require.NoError(t, err)
	openApp(t, ctx, srv.URL+"/")

	texts := eval[[]string](t, ctx, `window.__loaderTexts`)
	t.Logf("the loader said: %q", texts)
	pct := regexp.MustCompile(`^Downloading the app: (\d+)%$`)
	var between bool
	for _, s := range texts {
		require.NotContains(t, s, "NaN")
		require.True(t, strings.HasPrefix(s, "Downloading") || strings.Contains(s, "compiling"), "%q: words from the first paint", s)
		if m := pct.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			require.LessOrEqual(t, n, 100, s)
			between = between || (n > 0 && n < 100)
		}
	}
	require.True(t, between, "the download's progress between 0 and 100%%: %q", texts)
	// The size go-app's loader divides by is the count the browser makes: the decompressed bytes.
	sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(async () => {
		const r = await fetch("/web/app.wasm");
		const size = r.headers.get(goappWasmContentLengthHeader) || r.headers.get("Content-Length");
		return [parseInt(size, 10), (await r.arrayBuffer()).byteLength];
	})()`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Equal(t, sizes[1], sizes[0], "the loader's total against the bytes the browser counts")
	// Here the wasm compiles as it streams in, so the compile message may not last a frame:
	// what the loader says for each label go-app writes, in both languages.
	for raw, want := range map[string][2]string{
		"100%": {"compiling", "编译"}, "NaN%": {"Downloading the app…", "正在下载应用……"}, "42%": {"Downloading the app: 42%", "正在下载应用：42%"},
	} {
		for i, zh := range []bool{false, true} {
			got := eval[string](t, ctx, fmt.Sprintf(`window.pretuneLoaderText(%q, %v)`, raw, zh))
			require.Contains(t, got, want[i], raw)
			require.NotContains(t, got, "NaN")
		}
	}

	// Open: the pretraining view with en-small's setup, nothing started.
	click(t, ctx, "#nav-presets")
	waitFor(t, ctx, `!!document.querySelector('#preset-en-small .preset-open')`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#preset-en-small .preset-time"), "on a typical 2-core laptop", "no speed measured yet")
	click(t, ctx, "#preset-en-small .preset-open")
	waitFor(t, ctx, `document.querySelector('#nav-pretrain').getAttribute('aria-pressed') === 'true'`, 10*time.Second)
	waitFor(t, ctx, `document.querySelector('#f-steps') && document.querySelector('#f-steps').value === '1000'`, 10*time.Second)
	require.False(t, eval[bool](t, ctx, `(() => { const s = document.querySelector('#status'); return !!s && s.dataset.status === 'running'; })()`), "Open does not start")

	// Run: en-tiny starts in the pretraining view and finishes; its speed is kept.
	click(t, ctx, "#nav-presets")
	waitFor(t, ctx, `!!document.querySelector('#preset-en-tiny .preset-run')`, 10*time.Second)
	click(t, ctx, "#preset-en-tiny .preset-run")
	waitFor(t, ctx, `document.querySelector('#nav-pretrain').getAttribute('aria-pressed') === 'true' && !!document.querySelector('#status')`, 10*time.Second)
	runToEnd(t, ctx)
	click(t, ctx, "#nav-presets")
	waitFor(t, ctx, `!!document.querySelector('#preset-en-base .preset-time')`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#preset-en-base .preset-time"), "on this device", "the measured speed")
	// The same card's Run again runs again (the URL already holds its link).
	click(t, ctx, "#preset-en-tiny .preset-run")
	waitFor(t, ctx, `document.querySelector('#nav-pretrain').getAttribute('aria-pressed') === 'true'`, 10*time.Second)
	waitFor(t, ctx, `(() => { const s = document.querySelector('#status'); return !!s && s.dataset.status !== 'done'; })()`, 10*time.Second)
	runToEnd(t, ctx)

	// A feedback stage's card opens the feedback view (its picks come first).
	click(t, ctx, "#nav-presets")
	waitFor(t, ctx, `!!document.querySelector('#preset-en-feedback .preset-open')`, 10*time.Second)
	click(t, ctx, "#preset-en-feedback .preset-open")
	waitFor(t, ctx, `document.querySelector('#nav-feedback').getAttribute('aria-pressed') === 'true'`, 10*time.Second)
	click(t, ctx, "#nav-presets")

	// A pasted built-in code says which preset it is.
	waitFor(t, ctx, `!!document.querySelector('#link')`, 10*time.Second)
	pr, err := runspec.PresetByName("zh-lesson")
	require.NoError(t, err)
	code, err := runspec.Encode(pr.Spec)
	require.NoError(t, err)
	require.True(t, eval[bool](t, ctx, fmt.Sprintf(`(() => { const el = document.querySelector('#link'); if (!el) return false;
		el.value = %q; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`, srv.URL+"/#r="+code)))
	waitFor(t, ctx, `!!document.querySelector('#link-builtin')`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#link-builtin"), "Chinese lesson: fine-tuning compared")
	require.NotContains(t, text(t, ctx, "#link-spec"), "shared before its run ended")
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('#link-preset .preset-run')`))

	// In Chinese, the cards hold no English.
	require.True(t, eval[bool](t, ctx, `(() => { const el = document.querySelector('#link'); el.value = ''; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`))
	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('#nav-presets').textContent !== 'Built-in runs and links' && !!document.querySelector('#preset-en-tiny .preset-run')`, 10*time.Second)
	requireNoEnglish(t, ctx, "presets")
}
