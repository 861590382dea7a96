package app

import (
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/fingerprint"
	"pretune/core/runspec"
)

// finishedComparison is twoMethods after both workers reported.
func finishedComparison(t *testing.T) *comparison {
	t.Helper()
	c := newComparison(twoMethods(t))
	c.Lanes[0].ReqID, c.Lanes[1].ReqID = 1, 1
	c.fineTuning()
	c.BaseNote = "base.note.pretrained"
	answers := heldOut(t, 2)
	for _, m := range workerMessages(1, "full", answers, 1, 0.25, 30016, 240128, 12.5) {
		c.Apply(0, m)
	}
	for _, m := range workerMessages(1, "lora", answers, 0.5, 0, 1024, 8192, 7.25) {
		c.Apply(1, m)
	}
	require.Equal(t, phaseDone, c.Phase)
	return c
}

// TestCompareRendersAComparison: a finished comparison shows its table (base first, numbers in
// every column), its chart, its answers and the note on ms/step, in both languages with no key
// missing; the form shows every method with its defaults.
func TestCompareRendersAComparison(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			c := &Compare{Lang: l, compareState: compareState{form: defaultCompareSetup(l), cmp: finishedComparison(t)}}
			page := render(t, c)
			require.NotContains(t, page, "[", "a missing text shows as [key]")
			rows := tableRows(page)
			require.Equal(t, [][2]string{{"base", statusDone}, {"full", statusDone}, {"lora", statusDone}}, rows)
			require.Contains(t, page, `<td class="num data accuracy">50%</td>`, "accuracy as a percentage")
			requireHeadingsExplained(t, page, "cmp-table", 8)
			require.Contains(t, page, `<td class="num data optimizer">234.5 KiB</td>`)
			require.Contains(t, page, `<td class="num data share">3.41%</td>`)
			require.Contains(t, page, html.EscapeString(l.T("cmp.ms_note")))
			require.Contains(t, page, `id="compare-chart"`)
			require.Len(t, regexp.MustCompile(`<polyline`).FindAllString(page, -1), 4)
			require.Contains(t, page, `id="cmp-answers"`)
			require.Contains(t, page, `class="data answer right"`)
			require.Contains(t, page, `id="cmp-csv"`)
			require.Contains(t, page, `id="cmp-share"`)
			require.Contains(t, page, `data-phase="done"`)
			require.Contains(t, page, l.T("base.note.pretrained"))
			require.Contains(t, page, "cpu:00000000000a", "the base's pretraining fingerprint")
			for _, k := range compare.Kinds {
				require.Contains(t, page, `id="m-`+k+`"`, "a tick box for %s", k)
			}
			require.Contains(t, page, `id="m-lora-rank"`)
			require.Contains(t, page, `id="m-lora-target-fc_out"`)
			require.True(t, hasTag(page, "input", `id="cmp-steps"`, `value="500"`))
			require.Contains(t, page, l.T("cmp.head_needs_classify"), "a generate task: the head is off, and says why")
			require.Contains(t, page, l.T("base.hint.none"), "no pretraining yet: how to get one")
		})
	}
}

// tableRows reads the results table's rows back: each one's method and state (go-app writes
// attributes in any order).
func tableRows(html string) [][2]string {
	var out [][2]string
	for _, tr := range regexp.MustCompile(`<tr [^>]*data-method="[^>]*>`).FindAllString(html, -1) {
		m := regexp.MustCompile(`data-method="([^"]*)"`).FindStringSubmatch(tr)
		st := regexp.MustCompile(`data-status="([^"]*)"`).FindStringSubmatch(tr)
		out = append(out, [2]string{m[1], st[1]})
	}
	return out
}

