//go:build !js

package webgpu

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/testenv"
)

// browserPage runs the package's test binary, compiled to WebAssembly, on the page's WebGPU and
// prints its output into #out; the title turns "done" when it exits.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>running</title></head>
<body><pre id="out"></pre>
<script>
const out = document.getElementById('out');
console.log = console.error = (...a) => { out.textContent += a.join(' ') + '\n'; };
</script>
<script src="wasm_exec.js"></script>
<script>
(async () => {
  try {
    const go = new Go();
    go.argv = ['webgpu.test', '-test.v', '-test.run', new URLSearchParams(location.search).get('run')];
    const r = await WebAssembly.instantiateStreaming(fetch('webgpu.test.wasm'), go.importObject);
    await go.run(r.instance);
  } catch (e) {
    console.log('harness error: ' + e);
  }
  document.title = 'done';
})();
</script>
</body></html>
`

// TestInBrowser runs this package's tests (the conformance suite, determinism, the golden run
// against the CPU, ...) inside headless Chromium, on the browser's WebGPU (SwiftShader without a
// GPU): the js/wasm build of the device, the browser's WGSL compiler (Tint, stricter than naga)
// and the browser's adapter detection. It takes about a minute. make test and CI require it
// (core/testenv: a missing Chromium fails there with the install hint); a plain go test runs it
// when PRETUNE_BROWSER_TESTS=1 and skips it otherwise, saying so. PRETUNE_BROWSER_RUN narrows the
// tests (a -run pattern).
//
//	PRETUNE_BROWSER_TESTS=1 go test -run TestInBrowser -v ./webgpu/
func TestInBrowser(t *testing.T) {
	if os.Getenv("PRETUNE_BROWSER_TESTS") != "1" && !testenv.Required(testenv.Browser) {
		t.Skip("set PRETUNE_BROWSER_TESTS=1 to run the suite in headless Chromium's WebGPU (make test does)")
	}
	var chrome string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		// Asked for (PRETUNE_BROWSER_TESTS=1) or required (make test, CI): fail, saying how to fix.
		t.Fatal("no Chromium found for the in-browser WebGPU suite (apt-get install chromium; .ci/run does)")
	}

	dir := t.TempDir()
	build := exec.Command("go", "test", "-c", "-o", filepath.Join(dir, "webgpu.test.wasm"), ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	outb, err := build.CombinedOutput()
	require.NoError(t, err, "building the wasm test binary: %s", outb)
	shim, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wasm_exec.js"), shim, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(browserPage), 0o644))
	// 127.0.0.1: plain http elsewhere is not a secure context, so no navigator.gpu.
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Flag("enable-unsafe-webgpu", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()

	pattern := os.Getenv("PRETUNE_BROWSER_RUN")
	if pattern == "" {
		pattern = "."
	}
	err = chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/index.html?run=%s", srv.URL, pattern)))
	require.NoError(t, err)
	_, waitErr := chromedp.Run(ctx, chromedp.Poll[bool](`document.title === 'done'`, chromedp.WithPollingTimeout(7*time.Minute)))
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('out').textContent`))
	require.NoError(t, err)
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "--- ") || strings.Contains(line, "checks on") || strings.Contains(line, "webgpu/") {
			t.Log(line)
		}
	}
	require.NoError(t, waitErr, "the wasm tests did not finish:\n%s", text)
	require.NotContains(t, text, "--- FAIL", text)
	require.Contains(t, text, "\nPASS\n", "no PASS line:\n%s", text)
	require.Contains(t, text, "webgpu/", "the tests did not reach a WebGPU adapter (all skipped?):\n%s", text)
}
