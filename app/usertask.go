package app

import "pretune/core/task"

// taskFileErrText says, in l, why a learner's task file was refused: the line, then what is
// wrong there, from the parser's code and numbers (its English message is not shown).
func taskFileErrText(l Lang, e *task.ParseError) string {
	field := e.Field
	switch field {
	case "prompt":
		field = l.T("usertask.field.prompt")
	case "response":
		field = l.T("usertask.field.response")
	case "text":
		field = l.T("usertask.field.text")
	case "label":
		field = l.T("usertask.field.label")
	}
	var what string
	switch e.Code {
	case task.CodeTooLarge:
		what = l.T("usertask.err.too_large", e.N, e.Limit)
	case task.CodeEmpty:
		what = l.T("usertask.err.empty")
	case task.CodeBinary:
		what = l.T("usertask.err.binary")
	case task.CodeInvalidUTF8:
		what = l.T("usertask.err.invalid_utf8")
	case task.CodeMissingTab:
		what = l.T("usertask.err.missing_tab")
	case task.CodeExtraTab:
		what = l.T("usertask.err.extra_tab")
	case task.CodeEmptyField:
		what = l.T("usertask.err.empty_field", field)
	case task.CodeTooLong:
		what = l.T("usertask.err.too_long", field, e.N, e.Limit)
	case task.CodeLineBreak:
		what = l.T("usertask.err.line_break", field)
	case task.CodeControl:
		what = l.T("usertask.err.control", field)
	case task.CodeNotJSON:
		what = l.T("usertask.err.not_object")
	case task.CodeMissingField:
		what = l.T("usertask.err.missing_field", field)
	case task.CodeUnknownField:
		what = l.T("usertask.err.unknown_field", field)
	case task.CodeFieldType:
		what = l.T("usertask.err.field_type", field)
	case task.CodeOneLabel:
		what = l.T("usertask.err.one_label")
	case task.CodeManyLabels:
		what = l.T("usertask.err.many_labels", e.Limit)
	case task.CodeTooFew:
		what = l.T("usertask.err.too_few", e.N, e.Limit)
	default:
		return e.Error()
	}
	if e.Line > 0 {
		return l.T("usertask.line", e.Line) + " " + what
	}
	return what
}
