package task

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// parseErr asserts err is a *ParseError with the given line and code, and a message that
// starts with "line N: " when the line is known.
func parseErr(t *testing.T, err error, line int, code string) *ParseError {
	t.Helper()
	var pe *ParseError
	require.True(t, errors.As(err, &pe), "error %v is not a *ParseError", err)
	require.Equal(t, code, pe.Code, "error %q", err.Error())
	require.Equal(t, line, pe.Line, "error %q", err.Error())
	if line > 0 {
		require.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: ", line)), err.Error())
	}
	return pe
}

// fileErrorCases are the whole-file checks, shared by the TSV parsers.
var fileErrorCases = []struct {
	name string
	data string
	line int
	code string
	msg  string
}{
	{"empty", "", 0, CodeEmpty, "the file is empty"},
	{"blank lines only", "\n  \r\n\t\n", 0, CodeEmpty, "the file is empty"},
	{"NUL", "a\tb\nc\td\ne\x00\tf\n", 3, CodeBinary, "binary"},
	{"invalid UTF-8", "a\tb\n\n\nc\xff\td\n", 4, CodeInvalidUTF8, "UTF-8"},
	{"too large", strings.Repeat("a\tb\n", MaxFileBytes/4+1), 0, CodeTooLarge, strconv.Itoa(MaxFileBytes)},
}

func TestParsePairsTSV(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		in := "\ufeffprompt\tresponse\nWhere does the fox live?\tin the forest\r\n\n  plural of fox \t foxes  \r\n狐狸住在哪里？\t森林里"
		got, err := ParsePairsTSV([]byte(in))
		require.NoError(t, err)
		require.Equal(t, []Pair{
			{"Where does the fox live?", "in the forest"},
			{"plural of fox", "foxes"},
			{"狐狸住在哪里？", "森林里"},
		}, got)
	})
	tests := []struct {
		name string
		data string
		line int
		code string
		msg  string
	}{
		{"header only", "Prompt\tResponse\n", 0, CodeEmpty, "the file is empty"},
		{"missing tab", "a\tb\nc\td\n\n\n\n\nno tab here\n", 7, CodeMissingTab, "line 7: missing tab between prompt and response"},
		{"two tabs", "a\tb\tc\n", 1, CodeExtraTab, "more than one tab"},
		{"empty prompt", "a\tb\n \tresponse\n", 2, CodeEmptyField, "the prompt is empty"},
		{"empty response", "a\t  \n", 1, CodeEmptyField, "the response is empty"},
		{"long prompt", "a\tb\n" + strings.Repeat("x", MaxFieldRunes+1) + "\tb\n", 2, CodeTooLong, "1001 characters"},
		{"long response in runes", "a\t" + strings.Repeat("森", MaxFieldRunes+1), 1, CodeTooLong, "limit of 1000"},
		{"control character", "a\x07b\tc\n", 1, CodeControl, "U+0007"},
	}
	for _, tc := range append(tests, fileErrorCases...) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePairsTSV([]byte(tc.data))
			require.Nil(t, got)
			parseErr(t, err, tc.line, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestLines: another format's parser gets line N at index N-1 as written, blank lines as "", so
// its line numbers count the blank lines as a task file's do; the whole-file checks are the same.
func TestLines(t *testing.T) {
	got, err := Lines([]byte("\ufeff\r\n a\tb \r\n \t \rc\n\n\n"))
	require.NoError(t, err)
	require.Equal(t, []string{"", " a\tb ", "", "c"}, got, "spaces kept, for a format whose fields keep them")
	for _, tc := range fileErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Lines([]byte(tc.data))
			require.Nil(t, got)
			parseErr(t, err, tc.line, tc.code)
		})
	}
}

