package feedback

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/task"
)

// parseErr asserts err is a *task.ParseError with the given line and code, and a message that
// starts with "line N: " when the line is known.
func parseErr(t *testing.T, err error, line int, code string) *task.ParseError {
	t.Helper()
	var pe *task.ParseError
	require.True(t, errors.As(err, &pe), "error %v is not a *task.ParseError", err)
	require.Equal(t, code, pe.Code, "error %q", err.Error())
	require.Equal(t, line, pe.Line, "error %q", err.Error())
	if line > 0 {
		require.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: ", line)), err.Error())
	}
	return pe
}

// fox is the first pair of the testdata files.
var fox = Pair{Prompt: "One day the fox", Chosen: " ate eggs in the forest.", Rejected: " was red."}

// TestParsePairsTestdata: the two testdata files hold the same eight pairs, read by extension
// and by their first character alike, spaces kept and the TSV header skipped.
func TestParsePairsTestdata(t *testing.T) {
	jsonl, err := os.ReadFile("testdata/prefs_valid.jsonl")
	require.NoError(t, err)
	tsv, err := os.ReadFile("testdata/prefs_valid.tsv")
	require.NoError(t, err)
	fromJSONL, err := ParsePairs("prefs_valid.jsonl", jsonl)
	require.NoError(t, err)
	require.Len(t, fromJSONL, 8)
	require.Equal(t, fox, fromJSONL[0])
	fromTSV, err := ParsePairs("prefs_valid.tsv", tsv)
	require.NoError(t, err)
	require.Equal(t, fromJSONL, fromTSV)
	for name, data := range map[string][]byte{"pasted jsonl": jsonl, "pasted tsv": tsv} {
		got, err := ParsePairs(name, data)
		require.NoError(t, err, name)
		require.Equal(t, fromJSONL, got, name)
	}
}

// TestParsePairsAccepts: what editors and spreadsheets write besides the plain form.
func TestParsePairsAccepts(t *testing.T) {
	two := []Pair{fox, {Prompt: "狐狸住在", Chosen: "森林里。", Rejected: "红色的。"}}
	tests := []struct {
		name, file, data string
	}{
		{"TSV with BOM, CRLF, blank lines and a header in capitals", "p.tsv",
			"\ufeff\r\n Prompt \tCHOSEN\trejected\r\n\r\nOne day the fox\t ate eggs in the forest.\t was red.\r\n  \r\n狐狸住在\t森林里。\t红色的。"},
		{"JSONL with spaces, blank lines and keys in another order", "p.jsonl",
			"\n{ \"rejected\" : \" was red.\", \"prompt\": \"One day the fox\",\t\"chosen\": \" ate eggs in the forest.\" }\n\n" +
				`{"prompt":"\u72d0\u72f8\u4f4f\u5728","chosen":"森林里。","rejected":"红色的。"}` + "\n\n"},
		{"JSONL told by its first character", "pasted", "  \n" +
			`{"prompt":"One day the fox","chosen":" ate eggs in the forest.","rejected":" was red."}` + "\r\n" +
			`{"prompt":"狐狸住在","chosen":"森林里。","rejected":"红色的。"}`},
		{"TSV by extension although its first prompt starts with {", "P.TSV",
			"{One day the fox\t ate eggs in the forest.\t was red.\n狐狸住在\t森林里。\t红色的。\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePairs(tc.file, []byte(tc.data))
			require.NoError(t, err)
			want := two
			if strings.HasPrefix(tc.data, "{") {
				want = []Pair{{Prompt: "{" + fox.Prompt, Chosen: fox.Chosen, Rejected: fox.Rejected}, two[1]}
			}
			require.Equal(t, want, got)
		})
	}
}