// hasTag says whether html has a <name ...> tag with every one of attrs, in any order (go-app
// writes attributes in any order; a bare boolean attribute is given as " disabled").
func hasTag(html, name string, attrs ...string) bool {
	for _, tag := range regexp.MustCompile(`<`+name+`\b[^>]*>`).FindAllString(html, -1) {
		all := true
		for _, a := range attrs {
			if strings.HasPrefix(a, " ") { // boolean: present, not ="false"
				all = all && regexp.MustCompile(regexp.QuoteMeta(a)+`[ >]`).MatchString(tag)
			} else {
				all = all && strings.Contains(tag, a)
			}
		}
		if all {
			return true
		}
	}
	return false
}

// TestCompareRendersFailures: a base that could not be had says why; a method that failed says
// why in its row; a link shows what it carries.
func TestCompareRendersFailures(t *testing.T) {
	c := &Compare{Lang: EN, compareState: compareState{form: defaultCompareSetup(EN), cmp: newComparison(twoMethods(t))}}
	c.cmp.fail("base.err.missing", "web/base/en-base.ckpt: HTTP 404 Not Found")
	html := render(t, c)
	require.Contains(t, html, `id="cmp-run-error"`)
	require.Contains(t, html, EN.T("base.err.missing"))
	require.Contains(t, html, "HTTP 404 Not Found")
	require.NotContains(t, html, `id="cmp-table"`, "no table without a base")

	cmp := finishedComparison(t)
	cmp.Lanes[1].Status, cmp.Lanes[1].Err, cmp.Lanes[1].Result = statusFailed, "out of memory", nil
	cmp.Spec.Fingerprint = "cpu:00000000000a" // the link's: its base matches
	spec := cmp.Spec
	c = &Compare{Lang: ZH, compareState: compareState{form: setupFromComparison(spec, baseLink), cmp: cmp, link: &spec}}
	html = render(t, c)
	require.NotContains(t, html, "[")
	require.Equal(t, [][2]string{{"base", statusDone}, {"full", statusDone}, {"lora", statusFailed}}, tableRows(html))
	require.Contains(t, html, "out of memory")
	require.Contains(t, html, `id="cmp-link"`)
	require.Contains(t, html, ZH.T("cmp.link_title"))
	require.Contains(t, html, `data-match="matches"`)
	require.Contains(t, html, ZH.T("base."+baseLink))
}

// TestCompareIdle: before any run the view explains itself and the chart is empty.
func TestCompareIdle(t *testing.T) {
	html := render(t, &Compare{Lang: EN})
	require.NotContains(t, html, "[")
	require.Contains(t, html, EN.T("cmp.idle"))
	require.Contains(t, html, EN.T("chart.empty"))
	require.True(t, hasTag(html, "option", `value="en-base"`, ` selected`))
	require.True(t, hasTag(html, "option", `value="pretrained"`, ` disabled`), "no pretraining yet: not a choice")
	require.False(t, hasTag(html, "option", `value="en-base"`, ` disabled`))
}

// TestLinksGoToTheirView: a comparison's link opens the compare view, any other the pretraining
// view, which leaves a comparison alone (the compare view runs it) instead of refusing it.
func TestLinksGoToTheirView(t *testing.T) {
	lesson, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	cmpCode, err := runspec.Encode(lesson.Spec)
	require.NoError(t, err)
	plain, err := runspec.Encode(runspec.Presets()[0].Spec)
	require.NoError(t, err)
	require.Equal(t, viewCompare, linkView("r="+cmpCode))
	require.Equal(t, viewPretrain, linkView("r="+plain))
	require.Equal(t, viewPretrain, linkView("r=2damaged"), "a damaged link: the pretraining view says why")
	require.Empty(t, linkView("tab=2"))

	p := &Pretrain{Lang: EN, pretrainState: pretrainState{form: defaultSetup()}}
	p.openLink("r=" + cmpCode)
	require.Nil(t, p.link)
	require.NoError(t, p.linkErr)
	html := render(t, p)
	require.NotContains(t, html, `id="link-error"`)

	c := &Compare{Lang: EN}
	c.openLink("r=" + plain)
	require.Nil(t, c.link, "a pretraining link is not the compare view's")
	require.True(t, strings.HasPrefix(cmpCode, "2"))
}

