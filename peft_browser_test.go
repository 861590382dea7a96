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

// TestPEFTMethodsInTheBrowser (issue #17, part a): DoRA, IA3, BitFit and LayerNorm tuning run
// from the compare view on a base pretrained in the page, each measured in the table (trainable
// parameters, share, optimizer memory, ms/step, fingerprint); the IA3 method's adapter file is
// saved and loads back onto the base with IA3's answers; the Chinese page names every new method
// in Chinese.
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
	click(t, ctx, "#nav-pretrain")
	click(t, ctx, "#preset-en-tiny")
	click(t, ctx, "#start")
	runToEnd(t, ctx)
	click(t, ctx, "#nav-compare")
	waitFor(t, ctx, `!document.querySelector('#cmp-base option[value="pretrained"]').disabled`, 10*time.Second)
	choose(t, ctx, "#cmp-base", "pretrained")
	waitFor(t, ctx, `document.querySelector('#cmp-task').value === 'en-facts'`, 5*time.Second)
	for _, kind := range []string{"full", "lora", "adapter", "prefix", "dora", "ia3", "bitfit", "ln_tuning"} {
		click(t, ctx, "#m-"+kind) // the lesson's four off, the new four on
	}
	waitFor(t, ctx, `['dora','ia3','bitfit','ln_tuning'].every(k => document.querySelector('#m-'+k).checked) && !document.querySelector('#m-full').checked`, 5*time.Second)
	typeInto(t, ctx, "#cmp-steps", "4") // short: the methods run, the numbers are not judged
	runComparison(t, ctx)
	waitFor(t, ctx, `document.querySelectorAll('#cmp-lanes li').length === 4`, 30*time.Second)
	waitFor(t, ctx, `['done','failed','stopped'].includes(document.querySelector('#cmp-status').dataset.phase)`, 4*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#cmp-status').dataset.phase`), "lanes: %s", text(t, ctx, "#cmp-lanes"))

	rows := compareTable(t, ctx)
	require.Len(t, rows, 5)
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	C, L := tiny.Spec.Config.Dim, tiny.Spec.Config.Layers
	want := map[string]int{"dora": L * 4 * (4*C + 4*C + C), "ia3": L * 6 * C, "bitfit": L*11*C + C, "ln_tuning": 2 * C * (2*L + 1)}
	for i, kind := range []string{"base", "dora", "ia3", "bitfit", "ln_tuning"} {
		r := rows[i]
		require.Equal(t, kind, r.method)
		require.Equal(t, "done", r.status, kind)
		if i == 0 {
			continue
		}
		require.Equal(t, want[kind], paramCount(t, r.cells[2]), "%s's trainable parameters", kind)
		for j, c := range r.cells[2:6] {
			require.NotEqual(t, "–", c, "%s column %d", kind, j+2)
		}
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.fingerprint)
	}
	waitFor(t, ctx, `!!document.querySelector('#lora-0-map')`, 10*time.Second) // DoRA draws its ΔW

	// IA3's file: saved from its panel, it holds the vectors in PEFT's naming and loads back.
	waitFor(t, ctx, `!!document.querySelector('#lora-1-save') && !document.querySelector('#lora-1-save').disabled`, 30*time.Second)
	click(t, ctx, "#lora-1-save")
	file := downloaded(t, downloads, "ia3-adapter.safetensors")
	m := freshCPUModel(t, tiny.Spec)
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
