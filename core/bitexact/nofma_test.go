package bitexact

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"pretune/core/testenv"
)

// fusedInstruction matches an FMA in go build -gcflags=-S output, with the source position the
// compiler prints beside it: VFMADD231SS and friends on amd64, FMADDS/FMSUBD/FNMADDS on arm64.
var fusedInstruction = regexp.MustCompile(`\((\S+\.go):(\d+)\)\s+(V?F(N?)M(ADD|SUB)\w*)`)

// TestNoFusedMultiplyAdd compiles every package on the training path for the targets where Go
// fuses a*b+c into one FMA instruction (amd64 with GOAMD64=v3, and arm64) and fails if any FMA
// appears outside mayDiffer's files: a fused result is rounded once instead of twice, so it would
// break the CPU device's bit-exactness across processors. Write float32(a*b) + c (an explicit
// conversion) to prevent fusion.
func TestNoFusedMultiplyAdd(t *testing.T) {
	gobin := testenv.GoCommand(t)
	root := moduleRoot(t)
	var paths []string
	for _, p := range trainingPath(t) {
		paths = append(paths, p.path)
	}
	for _, target := range []struct{ name, goarch, goamd64 string }{
		{"amd64-v3", "amd64", "v3"},
		{"arm64", "arm64", ""},
	} {
		t.Run(target.name, func(t *testing.T) {
			// -gcflags without a package pattern applies to the packages named, and -S prints
			// their assembly (replayed from the build cache when nothing changed).
			cmd := exec.Command(gobin, append([]string{"build", "-gcflags=-S", "-o", os.DevNull}, paths...)...)
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+target.goarch, "GOAMD64="+target.goamd64, "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go build failed: %v\n%s", err, out)
			}
			// The assembly of package ops must be there, or nothing was checked.
			if !strings.Contains(string(out), "core/ops/matmul.go:") {
				t.Fatalf("no assembly of core/ops/matmul.go in the go build -S output (%d bytes)", len(out))
			}
			reported := 0
			for _, m := range fusedInstruction.FindAllStringSubmatch(string(out), -1) {
				if differs(root, m[1]) {
					continue
				}
				t.Errorf("%s:%s: fused %s", m[1], m[2], m[3])
				if reported++; reported == 20 {
					t.Fatal("more FMAs left out")
				}
			}
		})
	}
}
