//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"

	ui "pretune/app"
)

func registerRoutes() { routeOnce.Do(func() { app.Route("/", &ui.Home{}) }) }

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// A bare transport: it must not add Accept-Encoding or decompress on its own.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

// TestServeCompressesAndCaches: the wasm and the other web files go out gzipped with an ETag
// (and a 304 when the browser has them), the pages are gzipped on the fly, and a client that
// does not accept gzip gets the plain bytes.
func TestServeCompressesAndCaches(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm")
	}
	buildWeb(t)
	registerRoutes()
	srv := httptest.NewServer(newHandler())
	defer srv.Close()
	gz := map[string]string{"Accept-Encoding": "gzip, deflate"} // brotli: TestServeBrotli

	for _, name := range []string{"trainer.wasm", "app.wasm", "worker.js", "pretune.css"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("web", name))
			require.NoError(t, err)
			res, body := get(t, srv.URL+"/web/"+name, gz)
			require.Equal(t, 200, res.StatusCode)
			require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
			require.Contains(t, res.Header.Get("Vary"), "Accept-Encoding")
			require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
			etag := res.Header.Get("ETag")
			require.NotEmpty(t, etag)
			require.Equal(t, raw, gunzip(t, body))
			if strings.HasSuffix(name, ".wasm") {
				require.Equal(t, "application/wasm", res.Header.Get("Content-Type"))
				require.Less(t, len(body), len(raw)/2, "wasm compresses well")
				t.Logf("%s: %d bytes, %d gzipped", name, len(raw), len(body))
			}
			res, body = get(t, srv.URL+"/web/"+name, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
			require.Equal(t, http.StatusNotModified, res.StatusCode)
			require.Empty(t, body)

			res, body = get(t, srv.URL+"/web/"+name, nil)
			require.Equal(t, 200, res.StatusCode)
			require.Empty(t, res.Header.Get("Content-Encoding"))
			require.Equal(t, raw, body)
		})
	}

	res, body := get(t, srv.URL+"/", gz)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	page := string(gunzip(t, body))
	require.Contains(t, page, "pretune")
	// Nothing on the page is fetched from another origin.
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		require.False(t, strings.Contains(m[1], "//"), "the page links %s", m[1])
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{"gzip": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "br": false, "": false, "x-gzip": false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", h)
		require.Equal(t, want, acceptsGzip(r), h)
	}
}

