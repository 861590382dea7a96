package app

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// part is a piece of a view drawn as a component of its own, so that the view's redraw skips it
// while what it shows is the same: go-app redraws a child component only when one of its
// exported fields changed, and a part's are its Name and a Key that says what it shows. The
// compare view redraws four times a second while its workers train, and building and diffing
// its folded setup form and its results tables each time were most of the page's long tasks
// (tens of milliseconds each under wasm) for markup that had not changed.
//
// The part draws through its host (drawPart), which reads the view's state as it is: a part
// whose Key misses something it shows would show it late, at the next change of Key. A part
// also redraws for an event inside it (a learner's input: go-app redraws the component that owns
// the handler); it then tells its host (partChanged), whose other parts may show what changed
// (the compare form's Run button follows the form).
type part struct {
	app.Compo
	// Name is the host's name for the part; a part that go-app reuses at another place of the
	// view (an optional piece before it came or went) draws what its new Name says.
	Name string
	// Key says what the part shows: the part is drawn again when it changes.
	Key string

	host     partHost
	drawn    string // Name and Key of the last drawing
	mounting bool   // the next drawing is go-app's after mounting
}

// partHost is the view a part belongs to.
type partHost interface {
	// drawPart draws the part name as the view's state has it now; never nil (a component
	// draws one element: a host leaves out a part that would show nothing).
	drawPart(name string) app.UI
	// partChanged says a part redrew itself for an event inside it.
	partChanged()
}

// OnMount marks the redraw go-app makes of every component just after mounting it (the
// dispatch that calls OnMount ends in a redraw, which PreventUpdate does not stop): it is not
// the part's own.
func (p *part) OnMount(app.Context) { p.mounting = true }

// Render draws the part; a drawing with the Name and Key of the last one is the part's own
// (an event inside it), which the host hears about.
func (p *part) Render() app.UI {
	drawing := p.Name + "\x00" + p.Key
	if drawing == p.drawn && !p.mounting {
		p.host.partChanged()
	}
	p.drawn, p.mounting = drawing, false
	return p.host.drawPart(p.Name)
}
