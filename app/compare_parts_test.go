package app

import (
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
)

// TestComparePartKeys: a method's progress (a step, its pace) leaves the form's, the table's and
// the answers' keys as they were, so a redraw while the comparison runs skips those parts; what
// each shows changes its key: the form's fields, language, refusals and run state, a method's
// state and result, an answer.
func TestComparePartKeys(t *testing.T) {
	c := &Compare{Lang: EN, compareState: compareState{form: defaultCompareSetup(EN), cmp: newComparison(twoMethods(t))}}
	c.cmp.fineTuning()
	keys := func() [3]string {
		k := [3]string{c.formKey()}
		if p, ok := c.tablePart().(*part); ok {
			k[1] = p.Key
		}
		if p, ok := c.answersPart().(*part); ok {
			k[2] = p.Key
		}
		return k
	}
	was := keys()
	require.NotEmpty(t, was[1], "the table shows once the comparison started")
	require.Empty(t, was[2], "no answers yet")
	ln := c.cmp.Lanes[0]
	ln.Status = statusRunning
	running := keys()
	require.NotEqual(t, was[1], running[1], "a method that starts shows in the table")
	for step := 1; step <= 3; step++ {
		c.cmp.Apply(0, protocol.Message{Kind: protocol.Progress, ID: ln.ReqID, Event: &job.Event{Method: ln.Method.Label(), Step: step, Steps: 10}})
		require.Equal(t, step, ln.Step, "the progress is applied")
		require.Equal(t, running, keys(), "a step changes no part")
	}

	form := c.formKey()
	c.form.Steps++
	require.NotEqual(t, form, c.formKey(), "a field")
	form = c.formKey()
	c.Lang = ZH
	require.NotEqual(t, form, c.formKey(), "the language")
	form = c.formKey()
	c.errs = fieldErrs{"cmp-steps": "no"}
	require.NotEqual(t, form, c.formKey(), "a refusal")
	form = c.formKey()
	c.cmp.Phase = phaseDone
	require.NotEqual(t, form, c.formKey(), "the run's end enables the form")

	table := keys()[1]
	ln.Status, ln.Result = statusDone, &job.Event{Event: "result", Fingerprint: "cpu:0123", Answers: nil}
	require.NotEqual(t, table, keys()[1], "a result")
	c.cmp.BaseResult = &job.Event{Event: "result", Answers: []compare.Answer{{Prompt: "2+2=", Answer: "4"}}}
	require.NotEmpty(t, keys()[2], "the base's answers")
	answers := keys()[2]
	c.cmp.Lanes[1].Result = &job.Event{Event: "result", Answers: []compare.Answer{{Prompt: "2+2=", Answer: "5"}}}
	require.NotEqual(t, answers, keys()[2], "another model's answers")
}
