// Package testenv is the one rule for tests that need something the machine may lack (Chromium
// for the browser tests, a Vulkan adapter for the WebGPU tests): where it is required they fail
// with the install hint, elsewhere they skip with it. make test requires both
// (PRETUNE_REQUIRE=browser,vulkan), as does CI (CI set), so a run that says ok has run them; a
// developer's plain go test on a machine without them skips those tests and says why.
package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// What a test may need.
const (
	Browser = "browser" // a headless Chromium
	Vulkan  = "vulkan"  // a Vulkan adapter (lavapipe will do)
	// WasmSIMD is the CPU device's WebAssembly SIMD matmul under Node, which needs Go's memory
	// handed over by wasm/node_memory.js (make test-wasm runs the tests that way).
	WasmSIMD = "wasm-simd"
)

// Required says whether what must be present: PRETUNE_REQUIRE lists it (comma-separated), or
// CI is set.
func Required(what string) bool {
	return os.Getenv("CI") != "" || slices.Contains(strings.Split(os.Getenv("PRETUNE_REQUIRE"), ","), what)
}

// Missing ends t because what is missing: a failure where it is required, else a skip. msg says
// what is missing and how to install it.
func Missing(t testing.TB, what, msg string) {
	t.Helper()
	if Required(what) {
		t.Fatalf("%s (required here: PRETUNE_REQUIRE=%q, CI=%q)", msg, os.Getenv("PRETUNE_REQUIRE"), os.Getenv("CI"))
	}
	t.Skipf("%s; skipped (make test requires it)", msg)
}
