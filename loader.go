//go:build !js

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// wasmSizeHeader carries app.wasm's size before compression. go-app's loader divides the bytes
// it has read by the size it finds (Handler.WasmContentLengthHeader, else Content-Length), and
// the browser counts the decompressed bytes of a gzip body; Content-Length is the compressed
// size (about a quarter), and net/http's ServeContent leaves it out altogether for a body with
// a Content-Encoding, which is what made the loader show "NaN%".
const wasmSizeHeader = "X-Pretune-Size"

// loaderLabel is go-app's loader text; loaderScript rewrites it into words.
const loaderLabel = "{progress}%"

// loaderScript makes go-app's loader say what is happening in the page's language: the share
// of app.wasm downloaded, then that it compiles (go-app shows "100%" for the several seconds
// WebAssembly takes to compile it); with no size known, only that it downloads, never "NaN".
// With a size (a static site, whose host may gzip app.wasm without the header) it wraps fetch
// so that go-app's loader finds the header. It runs before go-app's deferred app.js.
func loaderScript(wasmSize int64) string {
	return strings.ReplaceAll(strings.ReplaceAll(`<script>
(function () {
  var size = SIZE, header = "HEADER";
  var zh = false;
  try {
    var saved = localStorage.getItem("pretune.lang") || "";
    zh = saved.indexOf('"zh"') >= 0 || (saved.indexOf('"en"') < 0 && (navigator.language || "").indexOf("zh") === 0);
  } catch (e) {}
  // text is what the loader says for go-app's label raw ("{progress}%"), or "" for words
  // already written; a global, so the browser test can ask it about every case.
  var text = window.pretuneLoaderText = function (raw, zh) {
    var words = zh
      ? { got: "正在下载应用：%d%", get: "正在下载应用……", compile: "下载完成，正在编译和启动应用（需要几秒钟）……" }
      : { got: "Downloading the app: %d%", get: "Downloading the app…", compile: "Downloaded; compiling and starting the app (a few seconds)…" };
    var m = /^(-?\d+|NaN|Infinity)%$/.exec(raw.trim());
    if (!m) return "";
    var n = parseInt(m[1], 10);
    return isNaN(n) ? words.get : n >= 100 ? words.compile : words.got.replace("%d", Math.max(0, n));
  };
  if (size > 0 && window.fetch) {
    var fetch0 = window.fetch;
    window.fetch = function (url) {
      var p = fetch0.apply(this, arguments);
      if (typeof url !== "string" || !/app\.wasm$/.test(url)) return p;
      return p.then(function (res) {
        if (res.headers.get(header)) return res;
        var h = new Headers(res.headers);
        h.set(header, String(size));
        return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
      });
    };
  }
  // go-app writes "{progress}%" (loaderLabel); the label is rewritten before it is painted,
  // from the moment the parser adds it.
  function say(label) {
    var t = text(label.textContent, zh);
    if (t) label.textContent = t;
  }
  var watched = false;
  function watch() {
    var label = document.getElementById("app-wasm-loader-label");
    if (!label || watched) return !!label;
    watched = true;
    say(label);
    new MutationObserver(function () { say(label); }).observe(label, { childList: true, characterData: true, subtree: true });
    return true;
  }
  var find = new MutationObserver(function () { if (watch()) find.disconnect(); });
  find.observe(document, { childList: true, subtree: true });
  document.addEventListener("DOMContentLoaded", function () { watch(); find.disconnect(); });
})();
</script>`, "SIZE", fmt.Sprint(wasmSize)), "HEADER", wasmSizeHeader)
}

// builtWasmSize is the size of the built app.wasm in dir (0 when missing), for a static site's
// loader.
func builtWasmSize(dir string) int64 {
	st, err := os.Stat(filepath.Join(dir, "app.wasm"))
	if err != nil {
		return 0
	}
	return st.Size()
}

// earlyWorkerScript starts the trainer worker as the page's head is parsed when the page opens a
// link that runs (#r=): trainer.wasm then downloads and compiles on the worker's thread while
// app.wasm does on the page's, instead of after it, and the first training step comes that much
// sooner. The app's first trainer for the same script takes it (app/worker.go adoptEarlyWorker)
// with the messages it sent meanwhile; one nobody takes in a minute (a link the app refuses)
// is ended. prefix is the static site's sub-path ("" at the root).
func earlyWorkerScript(prefix string) string {
	script := "/web/worker.js"
	if prefix != "" {
		script = "/" + strings.Trim(prefix, "/") + script
	}
	return strings.ReplaceAll(`<script>
(function () {
  if (!/^#r=/.test(location.hash) || !window.Worker) return;
  var w = new Worker("SCRIPT"), early = { worker: w, script: "SCRIPT", messages: [] };
  w.onmessage = function (e) { early.messages.push(e); };
  window.pretuneEarlyWorker = early;
  setTimeout(function () { if (window.pretuneEarlyWorker === early) { w.terminate(); window.pretuneEarlyWorker = null; } }, 60000);
})();
</script>`, "SCRIPT", script)
}
