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
	ctx.Dispatch(func(ctx app.Context) {
		fn()
		if wait := r.wait(time.Now()); wait > 0 {
			ctx.PreventUpdate()
			if !r.pending {
				r.pending = true
				ctx.After(wait, func(app.Context) { r.pending, r.last = false, time.Now() })
			}
		}
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
	key  heatmapKey
	html string
}

// keptHeatmap is loraHeatmap(id, l, u), drawn again only when its key changes.
func keptHeatmap(id string, l Lang, u core.LoRAUpdate) string {
	k := heatmapKey{lang: l, layer: u.Layer, rows: u.Rows, cols: u.Cols, target: u.Target, n: len(u.Delta)}
	if len(u.Delta) > 0 {
		k.delta = &u.Delta[0]
	}
	if e, ok := heatmaps.Load(id); ok && e.(heatmapEntry).key == k {
		return e.(heatmapEntry).html
	}
	html := loraHeatmap(id, l, u)
	heatmaps.Store(id, heatmapEntry{k, html})
	return html
}
