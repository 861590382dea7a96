//go:build !js

package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/runspec"
)

// chartTextPx is the smallest chart text of the shown loss chart, in CSS pixels on screen (its
// font size times the SVG's scale), as TestLayout measures it.
const chartTextPx = `(() => {
	const svg = document.querySelector('#loss-chart');
	const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
	let min = 1e9;
	for (const tx of svg.querySelectorAll('text')) if (tx.textContent.trim()) min = Math.min(min, parseFloat(getComputedStyle(tx).fontSize) * scale);
	return min;
})()`

// TestTeacherLink makes a link in the "Make a link for my class" panel (views, a hidden control,
// fixed values) and opens it as a student would: the nav offers only the views ticked, the
// hidden controls are not in the page at all, the fixed values show read-only and a run started
// from the form uses them (its fingerprint is the native run's with those values). A teacher's
// link carrying a run reproduces it ("matches"). The projector switch enlarges the chart text
// and hides the setup; printing puts each path step on its own page with ruled answer space.
// No request leaves the origin.
func TestTeacherLink(t *testing.T) {
	srv := playgroundServer(t)
	origin := srv.URL
	ctx := newBrowser(t, 5*time.Minute)
	var reqs requestLog
	reqs.listen(t, ctx)
	openApp(t, ctx, origin+"/")

	// The panel: untick two views, hide the learning rate and the method list, fix the steps
	// and the device.
	click(t, ctx, "#nav-teacher")
	waitFor(t, ctx, `!!document.querySelector('#teacher #t-link')`, 10*time.Second)
	click(t, ctx, "#t-view-bench")
	click(t, ctx, "#t-view-feedback")
	choose(t, ctx, "#t-ctl-lr", "hide")
	choose(t, ctx, `[id="t-ctl-cmp.methods"]`, "hide")
	choose(t, ctx, "#t-ctl-steps", "fix")
	waitFor(t, ctx, `!!document.querySelector('#t-val-steps')`, 5*time.Second)
	typeInto(t, ctx, "#t-val-steps", "20")
	choose(t, ctx, "#t-ctl-device", "fix")
	waitFor(t, ctx, `!!document.querySelector('#t-val-device')`, 5*time.Second)
	choose(t, ctx, "#t-val-device", runspec.DeviceCPU)
	choose(t, ctx, `[id="t-ctl-cmp.steps"]`, "fix")
	waitFor(t, ctx, `!!document.querySelector('[id="t-val-cmp.steps"]')`, 5*time.Second)
	typeInto(t, ctx, `[id="t-val-cmp.steps"]`, "7")
	want := origin + "/#views=path,pretrain,compare,presets&hide=lr,cmp.methods&fix=steps:20,device:cpu,cmp.steps:7"
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#t-link').value === %q`, want), 5*time.Second)
	screenshot(t, ctx, "teacher.png")
	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('.app').lang === 'zh'`, 10*time.Second)
	requireNoEnglish(t, ctx, "teacher")
	choose(t, ctx, "#lang", "en")
	waitFor(t, ctx, `document.querySelector('.app').lang === 'en'`, 10*time.Second)

	// A student opens it.
	do(t, ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(want))
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 60*time.Second)
	require.Equal(t, []string{"nav-path", "nav-pretrain", "nav-compare", "nav-presets"},
		eval[[]string](t, ctx, `[...document.querySelectorAll('header nav button')].map(b => b.id)`), "the nav offers the views ticked")
	for _, sel := range []string{"#f-lr", "#cmp-methods", "#m-lora", "#nav-teacher", "#nav-bench"} {
		require.False(t, eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector(%q)`, sel)), "%s is hidden: not in the page", sel)
	}
	require.Equal(t, "OUTPUT", eval[string](t, ctx, `document.querySelector('#f-steps').tagName`), "a fixed value is read-only")
	require.Equal(t, "20", text(t, ctx, "#f-steps"))
	require.Equal(t, "OUTPUT", eval[string](t, ctx, `document.querySelector('#device').tagName`))
	require.Equal(t, "OUTPUT", eval[string](t, ctx, `document.querySelector('#cmp-steps').tagName`), "the compare view's fixed steps")
	require.Equal(t, "7", text(t, ctx, "#cmp-steps"))
	screenshot(t, ctx, "teacher-link.png")
	click(t, ctx, "#preset-en-tiny") // a preset's own steps give way to the fixed ones
	require.Equal(t, "20", text(t, ctx, "#f-steps"))
	startNew(t, ctx, "#start")
	runToEnd(t, ctx)
	fp := uninterrupted(t, "en-tiny", 20)
	require.Equal(t, fp, text(t, ctx, "#fingerprint"), "the run used the fixed values: en-tiny, 20 steps, on the CPU")

	// A teacher's link carrying a run reproduces it, and keeps its lesson.
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	spec.Config.Steps, spec.Config.Warmup = 20, min(spec.Config.Warmup, 20)
	spec.Device, spec.Fingerprint = runspec.DeviceCPU, fp
	link, err := runspec.URL(origin+"/", spec)
	require.NoError(t, err)
	link += "&views=pretrain&hide=lr,seed"
	_, err = url.Parse(link)
	require.NoError(t, err)
	do(t, ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(link))
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 60*time.Second)
	runToEnd(t, ctx)
	require.Equal(t, "matches", eval[string](t, ctx, `document.querySelector('#match').dataset.match`))
	require.Equal(t, []string{"nav-pretrain"}, eval[[]string](t, ctx, `[...document.querySelectorAll('header nav button')].map(b => b.id)`))
	require.False(t, eval[bool](t, ctx, `!!document.querySelector('#f-lr') || !!document.querySelector('#f-seed')`))

	// Projector mode at 1024x768: larger chart text, no setup panel.
	do(t, ctx, chromedp.EmulateViewport(1024, 768))
	time.Sleep(300 * time.Millisecond) // the charts' text scale follows their new width
	before := eval[float64](t, ctx, chartTextPx)
	click(t, ctx, "#projector")
	waitFor(t, ctx, `document.querySelector('.app').classList.contains('projector')`, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	after := eval[float64](t, ctx, chartTextPx)
	t.Logf("smallest chart text at 1024x768: %.1f px, %.1f px in projector mode", before, after)
	require.Greater(t, after, before*1.3, "projector mode enlarges the chart text (%.1f px -> %.1f px)", before, after)
	require.GreaterOrEqual(t, after, 18.0, "chart text readable from the back of a room at 1024x768")
	require.Equal(t, "none", eval[string](t, ctx, `getComputedStyle(document.querySelector('#setup')).display`), "projector mode hides the setup")
	require.Equal(t, "true", eval[string](t, ctx, `document.querySelector('#projector').getAttribute('aria-pressed')`))
	screenshot(t, ctx, "projector.png")
	click(t, ctx, "#projector")
	waitFor(t, ctx, `!document.querySelector('.app').classList.contains('projector')`, 5*time.Second)

	// Printing: each path step (the path view's markup) on a page of its own, its question with
	// ruled space to answer; no header or buttons.
	require.True(t, eval[bool](t, ctx, `(document.body.insertAdjacentHTML('beforeend',
		'<div id="ps-test"><section class="path-step" id="ps1"><p class="path-question">Q1</p></section><section class="path-step" id="ps2"><p class="path-question">Q2</p></section></div>'), true)`))
	media := func(m string) {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		require.NoError(t, err)
	}
	media("print")
	require.Equal(t, "page", eval[string](t, ctx, `getComputedStyle(document.querySelector('#ps1')).breakAfter`), "one step per page")
	require.Equal(t, "none", eval[string](t, ctx, `getComputedStyle(document.querySelector('header.top')).display`))
	require.Equal(t, "none", eval[string](t, ctx, `getComputedStyle(document.querySelector('#start')).display`))
	require.Greater(t, eval[float64](t, ctx, `parseFloat(getComputedStyle(document.querySelector('#ps1 .path-question'), '::after').height)`), 200.0, "ruled answer space")
	media("")
	require.Equal(t, "auto", eval[string](t, ctx, `getComputedStyle(document.querySelector('#ps1')).breakAfter`), "on screen, no page rules")

	// An option this page does not know is ignored, the page says so, and the link's run still
	// starts (a note drawn before the views once made go-app mount them again, ending it).
	do(t, ctx, chromedp.Navigate("about:blank"), chromedp.Navigate(link[:strings.Index(link, "&")]+"&views=pretrain,bench&colour=red"))
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 60*time.Second)
	require.Contains(t, text(t, ctx, "#lesson-ignored"), "colour=red")
	waitFor(t, ctx, `['running', 'done'].includes(document.querySelector('#status').dataset.status)`, 30*time.Second)
	require.Equal(t, []string{"nav-pretrain", "nav-bench"}, eval[[]string](t, ctx, `[...document.querySelectorAll('header nav button')].map(b => b.id)`))

	n, off := reqs.offOrigin(origin)
	require.Greater(t, n, 5, "the listener saw the page's requests")
	require.Empty(t, off, "requests that left the origin")
}
