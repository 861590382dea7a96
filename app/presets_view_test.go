package app

import (
	"html"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/runspec"
)

// TestLinkFragment: #r= opens a link and runs it, #o= (the built-in runs tab's Open) only opens
// it, in the view its run belongs to; #view= switches the view.
func TestLinkFragment(t *testing.T) {
	code, run, ok := linkFragment("r=1abc")
	require.Equal(t, []any{"1abc", true, true}, []any{code, run, ok})
	code, run, ok = linkFragment("o=1abc")
	require.Equal(t, []any{"1abc", false, true}, []any{code, run, ok})
	code, run, ok = linkFragment("r=1abc~kq3")
	require.Equal(t, []any{"1abc", true, true}, []any{code, run, ok}, "the tab's ~N to open the same link again")
	_, _, ok = linkFragment("x=1abc")
	require.False(t, ok)
	for _, pr := range allPresets() {
		c, err := runspec.Encode(pr.Spec)
		require.NoError(t, err)
		require.Equal(t, presetKind(pr.Spec), linkView("o="+c), pr.Name)
		require.Equal(t, linkView("r="+c), linkView("o="+c), pr.Name)
	}
	require.Equal(t, viewFeedback, linkView("view=feedback"))
	require.Equal(t, viewFeedback, linkView("view=feedback~kq3"))
	require.Empty(t, linkView("view=nothing"))
}

// TestOpenWithoutRunning: Open fills the view's setup and starts nothing; Run starts it.
func TestOpenWithoutRunning(t *testing.T) {
	pre := runspec.Presets()[1].Spec
	code, err := runspec.Encode(pre)
	require.NoError(t, err)
	h := &fakeHost{}
	p := &pretrainState{host: h, form: defaultSetup()}
	p.openLink("o=" + code)
	require.Empty(t, h.workers, "opened, not started")
	require.Nil(t, p.link, "the form is the run: no link notice")
	require.Equal(t, pre.Config, p.form.Cfg)
	p.openLink("r=" + code)
	require.Len(t, h.workers, 1)

	cmp := runspec.ComparisonPresets()[0].Spec
	code, err = runspec.Encode(cmp)
	require.NoError(t, err)
	h = &fakeHost{}
	c := &compareState{host: h, form: defaultCompareSetup(ZH)}
	c.openLink("o=" + code)
	require.Nil(t, c.cmp, "opened, not started")
	require.Empty(t, h.fetches)
	require.Equal(t, cmp.Lang, c.form.Lang())
	c.openLink("r=" + code)
	require.NotNil(t, c.cmp)
}

// TestPresetEstimates: with no speed measured here, a run's time is its steps at the README's
// 5,000 tokens a second of the small model, scaled by the model's weights; a measured speed
// twice the typical one halves every estimate; the words say which it is.
func TestPresetEstimates(t *testing.T) {
	small, err := runspec.PresetByName("en-small")
	require.NoError(t, err)
	c := small.Spec.Config
	typical := typicalSpeed()
	require.InDelta(t, float64(c.Steps*c.Batch*c.Context)/typicalTokensPS, estimateSeconds(small.Spec, typical, 2), 1e-9)
	for _, pr := range allPresets() {
		sec := estimateSeconds(pr.Spec, typical, 2)
		require.Greater(t, sec, 0.0, pr.Name)
		require.InDelta(t, sec/2, estimateSeconds(pr.Spec, 2*typical, 2), 1e-9, pr.Name)
	}
	base, err := runspec.PresetByName("en-base")
	require.NoError(t, err)
	require.InDelta(t, 34, estimateSeconds(base.Spec, typical, 2)/60, 1, "20,000 steps of the small model: about 34 minutes")
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	require.Less(t, estimateSeconds(tiny.Spec, typical, 2), 5.0, "the tiny model for 60 steps: seconds")
	// A comparison's methods train side by side: four on 2 cores take half as long as one after
	// another, on 4 cores a quarter; more cores than methods change nothing.
	lesson, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	one := estimateSeconds(lesson.Spec, typical, 1)
	require.InDelta(t, one/2, estimateSeconds(lesson.Spec, typical, 2), 1e-9)
	require.InDelta(t, one/4, estimateSeconds(lesson.Spec, typical, 4), 1e-9)
	require.InDelta(t, one/4, estimateSeconds(lesson.Spec, typical, 16), 1e-9)
	require.Equal(t, estimateSeconds(tiny.Spec, typical, 1), estimateSeconds(tiny.Spec, typical, 8), "one pretraining worker")
	for _, l := range []Lang{EN, ZH} {
		require.Contains(t, estimateText(l, small.Spec, 0, 8), l.T("presets.minutes", 2))
		require.Contains(t, estimateText(l, small.Spec, 0, 8), "5,000")
		require.Equal(t, l.T("presets.time_measured", l.T("presets.seconds", 50)), estimateText(l, small.Spec, 2*typical, 8))
	}
}

// TestPresetsCards: a card per built-in run with its name, what it shows, its time, Open and
// Run; a pasted built-in code says which run it is rather than "no expected fingerprint", and
// another code opens a card of its own.
func TestPresetsCards(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		page := render(t, &Presets{Lang: l})
		for _, pr := range allPresets() {
			i := strings.Index(page, `id="preset-`+pr.Name+`"`)
			require.GreaterOrEqual(t, i, 0, pr.Name)
			card := page[i:]
			card = card[:strings.Index(card, "</article>")]
			require.Contains(t, card, html.EscapeString(presetName(l, pr.Name)))
			require.Contains(t, card, html.EscapeString(presetAbout(l, pr.Name)))
			require.Contains(t, card, `class="preset-open"`)
			require.Contains(t, card, `class="preset-run primary"`)
			require.NotContains(t, card, "[presets.", "a missing word")
		}
	}
	pr := runspec.ComparisonPresets()[1]
	code, err := runspec.Encode(pr.Spec)
	require.NoError(t, err)
	p := &Presets{Lang: EN}
	p.decode("https://example.org/#r=" + code)
	page := render(t, p)
	require.Contains(t, page, `id="link-builtin"`)
	require.Contains(t, page, EN.T("presets.is_builtin", presetName(EN, pr.Name)))
	require.NotContains(t, page, EN.T("link.no_fingerprint"))
	require.Contains(t, page, `id="link-preset"`)

	other := pr.Spec
	other.Config.Seed++
	code, err = runspec.Encode(other)
	require.NoError(t, err)
	p.decode(code)
	page = render(t, p)
	require.NotContains(t, page, `id="link-builtin"`)
	require.Contains(t, page, `id="link-preset"`)
	require.Contains(t, page, EN.T("link.no_fingerprint"))
}
