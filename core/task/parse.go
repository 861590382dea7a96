package task

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on a learner's task file.
const (
	// MaxFileBytes is the largest task file accepted.
	MaxFileBytes = 1 << 20
	// MaxFieldRunes is the most characters in one prompt, response, text or label: far more
	// than the context of a model trained in the browser, and it keeps one bad line (a whole
	// book pasted in one cell) from being taken as an example.
	MaxFieldRunes = 1000
	// MaxLabels is the most distinct labels of a classify task.
	MaxLabels = 16
)

// Codes of ParseError, stable for the UI to translate.
const (
	CodeTooLarge     = "too_large"
	CodeEmpty        = "empty"
	CodeBinary       = "binary"
	CodeInvalidUTF8  = "invalid_utf8"
	CodeMissingTab   = "missing_tab"
	CodeExtraTab     = "extra_tab"
	CodeEmptyField   = "empty_field"
	CodeTooLong      = "too_long"
	CodeLineBreak    = "line_break"
	CodeControl      = "control_character"
	CodeNotJSON      = "not_json_object"
	CodeMissingField = "missing_field"
	CodeUnknownField = "unknown_field"
	CodeFieldType    = "field_type"
	CodeOneLabel     = "one_label"
	CodeManyLabels   = "too_many_labels"
	CodeTooFew       = "too_few"
)

// ParseError is why a task file was refused. Line is the 1-based line of the problem, or 0 when
// it concerns the whole file. Code is one of the Code* constants; Field names the field
// concerned ("prompt", "label", ...) and N and Limit hold the numbers the message quotes, so
// that a translated message can quote them too.
type ParseError struct {
	Line     int
	Code     string
	Field    string
	N, Limit int
	msg      string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.msg)
	}
	return e.msg
}

// fileError is a ParseError about the whole file.
func fileError(code, msg string) *ParseError {
	return &ParseError{Code: code, msg: msg}
}

// line is one non-blank line of a file, without its line end.
type line struct {
	n    int
	text string
}

// lines checks a whole file (size, NUL bytes, UTF-8) and returns its non-blank lines. A leading
// byte-order mark is dropped, and CRLF and lone CR end lines like LF, as editors write them.
func lines(data []byte) ([]line, error) {
	if len(data) > MaxFileBytes {
		return nil, &ParseError{Code: CodeTooLarge, N: len(data), Limit: MaxFileBytes,
			msg: fmt.Sprintf("the file is %d bytes, larger than the limit of %d bytes", len(data), MaxFileBytes)}
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var out []line
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		if j := strings.IndexByte(raw, 0); j >= 0 {
			return nil, &ParseError{Line: n, Code: CodeBinary,
				msg: "the file looks binary, not text: this line has a NUL byte"}
		}
		if !utf8.ValidString(raw) {
			return nil, &ParseError{Line: n, Code: CodeInvalidUTF8, msg: "the text is not valid UTF-8"}
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		out = append(out, line{n, raw})
	}
	if len(out) == 0 {
		return nil, fileError(CodeEmpty, "the file is empty")
	}
	return out, nil
}

// Lines checks a whole file as a task file is checked (size, NUL bytes, UTF-8, not empty) and
// returns its lines, line N at index N-1, with blank lines as "" and without the trailing blank
// ones. Another package's line-based format (feedback's preference pairs) uses it so that its
// files are refused for the same reasons and with the same ParseErrors.
func Lines(data []byte) ([]string, error) {
	ls, err := lines(data)
	if err != nil {
		return nil, err
	}
	out := make([]string, ls[len(ls)-1].n)
	for _, l := range ls {
		out[l.n-1] = l.text
	}
	return out, nil
}

// NewParseError is a ParseError for another package's file format, with its English message;
// Error prefixes "line N: " when line > 0.
func NewParseError(line int, code, field string, n, limit int, msg string) *ParseError {
	return &ParseError{Line: line, Code: code, Field: field, N: n, Limit: limit, msg: msg}
}

// field trims a field and checks it.
func field(n int, name, s string) (string, error) {
	s = strings.TrimSpace(s)
	if err := CheckField(n, name, s); err != nil {
		return "", err
	}
	return s, nil
}

// CheckField checks one field of line n as it stands, without trimming it: not blank, at most
// MaxFieldRunes characters, and one line of printable text (a tab is allowed).
func CheckField(n int, name, s string) error {
	if strings.TrimSpace(s) == "" {
		return &ParseError{Line: n, Code: CodeEmptyField, Field: name, msg: "the " + name + " is empty"}
	}
	if c := utf8.RuneCountInString(s); c > MaxFieldRunes {
		return &ParseError{Line: n, Code: CodeTooLong, Field: name, N: c, Limit: MaxFieldRunes,
			msg: fmt.Sprintf("the %s has %d characters, more than the limit of %d", name, c, MaxFieldRunes)}
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r':
			return &ParseError{Line: n, Code: CodeLineBreak, Field: name,
				msg: "the " + name + " contains a line break; every example must be one line, and a response ends at its first line break"}
		case r < 0x20 && r != '\t' || r == 0x7f:
			return &ParseError{Line: n, Code: CodeControl, Field: name, N: int(r),
				msg: fmt.Sprintf("the %s contains the control character U+%04X", name, r)}
		}
	}
	return nil
}

