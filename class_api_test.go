//go:build !js

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"pretune/core/classstore"
	"pretune/core/feedback"
	"pretune/core/runspec"
)

// classServer is a test server with the class API on a fresh folder, on 127.0.0.1.
type classServer struct {
	t     testing.TB
	srv   *httptest.Server
	store *classstore.Store
	api   *classAPI
}

func newClassServer(t testing.TB) *classServer {
	t.Helper()
	store, err := classstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	api := newClassAPI(store, classstore.NewChecker("web/base"))
	cs := &classServer{t: t, srv: httptest.NewServer(newHandler(api)), store: store, api: api}
	t.Cleanup(func() { cs.srv.Close(); store.Close() })
	return cs
}

// reply is a response: its status, headers, body, and the body as JSON when it is JSON.
type reply struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request to path as written (no cleaning, no escaping), with body (a string, a
// []byte, an io.Reader sent chunked, or a value encoded as JSON) and headers as key, value.
func (cs *classServer) do(method, path string, body any, headers ...string) reply {
	cs.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	case io.Reader:
		r = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			cs.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, cs.srv.URL, r)
	if err != nil {
		cs.t.Fatal(err)
	}
	req.URL.Opaque = path // sent verbatim
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := cs.srv.Client().Do(req)
	if err != nil {
		cs.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		cs.t.Fatal(err)
	}
	rep := reply{status: resp.StatusCode, header: resp.Header, body: data}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &rep.json); err != nil {
			cs.t.Fatalf("%s %s: JSON body %q: %v", method, path, data, err)
		}
	}
	return rep
}

// counts is how many classes and picks the store holds.
func (cs *classServer) counts() [2]int {
	cs.t.Helper()
	c, p, err := cs.store.Counts(context.Background())
	if err != nil {
		cs.t.Fatal(err)
	}
	return [2]int{c, p}
}

// openClass opens a class through the API and returns its reply's fields.
func (cs *classServer) openClass(lang string) (code, secret string) {
	cs.t.Helper()
	rep := cs.do("POST", "/api/class", map[string]string{"name": "7b biology", "lang": lang})
	if rep.status != http.StatusCreated {
		cs.t.Fatalf("opening a class: %d %s", rep.status, rep.body)
	}
	return rep.json["code"].(string), rep.json["secret"].(string)
}

// classPrompts are the English class's first prompts.
func classPrompts(t testing.TB) []string {
	t.Helper()
	ta, err := feedback.BuiltinTaste(feedback.DefaultTaste("en"))
	if err != nil {
		t.Fatal(err)
	}
	return ta.Train
}

// testPicks are n good picks of a student, ids prefix-0.., over the class's prompts.
func testPicks(prompts []string, prefix string, from, n int) []classstore.Pick {
	var ps []classstore.Pick
	for i := from; i < from+n; i++ {
		ps = append(ps, classstore.Pick{ID: fmt.Sprintf("%s-%d", prefix, i), Prompt: prompts[i%len(prompts)],
			Chosen: "it eats grass " + letters(i) + ".", Rejected: "it is big."})
	}
	return ps
}

// letters writes i in base 16 with common letters: the class's model knows no digits (nor z).
func letters(i int) string {
	const digits = "abcdefghilmnorst"
	s := digits[i%16 : i%16+1]
	for i /= 16; i > 0; i /= 16 {
		s = digits[i%16:i%16+1] + s
	}
	return s
}

