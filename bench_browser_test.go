//go:build !js

package main

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// TestBrowserBench asks the trainer worker in headless Chromium for the bench page's figures on
// the CPU device (Go compiled to wasm, one thread) and logs them: the README's wasm column comes
// from here. With PRETUNE_BENCH_WEBGPU=1 it also measures the browser's WebGPU adapter
// (SwiftShader here: slow, so not by default).
//
//	go test -run TestBrowserBench -v .
func TestBrowserBench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	url := serveApp(t)
	ctx := newBrowser(t, 4*time.Minute)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url+"/web/pretune.css")))
	devices := []string{"cpu"}
	if os.Getenv("PRETUNE_BENCH_WEBGPU") != "" {
		devices = append(devices, "webgpu")
	}
	for _, dev := range devices {
		msgs := askWorker(t, ctx, `{"id":1,"kind":"bench","device":"`+dev+`"}`)
		figures := map[string]float64{}
		for _, m := range msgs {
			require.NotEqual(t, "error", m.Kind, m.Error)
			if m.Kind == "metric" {
				require.Greater(t, m.Value, 0.0, m.Name)
				figures[m.Name+" "+m.Unit] = m.Value
				t.Logf("%s in the browser: %s %.2f %s", dev, m.Name, m.Value, m.Unit)
			}
		}
		require.Contains(t, figures, "train step small tokens/s")
		require.Contains(t, figures, "matmul NN 256 GFLOP/s")
	}
}

// TestBrowserFeedbackBench times the whole feedback stage as a class runs it in the browser, on
// the CPU device (Go as wasm, one worker a method): open the kept SFT model, let the built-in
// taste make its picks, train the reward model and run PPO, DPO and GRPO side by side, all with
// the view's default settings. It logs each phase's wall time and the results; the README's
// figure comes from here. It takes minutes, so it runs only when asked:
//
//	PRETUNE_BENCH_FEEDBACK=1 go test -run TestBrowserFeedbackBench -v .
func TestBrowserFeedbackBench(t *testing.T) {
	if os.Getenv("PRETUNE_BENCH_FEEDBACK") == "" {
		t.Skip("set PRETUNE_BENCH_FEEDBACK=1 to time the whole feedback stage in Chromium (about 5 minutes)")
	}
	registerRoutes()
	origin := serveApp(t)
	ctx := newBrowser(t, 15*time.Minute)
	openApp(t, ctx, origin+"/")
	click(t, ctx, "#nav-feedback")
	choose(t, ctx, "#fb-device", "cpu")
	start := time.Now()
	phase := func(name string, since time.Time) time.Time {
		t.Logf("%-32s %6.1f s", name, time.Since(since).Seconds())
		return time.Now()
	}
	click(t, ctx, "#fb-open")
	waitFor(t, ctx, `!!document.querySelector('#fb-offer')`, 3*time.Minute)
	at := phase("open the kept SFT model", start)
	click(t, ctx, "#fb-taste")
	waitFor(t, ctx, `!document.querySelector('#fb-rm-train').disabled`, 5*time.Minute)
	at = phase(text(t, ctx, "#fb-counter")[:8]+"… by the taste", at)
	click(t, ctx, "#fb-rm-train")
	waitFor(t, ctx, `['done','failed','stopped'].includes((document.querySelector('#fb-rm-status') || {dataset: {}}).dataset.status)`, 10*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#fb-rm-status').dataset.status`), "%s", text(t, ctx, "#fb-reward"))
	at = phase("train the reward model", at)
	click(t, ctx, "#fb-tune-run")
	waitFor(t, ctx, `document.querySelectorAll('#fbt-lanes li').length === 3 &&
		[...document.querySelectorAll('#fbt-lanes li')].every(li => ['done','failed','stopped'].includes(li.dataset.status))`, 15*time.Minute)
	phase("PPO, DPO and GRPO side by side", at)
	phase("the whole stage", start)
	t.Logf("reward model: held-out accuracy %s, against the taste %s", text(t, ctx, "#fb-rm-accuracy"), text(t, ctx, "#fb-rm-gold"))
	for _, r := range feedbackTable(t, ctx) {
		t.Logf("%-5s %v", r.method, r.cells)
	}
	require.Equal(t, []string{"done", "done", "done"}, eval[[]string](t, ctx, `[...document.querySelectorAll('#fbt-lanes li')].map(li => li.dataset.status)`))
}
