package app

import (
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"

	"pretune/core/task"
)

// TestRedrawThrottle: the first redraw goes at once; others within redrawEvery of it wait for
// the rest of the interval; one after the interval goes at once again.
func TestRedrawThrottle(t *testing.T) {
	var r redrawThrottle
	t0 := time.Unix(1000, 0)
	require.Zero(t, r.wait(t0))
	require.Equal(t, redrawEvery-100*time.Millisecond, r.wait(t0.Add(100*time.Millisecond)))
	require.Equal(t, redrawEvery-200*time.Millisecond, r.wait(t0.Add(200*time.Millisecond)), "a held redraw does not move the last one")
	require.Zero(t, r.wait(t0.Add(redrawEvery)))
	require.Equal(t, redrawEvery, r.wait(t0.Add(redrawEvery)), "the one just let through counts as the last")
}

// TestSpecMemo: the memo gives the form's own Spec, and a new one for any change to the form,
// a method's row changed in place included, or to the language.
func TestSpecMemo(t *testing.T) {
	var m specMemo
	form := defaultCompareSetup(EN)
	check := func(what string, l Lang) {
		t.Helper()
		want, wantErr := form.Spec(l)
		got, err := m.get(form, l)
		require.Equal(t, wantErr, err, what)
		require.Equal(t, want, got, what)
	}
	check("the first form", EN)
	check("the same form again", EN)
	form.Steps++
	check("more steps", EN)
	for i := range form.Methods {
		form.Methods[i].On = !form.Methods[i].On // in place: the memo must not share the slice
	}
	check("every method toggled in place", EN)
	check("Chinese", ZH)
	for i := range form.Methods {
		form.Methods[i].On = false
	}
	check("no method: an error", ZH)
	_, err := m.get(form, ZH)
	require.Error(t, err)
}

// TestKeptTaskFacts: the kept language and kind of every built-in task are the task's own, and
// a kept SFT example is the one built afresh, handed out as a copy the caller may change.
func TestKeptTaskFacts(t *testing.T) {
	for _, id := range task.Builtins() {
		want, err := task.Builtin(id)
		require.NoError(t, err)
		for range 2 { // built, then kept
			lang, kind, ok := builtinLangKind(id)
			require.True(t, ok, id)
			require.Equal(t, [2]string{want.Lang, want.Kind}, [2]string{lang, kind}, id)
		}
		fresh, freshErr := sftExampleOf(want, true)
		for range 2 {
			got, err := sftExample(id, true)
			require.Equal(t, freshErr, err, id)
			require.Equal(t, fresh, got, id)
			if len(got) > 0 {
				got[0].Text += "changed by the caller"
			}
		}
	}
	_, _, ok := builtinLangKind("no-such-task")
	require.False(t, ok)
}

// TestKeptHeatmap: the kept markup is loraHeatmap's, drawn again for a new update (a new slice
// of numbers), another layer or another language, and not otherwise.
func TestKeptHeatmap(t *testing.T) {
	u := update(0, "q_proj", 4, 4, func(i, j int) float32 { return float32(i - j) })
	require.Equal(t, loraHeatmap("kept-map", EN, u), keptHeatmap("kept-map", EN, u))
	first := keptHeatmap("kept-map", EN, u)
	require.Equal(t, first, keptHeatmap("kept-map", EN, u))
	v := update(0, "q_proj", 4, 4, func(i, j int) float32 { return float32(i + j) })
	require.Equal(t, loraHeatmap("kept-map", EN, v), keptHeatmap("kept-map", EN, v), "a new update")
	require.NotEqual(t, first, keptHeatmap("kept-map", EN, v))
	require.Equal(t, loraHeatmap("kept-map", ZH, v), keptHeatmap("kept-map", ZH, v), "another language")
	v.Layer = 1
	require.Equal(t, loraHeatmap("kept-map", ZH, v), keptHeatmap("kept-map", ZH, v), "another layer")
}

// throttleTest is a view that counts its drawings and redraws through a redrawThrottle.
type throttleTest struct {
	app.Compo
	ctx    app.Context
	redraw redrawThrottle
	draws  int
	got    int
}

func (v *throttleTest) OnMount(ctx app.Context) { v.ctx = ctx }
func (v *throttleTest) Render() app.UI          { v.draws++; return app.P().Text(v.got) }

// TestThrottleRedrawsOnce: ten worker messages, each in a frame of its own, are each handled
// but redraw the view once at once and once when redrawEvery is up, not ten times (go-app
// redraws a component after every dispatched function, even one that called PreventUpdate,
// which is how this throttle once tried to skip its redraws).
func TestThrottleRedrawsOnce(t *testing.T) {
	v := &throttleTest{}
	d := app.NewClientTester(v)
	defer d.Close()
	d.Consume()
	n, began := v.draws, time.Now()
	for range 10 {
		v.redraw.dispatch(v.ctx, func() { v.got++ })
		d.ConsumeNext()
	}
	d.Consume()
	require.Equal(t, 10, v.got, "every message handled")
	// (The tester waits out each pending redraw's timer in ConsumeNext: time passes.)
	most := 1 + int(time.Since(began)/redrawEvery)
	require.LessOrEqual(t, v.draws-n, most, "one redraw at once, then one each redrawEvery at most")
	require.Contains(t, app.HTMLString(v), ">10<", "the last redraw shows them all")
}
