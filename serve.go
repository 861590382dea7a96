//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/classstore"
	"pretune/core/runspec"
)

// serve serves the playground on addr, over HTTPS when certFile and keyFile are given: browsers
// give WebGPU and service workers only to secure contexts, and plain http is one only on
// localhost, so a class on a network needs TLS. With classDir it serves the class API too,
// keeping the picks in classDir/pretune-class.db. SIGINT or SIGTERM stops it gracefully:
// requests in flight finish and the database is closed.
func serve(addr, certFile, keyFile, classDir string, log io.Writer) error {
	if _, err := os.Stat("web/app.wasm"); err != nil {
		return errors.New("web/app.wasm is missing: run `make run` (it builds the browser app first)")
	}
	if (certFile == "") != (keyFile == "") {
		return errors.New("-tls-cert and -tls-key go together: give both or neither")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return runServer(ln, certFile, keyFile, classDir, log)
}

// runServer serves on ln until it fails or SIGINT/SIGTERM stops it; the class API and its
// database with classDir.
func runServer(ln net.Listener, certFile, keyFile, classDir string, log io.Writer) error {
	var class http.Handler
	if classDir != "" {
		store, err := classstore.Open(classDir)
		if err != nil {
			ln.Close()
			return err
		}
		defer store.Close()
		class = newClassAPI(store, classstore.NewChecker("web/base"))
		fmt.Fprintf(log, "class mode: the classes' picks are kept in %s\n", store.Path())
	}
	srv := &http.Server{Handler: newHandler(class), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if certFile != "" {
			fmt.Fprintf(log, "serving the playground on https://%s\n", ln.Addr())
			errc <- srv.ServeTLS(ln, certFile, keyFile)
			return
		}
		fmt.Fprintf(log, "serving the playground on http://%s\n", ln.Addr())
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(log, "stopping: finishing the requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx) // then the deferred store.Close
}

// newHandler is the playground's HTTP handler: go-app's pages and service worker, and the files
// under web/, all gzip-compressed for clients that accept it. A non-nil class (at most one)
// serves /api/class and everything under it; without one those paths are the playground's,
// which answers them with its page (so the page's probe finds no class mode).
func newHandler(class ...http.Handler) http.Handler {
	var next http.Handler = appHandler("", 0) // the compressor sends app.wasm's size
	if len(class) > 0 && class[0] != nil {
		next = classRouter{api: class[0], app: next}
	}
	return &compressor{next: next, dir: "web", files: map[string]*gzFile{}}
}

// appHandler is go-app's handler; prefix is the sub-path a static site is served under ("" for
// the root), wasmSize app.wasm's size where the host may not send it (a static site; else 0).
func appHandler(prefix string, wasmSize int64) *app.Handler {
	h := &app.Handler{
		Name:        "pretune",
		Title:       "pretune: pretrain and fine-tune a tiny transformer",
		Description: "Pretrain a tiny GPT in your browser, then compare ways to fine-tune it.",
		Icon:        app.Icon{Default: "/web/icon.png", SVG: "/web/icon.svg"},
		Styles:      []string{"/web/pretune.css"},
		// The loader's progress: the size of app.wasm before compression, and words (loader.go).
		WasmContentLengthHeader: wasmSizeHeader,
		LoadingLabel:            loaderLabel,
		RawHeaders:              []string{loaderScript(wasmSize), zoomScript, earlyWorkerScript(prefix)},
		Scripts:                 []string{"/web/chart-text.js"}, // chart labels at least 12 px at any width
		// The offline app: go-app's service worker caches these besides the page, app.wasm and
		// its own scripts.
		CacheableResources: append([]string{
			"/web/worker.js", "/web/wasm_exec.js", "/web/trainer.wasm", "/web/icon.svg",
		}, keptBaseURLs()...),
	}
	if prefix != "" {
		h.Resources = app.CustomProvider("", prefix)
	}
	return h
}

// keptBaseURLs are the kept base checkpoints (make base), which the comparison view loads: in
// the offline cache so a class can fine-tune without the network.
func keptBaseURLs() []string {
	var urls []string
	for _, p := range runspec.BasePresets() {
		urls = append(urls, "/web/base/"+p.Name+".ckpt")
	}
	return urls
}

// compressible reports whether a file of this name is worth gzipping (wasm shrinks about 4x).
func compressible(name string) bool {
	switch path.Ext(name) {
	case ".wasm", ".js", ".css", ".svg", ".html", ".json", ".webmanifest", ".txt":
		return true
	}
	return false
}

// compressor gzips responses. The files under web/ (the two wasm programs above all) are
// compressed once and kept, or read from a precompressed NAME.gz sibling when one is at least as
// new; every other response is compressed as it is written.
type compressor struct {
	next  http.Handler
	dir   string
	mu    sync.Mutex
	files map[string]*gzFile // by file path
}

// gzFile is one compressed file under web/, valid while the file keeps its size and time (and,
// for a brotli sibling, while the sibling keeps its time).
type gzFile struct {
	mod   time.Time
	size  int64
	gz    []byte // the compressed bytes: gzip, or brotli for a .br sibling
	etag  string
	brMod time.Time
}

func acceptsGzip(r *http.Request) bool { return accepts(r, "gzip") }

// accepts reports whether the request's Accept-Encoding lists enc without q=0.
func accepts(r *http.Request, enc string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		e, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(e) == enc && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

// brFile returns name's precompressed brotli sibling NAME.br when it was made from name's
// current bytes: make precompress writes it with NAME.br.sha256, the SHA-256 of the bytes it
// compressed (a file's time will not do: go build writes web/app.wasm again, same bytes, at
// every make build). Brotli makes app.wasm about 30% smaller than gzip, but compressing it at the
// best quality takes a minute, so it is never done while a request waits.
func (c *compressor) brFile(name string) (*gzFile, error) {
	st, err := os.Stat(name)
	if err != nil || st.IsDir() {
		return nil, errors.New("not a file")
	}
	bst, err := os.Stat(name + ".br")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	key := name + ".br"
	if f, ok := c.files[key]; ok && f.mod.Equal(st.ModTime()) && f.size == st.Size() && f.brMod.Equal(bst.ModTime()) {
		if f.gz == nil {
			return nil, errors.New("a stale .br sibling")
		}
		return f, nil
	}
	f := &gzFile{mod: st.ModTime(), size: st.Size(), brMod: bst.ModTime()}
	c.files[key] = f // a stale sibling is remembered as such (no bytes) until a file changes
	sum, err := os.ReadFile(name + ".br.sha256")
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	if h := sha256.Sum256(raw); strings.TrimSpace(string(sum)) != hex.EncodeToString(h[:]) {
		return nil, errors.New("a stale .br sibling")
	}
	br, err := os.ReadFile(key)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(br)
	f.gz, f.etag = br, `"`+hex.EncodeToString(h[:12])+`-br"`
	return f, nil
}

func (c *compressor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept-Encoding")
	gz, br := acceptsGzip(r), accepts(r, "br")
	if !gz && !br || r.Header.Get("Range") != "" {
		c.next.ServeHTTP(w, r)
		return
	}
	if rel, ok := strings.CutPrefix(r.URL.Path, "/web/"); ok && compressible(rel) {
		name := filepath.Join(c.dir, filepath.FromSlash(path.Clean("/"+rel)))
		encoding, f, err := "br", (*gzFile)(nil), errors.New("brotli not accepted")
		if br {
			f, err = c.brFile(name)
		}
		if err != nil && gz {
			encoding = "gzip"
			f, err = c.file(name)
		}
		if err == nil {
			// Unversioned URLs: the browser revalidates each time (a 304 when unchanged), and
			// the service worker answers from its cache when offline.
			w.Header().Set("Cache-Control", "no-cache")
			w.Header().Set("ETag", f.etag)
			w.Header().Set("Content-Encoding", encoding)
			// ServeContent sends no Content-Length with a Content-Encoding: the compressed size
			// is known, and the loader needs the size before compression (wasmSizeHeader).
			w.Header().Set("Content-Length", fmt.Sprint(len(f.gz)))
			w.Header().Set(wasmSizeHeader, fmt.Sprint(f.size))
			if t := mime.TypeByExtension(path.Ext(rel)); t != "" {
				w.Header().Set("Content-Type", t)
			}
			http.ServeContent(w, r, "", f.mod, bytes.NewReader(f.gz))
			return
		}
	}
	if !gz { // brotli only, and no .br sibling: plain
		c.next.ServeHTTP(w, r)
		return
	}
	gw := &gzipWriter{ResponseWriter: w}
	defer gw.close()
	c.next.ServeHTTP(gw, r)
}

// file returns name compressed, from the cache, a fresh .gz sibling, or by compressing it now.
func (c *compressor) file(name string) (*gzFile, error) {
	st, err := os.Stat(name)
	if err != nil || st.IsDir() {
		return nil, errors.New("not a file")
	}
	c.mu.Lock()
	defer c.mu.Unlock() // one compression at a time: concurrent first requests wait for it
	if f, ok := c.files[name]; ok && f.mod.Equal(st.ModTime()) && f.size == st.Size() {
		return f, nil
	}
	var gz []byte
	if gst, err := os.Stat(name + ".gz"); err == nil && !gst.ModTime().Before(st.ModTime()) {
		gz, err = os.ReadFile(name + ".gz")
		if err != nil {
			return nil, err
		}
	} else {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if gz, err = gzipBytes(raw, gzip.DefaultCompression); err != nil {
			return nil, err
		}
	}
	sum := sha256.Sum256(gz)
	f := &gzFile{mod: st.ModTime(), size: st.Size(), gz: gz, etag: `"` + hex.EncodeToString(sum[:12]) + `-gz"`}
	c.files[name] = f
	return f, nil
}

func gzipBytes(raw []byte, level int) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gzipWriter compresses a response on the fly when its type is worth it and it has a body.
type gzipWriter struct {
	http.ResponseWriter
	zw      *gzip.Writer
	decided bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if !g.decided {
		g.decided = true
		h := g.Header()
		ct := h.Get("Content-Type")
		ext := ""
		if exts, _ := mime.ExtensionsByType(strings.TrimSpace(strings.Split(ct, ";")[0])); len(exts) > 0 {
			ext = exts[0]
		}
		textual := strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") ||
			strings.Contains(ct, "wasm") || strings.Contains(ct, "manifest") || compressible("x"+ext)
		if code == http.StatusOK && textual && h.Get("Content-Encoding") == "" {
			h.Del("Content-Length")
			h.Set("Content-Encoding", "gzip")
			g.zw, _ = gzip.NewWriterLevel(g.ResponseWriter, gzip.BestSpeed) // the level is valid
		}
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.decided {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(p))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.zw != nil {
		return g.zw.Write(p)
	}
	return g.ResponseWriter.Write(p)
}

func (g *gzipWriter) close() {
	if g.zw != nil {
		g.zw.Close()
	}
}