// splitTab splits a TSV line into exactly two fields.
func splitTab(l line, first, second string) (string, string, error) {
	a, b, ok := strings.Cut(l.text, "\t")
	if !ok {
		return "", "", &ParseError{Line: l.n, Code: CodeMissingTab,
			msg: "missing tab between " + first + " and " + second}
	}
	if strings.Contains(b, "\t") {
		return "", "", &ParseError{Line: l.n, Code: CodeExtraTab,
			msg: "more than one tab; write the " + first + ", one tab, then the " + second}
	}
	return a, b, nil
}

// isHeader reports whether a TSV line is a header naming the two columns, as spreadsheets
// export it ("prompt<TAB>response", in any case); such a first line is skipped.
func isHeader(l line, first, second string) bool {
	a, b, ok := strings.Cut(l.text, "\t")
	return ok && strings.EqualFold(strings.TrimSpace(a), first) && strings.EqualFold(strings.TrimSpace(b), second)
}

// ParsePairsTSV reads prompt/response pairs, one a line: the prompt, a tab, the response.
// Blank lines and a first line "prompt<TAB>response" are skipped; spaces around each field are
// trimmed.
func ParsePairsTSV(data []byte) ([]Pair, error) {
	ls, err := lines(data)
	if err != nil {
		return nil, err
	}
	if isHeader(ls[0], "prompt", "response") {
		ls = ls[1:]
	}
	if len(ls) == 0 {
		return nil, fileError(CodeEmpty, "the file is empty")
	}
	out := make([]Pair, 0, len(ls))
	for _, l := range ls {
		a, b, err := splitTab(l, "prompt", "response")
		if err != nil {
			return nil, err
		}
		p, err := pair(l.n, a, b)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func pair(n int, prompt, response string) (Pair, error) {
	p, err := field(n, "prompt", prompt)
	if err != nil {
		return Pair{}, err
	}
	r, err := field(n, "response", response)
	if err != nil {
		return Pair{}, err
	}
	return Pair{Prompt: p, Response: r}, nil
}

// jsonObject decodes one JSONL line into its fields, checking that the keys are exactly the
// wanted ones.
func jsonObject(l line, keys ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(l.text), &m); err != nil || m == nil {
		return nil, &ParseError{Line: l.n, Code: CodeNotJSON,
			msg: fmt.Sprintf(`not a JSON object like {"%s": "...", "%s": "..."}`, keys[0], keys[1])}
	}
	var unknown []string
	for k := range m {
		if k != keys[0] && k != keys[1] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &ParseError{Line: l.n, Code: CodeUnknownField, Field: unknown[0],
			msg: fmt.Sprintf("unknown field %q; the fields are %q and %q", unknown[0], keys[0], keys[1])}
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return nil, &ParseError{Line: l.n, Code: CodeMissingField, Field: k,
				msg: fmt.Sprintf("missing field %q", k)}
		}
	}
	return m, nil
}

func jsonString(n int, name string, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &ParseError{Line: n, Code: CodeFieldType, Field: name,
			msg: fmt.Sprintf("the %s must be a string", name)}
	}
	return s, nil
}

