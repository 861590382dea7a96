//go:build !js

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/classstore"
)

// classServerProcess is the teacher's server with -class on a fixed address, which the test can
// stop (connections cut, database closed) and start again on the same folder, as a restarted
// server would be.
type classServerProcess struct {
	t     *testing.T
	dir   string
	addr  string
	srv   *http.Server
	store *classstore.Store
}

func startClassServer(t *testing.T, dir, addr string) *classServerProcess {
	t.Helper()
	store, err := classstore.Open(dir)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	p := &classServerProcess{t: t, dir: dir, addr: ln.Addr().String(), store: store,
		srv: &http.Server{Handler: newHandler(newClassAPI(store, classstore.NewChecker("web/base"))), ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("class server: %v", err)
		}
	}()
	t.Cleanup(p.stop)
	return p
}

// stop cuts every connection at once and closes the database.
func (p *classServerProcess) stop() {
	if p.srv == nil {
		return
	}
	p.srv.Close()
	require.NoError(p.t, p.store.Close())
	p.srv, p.store = nil, nil
}

// TestClassMode runs a class in Chromium: the teacher opens a class in the feedback view and
// gets its code and link; three students open the link in browsers of their own and pick by
// key, their picks reaching the teacher's page live (counts per student, agreement on the
// offers they all got); one student keeps picking while the server is down, sees the picks
// wait, and sends them once the server is back on the same folder; the teacher takes the class's
// picks and trains the reward model on them. No request leaves the origin.
func TestClassMode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	buildWeb(t)
	registerRoutes()
	dir := t.TempDir()
	server := startClassServer(t, dir, "127.0.0.1:0")
	origin := "http://" + server.addr
	teacher := newBrowser(t, 8*time.Minute)
	var reqs requestLog
	reqs.listen(t, teacher)

	openApp(t, teacher, origin+"/")
	click(t, teacher, "#nav-feedback")
	waitFor(t, teacher, `!!document.querySelector('#class-panel #class-open')`, 20*time.Second)
	require.True(t, eval[bool](t, teacher, `(() => { const el = document.querySelector('#class-name');
		el.value = '7b biology'; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`))
	click(t, teacher, "#class-open")
	waitFor(t, teacher, `!!document.querySelector('#class-code') && document.querySelector('#class-code').textContent.length === 6`, 20*time.Second)
	code := text(t, teacher, "#class-code")
	link := text(t, teacher, "#class-link")
	require.Equal(t, origin+"/#class="+code, link)
	require.NotContains(t, link, eval[string](t, teacher, `localStorage.getItem('pretune.class.`+code+`') || ''`), "the secret stays in the teacher's browser")

	// Three students, each in a browser of their own.
	var students []context.Context
	for i := 0; i < 3; i++ {
		s, cancel := chromedp.NewContext(teacher, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		reqs.listen(t, s)
		openApp(t, s, link)
		waitFor(t, s, `!!document.querySelector('#class-student') && !!document.querySelector('#fb-offer')`, 2*time.Minute)
		require.Contains(t, text(t, s, "#class-student"), "7b biology")
		require.Nil(t, eval[any](t, s, `document.querySelector('#fb-tune')`), "the methods are the teacher's")
		students = append(students, s)
	}
	// Every student is offered the same pairs in the same order.
	first := text(t, students[0], "#fb-offer")
	for _, s := range students[1:] {
		require.Equal(t, first, text(t, s, "#fb-offer"))
	}
	sent := func(s context.Context, n int) {
		t.Helper()
		waitFor(t, s, fmt.Sprintf(`+document.querySelector('#class-sent').dataset.n === %d && +document.querySelector('#class-waiting').dataset.n === 0`, n), time.Minute)
	}
	for i, s := range students[:2] {
		for k := 0; k < 4; k++ {
			pickByKey(t, s, []string{"1", "2"}[(i+k)%2])
		}
		sent(s, 4)
	}
	waitFor(t, teacher, `+(document.querySelector('#class-total') || {dataset: {}}).dataset.picks === 8`, 30*time.Second)
	require.Equal(t, 2, eval[int](t, teacher, `document.querySelectorAll('#class-students tbody tr').length`))
	require.Greater(t, eval[int](t, teacher, `+document.querySelector('#class-agreement').dataset.pairs`), 0, "two students judged the same offers")

	// The server goes down: the third student keeps picking, the picks wait in the browser;
	// the server comes back on the same folder and they are sent, once each.
	server.stop()
	s := students[2]
	for k := 0; k < 3; k++ {
		pickByKey(t, s, "1")
	}
	waitFor(t, s, `+document.querySelector('#class-waiting').dataset.n === 3 && +document.querySelector('#class-sent').dataset.n === 0`, 30*time.Second)
	time.Sleep(3 * time.Second) // a send or two fails meanwhile
	require.Equal(t, 3, eval[int](t, s, `+document.querySelector('#class-waiting').dataset.n`))
	server = startClassServer(t, dir, server.addr)
	sent(s, 3)
	waitFor(t, teacher, `+(document.querySelector('#class-total') || {dataset: {}}).dataset.picks === 11`, time.Minute)
	require.Equal(t, 3, eval[int](t, teacher, `document.querySelectorAll('#class-students tbody tr').length`))
	n, err := server.store.StudentPicks(context.Background(), code, eval[string](t, s, `localStorage.getItem('pretune.student')`))
	require.NoError(t, err)
	require.Equal(t, 3, n, "each waiting pick stored once")

	// The teacher trains the reward model on the class's picks.
	click(t, teacher, "#class-use")
	waitFor(t, teacher, `+document.querySelector('#fb-counter').dataset.picks === 11 && (document.querySelector('#fb-sft-status') || {dataset: {}}).dataset.status === 'done'`, 2*time.Minute)
	require.Equal(t, 11, eval[int](t, teacher, `document.querySelectorAll('#fb-picks-table tbody tr[data-by="you"]').length`), "the class's picks are the learners'")
	typeInto(t, teacher, "#fb-rm-steps", "10")
	waitFor(t, teacher, `!document.querySelector('#fb-rm-train').disabled`, 30*time.Second)
	click(t, teacher, "#fb-rm-train")
	waitFor(t, teacher, `['done','failed','stopped'].includes((document.querySelector('#fb-rm-status') || {dataset: {}}).dataset.status)`, 2*time.Minute)
	require.Equal(t, "done", eval[string](t, teacher, `document.querySelector('#fb-rm-status').dataset.status`), "%s", text(t, teacher, "#fb-reward"))
	screenshot(t, teacher, "class.png")

	all, off := reqs.offOrigin(origin)
	require.Greater(t, all, 10)
	require.Empty(t, off, "requests that left the origin")
}

// pickByKey presses a key on the feedback view's offer and waits until the page shows another
// offer or another count.
func pickByKey(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	const shown = `(() => { const o = document.querySelector('#fb-offer'); if (!o) return '';
		return document.querySelector('#fb-offer-prompt').textContent + document.querySelector('#fb-pick-a').textContent +
			(document.querySelector('#fb-counter') || document.querySelector('#class-counter')).textContent; })()`
	before := eval[string](t, ctx, shown)
	do(t, ctx, chromedp.KeyEvent(key))
	waitFor(t, ctx, fmt.Sprintf(`%s !== %q && %s !== ''`, shown, before, shown), 30*time.Second)
}
