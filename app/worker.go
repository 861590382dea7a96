package app

import (
	"encoding/json"
	"sync"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/protocol"
)

// trainer is one Web Worker running web/trainer.wasm: the page sends it protocol requests and
// hears its messages. Messages arrive in a JS callback, which must never block, so the callback
// only queues them; a goroutine hands them, in order, to the component's handler.
type trainer struct {
	w       app.Value
	onMsg   app.Func
	onErr   app.Func
	mu      sync.Mutex
	queue   []protocol.Message
	wake    chan struct{}
	stopped chan struct{}
	once    sync.Once
	nextID  int
}

// newTrainer starts a worker from script (the page resolves it for a sub-path) and calls handle
// with each of its messages on a goroutine of its own, never inside a JS callback.
func newTrainer(script string, handle func(protocol.Message)) *trainer {
	t := &trainer{wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	t.onMsg = app.FuncOf(func(this app.Value, args []app.Value) any {
		var m protocol.Message
		if err := json.Unmarshal([]byte(args[0].Get("data").String()), &m); err != nil {
			m = protocol.Message{Kind: protocol.Error, Error: "the trainer sent a message the page cannot read: " + err.Error()}
		}
		t.push(m)
		return nil
	})
	t.onErr = app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "the trainer stopped with an error"
		if len(args) > 0 && args[0].Get("message").Truthy() {
			msg += ": " + args[0].Get("message").String()
		}
		t.push(protocol.Message{Kind: protocol.Error, Error: msg})
		return nil
	})
	t.w = app.Window().Get("Worker").New(script)
	t.w.Set("onmessage", t.onMsg)
	t.w.Set("onerror", t.onErr)
	go t.pump(handle)
	return t
}

func (t *trainer) push(m protocol.Message) {
	t.mu.Lock()
	t.queue = append(t.queue, m)
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *trainer) pump(handle func(protocol.Message)) {
	for {
		select {
		case <-t.stopped:
			return
		case <-t.wake:
		}
		t.mu.Lock()
		q := t.queue
		t.queue = nil
		t.mu.Unlock()
		for _, m := range q {
			handle(m)
		}
	}
}

// send posts a request with a fresh id and returns the id.
func (t *trainer) send(r protocol.Request) int {
	t.nextID++
	r.ID = t.nextID
	data, err := json.Marshal(r)
	if err != nil { // a Request has nothing JSON cannot encode
		panic(err)
	}
	t.w.Call("postMessage", string(data))
	return r.ID
}

// close ends the worker at once (mid-step too) and frees its memory.
func (t *trainer) close() {
	t.once.Do(func() {
		t.w.Call("terminate")
		close(t.stopped)
		t.onMsg.Release()
		t.onErr.Release()
	})
}

// worker is what a view's state needs of a trainer: post a request (its id comes back) and end
// it. *trainer is the browser's; the state's tests use a recorder, so they run without one.
type worker interface {
	send(protocol.Request) int
	close()
}
