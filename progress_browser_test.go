//go:build !js

package main

import (
	"strings"
	"testing"
	"time"
)

// TestProgressEverySecond starts the small preset on the CPU as a teacher would and samples the
// status line every 100 ms: it must change within a second of Start (the trainer is loading)
// and then at least about once a second for 5 seconds (seconds counted while loading, then the
// steps the worker reports each second). Then a long preset (en-base, 20,000 steps) asks before
// starting, with its estimate, and Cancel starts nothing.
func TestProgressEverySecond(t *testing.T) {
	srv := playgroundServer(t)
	ctx := newBrowser(t, 3*time.Minute)

	openApp(t, ctx, srv.URL+"/")

	// The long preset: the page measures this device first (counting the seconds), then asks
	// with its estimate and the cheaper ways; Cancel starts nothing.
	click(t, ctx, "#preset-en-base")
	choose(t, ctx, "#device", "cpu")
	before := text(t, ctx, "#status")
	click(t, ctx, "#start")
	waitFor(t, ctx, `!!document.querySelector('#long-run')`, time.Minute)
	ask := text(t, ctx, "#long-run")
	t.Logf("asks: %s", ask)
	for _, want := range []string{"About", "min", "en-base", "fewer steps", "Start anyway"} {
		if !strings.Contains(ask, want) {
			t.Errorf("the question lacks %q: %s", want, ask)
		}
	}
	click(t, ctx, "#long-cancel")
	waitFor(t, ctx, `!document.querySelector('#long-run')`, 5*time.Second)
	time.Sleep(time.Second)
	if got := text(t, ctx, "#status"); got != before {
		t.Errorf("Cancel started something: the status reads %q, was %q", got, before)
	}

	// The small model (its speed here now known), 300 steps so that it starts without asking.
	click(t, ctx, "#preset-en-small")
	choose(t, ctx, "#device", "cpu")
	typeInto(t, ctx, "#f-steps", "300")
	// Sample in the page, so the test's own round trips do not blur the timing.
	eval[bool](t, ctx, `(() => {
		const s = () => (document.querySelector('#status') || {}).textContent || '';
		window.__samples = [];
		const t0 = performance.now();
		window.__samples.push([0, s()]);
		document.querySelector('#start').click();
		window.__sampler = setInterval(() => window.__samples.push([performance.now() - t0, s()]), 100);
		return true; })()`)
	time.Sleep(7 * time.Second)
	type sample struct {
		At   float64
		Text string
	}
	raw := eval[[][]any](t, ctx, `(() => { clearInterval(window.__sampler); return window.__samples; })()`)
	var changes []sample // each time the text differs from the sample before
	for i := 1; i < len(raw); i++ {
		if raw[i][1] != raw[i-1][1] {
			changes = append(changes, sample{raw[i][0].(float64), raw[i][1].(string)})
		}
	}
	if len(changes) == 0 {
		t.Fatalf("the status never changed: %q", raw[0][1])
	}
	t.Logf("first change after %.0f ms: %q", changes[0].At, changes[0].Text)
	if changes[0].At > 1000 {
		t.Errorf("the first change came %.0f ms after Start, not within 1 s", changes[0].At)
	}
	// From the first change, 5 s: the longest stretch without a change. Steps are reported at
	// most once a second and a step ends after that second, so allow a little over 1 s.
	end := changes[0].At + 5000
	last, worst, n := changes[0].At, 0.0, 0
	for _, c := range changes[1:] {
		if c.At > end {
			break
		}
		worst, last, n = max(worst, c.At-last), c.At, n+1
		t.Logf("%6.0f ms: %s", c.At, c.Text)
	}
	worst = max(worst, end-last)
	t.Logf("%d changes in the 5 s after the first; the longest still stretch %.0f ms", n, worst)
	if worst > 1500 || n < 4 {
		t.Errorf("the status stood still for %.0f ms (%d changes in 5 s): not once a second", worst, n)
	}
	if !strings.Contains(text(t, ctx, "#status"), "steps/s") {
		t.Errorf("after 7 s the status shows no pace: %s", text(t, ctx, "#status"))
	}
	click(t, ctx, "#stop")
	waitFor(t, ctx, `document.querySelector('#status').dataset.status === 'stopped'`, 30*time.Second)
}
