package app

import (
	"errors"
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Small bridges to browser APIs. None blocks inside a JS callback: promise results are copied
// and handed to the UI goroutine with ctx.Dispatch from a goroutine.

// readFile reads the first file of an <input type=file> and calls done on the UI goroutine.
func readFile(ctx app.Context, input app.Value, done func(ctx app.Context, name string, data []byte)) {
	files := input.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return
	}
	file := files.Index(0)
	name := file.Get("name").String()
	var then app.Func
	then = app.FuncOf(func(this app.Value, args []app.Value) any {
		buf := app.Window().Get("Uint8Array").New(args[0])
		data := make([]byte, buf.Length())
		app.CopyBytesToGo(data, buf)
		then.Release()
		go ctx.Dispatch(func(ctx app.Context) { done(ctx, name, data) })
		return nil
	})
	file.Call("arrayBuffer").Call("then", then)
	input.Set("value", "") // choosing the same file again fires change again
}

// fetchBytes GETs url and calls done on the UI goroutine with the body, or with an error that
// says what failed: the HTTP status (a file missing on the server) or the network.
func fetchBytes(ctx app.Context, url string, done func(ctx app.Context, data []byte, err error)) {
	var onResp, onBody, onErr app.Func
	release := func() { onResp.Release(); onBody.Release(); onErr.Release() }
	fail := func(err error) {
		release()
		go ctx.Dispatch(func(ctx app.Context) { done(ctx, nil, err) })
	}
	onErr = app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "the network request failed"
		if len(args) > 0 && args[0].Truthy() {
			msg += ": " + args[0].Call("toString").String()
		}
		fail(errors.New(msg))
		return nil
	})
	onBody = app.FuncOf(func(this app.Value, args []app.Value) any {
		buf := app.Window().Get("Uint8Array").New(args[0])
		data := make([]byte, buf.Length())
		app.CopyBytesToGo(data, buf)
		release()
		go ctx.Dispatch(func(ctx app.Context) { done(ctx, data, nil) })
		return nil
	})
	onResp = app.FuncOf(func(this app.Value, args []app.Value) any {
		resp := args[0]
		if !resp.Get("ok").Bool() {
			fail(fmt.Errorf("HTTP %d %s", resp.Get("status").Int(), resp.Get("statusText").String()))
			return nil
		}
		resp.Call("arrayBuffer").Call("then", onBody, onErr)
		return nil
	})
	app.Window().Call("fetch", url).Call("then", onResp, onErr)
}

// download offers data as a file named name.
func download(data []byte, name string) {
	win := app.Window()
	arr := win.Get("Uint8Array").New(len(data))
	app.CopyBytesToJS(arr, data)
	// go-app v9.8.0 does not convert values inside a []any argument: build the array in JS.
	parts := win.Get("Array").New()
	parts.Call("push", arr)
	blob := win.Get("Blob").New(parts, map[string]any{"type": "application/octet-stream"})
	url := win.Get("URL").Call("createObjectURL", blob)
	a := win.Get("document").Call("createElement", "a")
	a.Set("href", url)
	a.Set("download", name)
	win.Get("document").Get("body").Call("appendChild", a)
	a.Call("click")
	a.Call("remove")
	win.Call("setTimeout", app.FuncOf(func(this app.Value, args []app.Value) any {
		win.Get("URL").Call("revokeObjectURL", url)
		return nil
	}), 10000)
}

// copyText puts text on the clipboard where the browser allows it; the page also shows the
// text, so a refused clipboard loses nothing.
func copyText(text string) {
	clip := app.Window().Get("navigator").Get("clipboard")
	if clip.Truthy() {
		p := clip.Call("writeText", text)
		// A refusal (no focus, no permission) rejects the promise: swallow it, the link shows.
		p.Call("catch", app.FuncOf(func(this app.Value, args []app.Value) any { return nil }))
	}
}

// highlight draws the learner's eye to a control a "try this" link changed, and focuses it.
func highlight(id string) {
	el := app.Window().GetElementByID(id)
	if !el.Truthy() {
		return
	}
	// A setup folded away (the compare and feedback views fold theirs once a run starts) opens
	// first: a control inside a closed <details> can take no focus and shows nothing.
	if box := el.Call("closest", "details"); box.Truthy() {
		box.Set("open", true)
	}
	el.Get("classList").Call("add", "flash")
	el.Call("focus")
	el.Call("scrollIntoView", map[string]any{"block": "center", "behavior": "smooth"})
	app.Window().Call("setTimeout", app.FuncOf(func(this app.Value, args []app.Value) any {
		el.Get("classList").Call("remove", "flash")
		return nil
	}), 2500)
}
