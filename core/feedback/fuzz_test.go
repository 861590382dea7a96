package feedback

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"pretune/core/task"
)

// FuzzParsePairs: no file or name panics; a refusal is a *task.ParseError with a code and no
// pairs; what is accepted keeps every invariant a preference pair promises the training code,
// and WriteJSONL and WriteTSV carry it back through ParsePairs unchanged.
func FuzzParsePairs(f *testing.F) {
	for _, path := range []string{"testdata/prefs_valid.jsonl", "testdata/prefs_valid.tsv"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(path, data)
		f.Add("pasted", data)
		f.Add("pasted", data[:len(data)/2])
	}
	f.Add("p.jsonl", []byte(`{"prompt":"狐狸住在","chosen":"森林里。","rejected":"红色的。"}`+"\n"+`{"prompt":"\"\\","chosen":"\u2028","rejected":"\ud800"}`))
	f.Add("p.jsonl", []byte(`{"prompt":"a","chosen":"b","rejected":"b "}`+"\n"+`{"prompt":null,"chosen":1,"rejected":[]}`))
	f.Add("p.jsonl", []byte(`{"prompt":"a","chosen":"b\tc","rejected":"\u0000"}`+"\n{}\n[]\nnull\n"))
	// Files with one flaw each, so that the seeds alone catch a check that went missing.
	ok := `{"prompt":"One day the fox","chosen":" ate eggs.","rejected":" was red."}` + "\n"
	f.Add("p.jsonl", []byte(ok+`{"prompt":"a","chosen":"b\tc","rejected":"d"}`))
	f.Add("p.jsonl", []byte(ok+`{"prompt":"a","chosen":" b","rejected":"b "}`))
	f.Add("p.jsonl", []byte(ok+`{"prompt":"a","chosen":"b","rejected":"\u007f"}`))
	f.Add("p.jsonl", []byte(ok+`{"prompt":"a","chosen":"b","rejected":" "}`))
	f.Add("p.jsonl", []byte(ok+`{"prompt":"a","chosen":"b","rejected":"`+strings.Repeat("森", task.MaxFieldRunes+1)+`"}`))
	f.Add("p.jsonl", []byte(ok+`{"prompt":"Prompt","chosen":"chosen","rejected":"REJECTED"}`))
	f.Add("p.tsv", []byte("\ufeffprompt\tchosen\trejected\r\nprompt\tchosen\trejected\r\n{a\t b\t c \n"))
	f.Add("p.tsv", []byte("a\tb\nc\td\te\tf\n\x00"))
	f.Add("P.TXT", []byte("a\rb\tc\td\n\xff"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		pairs, err := ParsePairs(name, data)
		if err != nil {
			var pe *task.ParseError
			if !errors.As(err, &pe) || pe.Code == "" || pe.Line < 0 || err.Error() == "" {
				t.Fatalf("refusal %q (%T) is not a *task.ParseError with a code", err, err)
			}
			if pairs != nil {
				t.Fatalf("a refusal returned %d pairs", len(pairs))
			}
			return
		}
		if len(pairs) < MinPairs || len(pairs) > MaxPairs {
			t.Fatalf("%d pairs accepted, outside [%d, %d]", len(pairs), MinPairs, MaxPairs)
		}
		for i, p := range pairs {
			for _, s := range []string{p.Prompt, p.Chosen, p.Rejected} {
				if !utf8.ValidString(s) || strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > task.MaxFieldRunes {
					t.Fatalf("pair %d has a field that is not valid UTF-8, blank or too long: %q", i+1, s)
				}
				for _, r := range s {
					if r < 0x20 || r == 0x7f {
						t.Fatalf("pair %d has a field with U+%04X: %q", i+1, r, s)
					}
				}
			}
			if strings.TrimSpace(p.Chosen) == strings.TrimSpace(p.Rejected) {
				t.Fatalf("pair %d has the same chosen and rejected: %q", i+1, p.Chosen)
			}
		}
		for _, out := range []struct {
			name  string
			write func(*bytes.Buffer, []Pair) error
		}{
			{"out.jsonl", func(b *bytes.Buffer, p []Pair) error { return WriteJSONL(b, p) }},
			{"out.tsv", func(b *bytes.Buffer, p []Pair) error { return WriteTSV(b, p) }},
		} {
			var b bytes.Buffer
			if err := out.write(&b, pairs); err != nil {
				t.Fatalf("%s: writing accepted pairs: %v", out.name, err)
			}
			if b.Len() > MaxFileBytes {
				continue // long fields can grow past the limit when written (escapes, a header)
			}
			again, err := ParsePairs(out.name, b.Bytes())
			if err != nil {
				t.Fatalf("%s: reading back: %v", out.name, err)
			}
			if len(again) != len(pairs) {
				t.Fatalf("%s: %d pairs read back, not %d", out.name, len(again), len(pairs))
			}
			for i := range pairs {
				if again[i] != pairs[i] {
					t.Fatalf("%s: pair %d read back as %q, not %q", out.name, i+1, again[i], pairs[i])
				}
			}
		}
	})
}
