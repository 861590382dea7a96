//go:build !js

// Browser end-to-end tests: native only (they start Chromium).

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/runspec"
	"pretune/core/testenv"
)

// The browser tests drive headless Chromium (Debian's chromium; .ci/run installs it) against the
// real handler served on 127.0.0.1, which is a secure context: WebGPU (SwiftShader, on the CPU)
// and service workers work there.

var buildOnce = struct {
	done bool
	err  error
}{}

// playgroundServer is the start of most browser tests: skipped with -short, the wasm built, the
// playground served on 127.0.0.1 until the test ends.
func playgroundServer(t *testing.T) *httptest.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	buildWeb(t)
	registerRoutes()
	srv := httptest.NewServer(newHandler())
	t.Cleanup(srv.Close)
	return srv
}

// buildWeb builds web/app.wasm, web/trainer.wasm and copies wasm_exec.js, as `make build` does.
func buildWeb(t *testing.T) {
	t.Helper()
	if !buildOnce.done {
		buildOnce.done = true
		goroot := runtime.GOROOT()
		steps := [][]string{
			{"go", "build", "-o", "web/app.wasm", "."},
			{"go", "build", "-o", "web/trainer.wasm", "./wasm"},
		}
		for _, s := range steps {
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildOnce.err = fmt.Errorf("%v: %v\n%s", s, err, out)
				break
			}
		}
		if buildOnce.err == nil {
			data, err := os.ReadFile(filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
			if err == nil {
				err = os.WriteFile(filepath.Join("web", "wasm_exec.js"), data, 0o644)
			}
			buildOnce.err = err
		}
	}
	require.NoError(t, buildOnce.err)
}

func chromiumPath(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testenv.Missing(t, testenv.Browser, "no Chromium found (apt-get install chromium; .ci/run does)")
	return ""
}

// newBrowser starts a fresh headless Chromium with WebGPU enabled and returns a tab context.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	return ctx
}

func serveApp(t *testing.T) string {
	buildWeb(t)
	srv := httptest.NewServer(newHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// workerMessage mirrors protocol.Message for the fields the tests read.
type workerMessage struct {
	ID     int     `json:"id"`
	Kind   string  `json:"kind"`
	Name   string  `json:"name"`
	Pass   bool    `json:"pass"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Error  string  `json:"error"`
	Device *struct {
		Name     string `json:"name"`
		Fallback string `json:"fallback"`
		Kernel   string `json:"kernel"`
	} `json:"device"`
	Event *struct {
		ValLoss     float64 `json:"val_loss"`
		Fingerprint string  `json:"fingerprint"`
		Device      string  `json:"device"`
	} `json:"event"`
}

// askWorker starts the trainer worker in the page, sends one request and returns every message
// for it once a "done" or "error" arrives.
func askWorker(t *testing.T, ctx context.Context, request string) []workerMessage {
	t.Helper()
	start := fmt.Sprintf(`(() => {
		window.__msgs = [];
		window.__finished = false;
		const w = new Worker('/web/worker.js');
		w.onmessage = (e) => {
			const m = JSON.parse(e.data);
			window.__msgs.push(m);
			if (m.id === 1 && (m.kind === 'done' || m.kind === 'error')) window.__finished = true;
			if (m.id === 0 && m.kind === 'error') window.__finished = true;
		};
		w.postMessage(%s);
		return true;
	})()`, request)
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](start))
	require.NoError(t, err)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`window.__finished`, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(3*time.Minute)))
	require.NoError(t, err)
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.__msgs)`))
	require.NoError(t, err)
	var all []workerMessage
	require.NoError(t, json.Unmarshal([]byte(raw), &all))
	var msgs []workerMessage
	for _, m := range all {
		require.False(t, m.ID == 0 && m.Kind == "error", "the worker failed to start: %s", m.Error)
		if m.ID == 1 {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// TestBrowserWorkerConformanceAndTraining starts the trainer worker in headless Chromium, runs
// the device conformance suite on the browser's WebGPU adapter (SwiftShader here), then a short
// training run on it (en-tiny, 20 steps), and reads the reports.
func TestBrowserWorkerConformanceAndTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	url := serveApp(t)
	ctx := newBrowser(t, 4*time.Minute)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url+"/web/pretune.css")))

	msgs := askWorker(t, ctx, `{"id":1,"kind":"conformance","device":"webgpu"}`)
	require.NotEmpty(t, msgs)
	require.Equal(t, "device", msgs[0].Kind, "first message: %+v", msgs[0])
	require.NotNil(t, msgs[0].Device)
	require.Empty(t, msgs[0].Device.Fallback, "WebGPU should be available in Chromium with --enable-unsafe-webgpu")
	require.Contains(t, msgs[0].Device.Name, "webgpu/")
	var checks, failed int
	for _, m := range msgs {
		if m.Kind == "check" {
			checks++
			if !m.Pass {
				failed++
				t.Errorf("%s: %s", m.Name, m.Error)
			}
		}
		require.NotEqual(t, "error", m.Kind, m.Error)
	}
	t.Logf("%d conformance checks on %s", checks, msgs[0].Device.Name)
	require.Greater(t, checks, 50)
	require.Zero(t, failed)
	require.Equal(t, "done", msgs[len(msgs)-1].Kind)

	// en-tiny cut to 20 steps (one evaluation): on SwiftShader a step takes most of a second
	// (60 steps took 52 s), and 20 bring the held-out loss from about 4.0 (55 characters) to
	// 3.17, under the 3.5 that says the WebGPU device learns.
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	spec.Config.Steps, spec.Config.EvalEvery = 20, 20
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	msgs = askWorker(t, ctx, fmt.Sprintf(`{"id":1,"kind":"start","device":"webgpu","code":%q}`, code))
	var result *workerMessage
	for i, m := range msgs {
		require.NotEqual(t, "error", m.Kind, m.Error)
		if m.Kind == "result" {
			result = &msgs[i]
		}
	}
	require.NotNil(t, result, "messages: %+v", msgs)
	t.Logf("en-tiny on %s: held-out loss %.4f, fingerprint %s", result.Event.Device, result.Event.ValLoss, result.Event.Fingerprint)
	require.Contains(t, result.Event.Fingerprint, "webgpu/")
	require.Less(t, result.Event.ValLoss, 3.5)
	require.Greater(t, result.Event.ValLoss, 0.0)
}