func TestParsePairsRefuses(t *testing.T) {
	const (
		okTSV   = "a\tb\tc\n"
		okJSONL = `{"prompt":"a","chosen":"b","rejected":"c"}` + "\n"
	)
	obj := func(prompt, chosen, rejected string) string {
		return `{"prompt":` + prompt + `,"chosen":` + chosen + `,"rejected":` + rejected + "}\n"
	}
	tests := []struct {
		name  string
		file  string
		data  string
		line  int
		code  string
		field string
		msg   string
	}{
		{"empty", "p.tsv", "", 0, task.CodeEmpty, "", "the file is empty"},
		{"blank lines only", "p.jsonl", "\n  \r\n\t\n", 0, task.CodeEmpty, "", "the file is empty"},
		{"header only", "p.tsv", "prompt\tchosen\trejected\n\n", 0, task.CodeEmpty, "", "the file is empty"},
		{"NUL", "p.tsv", okTSV + "x\x00\ty\tz\n", 2, task.CodeBinary, "", "binary"},
		{"invalid UTF-8", "p.jsonl", okJSONL + "\n\n" + `{"prompt":"a` + "\xff" + `"}`, 4, task.CodeInvalidUTF8, "", "UTF-8"},
		{"too large", "p.tsv", strings.Repeat(okTSV, MaxFileBytes/len(okTSV)+1), 0, task.CodeTooLarge, "", strconv.Itoa(MaxFileBytes)},
		{"too many pairs", "p.tsv", "prompt\tchosen\trejected\n" + strings.Repeat(okTSV, MaxPairs+1), 0, CodeTooManyPairs, "",
			"the file has 5001 preference pairs, more than the limit of 5000"},
		{"too few pairs", "p.jsonl", "\n" + okJSONL, 0, task.CodeTooFew, "", "the file has 1 preference pair; at least 2 are needed"},
		{"missing tab", "p.tsv", okTSV + "\n\n\na\tb\n", 5, task.CodeMissingTab, "", "line 5: 1 tab(s) where 2 are needed"},
		{"no tab", "p.tsv", okTSV + "one day the fox\n", 2, task.CodeMissingTab, "", "0 tab(s) where 2 are needed"},
		{"extra tab", "p.tsv", okTSV + "a\tb\tc\td\n", 2, task.CodeExtraTab, "", "3 tabs where 2 are needed"},
		{"empty prompt", "p.tsv", "\tb\tc\n" + okTSV, 1, task.CodeEmptyField, "prompt", "line 1: the prompt is empty"},
		{"blank chosen", "p.tsv", okTSV + "a\t  \tc\n", 2, task.CodeEmptyField, "chosen", "the chosen is empty"},
		{"empty rejected", "p.jsonl", okJSONL + obj(`"a"`, `"b"`, `""`), 2, task.CodeEmptyField, "rejected", "the rejected is empty"},
		{"long chosen in runes", "p.jsonl", okJSONL + obj(`"a"`, `"`+strings.Repeat("森", task.MaxFieldRunes+1)+`"`, `"c"`), 2,
			task.CodeTooLong, "chosen", "the chosen has 1001 characters, more than the limit of 1000"},
		{"long prompt in TSV", "p.tsv", okTSV + strings.Repeat("x", task.MaxFieldRunes+1) + "\tb\tc\n", 2, task.CodeTooLong, "prompt", "1001 characters"},
		{"line break", "p.jsonl", okJSONL + obj(`"a"`, `"b\nmore"`, `"c"`), 2, task.CodeLineBreak, "chosen", "the chosen contains a line break"},
		{"CR", "p.jsonl", obj(`"a\r"`, `"b"`, `"c"`) + okJSONL, 1, task.CodeLineBreak, "prompt", "line break"},
		{"control character in JSON", "p.jsonl", okJSONL + obj(`"a"`, `"b"`, `"c\u0007"`), 2, task.CodeControl, "rejected", "U+0007"},
		{"control character in TSV", "p.tsv", okTSV + "a\x1b[31m\tb\tc\n", 2, task.CodeControl, "prompt", "U+001B"},
		{"tab in JSON", "p.jsonl", okJSONL + obj(`"a"`, `"b\tb"`, `"c"`), 2, task.CodeControl, "chosen", "the chosen contains a tab"},
		{"TSV in a .jsonl file", "p.jsonl", okTSV + okTSV, 1, task.CodeNotJSON, "", `not a JSON object like {"prompt": "...", "chosen": "...", "rejected": "..."}`},
		{"array", "p.jsonl", okJSONL + `["a","b","c"]`, 2, task.CodeNotJSON, "", "not a JSON object"},
		{"null", "p.jsonl", okJSONL + "null", 2, task.CodeNotJSON, "", "not a JSON object"},
		{"two objects on a line", "p.jsonl", okJSONL + strings.TrimSpace(okJSONL) + " {}", 2, task.CodeNotJSON, "", "not a JSON object"},
		{"unclosed object", "p.jsonl", okJSONL + `{"prompt":"a","chosen":"b","rejected":"c"`, 2, task.CodeNotJSON, "", "not a JSON object"},
		{"missing field", "p.jsonl", okJSONL + `{"prompt":"a","chosen":"b"}`, 2, task.CodeMissingField, "rejected", `missing field "rejected"`},
		{"misspelt field", "p.jsonl", okJSONL + `{"prompt":"a","chosen":"b","rejectd":"c"}`, 2, task.CodeUnknownField, "rejectd",
			`unknown field "rejectd"; the fields are "prompt", "chosen" and "rejected"`},
		{"extra field", "p.jsonl", `{"prompt":"a","chosen":"b","rejected":"c","score":1,"id":2}` + "\n" + okJSONL, 1, task.CodeUnknownField, "id", `unknown field "id"`},
		{"number", "p.jsonl", okJSONL + obj(`"a"`, `1`, `"c"`), 2, task.CodeFieldType, "chosen", "the chosen must be a string"},
		{"null field", "p.jsonl", okJSONL + obj(`null`, `"b"`, `"c"`), 2, task.CodeFieldType, "prompt", "the prompt must be a string"},
		{"list of strings", "p.jsonl", okJSONL + obj(`"a"`, `"b"`, `["c"]`), 2, task.CodeFieldType, "rejected", "must be a string"},
		{"same response", "p.tsv", "prompt\tchosen\trejected\n" + okTSV + "\n\n\n\nOne day the fox\t was red.\t was red.\n", 7, CodeSameResponse, "rejected",
			"line 7: chosen and rejected are the same text; a preference needs two different answers"},
		{"same response but for spaces", "p.jsonl", okJSONL + obj(`"a"`, `" b"`, `"b "`), 2, CodeSameResponse, "rejected", "the same text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePairs(tc.file, []byte(tc.data))
			require.Nil(t, got)
			pe := parseErr(t, err, tc.line, tc.code)
			require.Equal(t, tc.field, pe.Field)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestEnormousFile: a file far over MaxFileBytes is refused for its size before its text is
// read: binary content that parsing would refuse on line 1 is not even seen, and the refusal
// allocates nothing like the file's size (no copy of it as a string).
func TestEnormousFile(t *testing.T) {
	data := bytes.Repeat([]byte("\x00\xff{\t\n"), 32<<20/5)
	for _, name := range []string{"p.tsv", "p.jsonl", "pasted"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := ParsePairs(name, data)
		runtime.ReadMemStats(&after)
		require.Nil(t, got)
		pe := parseErr(t, err, 0, task.CodeTooLarge)
		require.Equal(t, len(data), pe.N)
		require.Equal(t, MaxFileBytes, pe.Limit)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated to refuse %d bytes", len(data))
	}
}

// awkward are pairs whose text JSON and TSV must carry unchanged: non-ASCII, quotes,
// backslashes, HTML characters, JSON's escaped separators, spaces at both ends, and a first
// pair that reads like a TSV header.
var awkward = []Pair{
	{Prompt: "prompt", Chosen: "chosen", Rejected: "rejected"},
	fox,
	{Prompt: "狐狸说：", Chosen: "“我吃了鸡蛋。”", Rejected: "狐狸是红色的"},
	{Prompt: `The sign said "\n"`, Chosen: ` and a backslash \ too.`, Rejected: `\"`},
	{Prompt: "<b>fox</b> & hen", Chosen: " a\u2028b\u2029c ", Rejected: "  é ß ñ 🦊  "},
	{Prompt: "{not json", Chosen: "}", Rejected: "[]"},
}

// TestRoundTrip: what WriteJSONL and WriteTSV write, ParsePairs reads back the same, by name and
// by content alike; the JSONL is TRL's one object a line, keys in order.
func TestRoundTrip(t *testing.T) {
	var jsonl, tsv bytes.Buffer
	require.NoError(t, WriteJSONL(&jsonl, awkward))
	require.NoError(t, WriteTSV(&tsv, awkward))
	require.Equal(t, `{"prompt":"One day the fox","chosen":" ate eggs in the forest.","rejected":" was red."}`,
		strings.Split(jsonl.String(), "\n")[1])
	require.Contains(t, jsonl.String(), `"<b>fox</b> & hen"`, "HTML characters kept as they are")
	require.Equal(t, len(awkward), strings.Count(jsonl.String(), "\n"))
	require.Equal(t, "prompt\tchosen\trejected\nprompt\tchosen\trejected\nOne day the fox\t ate eggs in the forest.\t was red.\n",
		strings.Join(strings.SplitAfter(tsv.String(), "\n")[:3], ""))
	for _, tc := range []struct {
		name string
		data []byte
	}{{"out.jsonl", jsonl.Bytes()}, {"pasted", jsonl.Bytes()}, {"out.tsv", tsv.Bytes()}, {"pasted", tsv.Bytes()}} {
		got, err := ParsePairs(tc.name, tc.data)
		require.NoError(t, err, tc.name)
		require.Equal(t, awkward, got, tc.name)
	}
}

// TestWriteRefuses: a pair ParsePairs would refuse is not written, and nothing is written
// before the refusal.
func TestWriteRefuses(t *testing.T) {
	tests := []struct {
		name string
		pair Pair
		code string
	}{
		{"tab", Pair{Prompt: "a\tb", Chosen: "c", Rejected: "d"}, task.CodeControl},
		{"line break", Pair{Prompt: "a", Chosen: "c\n", Rejected: "d"}, task.CodeLineBreak},
		{"invalid UTF-8", Pair{Prompt: "a", Chosen: "c", Rejected: "d\xff"}, task.CodeInvalidUTF8},
		{"empty", Pair{Prompt: " ", Chosen: "c", Rejected: "d"}, task.CodeEmptyField},
		{"same", Pair{Prompt: "a", Chosen: "c", Rejected: "c"}, CodeSameResponse},
	}
	for _, tc := range tests {
		for _, write := range []func(*bytes.Buffer, []Pair) error{
			func(b *bytes.Buffer, p []Pair) error { return WriteJSONL(b, p) },
			func(b *bytes.Buffer, p []Pair) error { return WriteTSV(b, p) },
		} {
			t.Run(tc.name, func(t *testing.T) {
				var b bytes.Buffer
				err := write(&b, []Pair{fox, tc.pair})
				pe := parseErr(t, err, 0, tc.code)
				require.Contains(t, err.Error(), "pair 2 cannot be written: "+pe.Error())
				require.Zero(t, b.Len())
			})
		}
	}
}

func TestCheckVocab(t *testing.T) {
	known := func(r rune) bool { return r < 0x80 } // a model pretrained on English ASCII text
	const why = "the model has never seen (its vocabulary comes from its pretraining text)"
	tests := []struct {
		name  string
		pairs []Pair
		runes string
		at    []int
		msg   string
	}{
		{"all known", []Pair{fox, {Prompt: "a", Chosen: "b", Rejected: "c"}}, "", nil, ""},
		{"one", []Pair{fox, {Prompt: "a", Chosen: "b", Rejected: "café"}}, "é", []int{2},
			`pair 2: "é" is a character ` + why},
		{"two in one pair, each named once", []Pair{fox, fox, {Prompt: "é", Chosen: "ß", Rejected: "éß"}, {Prompt: "é", Chosen: "x", Rejected: "y"}},
			"éß", []int{3, 3}, `pair 3: "é" and "ß" are characters ` + why},
		{"in several pairs", []Pair{{Prompt: "é", Chosen: "ß", Rejected: "a"}, fox, {Prompt: "a", Chosen: "狐", Rejected: "é"}}, "éß狐", []int{1, 1, 3},
			`characters ` + why + `: pair 1: "é" and "ß"; pair 3: "狐"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckVocab(tc.pairs, known)
			if tc.runes == "" {
				require.NoError(t, err)
				return
			}
			var ue *UnseenError
			require.True(t, errors.As(err, &ue), "%v", err)
			require.Equal(t, []rune(tc.runes), ue.Runes)
			require.Equal(t, tc.at, ue.Pairs)
			require.Equal(t, tc.msg, err.Error())
		})
	}
	t.Run("a whole alphabet is cut short", func(t *testing.T) {
		var pairs []Pair
		for r := 'α'; r <= 'ω'; r += 2 {
			pairs = append(pairs, Pair{Prompt: string(r), Chosen: string(r + 1), Rejected: "x"})
		}
		err := CheckVocab(pairs, known)
		var ue *UnseenError
		require.True(t, errors.As(err, &ue))
		require.Len(t, ue.Runes, 26)
		require.True(t, strings.HasSuffix(err.Error(), `pair 10: "σ" and "τ"; and 6 more`), err.Error())
		require.NotContains(t, err.Error(), "υ")
	})
}
