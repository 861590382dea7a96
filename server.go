// Command pretune is the playground's server and command line. Compiled with GOOS=js it is the
// browser UI (web/app.wasm); compiled natively it serves that UI, lists the presets and runs a
// share link headless:
//
//	go run .                          serve http://127.0.0.1:8080 (-addr to change)
//	go run . -presets                 one line per preset: name, a tab, its code
//	go run . -run CODE_OR_URL [-json] [-out FILE]
//
// Only this file is shared by both builds: the routes, which the server's go-app handler needs
// too. Everything native (the command line, the server, the static-site writer, the kept bases)
// carries `//go:build !js`, and cli_js.go stands in for the command line, so app.wasm links none
// of it, nor the WebGPU device.
package main

import (
	"os"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	ui "pretune/app"
)

func main() {
	app.Route("/", &ui.Home{})
	// In the browser this call never returns; natively it does nothing.
	app.RunWhenOnBrowser()
	os.Exit(commandLine(os.Args[1:], os.Stdout, os.Stderr))
}
