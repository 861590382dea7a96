package app

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// scrollBox is a box that scrolls what it holds (a wide table on a narrow screen, a long list):
// in the tab order, so a keyboard can scroll it with the arrow keys (WCAG 2.1.1; axe-core's
// scrollable-region-focusable), and a region named label, so a screen reader says where the focus
// landed.
func scrollBox(class, label string) app.HTMLDiv {
	return app.Div().Class(class).TabIndex(0).Role("region").Aria("label", label)
}