// TestStaticSite writes the site under a sub-path and checks it is complete: pages and go-app's
// files pointing into the prefix, both wasm files, the worker and the assets, each compressible
// file with a .gz sibling holding the same bytes.
func TestStaticSite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm")
	}
	buildWeb(t)
	registerRoutes()
	quality := brotliQuality
	brotliQuality = brotli.DefaultCompression // the best level's minute of CPU checks nothing more
	t.Cleanup(func() { brotliQuality = quality })
	dir := t.TempDir()
	code, _, stderr := runCLI("-static", dir, "-prefix", "/class/pretune/")
	require.Equal(t, 0, code, stderr)
	for _, f := range []string{"index.html", "app.js", "app-worker.js", "manifest.webmanifest", "web/app.wasm", "web/trainer.wasm",
		"web/worker.js", "web/wasm_exec.js", "web/pretune.css", "web/icon.svg", "web/icon.png", "web/base/en-base.ckpt", "web/base/zh-base.ckpt"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.NotZero(t, st.Size(), f)
		if compressible(f) {
			raw, err := os.ReadFile(filepath.Join(dir, f))
			require.NoError(t, err)
			gz, err := os.ReadFile(filepath.Join(dir, f+".gz"))
			require.NoError(t, err, f+".gz")
			require.Equal(t, raw, gunzip(t, gz), f)
			if strings.HasSuffix(f, ".wasm") { // and a brotli one, smaller, for hosts that send it
				br, err := os.ReadFile(filepath.Join(dir, f+".br"))
				require.NoError(t, err, f+".br")
				got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br)))
				require.NoError(t, err)
				require.Equal(t, raw, got, f)
				require.Less(t, len(br), len(gz), f)
				t.Logf("%s: %d bytes, %d gzipped (best), %d with brotli", f, len(raw), len(gz), len(br))
			}
		}
	}
	// The early trainer worker of a link asks for the worker script under the prefix, as the app does.
	index0, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(index0), `new Worker("/class/pretune/web/worker.js")`)
	_, err = os.Stat(filepath.Join(dir, "web", "screenshots"))
	require.True(t, os.IsNotExist(err), "screenshots stay out of the site")
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	require.NoError(t, err)
	require.Contains(t, string(index), `/class/pretune/web/pretune.css`)
	wasm, err := os.Stat(filepath.Join(dir, "web", "app.wasm"))
	require.NoError(t, err)
	require.Contains(t, string(index), fmt.Sprintf("var size = %d,", wasm.Size()), "the loader knows app.wasm's size on a host that gzips it without the header")
	worker, err := os.ReadFile(filepath.Join(dir, "app-worker.js"))
	require.NoError(t, err)
	for _, r := range []string{"/class/pretune/web/trainer.wasm", "/class/pretune/web/worker.js", "/class/pretune/web/wasm_exec.js", "/class/pretune/web/base/en-base.ckpt"} {
		require.Contains(t, string(worker), r, "the service worker caches it for offline use")
	}

	code, _, stderr = runCLI("-static", dir, "-prefix", "/a b/")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "sub-path")

	// The site works from a plain file server under its sub-path: the page loads, its worker
	// starts from the sub-path and trains.
	mux := http.NewServeMux()
	mux.Handle("/class/pretune/", http.StripPrefix("/class/pretune", http.FileServer(http.Dir(dir))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ctx := newBrowser(t, 3*time.Minute)
	var reqs requestLog
	reqs.listen(t, ctx)
	openApp(t, ctx, srv.URL+"/class/pretune/")
	waitFor(t, ctx, `document.querySelector('.brand img').complete && document.querySelector('.brand img').naturalWidth > 0`, 10*time.Second)
	click(t, ctx, "#preset-en-tiny")
	click(t, ctx, "#start")
	runToEnd(t, ctx)
	require.Regexp(t, `^cpu:[0-9a-f]{12}$`, text(t, ctx, "#fingerprint"))
	reqs.mu.Lock()
	defer reqs.mu.Unlock()
	for _, u := range reqs.urls {
		if strings.HasPrefix(u, srv.URL) {
			require.True(t, strings.HasPrefix(u, srv.URL+"/class/pretune/"), "%s is outside the sub-path", u)
		}
	}
}

// TestServeTLS serves HTTPS with a self-signed certificate; one TLS flag alone is refused.
func TestServeTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm")
	}
	// Not a skip when the web files are missing: make test must serve the real files over TLS,
	// and the server refuses to start without them, before it reads its flags.
	buildWeb(t)
	code, _, stderr := runCLI("-tls-cert", "x.pem")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "go together")
	certFile, keyFile := selfSigned(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	errc := make(chan error, 1)
	go func() { errc <- serve(addr, certFile, keyFile, "", io.Discard) }() // runs until the test binary exits
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 5 * time.Second}
	var res *http.Response
	require.Eventually(t, func() bool {
		res, err = client.Get("https://" + addr + "/web/pretune.css")
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "no HTTPS answer: %v", err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.NotNil(t, res.TLS)
	select {
	case err := <-errc:
		t.Fatalf("serve ended: %v", err)
	default:
	}
}

func selfSigned(t *testing.T) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600))
	return certFile, keyFile
}

