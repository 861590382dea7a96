//go:build !js

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// serveOptions are the serving flags beyond -addr: HTTPS, and writing a static site.
type serveOptions struct {
	Static  string // write the static site into this folder instead of serving
	Prefix  string // the sub-path the static site is served under, e.g. /pretune/
	TLSCert string
	TLSKey  string
	// Precompress writes a brotli sibling of each .wasm file in this folder (make precompress),
	// which the server then sends to browsers that accept brotli.
	Precompress string
}

func addServeFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{}
	fs.StringVar(&o.Static, "static", "", "write a complete static site (wasm built, gzip siblings) into `dir`, then exit")
	fs.StringVar(&o.Prefix, "prefix", "", "with -static: the `path` the site is served under (e.g. /pretune/)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM; needs -tls-key)")
	fs.StringVar(&o.TLSKey, "tls-key", "", "serve HTTPS with this private key `file` (PEM)")
	fs.StringVar(&o.Precompress, "precompress", "", "write a brotli sibling (NAME.br) of each .wasm file in `dir` (a minute or two), then exit")
	return o
}

// writeStatic writes the playground as files for any static host: go-app's pages, scripts and
// service worker (under Prefix), both wasm files built for the browser, Go's wasm_exec.js, the
// web/ assets, and a .gz sibling of every compressible file for hosts that serve those.
func writeStatic(o serveOptions, log io.Writer) error {
	if o.Static == "" {
		return errors.New("-static needs a folder")
	}
	prefix := strings.Trim(o.Prefix, "/")
	if strings.ContainsAny(prefix, "?#\\ ") {
		return fmt.Errorf("-prefix %q: a sub-path has no spaces, '?', '#' or '\\'", o.Prefix)
	}
	dir := o.Static
	web := filepath.Join(dir, "web")
	if err := os.MkdirAll(web, 0o755); err != nil {
		return err
	}
	// The browser's programs, built as `make build` does, straight into the site.
	for _, b := range []struct{ out, pkg string }{{"app.wasm", "."}, {"trainer.wasm", "./wasm"}} {
		fmt.Fprintf(log, "building %s\n", b.out)
		cmd := exec.Command("go", "build", "-o", filepath.Join(web, b.out), b.pkg)
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", b.out, err, out)
		}
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return fmt.Errorf("finding Go's wasm_exec.js: %v", err)
	}
	if err := copyFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"), filepath.Join(web, "wasm_exec.js")); err != nil {
		return err
	}
	// The assets: every file under web/ but build outputs, screenshots and old .gz files.
	err = filepath.WalkDir("web", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("web", p)
		switch {
		case d.IsDir() && rel == "screenshots":
			return filepath.SkipDir
		case d.IsDir(), strings.HasSuffix(p, ".wasm"), strings.HasSuffix(p, ".gz"), strings.HasSuffix(p, ".br"), rel == "wasm_exec.js":
			return nil
		}
		return copyFile(p, filepath.Join(web, rel))
	})
	if err != nil {
		return err
	}
	if err := app.GenerateStaticWebsite(dir, appHandler(prefix, builtWasmSize(web))); err != nil {
		return fmt.Errorf("writing the pages: %v", err)
	}
	// Precompressed siblings, at the best level: written once, served many times.
	var n int
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !compressible(p) {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		gz, err := gzipBytes(raw, gzip.BestCompression)
		if err != nil {
			return err
		}
		n++
		return os.WriteFile(p+".gz", gz, 0o644)
	})
	if err != nil {
		return err
	}
	if err := precompress(web, false, log); err != nil {
		return err
	}
	where := "/"
	if prefix != "" {
		where = "/" + prefix + "/"
	}
	fmt.Fprintf(log, "wrote the static site to %s (%d files precompressed), to be served at %s\n", dir, n, where)
	return nil
}

// precompress writes NAME.br beside each .wasm file in dir, at brotli's best quality, the
// files in parallel: app.wasm comes out about 30% smaller than at gzip's best (12.2 MB: 3.06 MB
// gzipped, 2.18 MB with brotli), which is what a learner waits for on a first visit. It takes a
// minute or more on a laptop's core, so it runs when the site is built, never per request. With
// sums it writes NAME.br.sha256 too, the SHA-256 of what it compressed, by which the server
// knows the sibling still holds the file's bytes (a static host goes by its own rules).
func precompress(dir string, sums bool, log io.Writer) error {
	names, err := filepath.Glob(filepath.Join(dir, "*.wasm"))
	if err != nil {
		return err
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = brotliFile(name, sums)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote brotli siblings of %d wasm files in %s\n", len(names), dir)
	return nil
}

// brotliQuality is the level precompress writes at: brotli's best, since a site is built once
// and downloaded many times. Tests lower it: what they check (the sibling decodes to the file's
// bytes, the server's choice) does not depend on the level, and the best level costs a minute
// of CPU per build.
var brotliQuality = brotli.BestCompression

// brotliFile writes name's brotli sibling name.br through a temporary file, so a server never
// reads half of one, and with sum the SHA-256 of name's bytes as name.br.sha256.
func brotliFile(name string, sum bool) error {
	raw, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: brotliQuality, LGWin: 24})
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	if sum {
		h := sha256.Sum256(raw)
		if err := os.WriteFile(name+".br.sha256", []byte(hex.EncodeToString(h[:])+"\n"), 0o644); err != nil {
			return err
		}
	}
	tmp := name + ".br.tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name+".br")
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
