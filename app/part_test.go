package app

import (
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"
)

// partHostTest is a view with one part: it counts the part's drawings and its own-event
// notices, and keeps the part go-app mounted (the first one its Render made).
type partHostTest struct {
	app.Compo
	key     string
	draws   int
	changed int
	mounted *part
}

func (h *partHostTest) Render() app.UI {
	p := &part{Name: "p", Key: h.key, host: h}
	if h.mounted == nil {
		h.mounted = p
	}
	return app.Div().Body(p)
}

func (h *partHostTest) drawPart(string) app.UI { h.draws++; return app.P().Text(h.key) }
func (h *partHostTest) partChanged()           { h.changed++ }

// TestPartDrawsOnlyForANewKey: the view's redraw leaves its part alone while the part's key is
// the same, draws it for a new key, and a redraw of the part's own (an event inside it) tells
// the view.
func TestPartDrawsOnlyForANewKey(t *testing.T) {
	h := &partHostTest{key: "a"}
	d := app.NewClientTester(h)
	defer d.Close()
	require.NotZero(t, h.draws, "mounted")
	n := h.draws
	redraw := func(c app.Composer) {
		d.Dispatch(app.Dispatch{Mode: app.Update, Source: c, Function: func(app.Context) {}})
		d.Consume()
	}
	redraw(h)
	redraw(h)
	require.Equal(t, n, h.draws, "the view's redraws with the same key")
	require.Equal(t, 0, h.changed)
	h.key = "b"
	redraw(h)
	require.Equal(t, n+1, h.draws, "a new key")
	require.Equal(t, 0, h.changed, "a new key is the view's own change")
	redraw(h.mounted)
	require.Equal(t, n+2, h.draws, "the part's own redraw")
	require.Equal(t, 1, h.changed, "the view hears of it")
}