// ParsePairsJSONL reads prompt/response pairs, one JSON object a line:
// {"prompt": "...", "response": "..."}. Blank lines are skipped; spaces around each field are
// trimmed; other fields are refused, so that a misspelt key is caught.
func ParsePairsJSONL(data []byte) ([]Pair, error) {
	ls, err := lines(data)
	if err != nil {
		return nil, err
	}
	out := make([]Pair, 0, len(ls))
	for _, l := range ls {
		m, err := jsonObject(l, "prompt", "response")
		if err != nil {
			return nil, err
		}
		a, err := jsonString(l.n, "prompt", m["prompt"])
		if err != nil {
			return nil, err
		}
		b, err := jsonString(l.n, "response", m["response"])
		if err != nil {
			return nil, err
		}
		p, err := pair(l.n, a, b)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// labelled collects (text, label name) lines into examples and the sorted label list.
type labelled struct {
	texts, names []string
	lines        []int
}

func (lb *labelled) add(n int, text, label string) error {
	t, err := field(n, "text", text)
	if err != nil {
		return err
	}
	l, err := field(n, "label", label)
	if err != nil {
		return err
	}
	lb.texts = append(lb.texts, t)
	lb.names = append(lb.names, l)
	lb.lines = append(lb.lines, n)
	return nil
}

// finish numbers the labels. They are sorted (numerically when every label is an integer), so
// that the same examples in another order give the same label indices.
func (lb *labelled) finish() ([]Example, []string, error) {
	index := map[string]int{}
	var labels []string
	for i, name := range lb.names {
		if _, ok := index[name]; !ok {
			if len(labels) == MaxLabels {
				return nil, nil, &ParseError{Line: lb.lines[i], Code: CodeManyLabels, N: len(labels) + 1, Limit: MaxLabels,
					msg: fmt.Sprintf("label %q is label number %d, more than the limit of %d", name, len(labels)+1, MaxLabels)}
			}
			index[name] = 0
			labels = append(labels, name)
		}
	}
	if len(labels) == 1 {
		return nil, nil, &ParseError{Code: CodeOneLabel, N: 1,
			msg: fmt.Sprintf("every line has the label %q; a classification needs at least two labels", labels[0])}
	}
	numeric := true
	for _, l := range labels {
		if _, err := strconv.Atoi(l); err != nil {
			numeric = false
		}
	}
	sort.Slice(labels, func(i, j int) bool {
		if numeric {
			a, _ := strconv.Atoi(labels[i])
			b, _ := strconv.Atoi(labels[j])
			if a != b {
				return a < b
			}
		}
		return labels[i] < labels[j]
	})
	for i, l := range labels {
		index[l] = i
	}
	out := make([]Example, len(lb.texts))
	for i := range lb.texts {
		out[i] = Example{Text: lb.texts[i], Label: index[lb.names[i]]}
	}
	return out, labels, nil
}

// ParseLabelledTSV reads labelled lines, one a line: the text, a tab, the label. Blank lines and
// a first line "text<TAB>label" are skipped. It returns the examples and the label names they
// index, sorted (numerically when every label is an integer). At least two and at most
// MaxLabels labels are needed.
func ParseLabelledTSV(data []byte) ([]Example, []string, error) {
	ls, err := lines(data)
	if err != nil {
		return nil, nil, err
	}
	if isHeader(ls[0], "text", "label") {
		ls = ls[1:]
	}
	if len(ls) == 0 {
		return nil, nil, fileError(CodeEmpty, "the file is empty")
	}
	var lb labelled
	for _, l := range ls {
		a, b, err := splitTab(l, "text", "label")
		if err != nil {
			return nil, nil, err
		}
		if err := lb.add(l.n, a, b); err != nil {
			return nil, nil, err
		}
	}
	return lb.finish()
}

// ParseLabelledJSONL reads labelled lines, one JSON object a line: {"text": "...", "label": ...}
// where the label is a string or an integer. Labels are numbered as in ParseLabelledTSV.
func ParseLabelledJSONL(data []byte) ([]Example, []string, error) {
	ls, err := lines(data)
	if err != nil {
		return nil, nil, err
	}
	var lb labelled
	for _, l := range ls {
		m, err := jsonObject(l, "text", "label")
		if err != nil {
			return nil, nil, err
		}
		text, err := jsonString(l.n, "text", m["text"])
		if err != nil {
			return nil, nil, err
		}
		label, err := jsonLabel(l.n, m["label"])
		if err != nil {
			return nil, nil, err
		}
		if err := lb.add(l.n, text, label); err != nil {
			return nil, nil, err
		}
	}
	return lb.finish()
}

// jsonLabel accepts a string or an integer; an integer becomes its decimal text.
func jsonLabel(n int, raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var i int64
	if err := json.Unmarshal(raw, &i); err == nil {
		return strconv.FormatInt(i, 10), nil
	}
	return "", &ParseError{Line: n, Code: CodeFieldType, Field: "label",
		msg: "the label must be a string or an integer"}
}
