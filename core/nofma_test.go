package core

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// TestNoFusedMultiplyAdd compiles this package for the targets where Go fuses a*b+c into one FMA
// instruction (amd64 with GOAMD64=v3, and arm64) and fails if any FMA appears: a fused result
// is rounded once instead of twice, so it would break the CPU device's bit-exactness across
// processors. Write float32(a*b) + c (an explicit conversion) to prevent fusion.
func TestNoFusedMultiplyAdd(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("needs the go command, which does not run under wasm")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	fma := regexp.MustCompile(`\((\S+\.go:\d+)\)\s+(V?F(N?)M(ADD|SUB)\w*)`)
	for _, target := range []struct{ name, goarch, goamd64 string }{
		{"amd64-v3", "amd64", "v3"},
		{"arm64", "arm64", ""},
	} {
		t.Run(target.name, func(t *testing.T) {
			cmd := exec.Command(gobin, "build", "-gcflags=-S", "-o", os.DevNull, ".")
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+target.goarch, "GOAMD64="+target.goamd64, "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go build failed: %v\n%s", err, out)
			}
			for _, m := range fma.FindAllStringSubmatch(string(out), 20) {
				t.Errorf("%s: fused %s", m[1], m[2])
			}
		})
	}
}
