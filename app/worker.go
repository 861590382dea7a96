package app

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
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
		m, err := decodeMessage(args[0].Get("data"))
		if err != nil {
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
	var early []app.Value
	t.w, early = adoptEarlyWorker(script)
	if t.w == nil {
		t.w = app.Window().Get("Worker").New(script)
	}
	t.w.Set("onmessage", t.onMsg)
	t.w.Set("onerror", t.onErr)
	for _, e := range early { // what it said before the page took it (its ready message)
		m, err := decodeMessage(e.Get("data"))
		if err != nil {
			m = protocol.Message{Kind: protocol.Error, Error: "the trainer sent a message the page cannot read: " + err.Error()}
		}
		t.push(m)
	}
	go t.pump(handle)
	return t
}

// adoptEarlyWorker takes the trainer worker the page's head started for a link (earlyWorkerScript
// in the server: trainer.wasm loads on the worker's thread while app.wasm loads on this one) when
// it runs script, with the messages it sent before; nil when there is none (or it was taken).
func adoptEarlyWorker(script string) (app.Value, []app.Value) {
	win := app.Window()
	early := win.Get("pretuneEarlyWorker")
	if !early.Truthy() || early.Get("script").String() != script {
		return nil, nil
	}
	win.Set("pretuneEarlyWorker", nil)
	msgs := early.Get("messages")
	out := make([]app.Value, msgs.Length())
	for i := range out {
		out[i] = msgs.Index(i)
	}
	return early.Get("worker"), out
}

// bigMessage is the length (in bytes of JSON) from which decodeMessage lifts a message's data
// out with the browser's decoders: a snapshot or a saved model, hundreds of kilobytes of base64,
// or a LoRA method's result, tens of thousands of numbers in its updates.
const bigMessage = 16 << 10

// isBig and liftBig are JS functions made at the first message (only the UI goroutine calls
// decodeMessage). isBig (s, n): whether the string s is at least n long and carries "data" or
// LoRA updates. liftBig (s): s parsed by JSON.parse, with its base64 "data" and every update's
// "delta" taken out: {rest: the other fields as JSON, data: the base64 string or undefined,
// deltas: the deltas one after another as float32 bytes (a Uint8Array) or undefined, lens: each
// delta's length, comma-separated}. Float32Array rounds each number as Go's float32 parse does
// (the worker wrote float32s in their shortest form, which a float64 then float32 round trips).
var isBig, liftBig app.Value

const liftBigJS = `const o = JSON.parse(s);
const out = {rest: '', data: undefined, deltas: undefined, lens: ''};
if (typeof o.data === 'string') { out.data = o.data; delete o.data; }
const ups = o.event && o.event.lora_updates;
if (Array.isArray(ups) && ups.length > 0) {
	let n = 0;
	for (const u of ups) n += Array.isArray(u.delta) ? u.delta.length : 0;
	const f = new Float32Array(n), lens = [];
	let at = 0;
	for (const u of ups) {
		const d = Array.isArray(u.delta) ? u.delta : [];
		f.set(d, at);
		at += d.length;
		lens.push(d.length);
		delete u.delta;
	}
	out.deltas = new Uint8Array(f.buffer);
	out.lens = lens.join(',');
}
out.rest = JSON.stringify(o);
return out;`

