package app

import (
	"bytes"
	"encoding/json"
	"sync"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/runspec"
	"pretune/core/task"
)

// redrawEvery is the shortest time between two redraws a view's workers cause: four a second
// keeps the numbers moving, and a comparison's four workers no longer redraw the whole view at
// every message (each redraw is Go under wasm diffing the view's tree on the page's only thread).
const redrawEvery = 250 * time.Millisecond

// redrawThrottle spaces a component's redraws for worker messages: every message is handled at
// once, on the UI goroutine, but the component is redrawn only when its last redraw is
// redrawEvery old; otherwise one redraw follows when that time is up, showing everything that
// arrived meanwhile.
type redrawThrottle struct {
	last    time.Time // the last redraw it let through or made
	pending bool      // a redraw is scheduled
}

// dispatch runs fn on ctx's UI goroutine, then redraws ctx's component now or soon.
func (r *redrawThrottle) dispatch(ctx app.Context, fn func()) {
	quietly(ctx, func(ctx app.Context) {
		fn()
		if wait := r.wait(time.Now()); wait == 0 {
			ctx.Dispatch(func(app.Context) {})
		} else if !r.pending {
			r.pending = true
			ctx.After(wait, func(app.Context) { r.pending, r.last = false, time.Now() })
		}
	})
}

// quietly runs fn on ctx's UI goroutine without redrawing ctx's component. go-app (v9.8)
// redraws the component after every function ctx.Dispatch runs, even one that called
// PreventUpdate (the engine marks the component after the function returns, undoing it): the
// throttle above and the heatmap's chunks each redrew the whole compare view at every worker
// message and every frame. A dispatch in go-app's Next mode runs the function alone.
func quietly(ctx app.Context, fn func(app.Context)) {
	ctx.Dispatcher().Dispatch(app.Dispatch{Mode: app.Next, Source: ctx.Src(), Function: fn})
}

// quietlyAfter is quietly after d (ctx.After without the redraw).
func quietlyAfter(ctx app.Context, d time.Duration, fn func(app.Context)) {
	ctx.Async(func() {
		time.Sleep(d)
		quietly(ctx, fn)
	})
}

// wait is how long a redraw at now must wait (0: redraw now, and it counts as the last).
func (r *redrawThrottle) wait(now time.Time) time.Duration {
	if since := now.Sub(r.last); since < redrawEvery {
		return redrawEvery - since
	}
	r.last = now
	return 0
}

// specMemo keeps the comparison form's last Spec: the view asks for it at every redraw (to say
// what is wrong with the form and to enable Run), and building it encodes and decodes a link and
// hashes the task, tens of milliseconds under wasm, for a form that does not change while the
// comparison runs. The key is the form's JSON (every field of the form is exported) and the
// language.
type specMemo struct {
	key  []byte
	spec runspec.Spec
	err  error
}

func (m *specMemo) get(form compareSetup, l Lang) (runspec.Spec, error) {
	key, err := json.Marshal(struct {
		Form compareSetup
		Lang Lang
	}{form, l})
	if err != nil || m.key == nil || !bytes.Equal(key, m.key) {
		m.spec, m.err = form.Spec(l)
		m.key = key
		if err != nil {
			m.key = nil // nothing to compare the next form with: build it again next time
		}
	}
	return m.spec, m.err
}

// builtinMeta keeps each built-in task's language and kind ([2]string) by id: the comparison
// form lists the tasks that fit its base at every redraw, and task.Builtin hands out a fresh copy
// of a whole task each call.
var builtinMeta sync.Map

// builtinLangKind is the built-in task id's language and kind (ok false for an unknown id).
func builtinLangKind(id string) (lang, kind string, ok bool) {
	if v, ok := builtinMeta.Load(id); ok {
		m := v.([2]string)
		return m[0], m[1], true
	}
	t, err := task.Builtin(id)
	if err != nil {
		return "", "", false
	}
	builtinMeta.Store(id, [2]string{t.Lang, t.Kind})
	return t.Lang, t.Kind, true
}

// heatmaps keeps the last markup loraHeatmap drew for each id (heatmapKey), since the
// comparison view draws the LoRA panel at every redraw and a 64×64 update is four thousand
// cells, each with its title in the page's language: hundreds of milliseconds under wasm for
// markup that changes only when the update, the layer picked or the language does.
var heatmaps sync.Map // id -> heatmapEntry

type heatmapKey struct {
	lang              Lang
	layer, rows, cols int
	target            string
	delta             *float32 // the update's own numbers (a new update is a new slice)
	n                 int
}

type heatmapEntry struct {
	key    heatmapKey
	pieces heatPieces
	// shell is the heatmap with its cells group empty: what the page mounts, then fills a
	// chunk of heatmapChunk cells a frame (fillHeatmap), each chunk's markup written then.
	shell string
	html  string // the whole markup, once keptHeatmap asked for it
}

