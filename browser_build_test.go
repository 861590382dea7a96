//go:build !js

package main

import (
	"slices"
	"strings"
	"testing"

	"pretune/core/testenv"
)

// TestBrowserBuildLeavesOutNativeSide checks that app.wasm, the root package built for the
// browser, links none of what only the native program uses: every learner downloads app.wasm,
// and the command line, the server and the WebGPU device once made it 26.8 MB instead of 10.7.
// The native-only files carry `//go:build !js`; one missing tag brings its imports back.
// browserBuild is the environment go list needs to list the browser's build.
var browserBuild = []string{"GOOS=js", "GOARCH=wasm"}

func TestBrowserBuildLeavesOutNativeSide(t *testing.T) {
	// The root package in the browser is main (the routes, shared with the server's handler) and
	// the command line's stand-in; the UI itself is package app.
	if files := strings.Fields(testenv.GoList(t, browserBuild, "-f", "{{join .GoFiles \" \"}}", ".")[0]); !slices.Equal(files, []string{"cli_js.go", "server.go"}) {
		t.Errorf("the browser build of the root package compiles %v, want only cli_js.go and server.go: give native-only files `//go:build !js`", files)
	}

	deps := testenv.GoList(t, browserBuild, "-deps", ".")

	// Each refused package and the native side it stands for. crypto/tls and net/http cannot be
	// refused: go-app's app package imports net/http in the browser too.
	refused := []struct{ pkg, why string }{
		{"pretune/webgpu", "the WebGPU device, for the command line's -device (the trainer worker, trainer.wasm, links its own)"},
		{"pretune/shaders", "the WGSL kernels, through pretune/webgpu"},
		{"github.com/gogpu/", "gogpu, through pretune/webgpu"},
		{"github.com/go-webgpu/", "the native WebGPU bindings, through pretune/webgpu"},
		{"embed", "the kept bases embedded in the command line (bases_native.go)"},
		{"flag", "the command line's flags (cli.go, static.go)"},
		{"os/signal", "the command line's interrupt handling (cli.go)"},
		{"os/exec", "the static-site writer, which runs go build (static.go)"},
	}
	for _, dep := range deps {
		for _, r := range refused {
			if dep == r.pkg || (strings.HasSuffix(r.pkg, "/") && strings.HasPrefix(dep, r.pkg)) {
				t.Errorf("app.wasm links %s: %s", dep, r.why)
			}
		}
	}
	// The list is the browser build's: the UI is in it (else the test would pass on nothing).
	if !slices.Contains(deps, "pretune/app") {
		t.Fatalf("go list -deps for js/wasm does not list pretune/app: %v", deps)
	}
}
