//go:build !js

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCompareNewMethods (#17, peft-b) drives the compare view with LoRA+, PiSSA and prompt
// tuning: each row shows its settings at their defaults with the sentence saying what it
// trains; ticked alone, for 4 steps from the kept en-base on the default lesson's task, they
// run in the browser's workers and fill the table: LoRA+ and PiSSA train LoRA's tensors (the
// same count), prompt tuning 8 soft tokens of 64 numbers. In Chinese the rows have no English.
func TestCompareNewMethods(t *testing.T) {
	srv := playgroundServer(t)
	ctx := newBrowser(t, 5*time.Minute)
	openApp(t, ctx, srv.URL+"/")
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

	for _, kind := range []string{"full", "lora", "adapter", "prefix", "loraplus", "pissa", "prompt"} {
		click(t, ctx, "#m-"+kind) // untick the lesson's four, tick the new three
	}
	typeInto(t, ctx, "#cmp-steps", "4")
	runComparison(t, ctx)
	waitFor(t, ctx, `document.querySelectorAll('#cmp-lanes li').length === 3`, 30*time.Second)
	waitFor(t, ctx, `['done','failed','stopped'].includes(document.querySelector('#cmp-status').dataset.phase)`, 4*time.Minute)
	require.Equal(t, "done", eval[string](t, ctx, `document.querySelector('#cmp-status').dataset.phase`), "lanes: %s", text(t, ctx, "#cmp-lanes"))
	rows := compareTable(t, ctx)
	require.Len(t, rows, 4)
	require.Equal(t, []string{"base", "loraplus", "pissa", "prompt"}, []string{rows[0].method, rows[1].method, rows[2].method, rows[3].method})
	for _, r := range rows[1:] {
		require.Equal(t, "done", r.status, r.method)
		require.Regexp(t, `^cpu:[0-9a-f]{12}$`, r.fingerprint, r.method)
	}
	require.Equal(t, paramCount(t, rows[1].cells[2]), paramCount(t, rows[2].cells[2]))
	require.Equal(t, 8*64, paramCount(t, rows[3].cells[2]))

	choose(t, ctx, "#lang", "zh")
	waitFor(t, ctx, `document.querySelector('#cmp-run').textContent === '微调并比较'`, 10*time.Second)
	requireNoEnglish(t, ctx, "compare")
}
