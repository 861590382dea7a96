package app

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core/runspec"
)

// shareLink is a view's share link once the learner asked for it: the link (copied to the
// clipboard when the browser allows), or why the spec cannot travel as one.
type shareLink struct {
	URL  string
	Note string
}

// make encodes spec as a link on this page's address and copies it.
func (s *shareLink) make(l Lang, spec runspec.Spec) {
	loc := app.Window().Get("location")
	u, err := runspec.URL(loc.Get("origin").String()+loc.Get("pathname").String(), spec)
	if err != nil {
		*s = shareLink{Note: linkErrText(l, err)}
		return
	}
	*s = shareLink{URL: u}
	copyText(u)
}

// render shows the link in a read-only box (id prefix+"share-url") or the reason (id
// prefix+"share-note"); nothing before the learner asked.
func (s shareLink) render(l Lang, prefix string) app.UI {
	switch {
	case s.Note != "":
		return app.P().ID(prefix + "share-note").Class("hint").Text(s.Note)
	case s.URL != "":
		return app.Div().Body(
			app.Label().For(prefix+"share-url").Text(l.T("share.copied")),
			app.Input().ID(prefix+"share-url").Class("data").ReadOnly(true).Value(s.URL),
		)
	}
	return nil
}
