package app

import (
	"regexp"
	"strings"
	"testing"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
	"github.com/stretchr/testify/require"

	"pretune/core/job"
	"pretune/core/runspec"
)

// render mounts a component as the server does and returns its HTML.
func render(t *testing.T, c app.UI) string {
	t.Helper()
	d := app.NewServerTester(c)
	defer d.Close()
	d.Consume()
	return app.HTMLString(c)
}

// TestPretrainRendersARun: a finished run shows its curve, fingerprint, match and samples; the
// runs table says what changed; in Chinese no key is missing.
func TestPretrainRendersARun(t *testing.T) {
	spec := runspec.Presets()[0].Spec
	first := newRun("otter", spec, 1)
	first.Status, first.Device = statusDone, "cpu"
	first.Points = []point{{20, 3, 3.1}, {40, 2.5, 2.6}}
	spec2 := spec
	spec2.Config.LR = 0.03
	second := newRun("heron", spec2, 1)
	second.Status, second.Device, second.Fallback = statusDone, "cpu", "no usable WebGPU"
	second.Points = []point{{20, 3.2, 3.3}, {40, 2.9, 3.0}, {60, 2.7, 2.8}}
	second.Samples = []sample{{Step: 20, Text: "The fx"}, {Step: 60, Text: "The fox ran"}}
	second.Result = &job.Event{Event: "result", ValLoss: 2.8, Params: 29824, Fingerprint: "cpu:0123456789ab", Match: "matches"}
	first.Overlay = true

	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			p := &Pretrain{Lang: l, pretrainState: pretrainState{form: defaultSetup(), runs: []*run{first, second}, cur: second}}
			html := render(t, p)
			require.NotContains(t, html, "[", "a missing text shows as [key]")
			require.Contains(t, html, `id="fingerprint"`)
			require.Contains(t, html, "cpu:0123456789ab")
			require.Contains(t, html, `data-match="matches"`)
			require.Contains(t, html, l.T("match.matches"))
			require.Contains(t, html, "The fox ran")
			require.Less(t, strings.Index(html, "The fx"), strings.Index(html, "The fox ran"), "newest sample last")
			require.Contains(t, html, l.T("field.lr")+" 0.003 → 0.03", "the runs table says what changed")
			// Two runs on the chart: the overlay's and the current one's, training and held-out.
			require.Len(t, regexp.MustCompile(`<polyline`).FindAllString(html, -1), 4)
			require.Contains(t, html, l.T("device.fallback"))
		})
	}
}

// TestPretrainRendersAMaskedRun: the objective picker shows masked LM with its explanation and
// mask rate; the samples are the fill-in-the-blank probe's (blanks and guesses), and the result
// gives the probe's accuracy.
func TestPretrainRendersAMaskedRun(t *testing.T) {
	form := defaultSetup()
	form.Objective = runspec.ObjectiveMasked
	spec, err := form.Spec(EN)
	require.NoError(t, err)
	r := newRun("otter", spec, 1)
	r.Status = statusDone
	r.Samples = []sample{{Step: 60, Text: "Th_ f_x", Filled: "The fox"}}
	acc := 0.4125
	r.Result = &job.Event{Event: "result", ValLoss: 2.1, Params: 100, Fingerprint: "cpu:0123456789ab", FillBlank: &acc}
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			html := render(t, &Pretrain{Lang: l, pretrainState: pretrainState{form: form, runs: []*run{r}, cur: r}})
			require.NotContains(t, html, "[", "a missing text shows as [key]")
			require.Contains(t, html, `id="objective-masked"`)
			require.Contains(t, html, `id="f-mask_rate"`)
			require.Contains(t, html, l.T("probe.title"))
			require.Contains(t, html, "Th_ f_x")
			require.Contains(t, html, "The fox")
			require.Contains(t, html, l.T("result.fill", 41.25))
		})
	}
}

func TestPretrainRendersLinkErrors(t *testing.T) {
	p := &Pretrain{Lang: ZH, pretrainState: pretrainState{form: defaultSetup()}}
	_, p.linkErr = runspec.Decode("1" + strings.Repeat("A", 40))
	html := render(t, p)
	require.Contains(t, html, `id="link-error"`)
	require.Contains(t, html, ZH.T("link.refused"))
}
