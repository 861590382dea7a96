package ops

import (
	"strings"
	"testing"

	"pretune/core/testenv"
)

// TestDevicesNeedOnlyOps keeps the op layer a layer: webgpu implements Device and
// core/conformance checks an implementation, and neither may reach the model in pretune/core
// (directly or through another package); of pretune's own packages they may use core/ops (with
// core/ops/wasmsimd, the CPU device's WebAssembly kernels, part of the op layer), and webgpu the
// shaders. Their tests may import core (the golden run needs the model).
func TestDevicesNeedOnlyOps(t *testing.T) {
	allowed := map[string]bool{"pretune/core/ops": true, "pretune/core/ops/wasmsimd": true, "pretune/shaders": true}
	for _, target := range []struct {
		name string
		env  []string
	}{
		{"native", nil},
		{"js", []string{"GOOS=js", "GOARCH=wasm"}},
	} {
		for _, pkg := range []string{"pretune/webgpu", "pretune/core/conformance"} {
			t.Run(target.name+"/"+pkg, func(t *testing.T) {
				// -deps without -test lists what the package's non-test files link.
				own := 0
				for _, dep := range testenv.GoList(t, target.env, "-deps", "-f", "{{.ImportPath}}", pkg) {
					if dep == pkg || dep != "pretune" && !strings.HasPrefix(dep, "pretune/") {
						continue
					}
					own++
					if !allowed[dep] {
						t.Errorf("%s depends on %s; of pretune's packages it may use only core/ops (and webgpu the shaders)", pkg, dep)
					}
				}
				if own == 0 {
					t.Fatalf("%s depends on none of pretune's packages: the listing is broken", pkg)
				}
			})
		}
	}
}
