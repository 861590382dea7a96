package app

import (
	"fmt"
	"sync"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"pretune/core"
	"pretune/core/runspec"
	"pretune/core/task"
)

// The compare form shows, for a generate task, one of its training examples as the fine-tuner
// sees it: the chat format of task.Render, each character marked by whether predicting it counts
// in the loss (core.SFTTokens' weights). By default only the response counts, so the model
// learns to answer rather than to repeat questions.

// sftChar is one character of a rendered example and whether it counts in the loss.
type sftChar struct {
	Text    string
	Counted bool
}

// sftExample is the task's first training pair in the chat format, character by character,
// marked with core.SFTTokens' weights (withPrompt counts the prompt too, as the fine-tuner's
// PromptLoss does).
func sftExample(taskID string, withPrompt bool) ([]sftChar, error) {
	key := sftKey{taskID, withPrompt}
	if chars, ok := sftExamples.Load(key); ok { // a copy: the caller may change its own
		return append([]sftChar(nil), chars.([]sftChar)...), nil
	}
	t, err := task.Builtin(taskID)
	if err != nil {
		return nil, err
	}
	chars, err := sftExampleOf(t, withPrompt)
	if err == nil {
		sftExamples.Store(key, append([]sftChar(nil), chars...))
	}
	return chars, err
}

// sftExamples keeps sftExample's answers by sftKey: the comparison form shows the example at
// every redraw, and a built-in task's example never changes, while building it (a copy of the
// task, its alphabet, a tokenizer) took milliseconds of the page's only thread under wasm.
var sftExamples sync.Map

type sftKey struct {
	taskID     string
	withPrompt bool
}

// sftExampleOf is sftExample for a task at hand (the learner's own, say).
func sftExampleOf(t *task.Task, withPrompt bool) ([]sftChar, error) {
	taskID := t.ID
	if t.Kind != task.KindGenerate || len(t.TrainPairs) == 0 {
		return nil, fmt.Errorf("task %s has no prompt/response pairs", taskID)
	}
	p := t.TrainPairs[0]
	text, _ := task.Render(p)
	// A vocabulary of the example's own characters: SFTTokens gives one token a character
	// whatever the vocabulary, and with this one none is unknown.
	tk, err := core.NewTokenizer(string(t.Alphabet()) + text)
	if err != nil {
		return nil, err
	}
	_, weights := core.SFTTokens(tk, p, withPrompt)
	runes := []rune(text)
	if len(weights) != len(runes) {
		return nil, fmt.Errorf("task %s: %d loss weights for %d characters", taskID, len(weights), len(runes))
	}
	out := make([]sftChar, len(runes))
	for i, r := range runes {
		out[i] = sftChar{Text: string(r), Counted: weights[i] > 0}
	}
	return out, nil
}

// renderSFT is the example with its legend; nothing for a classify task (it trains a class head
// on whole lines: no character is predicted).
func (c *Compare) renderSFT() app.UI {
	l := c.Lang
	var chars []sftChar
	var err error
	if c.form.Task != runspec.UserTask {
		chars, err = sftExample(c.form.Task, false) // kept: this draws at every redraw
	} else {
		var t *task.Task
		if _, t, err = c.form.taskRef(); err == nil {
			chars, err = sftExampleOf(t, false)
		}
	}
	if err != nil {
		return nil
	}
	return app.Div().ID("sft").Body(
		app.H4().Text(l.T("sft.title")),
		app.P().Class("hint").Text(l.T("sft.explain")),
		app.Pre().ID("sft-example").Class("data sample sft").Body(app.Range(chars).Slice(func(i int) app.UI {
			ch := chars[i]
			class, w := "ch ignored", "0"
			if ch.Counted {
				class, w = "ch counted", "1"
			}
			if ch.Text == "\n" { // a visible mark for the line break, which counts too, then the break
				return app.Span().Body(app.Span().Class(class).DataSet("w", w).Text(tokenLabel(ch.Text)), app.Text("\n"))
			}
			return app.Span().Class(class).DataSet("w", w).Text(ch.Text)
		})),
		app.P().ID("sft-legend").Class("hint").Body(
			app.Span().Class("swatch ch counted").Text(l.T("sft.counted")),
			app.Text(" "),
			app.Span().Class("swatch ch ignored").Text(l.T("sft.ignored")),
		),
	)
}