func TestClassAPIFlow(t *testing.T) {
	cs := newClassServer(t)
	if rep := cs.do("GET", "/api/class", nil); rep.status != 200 || rep.json["class_mode"] != true {
		t.Fatalf("probe: %d %s", rep.status, rep.body)
	}
	rep := cs.do("POST", "/api/class", map[string]string{"name": "7b biology", "lang": "en"})
	if rep.status != http.StatusCreated {
		t.Fatalf("open: %d %s", rep.status, rep.body)
	}
	code, secret := rep.json["code"].(string), rep.json["secret"].(string)
	seed := rep.json["seed"].(float64)
	want, _ := runspec.PresetByName("en-feedback")
	wantSpec, _ := runspec.Encode(want.Spec)
	if !classstore.ValidCode(code) || len(secret) != 64 || rep.json["name"] != "7b biology" || rep.json["lang"] != "en" ||
		rep.json["spec"] != wantSpec || seed < 0 || seed >= 1<<53 || seed != float64(uint64(seed)) {
		t.Fatalf("open's reply %s", rep.body)
	}
	info := cs.do("GET", "/api/class/"+code, nil)
	if info.status != 200 || info.json["code"] != code || info.json["seed"] != seed || info.json["spec"] != wantSpec || info.json["secret"] != nil {
		t.Fatalf("class info: %d %s", info.status, info.body)
	}
	if bytes.Contains(info.body, []byte(secret)) {
		t.Fatal("the class's info holds its secret")
	}

	prompts := classPrompts(t)
	send := func(student string, ps []classstore.Pick) reply {
		return cs.do("POST", "/api/class/"+code+"/picks", classstore.PicksRequest{Student: student, Picks: ps})
	}
	if rep := send("student-a", testPicks(prompts, "a", 0, 5)); rep.status != 200 || rep.json["accepted"] != 5.0 || rep.json["duplicates"] != 0.0 {
		t.Fatalf("picks: %d %s", rep.status, rep.body)
	}
	// Sent again with three more (an answer lost on the way): only the new ones are stored.
	if rep := send("student-a", testPicks(prompts, "a", 0, 8)); rep.status != 200 || rep.json["accepted"] != 3.0 || rep.json["duplicates"] != 5.0 {
		t.Fatalf("re-sent picks: %d %s", rep.status, rep.body)
	}
	// Student b judges a's first pair the other way round.
	b := testPicks(prompts, "b", 0, 1)
	b[0].Chosen, b[0].Rejected = b[0].Rejected, b[0].Chosen
	if rep := send("student-b", b); rep.status != 200 {
		t.Fatalf("student b: %d %s", rep.status, rep.body)
	}
	if rep := cs.do("GET", "/api/class/"+code+"/students/student-a", nil); rep.status != 200 || rep.json["picks"] != 8.0 {
		t.Fatalf("student's count: %d %s", rep.status, rep.body)
	}
	st := cs.do("GET", "/api/class/"+code+"/stats", nil, secretHeader, secret)
	var stats classstore.Stats
	if err := json.Unmarshal(st.body, &stats); st.status != 200 || err != nil {
		t.Fatalf("stats: %d %s", st.status, st.body)
	}
	if stats.Picks != 9 || len(stats.Students) != 2 || stats.Students[0].Student != classstore.StudentHash("student-a") ||
		stats.Agreement != (classstore.Agreement{Pairs: 1, Judgements: 1, Agree: 0}) {
		t.Fatalf("stats %s", st.body)
	}
	if bytes.Contains(st.body, []byte("student-a")) {
		t.Fatal("the stats hold a student's id")
	}
	ex := cs.do("GET", "/api/class/"+code+"/picks", nil, secretHeader, secret)
	if ex.status != 200 || ex.header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %s %s", ex.status, ex.header.Get("Content-Type"), ex.body)
	}
	pairs, err := feedback.ParsePairs("class.jsonl", ex.body)
	if err != nil || len(pairs) != 9 || pairs[0].Chosen != "it eats grass a." || pairs[8].Chosen != "it is big." {
		t.Fatalf("export %q: %v", ex.body, err)
	}
	if strings.Contains(string(ex.body), "student") || strings.Contains(string(ex.body), `"id"`) {
		t.Fatalf("the export holds more than the pairs: %s", ex.body)
	}
}

