package app

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// The compare view's parts (part.go): the setup form and the results and answers tables, each
// drawn again only when what it shows changes, not at each of the redraws a comparison's
// progress makes.
const (
	partForm    = "form"
	partTable   = "table"
	partAnswers = "answers"
)

func (c *Compare) drawPart(name string) app.UI {
	switch name {
	case partForm:
		return c.renderForm()
	case partTable:
		return c.renderTable()
	case partAnswers:
		return c.renderAnswers()
	}
	panic("compare: no part " + name)
}

// partChanged redraws the view after the learner changed the form: the Run button, the "try
// this" links and the other parts follow it.
func (c *Compare) partChanged() {
	if c.ctx != nil {
		c.ctx.Dispatch(func(app.Context) {})
	}
}

// formKey is everything renderForm reads: the form (as specMemo keys it, with the language), the
// lesson, the refusals, whether a comparison runs or ever ran (the form folds), the pretrained
// model's choice and hint, a link's base choice, and where the methods' rows live (the form's
// handlers hold pointers to them: a new slice with the same contents needs new handlers).
func (c *Compare) formKey() string {
	c.specs.get(c.form, c.Lang)
	rest, _ := json.Marshal(struct {
		Lesson                Lesson
		Errs                  fieldErrs
		Running, Ran, HasLink bool
		Ready, FromBase       bool
		PreStatus, PreName    string
		Methods               string
	}{c.Lesson, c.errs, c.running(), c.cmp != nil, c.link != nil,
		c.pretrained.Ready, c.pretrained.FromBase, c.pretrained.Status, c.pretrained.Name, fmt.Sprintf("%p", c.form.Methods)})
	return string(c.specs.key) + string(rest)
}

// tablePart is the results table once a comparison started; its rows are its key (their
// numbers as JSON, pointers followed).
func (c *Compare) tablePart() app.UI {
	if c.cmp == nil || !c.cmp.Started {
		return nil
	}
	rows, _ := json.Marshal(c.cmp.Rows())
	return &part{Name: partTable, Key: string(c.Lang) + string(rows), host: c}
}

// answersPart is the answers table once a model answered: its key is each column's model, switch
// position and result (a result is a new event, never changed in place).
func (c *Compare) answersPart() app.UI {
	if c.cmp == nil || len(c.cmp.AnswerRows()) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(string(c.Lang))
	for _, col := range c.cmp.AnswerColumns() {
		fmt.Fprintf(&b, "|%s %s %p", col.Name, col.Mode, col.Event)
	}
	if a := c.cmp.Loaded; a != nil {
		fmt.Fprintf(&b, "|%s", a.Name)
	}
	return &part{Name: partAnswers, Key: b.String(), host: c}
}
