//go:build js

package main

import (
	"embed"
	"io/fs"
)

// keptBaseFS is empty in the browser build: the command line does not run there, and the trainer
// worker fetches the kept bases from the server instead.
func keptBaseFS() fs.FS { return embed.FS{} }