// TestClassAPIRefusals sends every kind of bad request: each gets its status and a JSON
// message, and nothing is written.
func TestClassAPIRefusals(t *testing.T) {
	cs := newClassServer(t)
	code, secret := cs.openClass("en")
	prompts := classPrompts(t)
	good := testPicks(prompts, "g", 0, 3)
	req := func(ps ...classstore.Pick) classstore.PicksRequest {
		return classstore.PicksRequest{Student: "student-1", Picks: append(append([]classstore.Pick(nil), good...), ps...)}
	}
	bad := func(f func(*classstore.Pick)) classstore.PicksRequest {
		p := testPicks(prompts, "bad", 0, 1)[0]
		f(&p)
		return req(p)
	}
	picks := "/api/class/" + code + "/picks"
	big := `{"student":"student-1","picks":[{"id":"x","prompt":"` + strings.Repeat("a", 300<<10) + `"}]}`
	before := cs.counts()
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
		status             int
		msg                string
	}{
		{"malformed JSON", "POST", picks, `{"student": "student-1", "picks": [`, nil, 400, "unexpected EOF"},
		{"not JSON", "POST", picks, `student=student-1`, nil, 400, "invalid character"},
		{"empty body", "POST", picks, ``, nil, 400, "empty"},
		{"two values", "POST", picks, `{"student":"student-1","picks":[]} {}`, nil, 400, "more than one"},
		{"unknown field", "POST", picks, `{"student":"student-1","picks":[],"teacher":true}`, nil, 400, `unknown field "teacher"`},
		{"unknown field in a pick", "POST", picks, `{"student":"student-1","picks":[{"id":"a","weight":9}]}`, nil, 400, `unknown field "weight"`},
		{"oversized body", "POST", picks, big, nil, 413, "over 256 KiB"},
		{"oversized body, chunked", "POST", picks, io.MultiReader(strings.NewReader(big)), nil, 413, "over 256 KiB"},
		{"oversized class", "POST", "/api/class", `{"name":"` + strings.Repeat("a", 300<<10) + `"}`, nil, 413, "over 256 KiB"},
		{"unknown code", "POST", "/api/class/ZZZZZZ/picks", req(), nil, 404, "no class has the code ZZZZZZ"},
		{"unknown code, info", "GET", "/api/class/ZZZZZZ", nil, nil, 404, "no class"},
		{"code with O", "GET", "/api/class/ABCDEO", nil, nil, 404, "no class has the code"},
		{"lower-case code", "GET", "/api/class/" + strings.ToLower(code), nil, nil, 404, "no class has the code"},
		{"stats without secret", "GET", "/api/class/" + code + "/stats", nil, nil, 403, "X-Class-Secret"},
		{"stats, wrong secret", "GET", "/api/class/" + code + "/stats", nil, []string{secretHeader, strings.Repeat("0", 64)}, 403, "wrong"},
		{"stats, secret's hash", "GET", "/api/class/" + code + "/stats", nil, []string{secretHeader, secret[:63]}, 403, "wrong"},
		{"export without secret", "GET", picks, nil, nil, 403, "X-Class-Secret"},
		{"export, wrong secret", "GET", picks, nil, []string{secretHeader, "x"}, 403, "wrong"},
		{"DELETE the class", "DELETE", "/api/class/" + code, nil, nil, 405, "DELETE is not allowed"},
		{"PUT picks", "PUT", picks, req(), nil, 405, "not allowed"},
		{"POST stats", "POST", "/api/class/" + code + "/stats", `{}`, nil, 405, "not allowed"},
		{"PATCH root", "PATCH", "/api/class", `{}`, nil, 405, "not allowed"},
		{"dot-dot", "GET", "/api/class/../web/app.wasm", nil, nil, 404, "no such class API path"},
		{"dot-dot after the code", "POST", "/api/class/" + code + "/../" + code + "/picks", req(), nil, 404, "no such class API path"},
		{"encoded dot-dot", "GET", "/api/class/%2e%2e/%2e%2e/web/app.wasm", nil, nil, 404, "no such class API path"},
		{"encoded dot-dot as the code", "GET", "/api/class/%2e%2e", nil, nil, 404, "no class has the code"},
		{"encoded slash", "GET", "/api/class%2f" + code, nil, nil, 404, "no such class API path"},
		{"encoded slash in a student", "GET", "/api/class/" + code + "/students/..%2f..%2fstats", nil, nil, 400, "student"},
		{"full-width code", "GET", "/api/class/ＡＢＣＤＥＦ", nil, nil, 404, "no class has the code"},
		{"Cyrillic A in the code", "GET", "/api/class/" + "\u0410" + code[1:], nil, nil, 404, "no class has the code"},
		{"too long code", "GET", "/api/class/" + code + "A", nil, nil, 404, "no class has the code"},
		{"trailing slash", "GET", "/api/class/" + code + "/", nil, nil, 404, "no such class API path"},
		{"extra segment", "POST", picks + "/x", req(), nil, 404, "no such class API path"},
		{"query", "GET", "/api/class/" + code + "?secret=" + secret, nil, nil, 404, "no such class API path"},
		{"too long student", "GET", "/api/class/" + code + "/students/" + strings.Repeat("a", 65), nil, nil, 400, "student"},
		{"short student", "GET", "/api/class/" + code + "/students/abc", nil, nil, 400, "student"},
		{"student with a dot", "GET", "/api/class/" + code + "/students/student.1", nil, nil, 400, "student"},
		{"empty student", "GET", "/api/class/" + code + "/students/", nil, nil, 400, "student"},
		{"look-alike student", "GET", "/api/class/" + code + "/students/studеnt-1", nil, nil, 400, "student"},
		{"bad student in picks", "POST", picks, classstore.PicksRequest{Student: "../../x", Picks: good}, nil, 400, "student"},
		{"no picks", "POST", picks, classstore.PicksRequest{Student: "student-1"}, nil, 400, "1 to 100"},
		{"control character", "POST", picks, bad(func(p *classstore.Pick) { p.Chosen = "it eats\x1b[2J grass" }), nil, 400, "pick 3: chosen has a control character"},
		{"unknown prompt", "POST", picks, bad(func(p *classstore.Pick) { p.Prompt = "what does the teacher eat?" }), nil, 400, "pick 3: prompt: not one of"},
		{"unknown character", "POST", picks, bad(func(p *classstore.Pick) { p.Rejected = "it is ☃." }), nil, 400, "pick 3: rejected: '☃'"},
		{"chosen is rejected", "POST", picks, bad(func(p *classstore.Pick) { p.Rejected = p.Chosen }), nil, 400, "pick 3: chosen and rejected are the same"},
		{"long answer", "POST", picks, bad(func(p *classstore.Pick) { p.Chosen = strings.Repeat("a", 513) }), nil, 400, "pick 3: chosen is 513 bytes"},
		{"bad pick id", "POST", picks, bad(func(p *classstore.Pick) { p.ID = "../x" }), nil, 400, "pick 3: id"},
		{"name empty", "POST", "/api/class", map[string]string{"name": "", "lang": "en"}, nil, 400, "name is empty"},
		{"name with a newline", "POST", "/api/class", map[string]string{"name": "a\nb", "lang": "en"}, nil, 400, "control character"},
		{"name too long", "POST", "/api/class", map[string]string{"name": strings.Repeat("é", 41), "lang": "en"}, nil, 400, "82 bytes"},
		{"unknown lang", "POST", "/api/class", map[string]string{"name": "x", "lang": "fr"}, nil, 400, `"fr"`},
		{"class with a secret", "POST", "/api/class", `{"name":"x","lang":"en","secret":"mine"}`, nil, 400, `unknown field "secret"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := cs.do(tc.method, tc.path, tc.body, tc.headers...)
			msg, _ := rep.json["error"].(string)
			if rep.status != tc.status || !strings.Contains(msg, tc.msg) {
				t.Fatalf("%d %s, want %d with an error holding %q", rep.status, rep.body, tc.status, tc.msg)
			}
			if strings.HasPrefix(msg, "pick 3") && rep.json["pick"] != 3.0 {
				t.Fatalf("the reply names pick %v, want 3", rep.json["pick"])
			}
			if got := cs.counts(); got != before {
				t.Fatalf("the store went from %v to %v (classes, picks)", before, got)
			}
		})
	}
	// After all that the class still takes good picks.
	if rep := cs.do("POST", picks, req()); rep.status != 200 || rep.json["accepted"] != 3.0 {
		t.Fatalf("good picks after the refusals: %d %s", rep.status, rep.body)
	}
}

func TestClassAPIRateLimit(t *testing.T) {
	cs := newClassServer(t)
	code, _ := cs.openClass("en")
	var mu sync.Mutex
	now := time.Unix(1e9, 0)
	cs.api.limiter = newRateLimiter(picksPerMinute, time.Minute, maxBuckets, func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	prompts := classPrompts(t)
	send := func(student string, ps []classstore.Pick) reply {
		return cs.do("POST", "/api/class/"+code+"/picks", classstore.PicksRequest{Student: student, Picks: ps})
	}
	if rep := send("student-1", testPicks(prompts, "s", 0, 100)); rep.status != 200 {
		t.Fatalf("a minute's picks at once: %d %s", rep.status, rep.body)
	}
	before := cs.counts()
	// 20 tokens left; 30 need 10 more, 5 s at 2 a second.
	rep := send("student-1", testPicks(prompts, "s", 100, 30))
	if rep.status != http.StatusTooManyRequests || rep.header.Get("Retry-After") != "5" || !strings.Contains(rep.json["error"].(string), "120 picks a minute") {
		t.Fatalf("over the limit: %d Retry-After %q %s", rep.status, rep.header.Get("Retry-After"), rep.body)
	}
	if got := cs.counts(); got != before {
		t.Fatalf("a refused batch changed the store from %v to %v", before, got)
	}
	// Another student of the class has a bucket of their own.
	if rep := send("student-2", testPicks(prompts, "t", 0, 30)); rep.status != 200 {
		t.Fatalf("another student: %d %s", rep.status, rep.body)
	}
	// Picks sent again cost nothing once stored: 20 old and 0 new leave the 20 tokens.
	if rep := send("student-1", testPicks(prompts, "s", 0, 20)); rep.status != 200 || rep.json["duplicates"] != 20.0 {
		t.Fatalf("re-sent picks: %d %s", rep.status, rep.body)
	}
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	if rep := send("student-1", testPicks(prompts, "s", 100, 30)); rep.status != 200 || rep.json["accepted"] != 30.0 {
		t.Fatalf("after Retry-After: %d %s", rep.status, rep.body)
	}
}

func TestClassRateLimiterIsBounded(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(120, time.Minute, 3, func() time.Time { return now })
	for _, k := range []string{"a", "b", "c"} {
		if _, ok := l.take(k, 10); !ok {
			t.Fatalf("take %s", k)
		}
	}
	if wait, ok := l.take("d", 1); ok || wait != time.Minute {
		t.Fatalf("a 4th key while 3 are in use: ok %v, wait %v; want refused for a minute", ok, wait)
	}
	now = now.Add(5 * time.Second) // a, b and c have refilled their 10 tokens
	if _, ok := l.take("d", 1); !ok || len(l.buckets) != 1 {
		t.Fatalf("after the others refilled: ok %v, %d buckets; want the full ones dropped", ok, len(l.buckets))
	}
}

func TestClassAPIOnlyWithClassMode(t *testing.T) {
	srv := httptest.NewServer(newHandler())
	defer srv.Close()
	for _, p := range []string{"/api/class", "/api/class/ABCDEF"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(resp.Header.Get("Content-Type"), "json") || bytes.Contains(body, []byte("class_mode")) {
			t.Fatalf("GET %s without -class: %s %q, want the playground's page", p, resp.Header.Get("Content-Type"), body[:min(len(body), 80)])
		}
	}
	resp, err := http.Post(srv.URL+"/api/class", "application/json", strings.NewReader(`{"name":"x","lang":"en"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		t.Fatal("a class was opened without -class")
	}
}
