package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
