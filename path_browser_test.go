//go:build !js

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The guided path's steps as the page names them (app/path.go).
var pathStepIDs = []string{"pretrain", "sft", "peft", "feedback"}

// pathStepShown waits until step is the path's current step, shown on screen.
func pathStepShown(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf(`(() => { const s = document.querySelector('#path-step-%s');
		return !!s && s.classList.contains('current') && getComputedStyle(s).display !== 'none' && !s.closest('[hidden]'); })()`, step), 10*time.Second)
	require.Equal(t, 1, eval[int](t, ctx, `[...document.querySelectorAll('.path-step')].filter(s => getComputedStyle(s).display !== 'none').length`),
		"one step on screen at a time")
}

// pathQuestion checks a step's question: its text shows, its answer only after a click on
// "Show the answer", and a space to write one exists for print.
func pathQuestion(t *testing.T, ctx context.Context, step, question, answer string) {
	t.Helper()
	q := fmt.Sprintf("#path-question-%s", step)
	require.Contains(t, text(t, ctx, q+" .path-q"), question)
	visible := fmt.Sprintf(`(() => { const p = document.querySelector('%s .path-answer p'); return !!p && p.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}); })()`, q)
	require.False(t, eval[bool](t, ctx, visible), "the answer waits behind a click")
	click(t, ctx, q+" summary")
	waitFor(t, ctx, visible, 5*time.Second)
	require.Contains(t, text(t, ctx, q+" .path-answer p"), answer)
	require.True(t, eval[bool](t, ctx, fmt.Sprintf(`!!document.querySelector('%s .path-answer-space')`, q)), "an answer space for print")
}

// pathWatched checks the guide strip above step's view: it names what to watch in a live
// region, and the page outlines every part it names.
func pathWatched(t *testing.T, ctx context.Context, step, view, note string, ids ...string) {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#nav-%s').getAttribute('aria-pressed') === 'true' &&
		!!document.querySelector('#path-guide[data-watch="%s"]')`, view, step), 20*time.Second)
	require.Equal(t, "polite", eval[string](t, ctx, `document.querySelector('#path-watch-note').getAttribute('aria-live')`))
	require.Contains(t, text(t, ctx, "#path-watch-note"), note)
	for _, id := range ids {
		waitFor(t, ctx, fmt.Sprintf(`!!document.querySelector('#%s')`, id), 4*time.Minute)
		style := eval[string](t, ctx, fmt.Sprintf(`(() => { const s = getComputedStyle(document.querySelector('#%s')); return s.outlineStyle + ' ' + s.outlineWidth; })()`, id))
		require.Equal(t, "solid 3px", style, "#%s is outlined while step %s runs", id, step)
	}
	if other := map[string]string{"pretrain": "cmp-chart-box", "sft": "chart-box", "peft": "chart-box"}[step]; other != "" {
		require.Equal(t, "none", eval[string](t, ctx, fmt.Sprintf(`getComputedStyle(document.querySelector('#%s')).outlineStyle`, other)), "only this step's parts")
	}
}

// pathBack returns to the path from a step's view and waits for the step to show it finished.
func pathBack(t *testing.T, ctx context.Context, step string) {
	t.Helper()
	click(t, ctx, "#path-back")
	pathStepShown(t, ctx, step)
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#path-step-%s').dataset.done === 'true'`, step), 10*time.Second)
	require.Contains(t, text(t, ctx, "#path-nav-"+step), "✓")
}

// compareDone waits for the compare view's run to finish, and requires it finished.
func compareDone(t *testing.T, ctx context.Context, timeout time.Duration) {
	t.Helper()
	waitFor(t, ctx, `(() => { const s = document.querySelector('#cmp-status'); return !!s && ['done','failed','stopped'].includes(s.dataset.phase); })()`, timeout)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#cmp-status').dataset.phase`), "lanes: %s", text(t, ctx, "#cmp-lanes"))
}

