//go:build !js

package main

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
)

// TestFeedbackView drives the feedback view as a class would, with short settings: open the
// kept SFT model, make 10 picks with the keyboard (skipping and undoing one on the way), let the
// built-in taste make the rest, train the reward model, score a typed answer, run PPO and DPO
// side by side for a few steps, and see the table, the charts and the answers filled; export the
// picks, the table and a chart; share the stage and open the link in a fresh browser, which
// trains it again and says every fingerprint matches; load a damaged picks file and see its
// line-numbered refusal; in Chinese no English is left; and no request leaves the origin.
func TestFeedbackView(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasm and starts a browser")
	}
	registerRoutes()
	origin := serveApp(t)
	ctx := newBrowser(t, 8*time.Minute)
	var reqs requestLog
	reqs.listen(t, ctx)
	downloads := t.TempDir()
	_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: "allow", DownloadPath: downloads})
		return err
	}))
	require.NoError(t, err)

	openApp(t, ctx, origin+"/")
	click(t, ctx, "#nav-feedback")
	waitFor(t, ctx, `!!document.querySelector('#fb-open') && !document.querySelector('#feedback').closest('[hidden]')`, 10*time.Second)
	require.True(t, eval[bool](t, ctx, `document.querySelector('#fb-start-kept').checked`), "the kept SFT model is the default start")
	require.NotEmpty(t, text(t, ctx, "#fb-diagram"))

	// Open the kept SFT model: nothing trains, it is ready and offers pairs.
	click(t, ctx, "#fb-open")
	waitFor(t, ctx, `['done','failed','stopped'].includes((document.querySelector('#fb-sft-status') || {dataset: {}}).dataset.status)`, 2*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#fb-sft-status').dataset.status`), "%s", text(t, ctx, "#fb-start"))
	require.Regexp(t, `^cpu:[0-9a-f]{12}$`, text(t, ctx, "#fb-sft-fingerprint"))
	waitFor(t, ctx, `!!document.querySelector('#fb-offer')`, time.Minute)

	// Ten picks by key: 1 and 2 pick, 0 skips, Backspace undoes the last pick.
	picks := func() int { return eval[int](t, ctx, `+document.querySelector('#fb-counter').dataset.picks`) }
	press := func(key string) { pickByKey(t, ctx, key) }
	press("1")
	press("2")
	require.Equal(t, 2, picks())
	skipped := text(t, ctx, "#fb-offer-prompt") + text(t, ctx, "#fb-pick-a")
	press("0")
	require.Equal(t, 2, picks(), "0 skips")
	// Backspace takes back the last step: the skip (its offer shows again), then a pick.
	do(t, ctx, chromedp.KeyEvent(kb.Backspace))
	waitFor(t, ctx, fmt.Sprintf(`document.querySelector('#fb-offer-prompt').textContent + document.querySelector('#fb-pick-a').textContent === %q`, skipped), 10*time.Second)
	require.Equal(t, 2, picks())
	do(t, ctx, chromedp.KeyEvent(kb.Backspace))
	waitFor(t, ctx, `+document.querySelector('#fb-counter').dataset.picks === 1`, 10*time.Second)
	for picks() < 10 {
		press([]string{"1", "2"}[picks()%2])
	}
	require.Equal(t, 10, picks())
	require.Equal(t, 10, eval[int](t, ctx, `document.querySelectorAll('#fb-picks-table tbody tr[data-by="you"]').length`))

	// The taste picks 50 more, marked as its own.
	click(t, ctx, "#fb-taste")
	waitFor(t, ctx, `+document.querySelector('#fb-counter').dataset.picks >= 40`, 2*time.Minute)
	taste := eval[int](t, ctx, `document.querySelectorAll('#fb-picks-table tbody tr[data-by="taste"]').length`)
	require.Equal(t, picks()-10, taste)

	// A damaged picks file is refused with its line; the picks stay as they were.
	bad := filepath.Join(t.TempDir(), "picks.jsonl")
	require.NoError(t, os.WriteFile(bad, []byte(`{"prompt": "Where does the fox live?", "chosen": " in the forest", "rejected": " in the sea"}
{"prompt": "Where does the fox live?", "chosen": " in the forest"
`), 0o644))
	n := picks()
	do(t, ctx, chromedp.SetUploadFiles("#fb-import", []string{bad}))
	waitFor(t, ctx, `!!document.querySelector('#fb-import-error')`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#fb-import-error"), "Line 2")
	require.Equal(t, n, picks())

	// Export the picks: TRL's JSON Lines, one pair a line, which core/feedback reads back.
	click(t, ctx, "#fb-export")
	pairs, err := feedback.ParsePairs("picks.jsonl", downloaded(t, downloads, "picks.jsonl"))
	require.NoError(t, err)
	require.Len(t, pairs, n)

	// Closing the tab keeps the picks: the page offers them again and goes on with them.
	do(t, ctx, chromedp.Reload())
	waitFor(t, ctx, `!!document.querySelector('.app[data-live="true"] #start')`, 90*time.Second)
	click(t, ctx, "#nav-feedback")
	waitFor(t, ctx, `!!document.querySelector('#fb-resume-offer')`, 10*time.Second)
	require.Contains(t, text(t, ctx, "#fb-resume-offer"), strconv.Itoa(n))
	click(t, ctx, "#fb-resume-yes")
	waitFor(t, ctx, `(document.querySelector('#fb-sft-status') || {dataset: {}}).dataset.status === 'done' && !!document.querySelector('#fb-offer')`, 2*time.Minute)
	require.Equal(t, n, picks())
	require.Equal(t, taste, eval[int](t, ctx, `document.querySelectorAll('#fb-picks-table tbody tr[data-by="taste"]').length`))

	// The reward model, shortened: its curve, its held-out accuracy, every pick's scores, and
	// the score of a typed answer.
	typeInto(t, ctx, "#fb-rm-steps", "10")
	waitFor(t, ctx, `!document.querySelector('#fb-rm-steps-reset').disabled`, 5*time.Second)
	click(t, ctx, "#fb-rm-train")
	waitFor(t, ctx, `['done','failed','stopped'].includes((document.querySelector('#fb-rm-status') || {dataset: {}}).dataset.status)`, 3*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#fb-rm-status').dataset.status`), "%s", text(t, ctx, "#fb-reward"))
	acc := strings.TrimSuffix(text(t, ctx, "#fb-rm-accuracy"), "%")
	v, err := strconv.ParseFloat(acc, 64)
	require.NoError(t, err, acc)
	require.True(t, v >= 0 && v <= 100, acc)
	require.GreaterOrEqual(t, eval[int](t, ctx, `[...document.querySelectorAll('#fb-reward-chart polyline')].filter(p => p.getAttribute('points').split(' ').length >= 2).length`), 1)
	require.Equal(t, n, eval[int](t, ctx, `document.querySelectorAll('#fb-picks-table tbody td[data-held]').length`), "every pick has its scores")
	require.Greater(t, eval[int](t, ctx, `document.querySelectorAll('#fb-picks-table tbody td[data-held="true"]').length`), 0)
	typeInto(t, ctx, "#fb-score-prompt", "What does the fox eat?")
	eval[bool](t, ctx, `(() => { const el = document.querySelector('#fb-score-prompt'); el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`)
	typeInto(t, ctx, "#fb-score-text", " it eats bread")
	eval[bool](t, ctx, `(() => { const el = document.querySelector('#fb-score-text'); el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`)
	click(t, ctx, "#fb-score-run")
	waitFor(t, ctx, `!!document.querySelector('#fb-score-value') || !!document.querySelector('#fb-score-error')`, 30*time.Second)
	_, err = strconv.ParseFloat(text(t, ctx, "#fb-score-value"), 64)
	require.NoError(t, err, "score: %s", text(t, ctx, "#fb-score"))

	// PPO and DPO side by side, a few steps each.
	click(t, ctx, "#fbt-m-grpo")
	waitFor(t, ctx, `!document.querySelector('#fbt-m-grpo').checked`, 5*time.Second)
	typeInto(t, ctx, "#fbt-sched-steps", "2")
	typeInto(t, ctx, "#fbt-sched-batch", "4")
	waitFor(t, ctx, `!document.querySelector('#fbt-setup-error') && !document.querySelector('#fb-tune-run').disabled`, 5*time.Second)
	click(t, ctx, "#fb-tune-run")
	waitFor(t, ctx, `document.querySelectorAll('#fbt-lanes li').length === 2`, 30*time.Second)
	waitFor(t, ctx, `[...document.querySelectorAll('#fbt-lanes li')].every(li => ['done','failed','stopped'].includes(li.dataset.status))`, 4*time.Minute)
	require.Equal(t, []string{"done", "done"}, eval[[]string](t, ctx, `[...document.querySelectorAll('#fbt-lanes li')].map(li => li.dataset.status)`), "%s", text(t, ctx, "#fbt-lanes"))

	// The table: the SFT model, then each method with every figure and a fingerprint.
	rows := feedbackTable(t, ctx)
	require.Equal(t, []string{feedback.SFT, "ppo", "dpo"}, rowNames(rows))
	for _, r := range rows[1:] {
		for i, c := range r.cells {
			require.NotEqual(t, "–", c, "%s column %d", r.method, i)
		}
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.fingerprint)
	}
	require.Equal(t, "reward_model", eval[string](t, ctx, `document.querySelector('#fbt-judge-note').dataset.judge`), "the learner made picks: the reward model judges")
	// Each method's curve in both charts, and the SFT model's reward as the line to beat.
	for chart, lines := range map[string]int{"#fbt-reward-chart": 3, "#fbt-kl-chart": 2} {
		require.Equal(t, lines, eval[int](t, ctx, `[...document.querySelectorAll('`+chart+` polyline')].filter(p => p.getAttribute('points').split(' ').length >= 2).length`), chart)
	}
	require.Equal(t, 3, eval[int](t, ctx, `document.querySelectorAll('#fbt-answers thead th').length - 1`), "an answers column for the SFT model and each method")
	require.GreaterOrEqual(t, eval[int](t, ctx, `document.querySelectorAll('#fbt-answers tbody tr').length`), 1)
	require.NotEmpty(t, text(t, ctx, "#fbt-over-time"))
	screenshot(t, ctx, "feedback.png")

	// Export: the CSV holds the table, the SVG is the reward chart.
	click(t, ctx, "#fbt-csv")
	recs, err := csv.NewReader(strings.NewReader(string(downloaded(t, downloads, "feedback.csv")))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+len(rows))
	click(t, ctx, "#fbt-reward-svg")
	var svg struct{ XMLName xml.Name }
	require.NoError(t, xml.Unmarshal(downloaded(t, downloads, "feedback-reward.svg"), &svg))
	require.Equal(t, "svg", svg.XMLName.Local)

	// Share, and open the link in a fresh browser: the kept SFT model, the picks from the link,
	// the reward model and both methods trained again, every fingerprint the same.
	click(t, ctx, "#fb-share")
	waitFor(t, ctx, `!!document.querySelector('#fb-share-url')`, 10*time.Second)
	link := eval[string](t, ctx, `document.querySelector('#fb-share-url').value`)
	require.True(t, strings.HasPrefix(link, origin+"/#r=5"), link)
	fresh, cancelFresh := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelFresh()
	reqs.listen(t, fresh)
	openApp(t, fresh, link)
	waitFor(t, fresh, `!!document.querySelector('#fb-link') && !document.querySelector('#feedback').closest('[hidden]')`, 20*time.Second)
	waitFor(t, fresh, `document.querySelectorAll('#fbt-lanes li').length === 2 &&
		[...document.querySelectorAll('#fbt-lanes li')].every(li => ['done','failed','stopped'].includes(li.dataset.status))`, 5*time.Minute)
	require.Equal(t, "matches", eval[string](t, fresh, `document.querySelector('#fb-sft-match').dataset.match`))
	require.Equal(t, "matches", eval[string](t, fresh, `document.querySelector('#fb-rm-match').dataset.match`))
	again := feedbackTable(t, fresh)
	require.Equal(t, rowNames(rows), rowNames(again))
	for i := range rows {
		require.Equal(t, rows[i].fingerprint, again[i].fingerprint, "%s reproduces", rows[i].method)
	}
	require.Equal(t, []string{"matches", "matches"}, eval[[]string](t, fresh,
		`[...document.querySelectorAll('#fbt-table tbody tr')].slice(1).map(tr => (tr.querySelector('[data-match]') || {dataset: {}}).dataset.match || '')`))
	cancelFresh()

	// Stop ends every method's worker at once, mid-run.
	typeInto(t, ctx, "#fbt-sched-steps", "5000")
	waitFor(t, ctx, `!document.querySelector('#fb-tune-run').disabled`, 5*time.Second)
	click(t, ctx, "#fb-tune-run")
	waitFor(t, ctx, `[...document.querySelectorAll('#fbt-lanes li')].filter(li => li.dataset.status === 'running').length === 2`, time.Minute)
	click(t, ctx, "#fb-tune-stop")
	waitFor(t, ctx, `[...document.querySelectorAll('#fbt-lanes li')].every(li => li.dataset.status === 'stopped')`, 5*time.Second)
	require.False(t, eval[bool](t, ctx, `document.querySelector('#fb-tune-run').disabled`), "the methods can run again")

	// Chinese: no English left in the feedback view.
	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('.app').lang === 'zh'`, 10*time.Second)
	requireNoEnglish(t, ctx, "feedback")
	screenshot(t, ctx, "feedback-zh.png")

	all, off := reqs.offOrigin(origin)
	require.Greater(t, all, 5)
	require.Empty(t, off, "requests that left the origin")
}

// feedbackRow is one row of the feedback results table as the page shows it.
type feedbackRow struct {
	method      string
	cells       []string
	fingerprint string
}

func feedbackTable(t *testing.T, ctx context.Context) []feedbackRow {
	t.Helper()
	raw := eval[[][]string](t, ctx, `[...document.querySelectorAll('#fbt-table tbody tr')].map(tr =>
		[tr.dataset.method, (tr.querySelector('td.fingerprint code') || {textContent: ''}).textContent,
		 ...[...tr.querySelectorAll('td.num')].map(td => td.textContent.trim())])`)
	var rows []feedbackRow
	for _, r := range raw {
		require.GreaterOrEqual(t, len(r), 2)
		rows = append(rows, feedbackRow{method: r[0], fingerprint: r[1], cells: r[2:]})
	}
	return rows
}

func rowNames(rows []feedbackRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.method)
	}
	return out
}
