//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"syscall/js"

	"pretune/core/protocol"
	"pretune/wasm/worker"
)

// jsHelper is a helper worker of a sharded pretraining: a nested dedicated Web Worker running
// this same trainer.wasm (web/worker.js), started by the leader worker. Shard requests and
// replies travel as transferred ArrayBuffers (no copy between the threads); the helper's
// JSON messages say when it is ready or why it failed. Its callbacks never block: they hand
// replies to a buffered channel that Recv waits on (waiting yields to the event loop).
type jsHelper struct {
	w            js.Value
	onMsg, onErr js.Func
	ready, dead  atomic.Bool
	replies      chan helperReply
	buf          []byte // the replies' bytes, reused (one reply a request)
}

type helperReply struct {
	data []byte
	err  error
}

// spawnHelper starts a helper from this worker's own script.
func spawnHelper() (worker.Helper, error) {
	ctor := js.Global().Get("Worker")
	if !ctor.Truthy() {
		return nil, errors.New("this browser cannot start a worker from a worker")
	}
	h := &jsHelper{replies: make(chan helperReply, 4)}
	h.onMsg = js.FuncOf(func(this js.Value, args []js.Value) any {
		data := args[0].Get("data")
		if data.Type() == js.TypeString {
			var m protocol.Message
			if json.Unmarshal([]byte(data.String()), &m) == nil {
				switch m.Kind {
				case protocol.Ready:
					h.ready.Store(true)
				case protocol.Error:
					h.fail(errors.New(m.Error))
				}
			}
			return nil
		}
		// One reply per request, read before the next request is sent (worker.Helper): the
		// buffer is reused, sparing the garbage collector half a megabyte a step.
		u8 := js.Global().Get("Uint8Array").New(data)
		if cap(h.buf) < u8.Length() {
			h.buf = make([]byte, u8.Length())
		}
		b := h.buf[:u8.Length()]
		js.CopyBytesToGo(b, u8)
		h.push(helperReply{data: b})
		return nil
	})
	h.onErr = js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "a helper worker stopped"
		if len(args) > 0 && args[0].Get("message").Truthy() {
			msg += ": " + args[0].Get("message").String()
		}
		h.fail(errors.New(msg))
		return nil
	})
	// A worker's location is its script's URL, so the helper runs this very trainer.
	h.w = ctor.New(js.Global().Get("location").Get("href"))
	h.w.Set("onmessage", h.onMsg)
	h.w.Set("onerror", h.onErr)
	return h, nil
}

func (h *jsHelper) push(r helperReply) {
	select {
	case h.replies <- r:
	default: // more than the leader waits for: a bug on the helper's side; drop it
	}
}

func (h *jsHelper) fail(err error) {
	if !h.dead.Swap(true) {
		h.push(helperReply{err: err})
	}
}

func (h *jsHelper) Ready() bool { return h.ready.Load() && !h.dead.Load() }

func (h *jsHelper) Send(msg []byte) error {
	if h.dead.Load() {
		return errors.New("the helper worker stopped")
	}
	postBytes(h.w, msg)
	return nil
}

func (h *jsHelper) Recv() ([]byte, error) {
	r := <-h.replies
	return r.data, r.err
}

func (h *jsHelper) Close() {
	h.dead.Store(true)
	h.w.Call("terminate")
	h.w.Set("onmessage", js.Null())
	h.w.Set("onerror", js.Null())
	h.onMsg.Release()
	h.onErr.Release()
}

// postBytes posts msg to target (a Worker, or this worker's global scope) as an ArrayBuffer
// it transfers, so the receiving thread takes it without a copy.
func postBytes(target js.Value, msg []byte) {
	u8 := js.Global().Get("Uint8Array").New(len(msg))
	js.CopyBytesToJS(u8, msg)
	buf := u8.Get("buffer")
	target.Call("postMessage", buf, []any{buf})
}

// serveShards answers a leader's shard requests when this worker is a helper: web/worker.js
// hands each ArrayBuffer it gets to pretuneShard.
func serveShards(h *worker.Handler) {
	var in []byte // each request's bytes; HandleShard is done with them when it returns
	js.Global().Set("pretuneShard", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		u8 := js.Global().Get("Uint8Array").New(args[0])
		if cap(in) < u8.Length() {
			in = make([]byte, u8.Length())
		}
		b := in[:u8.Length()]
		js.CopyBytesToGo(b, u8)
		// HandleShard's reply buffer is reused by the next request, which cannot come before
		// this one is answered: post it now, copied into a transferable buffer.
		postBytes(js.Global(), h.HandleShard(b))
		return nil
	}))
}