// TestPath walks the English guided path as a class would, with the test-only short settings
// (?path=short): step 1 pretrains and the loss chart is outlined; its model is too weak, so
// step 2 says it fine-tunes the kept base and why, then fine-tunes it fully with the chart and
// answers outlined; step 3 compares the four methods with the table outlined; step 4 shows its
// question; step 1's second button pretrains the masked model. Each step's question hides its
// answer behind a click. The progress survives a
// reload, the Chinese path has no English left, and no request leaves the origin.
func TestPath(t *testing.T) {
	srv := playgroundServer(t)
	origin := srv.URL
	ctx := newBrowser(t, 12*time.Minute)
	var reqs requestLog
	reqs.listen(t, ctx)
	openApp(t, ctx, origin+"/?path=short")
	began := time.Now()
	lap := func(what string) { t.Logf("%-24s %5.1f s", what, time.Since(began).Seconds()) }

	// The path is first in the nav.
	require.Equal(t, "nav-path", eval[string](t, ctx, `document.querySelector('nav .tab').id`))
	click(t, ctx, "#nav-path")
	pathStepShown(t, ctx, "pretrain")
	require.Equal(t, 4, eval[int](t, ctx, `document.querySelectorAll('#path-steps li').length`))
	require.Contains(t, text(t, ctx, "#path-title-pretrain"), "Step 1 of 4")
	require.Equal(t, "step", eval[string](t, ctx, `document.querySelector('#path-nav-pretrain').getAttribute('aria-current')`))
	pathQuestion(t, ctx, "pretrain", "masked model", "nothing to its right")
	screenshot(t, ctx, "path.png")

	// Step 1: pretraining, the loss chart and the samples outlined.
	require.Contains(t, text(t, ctx, "#path-go-pretrain"), "16 steps", "the short path")
	click(t, ctx, "#path-go-pretrain")
	pathWatched(t, ctx, "pretrain", "pretrain", "loss chart", "chart-box", "samples")
	screenshot(t, ctx, "path-watch.png")
	runToEnd(t, ctx)
	pathWatched(t, ctx, "pretrain", "pretrain", "fill-in-the-blank", "fill-probe")
	lap("step 1 ran")
	pathBack(t, ctx, "pretrain")
	require.Contains(t, eval[string](t, ctx, `localStorage.getItem('pretune.path')`), `"done":["pretrain"]`)

	// Step 2: supervised fine-tuning of the kept base, since 16 steps make a weak model.
	click(t, ctx, "#path-next-pretrain")
	pathStepShown(t, ctx, "sft")
	model := text(t, ctx, "#path-model-sft")
	require.Contains(t, model, "kept base")
	require.Regexp(t, `held-out loss of \d\.\d\d; fine-tuning finds the facts only in a model at 0\.39 or lower`, model)
	require.Greater(t, eval[int](t, ctx, `document.querySelectorAll('#path-sft-example .ch.counted').length`), 0, "the answer's characters marked")
	require.Greater(t, eval[int](t, ctx, `document.querySelectorAll('#path-sft-example .ch.ignored').length`), 0, "the question's not")
	pathQuestion(t, ctx, "sft", "only the answer", "given a question, produce its answer")
	click(t, ctx, "#path-go-sft")
	pathWatched(t, ctx, "sft", "compare", "answers table", "cmp-chart-box")
	compareDone(t, ctx, 4*time.Minute)
	pathWatched(t, ctx, "sft", "compare", "answers table", "cmp-answers-box")
	require.Equal(t, []string{"base", "full"}, eval[[]string](t, ctx, `[...document.querySelectorAll('#cmp-table tbody tr')].map(tr => tr.dataset.method)`))
	require.Contains(t, text(t, ctx, "#cmp-base-line"), "built-in copy kept")
	lap("step 2 ran")
	pathBack(t, ctx, "sft")

	// Step 3: the four methods side by side, the results table outlined.
	click(t, ctx, "#path-next-sft")
	pathStepShown(t, ctx, "peft")
	require.Contains(t, text(t, ctx, "#path-model-peft"), "kept base")
	pathQuestion(t, ctx, "peft", "ten tasks", "ten small adapters")
	click(t, ctx, "#path-go-peft")
	pathWatched(t, ctx, "peft", "compare", "results table", "cmp-chart-box")
	waitFor(t, ctx, `document.querySelectorAll('#cmp-lanes li').length === 4`, 30*time.Second)
	compareDone(t, ctx, 6*time.Minute) // four methods' evaluations: a minute when the machine is quiet
	pathWatched(t, ctx, "peft", "compare", "results table", "cmp-results")
	require.Equal(t, []string{"base", "full", "lora", "adapter", "prefix"}, eval[[]string](t, ctx, `[...document.querySelectorAll('#cmp-table tbody tr')].map(tr => tr.dataset.method)`))
	lap("step 3 ran")
	pathBack(t, ctx, "peft")

	// Step 1's second run: the same pretraining with the masked objective, its fill-in-the-blank
	// figure outlined; the fine-tuning steps then say a masked model cannot write answers.
	click(t, ctx, "#path-nav-pretrain")
	pathStepShown(t, ctx, "pretrain")
	startNew(t, ctx, "#path-try-pretrain")
	pathWatched(t, ctx, "pretrain", "pretrain", "loss chart", "chart-box")
	require.Equal(t, "masked", eval[string](t, ctx, `document.querySelector('#objective').value`))
	runToEnd(t, ctx)
	pathWatched(t, ctx, "pretrain", "pretrain", "fill-in-the-blank", "fill-probe")
	pathBack(t, ctx, "pretrain")
	require.Contains(t, text(t, ctx, "#path-model-sft"), "masked one")
	lap("step 1 masked ran")

	// Step 4 shows its question; its run is the benchmark's (minutes).
	click(t, ctx, "#path-nav-feedback")
	pathStepShown(t, ctx, "feedback")
	click(t, ctx, "#path-prev-feedback")
	pathStepShown(t, ctx, "peft")
	click(t, ctx, "#path-next-peft")
	pathStepShown(t, ctx, "feedback")
	require.Contains(t, text(t, ctx, "#path-model-feedback"), "kept fine-tuned model")
	pathQuestion(t, ctx, "feedback", "no leash", "reward hacking")
	require.Empty(t, eval[string](t, ctx, `document.querySelector('#path-next-feedback') ? 'next' : ''`), "the last step has no next")

	// The progress is kept: a reload shows step 4 with the first three done.
	openApp(t, ctx, origin+"/?path=short")
	click(t, ctx, "#nav-path")
	pathStepShown(t, ctx, "feedback")
	require.Equal(t, []string{"true", "true", "true", "false"}, eval[[]string](t, ctx, `[...document.querySelectorAll('.path-step')].map(s => s.dataset.done)`))

	// In Chinese, nothing of the path is left in English.
	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('.app').lang === 'zh'`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#path-title-feedback"), "第 4 步")
	requireNoEnglish(t, ctx, "path")
	screenshot(t, ctx, "path-zh.png")

	n, off := reqs.offOrigin(origin)
	require.Greater(t, n, 10)
	require.Empty(t, off, "requests that left the origin")
}

// browserCPU is the processor time, in seconds, the browser's processes have used so far (its
// workers are threads of its renderer): beside the wall time it says how much of a step was
// the step's own work when other programs share the machine. 0 where /proc cannot tell.
func browserCPU(ctx context.Context) float64 {
	c := chromedp.FromContext(ctx)
	if c == nil || c.Browser == nil || c.Browser.Process() == nil {
		return 0
	}
	root := c.Browser.Process().Pid
	parent, ticks := map[int]int{}, map[int]float64{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue // gone since the listing
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		// After the command's ")": state, ppid, ..., utime (12th) and stime (13th).
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		ticks[pid] = u + s
	}
	total := 0.0
	for pid, n := range ticks {
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if p == root {
				total += n
				break
			}
		}
	}
	return total / 100 // USER_HZ, 100 on Linux
}

// loadAverage is the machine's one-minute load average ("?" where /proc cannot tell).
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(data))[0]
}

// TestBrowserPathBench times each step of the guided path in Chromium with its real settings,
// as a class runs it: press the step's button and wait for its run to end (step 1 pretrains
// the small model; steps 2 and 3 fine-tune the kept base, since step 1's model is not good
// enough; step 4 runs the whole feedback stage from the kept SFT model). The device is "auto",
// which is the CPU here (the headless adapter is software). The budget is 5 minutes a
// step on a 2-core machine; the figures are logged for the README, not asserted, with the
// browser's processor time and the load average, since other programs sharing the machine
// stretch the wall time:
//
//	PRETUNE_BENCH_PATH=1 go test -count=1 -run TestBrowserPathBench -v .
func TestBrowserPathBench(t *testing.T) {
	if os.Getenv("PRETUNE_BENCH_PATH") == "" {
		t.Skip("set PRETUNE_BENCH_PATH=1 to time each step of the guided path in Chromium (about 10 minutes)")
	}
	registerRoutes()
	origin := serveApp(t)
	ctx := newBrowser(t, 150*time.Minute)
	openApp(t, ctx, origin+"/")
	click(t, ctx, "#nav-path")
	var lines []string
	for i, step := range pathStepIDs {
		pathStepShown(t, ctx, step)
		label := text(t, ctx, "#path-go-"+step)
		start, cpu0 := time.Now(), browserCPU(ctx)
		click(t, ctx, "#path-go-"+step)
		switch step {
		case "pretrain":
			waitFor(t, ctx, `(() => { const s = document.querySelector('#status'); return !!s && s.dataset.status === 'running'; })()`, time.Minute)
			waitFor(t, ctx, `(() => { const s = document.querySelector('#status'); return s && ['done','failed','stopped'].includes(s.dataset.status); })()`, 30*time.Minute)
			require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#status').dataset.status`))
			t.Logf("device: %s", text(t, ctx, "#device-line"))
		case "sft", "peft":
			waitFor(t, ctx, `(() => { const s = document.querySelector('#cmp-status'); return !!s && s.dataset.phase !== 'done'; })()`, time.Minute)
			compareDone(t, ctx, 30*time.Minute)
		case "feedback":
			waitFor(t, ctx, `document.querySelectorAll('#fbt-lanes li').length === 3 &&
				[...document.querySelectorAll('#fbt-lanes li')].every(li => ['done','failed','stopped'].includes(li.dataset.status))`, 40*time.Minute)
			require.Equal(t, []string{"done", "done", "done"}, eval[[]string](t, ctx, `[...document.querySelectorAll('#fbt-lanes li')].map(li => li.dataset.status)`))
		}
		took := time.Since(start)
		within := "within"
		if took > 5*time.Minute {
			within = "OVER"
		}
		line := fmt.Sprintf("step %d %-8s %6.1f s (%s 5 minutes), Chromium's CPU %6.1f s, load average %s: %s",
			i+1, step, took.Seconds(), within, browserCPU(ctx)-cpu0, loadAverage(), label)
		t.Log(line)
		lines = append(lines, line)
		pathBack(t, ctx, step)
		if i+1 < len(pathStepIDs) {
			click(t, ctx, "#path-next-"+step)
		}
	}
	t.Logf("the path's steps in Chromium on this machine:\n%s", strings.Join(lines, "\n"))
}
