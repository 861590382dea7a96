//go:build !js

package classstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"pretune/core/feedback"
)

const testBase = "../../web/base"

// testClass is an English class as the handler opens it.
func testClass(t testing.TB) Class {
	t.Helper()
	spec, err := FeedbackSpec("en")
	if err != nil {
		t.Fatal(err)
	}
	return Class{Code: "ABCDEF", Name: "test", Lang: "en", Spec: spec}
}

func testPrompt(t testing.TB) string {
	t.Helper()
	ta, err := feedback.BuiltinTaste(feedback.DefaultTaste("en"))
	if err != nil {
		t.Fatal(err)
	}
	return ta.Train[0]
}

func TestCheck(t *testing.T) {
	c := NewChecker(testBase)
	cl := testClass(t)
	prompt := testPrompt(t)
	good := Pick{ID: "s1-0", Prompt: prompt, Chosen: "it eats grass.", Rejected: "it is big."}
	if err := c.Check(cl, PicksRequest{Student: "student-1", Picks: []Pick{good}}); err != nil {
		t.Fatalf("a good pick: %v", err)
	}
	with := func(f func(*Pick)) []Pick { p := good; f(&p); return []Pick{good, p} }
	for _, tc := range []struct {
		name, student string
		picks         []Pick
		want          string // in the error; a pick's errors name index 1
	}{
		{"short student", "abc", []Pick{good}, "student"},
		{"student with a slash", "student/../x", []Pick{good}, "student"},
		{"no picks", "student-1", nil, "1 to 100"},
		{"too many picks", "student-1", make([]Pick, MaxPicks+1), "1 to 100"},
		{"empty id", "student-1", with(func(p *Pick) { p.ID = "" }), "pick 1: id"},
		{"id with a dot", "student-1", with(func(p *Pick) { p.ID = "a.b" }), "pick 1: id"},
		{"same id twice", "student-1", with(func(p *Pick) {}), "appears twice"},
		{"control character", "student-1", with(func(p *Pick) { p.ID, p.Chosen = "x", "it eats\x07 grass" }), "pick 1: chosen has a control character"},
		{"newline", "student-1", with(func(p *Pick) { p.ID, p.Rejected = "x", "it\nis" }), "pick 1: rejected has a control character"},
		{"bidi override", "student-1", with(func(p *Pick) { p.ID, p.Rejected = "x", "it\u202eis" }), "control character"},
		{"invalid UTF-8", "student-1", with(func(p *Pick) { p.ID, p.Chosen = "x", "it \xff" }), "not valid UTF-8"},
		{"empty answer", "student-1", with(func(p *Pick) { p.ID, p.Chosen = "x", "" }), "chosen is empty"},
		{"long answer", "student-1", with(func(p *Pick) { p.ID, p.Chosen = "x", strings.Repeat("a", 513) }), "513 bytes"},
		{"same answers", "student-1", with(func(p *Pick) { p.ID, p.Rejected = "x", p.Chosen }), "the same answer"},
		{"unknown prompt", "student-1", with(func(p *Pick) { p.ID, p.Prompt = "x", "what is the capital of france?" }), "pick 1: prompt: not one of"},
		{"unknown character", "student-1", with(func(p *Pick) { p.ID, p.Chosen = "x", "it eats 草" }), "pick 1: chosen: '草'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(cl, PicksRequest{Student: tc.student, Picks: tc.picks})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check: %v, want an error with %q", err, tc.want)
			}
			var ie *InternalError
			if errors.As(err, &ie) {
				t.Fatalf("Check: %v is the server's fault, not the request's", err)
			}
		})
	}
	// A Chinese class knows Chinese characters the English one does not.
	zh, err := FeedbackSpec("zh")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Prepare("zh", zh); err != nil {
		t.Fatal(err)
	}
	// A missing checkpoint is the server's fault.
	if err := NewChecker(t.TempDir()).Check(cl, PicksRequest{Student: "student-1", Picks: []Pick{good}}); !errors.As(err, new(*InternalError)) {
		t.Fatalf("without the kept model: %v, want an InternalError", err)
	}
}

func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"student":"student-1","picks":[]}`, ""},
		{`{"student":"student-1","picks":[],"extra":1}`, `unknown field "extra"`},
		{`{"student":"student-1","picks":[{"id":"a","score":3}]}`, `unknown field "score"`},
		{`{"student":`, "unexpected EOF"},
		{`{"student":"a"} {"student":"b"}`, "more than one JSON value"},
		{`{"student":1}`, "cannot unmarshal number"},
		{``, "EOF"},
	} {
		var req PicksRequest
		err := DecodeStrict(strings.NewReader(tc.body), &req)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("DecodeStrict(%q): %v, want %q", tc.body, err, tc.want)
		}
	}
}

// FuzzClassPicks feeds arbitrary bodies to the picks request's decoding and checking: neither
// may panic, and whatever passes both must be something the store can keep (ids of the allowed
// shape, texts within their limits, valid UTF-8 without control characters, distinct answers).
func FuzzClassPicks(f *testing.F) {
	c := NewChecker(testBase)
	cl := testClass(f)
	good, _ := json.Marshal(PicksRequest{Student: "student-1", Picks: []Pick{{ID: "a1", Prompt: testPrompt(f), Chosen: "it eats grass.", Rejected: "it is big."}}})
	f.Add(good)
	// Good requests but for one thing each, so a check that stops refusing it fails here too.
	for _, bad := range []Pick{
		{ID: "a1", Prompt: testPrompt(f), Chosen: "it eats\ngrass.", Rejected: "it is big."},
		{ID: "a1", Prompt: testPrompt(f), Chosen: "it is big.", Rejected: "it is big."},
		{ID: "a/1", Prompt: testPrompt(f), Chosen: "it eats grass.", Rejected: "it is big."},
	} {
		b, _ := json.Marshal(PicksRequest{Student: "student-1", Picks: []Pick{bad}})
		f.Add(b)
	}
	f.Add([]byte(`{"student":"student-1","picks":[{"id":"a","prompt":"p","chosen":"x","rejected":"x"}]}`))
	f.Add([]byte(`{"student":"../../etc","picks":[]}`))
	f.Add([]byte(`{"student":"student-1","picks":[{"id":"a\u0000","prompt":"","chosen":"\ud800","rejected":"é"}]}`))
	f.Add([]byte(`{"picks":null}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte(`{"student":"student-1","picks":[{}],"x":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req PicksRequest
		if err := DecodeStrict(bytes.NewReader(body), &req); err != nil {
			return
		}
		if err := c.Check(cl, req); err != nil {
			var ie *InternalError
			if errors.As(err, &ie) {
				t.Fatalf("the server's fault on a request: %v", err)
			}
			return
		}
		if !ValidStudent(req.Student) || len(req.Picks) < 1 || len(req.Picks) > MaxPicks {
			t.Fatalf("accepted a request of the wrong shape: %q", body)
		}
		for _, p := range req.Picks {
			for _, s := range []string{p.Prompt, p.Chosen, p.Rejected} {
				if !utf8.ValidString(s) || len(s) < 1 || len(s) > MaxTextBytes || strings.ContainsAny(s, "\x00\n\r\x7f") {
					t.Fatalf("accepted text %q", s)
				}
			}
			if !ValidPickID(p.ID) || p.Chosen == p.Rejected {
				t.Fatalf("accepted pick %+v", p)
			}
		}
	})
}
