//go:build js

package main

import (
	"fmt"
	"io"
)

// commandLine stands in for the native program (cli.go) in the browser build, so that app.wasm
// links none of the command line, the server, the static-site writer or the WebGPU device. It
// is never reached there: app.RunWhenOnBrowser does not return in the browser.
func commandLine(_ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "pretune: the command line runs natively only")
	return 2
}
