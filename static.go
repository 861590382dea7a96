//go:build !js

package main

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// serveOptions are the serving flags beyond -addr: HTTPS, and writing a static site.
type serveOptions struct {
	Static  string // write the static site into this folder instead of serving
	Prefix  string // the sub-path the static site is served under, e.g. /pretune/
	TLSCert string
	TLSKey  string
}

func addServeFlags(fs *flag.FlagSet) *serveOptions {
	o := &serveOptions{}
	fs.StringVar(&o.Static, "static", "", "write a complete static site (wasm built, gzip siblings) into `dir`, then exit")
	fs.StringVar(&o.Prefix, "prefix", "", "with -static: the `path` the site is served under (e.g. /pretune/)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `file` (PEM; needs -tls-key)")
	fs.StringVar(&o.TLSKey, "tls-key", "", "serve HTTPS with this private key `file` (PEM)")
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
		case d.IsDir(), strings.HasSuffix(p, ".wasm"), strings.HasSuffix(p, ".gz"), rel == "wasm_exec.js":
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
	where := "/"
	if prefix != "" {
		where = "/" + prefix + "/"
	}
	fmt.Fprintf(log, "wrote the static site to %s (%d files precompressed), to be served at %s\n", dir, n, where)
	return nil
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