// chunks is how many chunks the heatmap's cells make.
func (e heatmapEntry) chunks() int {
	return (len(e.pieces.cells) + heatmapChunk - 1) / heatmapChunk
}

// chunk is the markup of chunk k's cells.
func (e heatmapEntry) chunk(k int) string {
	return e.pieces.cellsMarkup(k*heatmapChunk, min((k+1)*heatmapChunk, len(e.pieces.cells)))
}

// keptHeatmap is loraHeatmap(id, l, u), drawn again only when its key changes.
func keptHeatmap(id string, l Lang, u core.LoRAUpdate) string {
	e := keptEntry(id, l, u)
	if e.html == "" {
		e.html = e.pieces.head + e.pieces.cellsMarkup(0, len(e.pieces.cells)) + e.pieces.tail
		heatmaps.Store(id, e)
	}
	return e.html
}

// keptEntry is the kept entry for id and u in l, made now when there is none: its pieces, and
// no cell's markup yet.
func keptEntry(id string, l Lang, u core.LoRAUpdate) heatmapEntry {
	if e, ok := heatmapNow(id, l, u); ok {
		return e
	}
	e := heatmapEntry{key: keyOf(l, u), pieces: heatmapPieces(id, l, u)}
	e.shell = e.pieces.head + e.pieces.tail
	heatmaps.Store(id, e)
	return e
}

func keyOf(l Lang, u core.LoRAUpdate) heatmapKey {
	k := heatmapKey{lang: l, layer: u.Layer, rows: u.Rows, cols: u.Cols, target: u.Target, n: len(u.Delta)}
	if len(u.Delta) > 0 {
		k.delta = &u.Delta[0]
	}
	return k
}

// heatmapNow is the kept entry for id when it is u's in language l (ok true); otherwise the
// entry last kept for id (empty for none) and ok false.
func heatmapNow(id string, l Lang, u core.LoRAUpdate) (e heatmapEntry, ok bool) {
	v, found := heatmaps.Load(id)
	if !found {
		return e, false
	}
	e = v.(heatmapEntry)
	return e, e.key == keyOf(l, u)
}

// heatmapChunk is how many cells of a heatmap the page adds in one task (one a frame): a
// 64×64 heatmap mounted whole was tens of milliseconds of parsing in one task, then over a
// hundred of style and layout in the next.
const heatmapChunk = 256

// heatmapLater is the heatmap the page shows for a LoRA panel: its markup without its cells,
// which fillHeatmap then adds, heatmapChunk a frame, each chunk's markup written in its own task.
// Whole, the markup of four thousand titled cells, their parsing and their layout made one or two
// tasks of 70 to 150 ms. The shell is a few lines, drawn in the redraw that shows the panel (a
// new result, another layer, another language). Off the browser (the unit tests' renders) it is
// drawn whole.
func (c *Compare) heatmapLater(id string, l Lang, u core.LoRAUpdate) string {
	if c.ctx == nil || !app.IsClient {
		return keptHeatmap(id, l, u)
	}
	e := keptEntry(id, l, u)
	c.fillHeatmap(id)
	return e.shell
}

// fillHeatmap adds the kept entry's cells to the heatmap element id once it is mounted (after
// this redraw), a chunk a frame, each in a task that redraws nothing. A fill marks its element
// (a JS property, not an attribute): an element filled already is left alone, and a fill whose
// element was replaced meanwhile (another layer, another language) starts again on the new one.
func (c *Compare) fillHeatmap(id string) {
	if c.heatFilling == nil {
		c.heatFilling = map[string]bool{}
	}
	if c.heatFilling[id] {
		return
	}
	c.heatFilling[id] = true
	var step func(k, mark int)
	step = func(k, mark int) {
		wait := time.Millisecond // the first chunk just after this redraw, then one a frame
		if k > 0 {
			wait = 16 * time.Millisecond
		}
		quietlyAfter(c.ctx, wait, func(ctx app.Context) {
			el := app.Window().Get("document").Call("getElementById", id)
			v, found := heatmaps.Load(id)
			if !found || !el.Truthy() {
				delete(c.heatFilling, id)
				return
			}
			g := el.Call("querySelector", "g.cells")
			fill := el.Get("pretuneFill")
			if k == 0 || fill.Type() != app.TypeNumber || fill.Int() != mark {
				if fill.Truthy() || !g.Truthy() || g.Get("childElementCount").Int() > 0 {
					delete(c.heatFilling, id) // filled already (or not a heatmap of ours)
					return
				}
				c.heatSerial++
				k, mark = 0, c.heatSerial // a new element: fill it from its first cell
				el.Set("pretuneFill", mark)
			}
			e := v.(heatmapEntry)
			if k < e.chunks() {
				g.Call("insertAdjacentHTML", "beforeend", e.chunk(k))
			}
			if k+1 >= e.chunks() {
				delete(c.heatFilling, id)
				return
			}
			step(k+1, mark)
		})
	}
	step(0, 0)
}