// TestServeWasmSize: go-app's loader divides the bytes it has read, decompressed, by the size it
// finds; gzipped app.wasm carries its compressed Content-Length and its size before compression
// in the header the loader is told to read, so the loader shows 0-100%, never "NaN%".
func TestServeWasmSize(t *testing.T) {
	dir := t.TempDir()
	raw := bytes.Repeat([]byte("wasm, compressible "), 50000)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app.wasm"), raw, 0o644))
	registerRoutes()
	srv := httptest.NewServer(&compressor{next: appHandler("", 0), dir: dir, files: map[string]*gzFile{}})
	defer srv.Close()

	res, body := get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "gzip"})
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	require.Equal(t, fmt.Sprint(len(body)), res.Header.Get("Content-Length"), "the compressed size")
	require.Less(t, len(body), len(raw))
	require.Equal(t, fmt.Sprint(len(raw)), res.Header.Get(wasmSizeHeader), "the size the browser counts")
	require.Equal(t, raw, gunzip(t, body))

	// go-app's loader reads that header, and the page says words, not a bare percentage.
	_, js := get(t, srv.URL+"/app.js", nil)
	require.Contains(t, string(js), `goappWasmContentLengthHeader = "`+wasmSizeHeader+`"`)
	_, page := get(t, srv.URL+"/", nil)
	require.Contains(t, string(page), "compiling and starting the app")
	require.Contains(t, loaderScript(1234), "var size = 1234,")
}

// TestServeBrotli: with a fresh NAME.br sibling (make precompress, the static site) a browser
// that accepts brotli gets it, with the size before compression for the loader and an ETag of
// its own; one that accepts only gzip gets gzip; a sibling made from other bytes than the file's
// is never sent, and a brotli-only client then gets plain bytes.
func TestServeBrotli(t *testing.T) {
	dir := t.TempDir()
	raw := bytes.Repeat([]byte("wasm, compressible by brotli "), 40000)
	name := filepath.Join(dir, "app.wasm")
	require.NoError(t, os.WriteFile(name, raw, 0o644))
	require.NoError(t, brotliFile(name, true))
	registerRoutes()
	srv := httptest.NewServer(&compressor{next: appHandler("", 0), dir: dir, files: map[string]*gzFile{}})
	defer srv.Close()

	res, body := get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "gzip, deflate, br, zstd"})
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "br", res.Header.Get("Content-Encoding"))
	require.Contains(t, res.Header.Get("Vary"), "Accept-Encoding")
	require.Equal(t, "application/wasm", res.Header.Get("Content-Type"))
	require.Equal(t, fmt.Sprint(len(body)), res.Header.Get("Content-Length"))
	require.Equal(t, fmt.Sprint(len(raw)), res.Header.Get(wasmSizeHeader))
	require.True(t, strings.HasSuffix(res.Header.Get("ETag"), `-br"`), res.Header.Get("ETag"))
	got, err := io.ReadAll(brotli.NewReader(bytes.NewReader(body)))
	require.NoError(t, err)
	require.Equal(t, raw, got)
	res, _ = get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "br", "If-None-Match": res.Header.Get("ETag")})
	require.Equal(t, http.StatusNotModified, res.StatusCode)

	res, body = get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "gzip"})
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	require.Equal(t, raw, gunzip(t, body))

	// The file is written again with the same bytes (go build does): the sibling still holds
	// them. Then it changes: the stale sibling is not sent.
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.WriteFile(name, raw, 0o644))
	require.NoError(t, os.Chtimes(name, later, later))
	res, _ = get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "gzip, br"})
	require.Equal(t, "br", res.Header.Get("Content-Encoding"))
	raw = append(raw, "changed"...)
	require.NoError(t, os.WriteFile(name, raw, 0o644))
	later = later.Add(time.Minute)
	require.NoError(t, os.Chtimes(name, later, later))
	res, body = get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "gzip, br"})
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	require.Equal(t, raw, gunzip(t, body))
	res, _ = get(t, srv.URL+"/web/app.wasm", map[string]string{"Accept-Encoding": "br"})
	require.Equal(t, 200, res.StatusCode)
	require.Empty(t, res.Header.Get("Content-Encoding"), "go-app's handler sends the file itself (from web/, not this test's folder)")
}
