package bitexact

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"pretune/core/testenv"
)

// pkg is one package of the training path with its non-test Go files (absolute paths).
type pkg struct {
	path  string
	files []string
}

// trainers are the two programs that train: the browser's trainer worker, built for js/wasm,
// and the CLI (the root package), built for the machine running the test. Whatever
// pretune/core/... package either links is on the training path, so a new package (a feedback
// stage, say) is checked as soon as the worker or the CLI imports it.
var trainers = []struct {
	pkg  string
	goos []string // GOOS and GOARCH to list it under; nil for the native build
}{
	{"pretune/wasm", []string{"GOOS=js", "GOARCH=wasm"}},
	{"pretune", nil},
}

// notOnPath names the pretune/core/... packages that neither trainer links, each with the
// reason it need not be bit-exact. TestTrainingPathCoversCore fails for a package that is in
// neither list, so a new package is classified rather than silently left unchecked.
var notOnPath = map[string]string{
	"pretune/core/bitexact":              "this package: tests only",
	"pretune/core/feedback/feedbacktest": "test support: a feedback link that runs in seconds",
	"pretune/core/golden":                "test support: the golden runs, whose own results pin their bits natively, with GOAMD64=v3 and under wasm",
	"pretune/core/grammar":               "test support: the text tests train on, integer draws only",
	"pretune/core/testenv":               "test support: whether Chromium and Vulkan are required",
}

// mayDiffer names the files on the training path that may use platform-dependent float math
// (package math functions, fusable multiply-adds), each with the reason: none of their results
// feed a training step, an evaluation or a fingerprint.
var mayDiffer = map[string]string{
	"core/corpus/entropy.go": "UnigramEntropy measures a text for tests and display (math.Log); training never calls it",
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	return testenv.GoList(t, nil, "-m", "-f", "{{.Dir}}")[0]
}

// trainingPath lists the pretune/core/... packages the trainers link, sorted by import path,
// with the union of their non-test files over the trainers' targets.
func trainingPath(t *testing.T) []pkg {
	t.Helper()
	files := map[string][]string{}
	for _, tr := range trainers {
		for _, line := range testenv.GoList(t, tr.goos, "-deps", "-f", `{{.ImportPath}}{{range .GoFiles}} {{$.Dir}}/{{.}}{{end}}`, tr.pkg) {
			fields := strings.Fields(line)
			if len(fields) == 0 || fields[0] != "pretune/core" && !strings.HasPrefix(fields[0], "pretune/core/") {
				continue
			}
			for _, f := range fields[1:] {
				if !slices.Contains(files[fields[0]], f) {
					files[fields[0]] = append(files[fields[0]], f)
				}
			}
		}
	}
	var pkgs []pkg
	for path, fs := range files {
		slices.Sort(fs)
		pkgs = append(pkgs, pkg{path, fs})
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return strings.Compare(a.path, b.path) })
	return pkgs
}

// differs reports whether the file (absolute) is one of mayDiffer's.
func differs(root, file string) bool {
	rel, err := filepath.Rel(root, file)
	return err == nil && mayDiffer[filepath.ToSlash(rel)] != ""
}

// TestTrainingPathCoversCore checks the list the other tests scan: it holds the packages a
// training step certainly runs, every pretune/core/... package is on it or excused in notOnPath,
// and every exception names something that exists.
func TestTrainingPathCoversCore(t *testing.T) {
	onPath := map[string]bool{}
	for _, p := range trainingPath(t) {
		onPath[p.path] = true
	}
	for _, want := range []string{"pretune/core", "pretune/core/ops", "pretune/core/job", "pretune/core/conformance"} {
		if !onPath[want] {
			t.Errorf("%s is missing from the training path (the listing is broken)", want)
		}
	}
	for _, p := range testenv.GoList(t, nil, "pretune/core/...") {
		switch {
		case onPath[p] && notOnPath[p] != "":
			t.Errorf("%s is on the training path: remove it from notOnPath", p)
		case !onPath[p] && notOnPath[p] == "":
			t.Errorf("%s is linked by no trainer: if it is not on the training path, add it to notOnPath with the reason", p)
		}
	}
	root := moduleRoot(t)
	for f := range mayDiffer {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("mayDiffer names %s, which does not exist", f)
		}
	}
}
