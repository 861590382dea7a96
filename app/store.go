package app

import (
	"encoding/json"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// The unfinished run is kept in IndexedDB (database "pretune", store "runs", key "last"): its
// setup and curves as JSON, and the trainer's state at the last evaluation as bytes, so a closed
// or crashed tab can resume it exactly. Every call is asynchronous and never blocks a JS
// callback.

// savedRun is what the page keeps of an unfinished run.
type savedRun struct {
	Name    string   `json:"name"`
	Code    string   `json:"code"`
	Device  string   `json:"device"`
	Step    int      `json:"step"`
	Steps   int      `json:"steps"`
	Points  []point  `json:"points"`
	Samples []sample `json:"samples"`
	State   []byte   `json:"-"` // job.Resume bytes, stored as a Uint8Array beside the JSON
}

const (
	idbName  = "pretune"
	idbStore = "runs"
	idbKey   = "last"
)

// withStore opens the store and calls fn with it inside the open request's callback (fn may
// only start more requests there).
func withStore(mode string, fn func(store app.Value)) {
	idb := app.Window().Get("indexedDB")
	if !idb.Truthy() {
		return
	}
	req := idb.Call("open", idbName, 1)
	var upgrade, success, failure app.Func
	release := func() { upgrade.Release(); success.Release(); failure.Release() }
	upgrade = app.FuncOf(func(this app.Value, args []app.Value) any {
		req.Get("result").Call("createObjectStore", idbStore)
		return nil
	})
	success = app.FuncOf(func(this app.Value, args []app.Value) any {
		db := req.Get("result")
		tx := db.Call("transaction", idbStore, mode)
		fn(tx.Call("objectStore", idbStore))
		var done app.Func
		done = app.FuncOf(func(this app.Value, args []app.Value) any {
			db.Call("close")
			done.Release()
			return nil
		})
		tx.Set("oncomplete", done)
		release()
		return nil
	})
	failure = app.FuncOf(func(this app.Value, args []app.Value) any {
		release()
		return nil
	})
	req.Set("onupgradeneeded", upgrade)
	req.Set("onsuccess", success)
	req.Set("onerror", failure)
}

// storeRun keeps s, replacing the run kept before.
func storeRun(s savedRun) {
	meta, err := json.Marshal(s)
	if err != nil {
		return
	}
	state := app.Window().Get("Uint8Array").New(len(s.State))
	app.CopyBytesToJS(state, s.State)
	withStore("readwrite", func(store app.Value) {
		store.Call("put", map[string]any{"meta": string(meta), "state": state}, idbKey)
	})
}

// forgetRun drops the kept run (it finished, or the learner discarded it).
func forgetRun() {
	withStore("readwrite", func(store app.Value) { store.Call("delete", idbKey) })
}

// loadRun reads the kept run, if any, and hands it to done on the UI goroutine.
func loadRun(ctx app.Context, done func(ctx app.Context, s *savedRun)) {
	withStore("readonly", func(store app.Value) {
		req := store.Call("get", idbKey)
		var got app.Func
		got = app.FuncOf(func(this app.Value, args []app.Value) any {
			got.Release()
			v := req.Get("result")
			if !v.Truthy() {
				return nil
			}
			var s savedRun
			if err := json.Unmarshal([]byte(v.Get("meta").String()), &s); err != nil {
				return nil
			}
			st := v.Get("state")
			s.State = make([]byte, st.Length())
			app.CopyBytesToGo(s.State, st)
			go ctx.Dispatch(func(ctx app.Context) { done(ctx, &s) })
			return nil
		})
		req.Set("onsuccess", got)
	})
}
