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
