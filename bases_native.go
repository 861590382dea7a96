//go:build !js

package main

import (
	"embed"
	"io/fs"
)

// keptBaseFiles are the base checkpoints kept in web/base (make base writes them): the command
// line starts the comparison presets from them instead of pretraining again. The browser build
// leaves them out of app.wasm; the trainer worker fetches them from the server.
//
//go:embed web/base
var keptBaseFiles embed.FS

func keptBaseFS() fs.FS {
	sub, err := fs.Sub(keptBaseFiles, "web/base")
	if err != nil {
		panic(err) // the pattern above names the folder
	}
	return sub
}