// TestCompareShowsEachVerdict: a comparison from a link that carried its results' fingerprints
// shows, in each row, whether that result matches (in both languages); the share link then
// carries this run's fingerprints; without them no row shows a verdict.
func TestCompareShowsEachVerdict(t *testing.T) {
	plain := render(t, &Compare{Lang: EN, compareState: compareState{form: defaultCompareSetup(EN), cmp: finishedComparison(t)}})
	require.NotContains(t, plain, `class="match`, "a link without fingerprints: no verdict")

	cmp := finishedComparison(t)
	verdicts := map[string][2]string{ // what the workers said: the expected fingerprint, the verdict
		"base": {"cpu:000000000000", fingerprint.Matches},
		"full": {"cpu:full0000000", fingerprint.Matches},
		"lora": {"cpu:ffffffffffff", fingerprint.Differs},
	}
	cmp.BaseResult.Fingerprint = "cpu:000000000000"
	cmp.BaseResult.Expected, cmp.BaseResult.Match = verdicts["base"][0], verdicts["base"][1]
	for _, ln := range cmp.Lanes {
		v := verdicts[ln.Method.Label()]
		ln.Result.Expected, ln.Result.Match = v[0], v[1]
	}
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			page := render(t, &Compare{Lang: l, compareState: compareState{form: defaultCompareSetup(l), cmp: cmp}})
			require.NotContains(t, page, "[")
			for name, v := range verdicts {
				row := regexp.MustCompile(`(?s)<tr [^>]*data-method="` + name + `"[^>]*>.*?</tr>`).FindString(page)
				require.NotEmpty(t, row, name)
				require.True(t, hasTag(row, "span", `data-match="`+v[1]+`"`), "%s's row says %s:\n%s", name, v[1], row)
				want := l.T("cmp.fp.matches")
				if v[1] == fingerprint.Differs {
					want = l.T("cmp.fp.differs", v[0])
				}
				require.Contains(t, row, html.EscapeString(want), name)
			}
		})
	}
	require.Equal(t, map[string]string{"base": "cpu:000000000000", "full": "cpu:full0000000", "lora": "cpu:lora0000000"}, cmp.Fingerprints(),
		"the share link carries this run's fingerprints")

	// The link's box lists the fingerprints it carries, the base first; a link without them, none.
	spec := cmp.Spec
	spec.Fingerprints = map[string]string{"lora": "cpu:ffffffffffff", "base": "cpu:000000000000"}
	page := render(t, &Compare{Lang: EN, compareState: compareState{form: setupFromComparison(spec, baseLink), cmp: cmp, link: &spec}})
	require.Contains(t, page, `id="cmp-link-each"`)
	require.Contains(t, page, html.EscapeString(EN.T("method.base")+": cpu:000000000000 · "+EN.T("method.lora")+": cpu:ffffffffffff"))
	spec.Fingerprints = nil
	page = render(t, &Compare{Lang: ZH, compareState: compareState{form: setupFromComparison(spec, baseLink), cmp: cmp, link: &spec}})
	require.Contains(t, page, `id="cmp-link"`)
	require.NotContains(t, page, `id="cmp-link-each"`)
}

// requireHeadingsExplained checks that each of a results table's n column headings carries its
// one-line explanation as a title (shown on hover).
func requireHeadingsExplained(t *testing.T, page, table string, n int) {
	t.Helper()
	start := strings.Index(page, `<table id="`+table+`"`)
	require.GreaterOrEqual(t, start, 0, table)
	head := page[start : start+strings.Index(page[start:], "</thead>")]
	ths := regexp.MustCompile(`<th [^>]*>`).FindAllString(head, -1)
	require.Len(t, ths, n, table)
	for _, th := range ths {
		title := regexp.MustCompile(`title="([^"]*)"`).FindStringSubmatch(th)
		require.NotNil(t, title, "%s: a heading without an explanation: %s", table, th)
		require.Greater(t, len(title[1]), 20, th)
	}
}
