package app

import (
	"fmt"
	"slices"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// The methods forms (the compare view's fine-tuning methods, the feedback view's PPO, DPO and
// GRPO) are rows of a kind's number settings, each with its default, a reset button and the
// reason a typed value was refused. What they share is here, written once: the table of a row
// type's fields (numberField), the refusals (fieldErrs) and the widget (numberInput).

// methodRow is what a field table needs of a row type R, through its pointer P: putting one
// setting back to the kind's default (so a field's default is "the value after reset", which
// follows other settings where the default depends on them, such as LoRA's α = 2r).
type methodRow[R any] interface {
	*R
	Reset(key string)
}

// numberField is one number of a method's row: its key (also in its element id and i18n key),
// the kinds that have it, its range, and how to read (with its default filled) and write it.
type numberField[R any, P methodRow[R]] struct {
	Key      string
	Kinds    []string
	Min, Max float64
	Int      bool
	Get      func(m R) float64
	Set      func(m P, v float64)
}

// Default is what reset puts back (shown as "default ..."): the value with the setting reset.
func (f numberField[R, P]) Default(m R) float64 {
	P(&m).Reset(f.Key)
	return f.Get(m)
}

// IsDefault says whether the row shows the field's default (its reset button is then off).
func (f numberField[R, P]) IsDefault(m R) bool { return f.Get(m) == f.Default(m) }

// Parse reads and range-checks the typed text into the row; a refused value leaves the row as
// it was and returns a *fieldError the page translates.
func (f numberField[R, P]) Parse(m P, text string) error {
	v, err := parseNumber(f.Key, text, f.Min, f.Max, f.Int)
	if err != nil {
		return err
	}
	f.Set(m, v)
	return nil
}

// fieldsFor lists the fields of a kind from a row type's table, in the table's order.
func fieldsFor[R any, P methodRow[R]](all []numberField[R, P], kind string) []numberField[R, P] {
	var out []numberField[R, P]
	for _, f := range all {
		if slices.Contains(f.Kinds, kind) {
			out = append(out, f)
		}
	}
	return out
}

// setFieldOf sets the field key of a kind's row from typed text.
func setFieldOf[R any, P methodRow[R]](all []numberField[R, P], kind string, m P, key, text string) error {
	for _, f := range fieldsFor(all, kind) {
		if f.Key == key {
			return f.Parse(m, text)
		}
	}
	return fmt.Errorf("a %s method has no field %q", kind, key)
}

// fieldErrs keeps why a field's typed value was refused, by the field's element id, in the
// page's language, until a value is taken or the field is reset.
type fieldErrs map[string]string

// set sets a field (its element id) from the typed text with set, keeping the refusal's
// message (in l) to show.
func (e *fieldErrs) set(l Lang, id, text string, set func(string) error) {
	if err := set(text); err != nil {
		if *e == nil {
			*e = fieldErrs{}
		}
		(*e)[id] = fieldErrText(l, err)
		return
	}
	delete(*e, id)
}

// numberInput is one number input with its label, its default and a reset button; set parses
// the typed text and says why a value is refused (kept in errs under id).
func numberInput(l Lang, errs *fieldErrs, id, label string, value, def float64, disabled bool, set func(string) error, reset func()) app.UI {
	var errText app.UI
	if msg, ok := (*errs)[id]; ok {
		errText = app.Span().Class("error").Role("alert").Text(msg)
	}
	return app.Div().Class("field").Body(
		app.Label().For(id).Text(label),
		app.Input().Type("number").ID(id).Value(fmtNum(value)).Disabled(disabled).Attr("step", "any").
			Attr("aria-describedby", id+"-def").OnChange(func(ctx app.Context, e app.Event) {
			errs.set(l, id, ctx.JSSrc().Get("value").String(), set)
		}),
		app.Span().ID(id+"-def").Class("default").Text(l.T("field.default", fmtNum(def))),
		resetButton(l, id, label, disabled || value == def, func() {
			reset()
			delete(*errs, id)
		}),
		errText,
	)
}

// resetButton puts a setting back to its default.
func resetButton(l Lang, id, label string, disabled bool, reset func()) app.UI {
	return app.Button().ID(id+"-reset").Class("reset").Title(l.T("field.reset")).Aria("label", l.T("field.reset_label", label)).
		Disabled(disabled).Text("↺").OnClick(func(ctx app.Context, e app.Event) { reset() })
}
