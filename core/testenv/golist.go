package testenv

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// GoCommand is the go command's path for tests that ask it about the module (go list, go build
// -S); it skips t where there is none: under wasm, or off PATH.
func GoCommand(t testing.TB) string {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("needs the go command, which does not run under wasm")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	return gobin
}

// GoList runs go list with args, env added to the environment (GOOS=js GOARCH=wasm, say), and
// returns the lines it prints; it fails t with go list's own message when that fails.
func GoList(t testing.TB, env []string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(GoCommand(t), append([]string{"list"}, args...)...)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
