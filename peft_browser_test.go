//go:build !js

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"pretune/core/runspec"
)

// TestPEFTMethodsInTheBrowser (issue #17) runs every method kind #17 added in one comparison
// from the compare view, since each one opens the same page and trains the same base (two tests
// once did it in two comparisons, one of them from the kept en-base, whose small model costs
// minutes where en-tiny costs seconds). First the form as opened: the kept en-base is the
// default base, LoRA+, PiSSA and prompt tuning show their settings at their defaults with the
// sentence saying what each trains, PiSSA chooses LoRA's layers. Then, on en-tiny (its context
// widened to 64) pretrained in the page, DoRA, IA3, BitFit, LayerNorm tuning, LoRA+, PiSSA and prompt tuning run 4 steps in
// the browser's workers and each is measured in the table (trainable parameters as its shape
// says, share, optimizer memory, ms/step, fingerprint): LoRA+ and PiSSA train LoRA's tensors
// (the same count), prompt tuning 8 soft tokens of the model's width. DoRA draws its ΔW; IA3's
// adapter file is saved and loads back onto the base with IA3's answers; the Chinese page names
// every method in Chinese.
func TestPEFTMethodsInTheBrowser(t *testing.T) {
	srv := playgroundServer(t)
	ctx := newBrowser(t, 6*time.Minute)
	downloads := t.TempDir()
	_, err := chromedp.Run(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: "allow", DownloadPath: downloads})
		return err
	}))
	require.NoError(t, err)
	openApp(t, ctx, srv.URL+"/")

	// The form as opened: the kept base, and the new rows' defaults and sentences.
	click(t, ctx, "#nav-compare")
	waitFor(t, ctx, `!!document.querySelector('#cmp-run') && !document.querySelector('#compare').closest('[hidden]')`, 10*time.Second)
	require.Equal(t, "en-base", eval[string](t, ctx, `document.querySelector('#cmp-base').value`))
	for id, want := range map[string]string{"#m-loraplus-ratio": "16", "#m-loraplus-rank": "4", "#m-loraplus-alpha": "8",
		"#m-pissa-rank": "4", "#m-pissa-alpha": "4", "#m-prompt-soft_tokens": "8"} {
		require.Equal(t, want, eval[string](t, ctx, `document.querySelector('`+id+`').value`), id)
	}
	require.Contains(t, text(t, ctx, "#m-prompt-about"), "prefix tuning instead trains rows of every layer's keys and values")
	require.Contains(t, text(t, ctx, "#m-loraplus-about"), "16 by default")
	require.Contains(t, text(t, ctx, "#m-pissa-about"), "singular")
	require.True(t, eval[bool](t, ctx, `!!document.querySelector('#m-pissa-target-q_proj')`), "PiSSA chooses LoRA's layers")

	// The base: en-tiny pretrained here, its context widened to en-base's 64 so that prompt
	// tuning's 8 soft tokens fit before en-facts' longest example (54 tokens).
	click(t, ctx, "#nav-pretrain")
	click(t, ctx, "#preset-en-tiny")
	typeInto(t, ctx, "#f-context", "64")
	click(t, ctx, "#start")
	runToEnd(t, ctx)
	click(t, ctx, "#nav-compare")
	waitFor(t, ctx, `!document.querySelector('#cmp-base option[value="pretrained"]').disabled`, 10*time.Second)
	choose(t, ctx, "#cmp-base", "pretrained")
	waitFor(t, ctx, `document.querySelector('#cmp-task').value === 'en-facts'`, 5*time.Second)
	kinds := []string{"dora", "ia3", "bitfit", "ln_tuning", "loraplus", "pissa", "prompt"} // the lanes' order
	for _, kind := range append([]string{"full", "lora", "adapter", "prefix"}, kinds...) {
		click(t, ctx, "#m-"+kind) // the lesson's four off, the new seven on
	}
	waitFor(t, ctx, `['dora','ia3','bitfit','ln_tuning','loraplus','pissa','prompt'].every(k => document.querySelector('#m-'+k).checked) && !document.querySelector('#m-full').checked`, 5*time.Second)
	typeInto(t, ctx, "#cmp-steps", "4") // short: the methods run, the numbers are not judged
	runComparison(t, ctx)
	waitFor(t, ctx, `document.querySelectorAll('#cmp-lanes li').length === 7`, 30*time.Second)
	waitFor(t, ctx, `['done','failed','stopped'].includes(document.querySelector('#cmp-status').dataset.phase)`, 4*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#cmp-status').dataset.phase`), "lanes: %s", text(t, ctx, "#cmp-lanes"))

	rows := compareTable(t, ctx)
	require.Len(t, rows, 1+len(kinds))
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	base := tiny.Spec
	base.Config.Context = 64
	C, L := base.Config.Dim, base.Config.Layers
	want := map[string]int{"dora": L * 4 * (4*C + 4*C + C), "ia3": L * 6 * C, "bitfit": L*11*C + C, "ln_tuning": 2 * C * (2*L + 1), "prompt": 8 * C}
	require.Equal(t, "base", rows[0].method)
	require.Equal(t, "done", rows[0].status)
	params := map[string]int{}
	for i, kind := range kinds {
		r := rows[1+i]
		require.Equal(t, kind, r.method)
		require.Equal(t, "done", r.status, "%s: %s", kind, text(t, ctx, "#cmp-lanes"))
		params[kind] = paramCount(t, r.cells[2])
		if n, ok := want[kind]; ok {
			require.Equal(t, n, params[kind], "%s's trainable parameters", kind)
		}
		for j, c := range r.cells[2:6] {
			require.NotEqual(t, "–", c, "%s column %d", kind, j+2)
		}
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.fingerprint, kind)
	}
	require.Equal(t, params["loraplus"], params["pissa"], "LoRA+ and PiSSA train LoRA's tensors")
	waitFor(t, ctx, `!!document.querySelector('#lora-0-map')`, 10*time.Second) // DoRA draws its ΔW

	// IA3's file: saved from its panel, it holds the vectors in PEFT's naming and loads back.
	waitFor(t, ctx, `!!document.querySelector('#lora-1-save') && !document.querySelector('#lora-1-save').disabled`, 30*time.Second)
	click(t, ctx, "#lora-1-save")
	file := downloaded(t, downloads, "ia3-adapter.safetensors")
	m := freshCPUModel(t, base)
	require.NoError(t, m.ImportIA3(bytes.NewReader(file)))
	path := filepath.Join(t.TempDir(), "ia3-adapter.safetensors")
	require.NoError(t, os.WriteFile(path, file, 0o644))
	do(t, ctx, chromedp.SetUploadFiles("#cmp-adapter-file", []string{path}))
	waitFor(t, ctx, `document.querySelectorAll('#cmp-answers td[data-method="loaded"]').length > 0 || !!document.querySelector('#cmp-adapter-error')`, 2*time.Minute)
	require.Empty(t, text(t, ctx, "#cmp-adapter-error"))
	require.Equal(t, answerColumn(t, ctx, "ia3"), answerColumn(t, ctx, "loaded"), "the loaded IA3 adapter answers as IA3 did")

	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('#cmp-run').textContent === '微调并比较'`, 10*time.Second)
	requireNoEnglish(t, ctx, "compare")
}