func TestParsePairsJSONL(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		in := `{"prompt": "Where does the fox live?", "response": "in the forest"}` + "\r\n\n" +
			`{"response":"森林里","prompt":" 狐狸住在哪里？ "}` + "\n" +
			`{"prompt": "tab\tinside", "response": "<A> \u00e9"}`
		got, err := ParsePairsJSONL([]byte(in))
		require.NoError(t, err)
		require.Equal(t, []Pair{
			{"Where does the fox live?", "in the forest"},
			{"狐狸住在哪里？", "森林里"},
			{"tab\tinside", "<A> é"},
		}, got)
	})
	ok := `{"prompt":"a","response":"b"}` + "\n"
	tests := []struct {
		name string
		data string
		line int
		code string
		msg  string
	}{
		{"not JSON", ok + "prompt: a\n", 2, CodeNotJSON, "not a JSON object"},
		{"array", ok + ok + `["a","b"]`, 3, CodeNotJSON, "not a JSON object"},
		{"null", "null\n", 1, CodeNotJSON, "not a JSON object"},
		{"two objects on a line", ok + `{"prompt":"a","response":"b"} {}`, 2, CodeNotJSON, "not a JSON object"},
		{"misspelt key", ok + `{"prompt":"a","respones":"b"}`, 2, CodeUnknownField, `unknown field "respones"`},
		{"missing response", `{"prompt":"a"}`, 1, CodeMissingField, `missing field "response"`},
		{"number prompt", `{"prompt":7,"response":"b"}`, 1, CodeFieldType, "the prompt must be a string"},
		{"line break in response", `{"prompt":"a","response":"b\nc"}`, 1, CodeLineBreak, "line break"},
		{"CR in prompt", `{"prompt":"a\rb","response":"c"}`, 1, CodeLineBreak, "line break"},
		{"escaped NUL", `{"prompt":"a\u0000","response":"c"}`, 1, CodeControl, "U+0000"},
		{"empty response", `{"prompt":"a","response":" "}`, 1, CodeEmptyField, "the response is empty"},
		{"empty", "", 0, CodeEmpty, "the file is empty"},
		{"blank lines only", "\n  \r\n\t\n", 0, CodeEmpty, "the file is empty"},
		{"NUL", ok + ok + `{"prompt":"a` + "\x00" + `","response":"b"}`, 3, CodeBinary, "binary"},
		{"invalid UTF-8", ok + "\n\n" + `{"prompt":"a` + "\xff" + `","response":"b"}`, 4, CodeInvalidUTF8, "UTF-8"},
		{"too large", strings.Repeat(ok, MaxFileBytes/len(ok)+1), 0, CodeTooLarge, strconv.Itoa(MaxFileBytes)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePairsJSONL([]byte(tc.data))
			require.Nil(t, got)
			parseErr(t, err, tc.line, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestParseLabelledTSV(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		in := "text\tlabel\nThe fox is red.\ttrue\nThe fox is blue.\tfalse\r\n\n狐狸是红色的。\t true \n"
		ex, labels, err := ParseLabelledTSV([]byte(in))
		require.NoError(t, err)
		require.Equal(t, []string{"false", "true"}, labels)
		require.Equal(t, []Example{{"The fox is red.", 1}, {"The fox is blue.", 0}, {"狐狸是红色的。", 1}}, ex)
	})
	t.Run("label order does not depend on line order", func(t *testing.T) {
		_, a, err := ParseLabelledTSV([]byte("x\tb\ny\ta\nz\tc\n"))
		require.NoError(t, err)
		_, b, err := ParseLabelledTSV([]byte("z\tc\nx\tb\ny\ta\n"))
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b", "c"}, a)
		require.Equal(t, a, b)
	})
	t.Run("integer labels sort numerically", func(t *testing.T) {
		ex, labels, err := ParseLabelledTSV([]byte("x\t10\ny\t2\nz\t-1\n"))
		require.NoError(t, err)
		require.Equal(t, []string{"-1", "2", "10"}, labels)
		require.Equal(t, []Example{{"x", 2}, {"y", 1}, {"z", 0}}, ex)
	})
	var many strings.Builder
	for i := 0; i <= MaxLabels; i++ {
		fmt.Fprintf(&many, "text %d\tlabel%d\n", i, i)
	}
	tests := []struct {
		name string
		data string
		line int
		code string
		msg  string
	}{
		{"header only", "\n TEXT \t label\n", 0, CodeEmpty, "the file is empty"},
		{"missing tab", "a\tb\nno tab\n", 2, CodeMissingTab, "line 2: missing tab between text and label"},
		{"two tabs", "a\tb\tc\n", 1, CodeExtraTab, "more than one tab"},
		{"empty label", "a\tb\nc\t\n", 2, CodeEmptyField, "the label is empty"},
		{"empty text", "\tb\n", 1, CodeEmptyField, "the text is empty"},
		{"one label", "a\tyes\nb\tyes\n", 0, CodeOneLabel, `every line has the label "yes"`},
		{"too many labels", many.String(), MaxLabels + 1, CodeManyLabels, "limit of 16"},
	}
	for _, tc := range append(tests, fileErrorCases...) {
		t.Run(tc.name, func(t *testing.T) {
			ex, labels, err := ParseLabelledTSV([]byte(tc.data))
			require.Nil(t, ex)
			require.Nil(t, labels)
			parseErr(t, err, tc.line, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestParseLabelledJSONL(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		in := `{"text": "The fox is red.", "label": 1}` + "\n" + `{"label": 0, "text": "The fox is blue."}` + "\n" +
			`{"text": "狐狸是红色的。", "label": "1"}`
		ex, labels, err := ParseLabelledJSONL([]byte(in))
		require.NoError(t, err)
		require.Equal(t, []string{"0", "1"}, labels)
		require.Equal(t, []Example{{"The fox is red.", 1}, {"The fox is blue.", 0}, {"狐狸是红色的。", 1}}, ex)
	})
	tests := []struct {
		name string
		data string
		line int
		code string
		msg  string
	}{
		{"float label", `{"text":"a","label":0.5}`, 1, CodeFieldType, "the label must be a string or an integer"},
		{"bool label", `{"text":"a","label":true}`, 1, CodeFieldType, "the label must be a string or an integer"},
		{"missing label", `{"text":"a","label":"x"}` + "\n" + `{"text":"b"}`, 2, CodeMissingField, `missing field "label"`},
		{"unknown field", `{"text":"a","label":"x","id":3}`, 1, CodeUnknownField, `unknown field "id"`},
		{"text not a string", `{"text":["a"],"label":"x"}`, 1, CodeFieldType, "the text must be a string"},
		{"line break in text", `{"text":"a\nb","label":"x"}`, 1, CodeLineBreak, "line break"},
		{"one label", `{"text":"a","label":1}` + "\n" + `{"text":"b","label":"1"}`, 0, CodeOneLabel, "at least two labels"},
		{"empty", "\n\n", 0, CodeEmpty, "the file is empty"},
		{"not JSON", `{"text":"a","label":"x"`, 1, CodeNotJSON, "not a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex, labels, err := ParseLabelledJSONL([]byte(tc.data))
			require.Nil(t, ex)
			require.Nil(t, labels)
			parseErr(t, err, tc.line, tc.code)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestFromPairs(t *testing.T) {
	var pairs []Pair
	for i := 0; i < 25; i++ {
		pairs = append(pairs, Pair{fmt.Sprintf("q%d", i), "a"})
		if i%4 == 0 {
			// The same prompt again with another answer: it must stay on the prompt's side.
			pairs = append(pairs, Pair{fmt.Sprintf("q%d", i), "b"})
		}
	}
	tk, err := FromPairs("mine.tsv", pairs)
	require.NoError(t, err)
	require.Equal(t, KindGenerate, tk.Kind)
	require.Equal(t, "user", tk.ID)
	require.Equal(t, "en", tk.Lang)
	require.Len(t, tk.TrainPairs, len(pairs)-len(tk.ValPairs))
	require.NotEmpty(t, tk.ValPairs)
	val := map[string]bool{}
	for _, p := range tk.ValPairs {
		val[p.Prompt] = true
	}
	require.Equal(t, map[string]bool{"q9": true, "q19": true}, val)
	for _, p := range tk.TrainPairs {
		require.False(t, val[p.Prompt], "prompt %q on both sides", p.Prompt)
	}

	_, err = FromPairs("few.tsv", pairs[:9])
	pe := parseErr(t, err, 0, CodeTooFew)
	require.Equal(t, MinExamples, pe.Limit)
	require.Contains(t, err.Error(), "at least 10")
}

func TestFromExamples(t *testing.T) {
	var ex []Example
	for i := 0; i < 40; i++ {
		ex = append(ex, Example{fmt.Sprintf("狐狸说了第%d句话。", i), i % 2})
	}
	tk, err := FromExamples("mine.jsonl", []string{"no", "yes"}, ex)
	require.NoError(t, err)
	require.Equal(t, KindClassify, tk.Kind)
	require.Equal(t, "zh", tk.Lang)
	require.Len(t, tk.ValExamples, 4)
	require.Len(t, tk.TrainExamples, 36)
	labels := map[int]int{}
	for _, e := range tk.ValExamples {
		labels[e.Label]++
	}
	require.Equal(t, map[int]int{1: 4}, labels, "every tenth of an alternating file has label 1")

	tests := []struct {
		name   string
		labels []string
		ex     []Example
		code   string
	}{
		{"one label", []string{"a"}, ex, CodeOneLabel},
		{"too many labels", make([]string, MaxLabels+1), ex, CodeManyLabels},
		{"too few", []string{"no", "yes"}, ex[:5], CodeTooFew},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromExamples("x", tc.labels, tc.ex)
			parseErr(t, err, 0, tc.code)
		})
	}
	_, err = FromExamples("x", []string{"a", "b"}, append(ex, Example{"bad", 2}))
	require.ErrorContains(t, err, "label 2")
}

// checkPairs asserts what every accepted pair must satisfy.
func checkPairs(t *testing.T, pairs []Pair) {
	require.NotEmpty(t, pairs)
	for _, p := range pairs {
		for _, s := range []string{p.Prompt, p.Response} {
			require.NotEmpty(t, s)
			require.Equal(t, strings.TrimSpace(s), s)
			require.True(t, utf8.ValidString(s))
			require.LessOrEqual(t, utf8.RuneCountInString(s), MaxFieldRunes)
			require.NotContains(t, s, "\n")
			require.NotContains(t, s, "\r")
		}
		text, start := Render(p)
		require.Equal(t, p.Response+"\n", string([]rune(text)[start:]))
	}
}

func checkExamples(t *testing.T, ex []Example, labels []string) {
	require.NotEmpty(t, ex)
	require.GreaterOrEqual(t, len(labels), 2)
	require.LessOrEqual(t, len(labels), MaxLabels)
	seen := map[string]bool{}
	for _, l := range labels {
		require.False(t, seen[l], "duplicate label %q", l)
		seen[l] = true
	}
	used := make([]bool, len(labels))
	for _, e := range ex {
		require.NotEmpty(t, e.Text)
		require.NotContains(t, e.Text, "\n")
		require.True(t, utf8.ValidString(e.Text))
		require.GreaterOrEqual(t, e.Label, 0)
		require.Less(t, e.Label, len(labels))
		used[e.Label] = true
	}
	for i, u := range used {
		require.True(t, u, "label %q is used by no example", labels[i])
	}
}

// pairsTSV writes pairs back as TSV, with a header so that a first pair that reads like one
// is kept.
func pairsTSV(pairs []Pair) []byte {
	var b strings.Builder
	b.WriteString("prompt\tresponse\n")
	for _, p := range pairs {
		b.WriteString(p.Prompt + "\t" + p.Response + "\n")
	}
	return []byte(b.String())
}

func FuzzParsePairsTSV(f *testing.F) {
	f.Add([]byte("Where does the fox live?\tin the forest\n狐狸住在哪里？\t森林里\r\n"))
	f.Add([]byte("\ufeffa\tb\n\n c \t d "))
	f.Add([]byte("no tab\n"))
	f.Add([]byte("a\tb\tc"))
	f.Add([]byte("a\x00\tb"))
	f.Add([]byte("\xff\tb"))
	f.Add([]byte("a\rb\tc\r\n"))
	f.Add([]byte("prompt\tresponse\nprompt\tresponse\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pairs, err := ParsePairsTSV(data)
		if err != nil {
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.NotEmpty(t, err.Error())
			return
		}
		checkPairs(t, pairs)
		again, err := ParsePairsTSV(pairsTSV(pairs))
		require.NoError(t, err)
		require.Equal(t, pairs, again)
	})
}

func FuzzParsePairsJSONL(f *testing.F) {
	f.Add([]byte(`{"prompt":"Where does the fox live?","response":"in the forest"}` + "\n" + `{"prompt":"狐狸住在哪里？","response":"森林里"}`))
	f.Add([]byte(`{"prompt":"a","response":"b\nc"}`))
	f.Add([]byte(`{"prompt":"a","respones":"b"}`))
	f.Add([]byte(`{"prompt":1,"response":"b"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"prompt":"\ud800","response":"\u0000"}`))
	f.Add([]byte("{}\n[]\n\"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pairs, err := ParsePairsJSONL(data)
		if err != nil {
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.NotEmpty(t, err.Error())
			return
		}
		checkPairs(t, pairs)
		var b strings.Builder
		for _, p := range pairs {
			line, err := json.Marshal(map[string]string{"prompt": p.Prompt, "response": p.Response})
			require.NoError(t, err)
			b.Write(line)
			b.WriteString("\n")
		}
		again, err := ParsePairsJSONL([]byte(b.String()))
		require.NoError(t, err)
		require.Equal(t, pairs, again)
	})
}

func labelledTSV(ex []Example, labels []string) []byte {
	var b strings.Builder
	b.WriteString("text\tlabel\n")
	for _, e := range ex {
		b.WriteString(e.Text + "\t" + labels[e.Label] + "\n")
	}
	return []byte(b.String())
}

func FuzzParseLabelledTSV(f *testing.F) {
	f.Add([]byte("The fox is red.\ttrue\nThe fox is blue.\tfalse\n"))
	f.Add([]byte("a\t1\nb\t2\nc\t10\n"))
	f.Add([]byte("a\tx\nb\tx\n"))
	f.Add([]byte("a\t\nb\tx"))
	f.Add([]byte("a\tb\tc\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, labels, err := ParseLabelledTSV(data)
		if err != nil {
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.NotEmpty(t, err.Error())
			return
		}
		checkExamples(t, ex, labels)
		ex2, labels2, err := ParseLabelledTSV(labelledTSV(ex, labels))
		require.NoError(t, err)
		require.Equal(t, ex, ex2)
		require.Equal(t, labels, labels2)
	})
}

func FuzzParseLabelledJSONL(f *testing.F) {
	f.Add([]byte(`{"text":"The fox is red.","label":"true"}` + "\n" + `{"text":"狐狸是蓝色的。","label":"false"}`))
	f.Add([]byte(`{"text":"a","label":1}` + "\n" + `{"text":"b","label":-3}`))
	f.Add([]byte(`{"text":"a","label":1e3}`))
	f.Add([]byte(`{"text":"a","label":1.5}`))
	f.Add([]byte(`{"text":"a"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, labels, err := ParseLabelledJSONL(data)
		if err != nil {
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.NotEmpty(t, err.Error())
			return
		}
		checkExamples(t, ex, labels)
		var b strings.Builder
		for _, e := range ex {
			line, err := json.Marshal(map[string]string{"text": e.Text, "label": labels[e.Label]})
			require.NoError(t, err)
			b.Write(line)
			b.WriteString("\n")
		}
		ex2, labels2, err := ParseLabelledJSONL([]byte(b.String()))
		require.NoError(t, err)
		require.Equal(t, ex, ex2)
		require.Equal(t, labels, labels2)
	})
}

// TestFromFile: a learner's file is read as TSV or JSON Lines by its first character, as pairs
// or labelled lines by the kind asked for, with the parsers' line-numbered errors.
func TestFromFile(t *testing.T) {
	var tsv, jsonl, labelled strings.Builder
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&tsv, "What is %d plus one?\t%d\n", i, i+1)
		fmt.Fprintf(&jsonl, "{\"prompt\": \"What is %d plus one?\", \"response\": \"%d\"}\n", i, i+1)
		fmt.Fprintf(&labelled, "%d is even\t%v\n", i, i%2 == 0)
	}
	fromTSV, err := FromFile("sums.tsv", KindGenerate, []byte(tsv.String()))
	require.NoError(t, err)
	fromJSONL, err := FromFile("sums.jsonl", KindGenerate, []byte("\n"+jsonl.String()))
	require.NoError(t, err)
	require.Equal(t, fromTSV.TrainPairs, fromJSONL.TrainPairs)
	require.Equal(t, fromTSV.ValPairs, fromJSONL.ValPairs)

	cls, err := FromFile("even.tsv", KindClassify, []byte(labelled.String()))
	require.NoError(t, err)
	require.Equal(t, KindClassify, cls.Kind)
	require.ElementsMatch(t, []string{"true", "false"}, cls.Labels)

	_, err = FromFile("bad.tsv", KindGenerate, []byte(tsv.String()+"no tab here\n"))
	parseErr(t, err, 13, CodeMissingTab)
	_, err = FromFile("x", "rank", []byte(tsv.String()))
	require.ErrorContains(t, err, `kind "rank"`)
}