// decodeMessage reads one worker message (a JSON string). Go's encoding/json and base64 under
// wasm run on the page's only thread at a few tens of MB/s: a pretraining's snapshot (the model
// and optimizer state, base64 in "data") held the page for over 50 ms, and so did a LoRA
// method's result (its updates, eight 64×64 matrices of numbers for en-lesson, parsed one
// number at a time). For a big message the browser's own JSON.parse, Uint8Array.fromBase64 and
// Float32Array (native, a few milliseconds) take the data and the numbers out, and Go decodes
// the small rest and copies the bytes in one call each. Where the browser lacks fromBase64
// (before Chromium 140, Firefox 133, Safari 18.2), Go decodes the base64 alone, which still
// skips encoding/json's scans of it.
func decodeMessage(data app.Value) (protocol.Message, error) {
	var m protocol.Message
	// The length and the search run on the JS string: copying a big one into Go alone (UTF-16
	// to UTF-8, then into wasm memory) took tens of milliseconds.
	// (A string is a primitive: syscall/js's Get, Call and Length refuse it, so a JS function
	// made once asks.)
	if isBig == nil {
		isBig = app.Window().Get("Function").New("s", "n", `return s.length >= n && (s.includes('"data":"') || s.includes('"lora_updates":['))`)
		liftBig = app.Window().Get("Function").New("s", liftBigJS)
	}
	if !isBig.Call("call", nil, data, bigMessage).Bool() { // Call, not Invoke: only Call unwraps app.Values
		return m, json.Unmarshal([]byte(data.String()), &m)
	}
	parts := liftBig.Call("call", nil, data)
	if err := json.Unmarshal([]byte(parts.Get("rest").String()), &m); err != nil {
		return m, err
	}
	if d := parts.Get("deltas"); d.Truthy() && m.Event != nil {
		if err := setDeltas(m.Event.LoRAUpdates, d, parts.Get("lens").String()); err != nil {
			return m, err
		}
	}
	b64 := parts.Get("data")
	if b64.Type() != app.TypeString {
		return m, nil
	}
	if u8 := app.Window().Get("Uint8Array"); u8.Get("fromBase64").Truthy() {
		arr := u8.Call("fromBase64", b64)
		m.Data = make([]byte, arr.Get("length").Int())
		app.CopyBytesToGo(m.Data, arr)
		return m, nil
	}
	raw, err := base64.StdEncoding.DecodeString(b64.String())
	m.Data = raw
	return m, err
}

// setDeltas gives each update its delta from liftBig's: raw, the deltas' float32 bytes one
// after another (little-endian, as wasm and every browser store them), and lens, their lengths.
func setDeltas(us []core.LoRAUpdate, raw app.Value, lens string) error {
	ns := strings.Split(lens, ",")
	if len(ns) != len(us) {
		return fmt.Errorf("%d LoRA updates but %d deltas", len(us), len(ns))
	}
	b := make([]byte, raw.Get("length").Int())
	app.CopyBytesToGo(b, raw)
	all := deltasFromBytes(b)
	for i, s := range ns {
		n, err := strconv.Atoi(s)
		if err != nil || n > len(all) {
			return fmt.Errorf("LoRA update %d: bad delta length %q", i, s)
		}
		if n > 0 {
			us[i].Delta, all = all[:n:n], all[n:]
		}
	}
	return nil
}

// deltasFromBytes reads little-endian float32s.
func deltasFromBytes(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// encodeRequest is r as the JSON string the worker reads. A request carrying a model (a base
// checkpoint, a run to resume, an adapter: a megabyte or more) has those bytes base64-encoded by
// the browser (Uint8Array's toBase64) and the JSON put together by JSON.stringify: Go's
// encoding/json under wasm took about a hundred milliseconds of the page's only thread for each
// of a comparison's workers. Without toBase64 (browsers before 2025) Go encodes it all.
func encodeRequest(r protocol.Request) any {
	big := map[string][]byte{"base": r.Base, "resume": r.Resume, "adapter": r.Adapter}
	size := len(r.Base) + len(r.Resume) + len(r.Adapter)
	u8 := app.Window().Get("Uint8Array")
	if size >= bigMessage && u8.Get("prototype").Get("toBase64").Truthy() {
		small := r
		small.Base, small.Resume, small.Adapter = nil, nil, nil
		data, err := json.Marshal(small)
		if err != nil { // a Request has nothing JSON cannot encode
			panic(err)
		}
		jsJSON := app.Window().Get("JSON")
		obj := jsJSON.Call("parse", string(data))
		for name, b := range big {
			if len(b) > 0 {
				arr := u8.New(len(b))
				app.CopyBytesToJS(arr, b)
				obj.Set(name, arr.Call("toBase64"))
			}
		}
		return jsJSON.Call("stringify", obj)
	}
	data, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return string(data)
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
	t.w.Call("postMessage", encodeRequest(r))
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
