//go:build !js

package main

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"pretune/core/classstore"
	"pretune/core/feedback"
)

// The class API (issue #13): under /api/class, served only with -class DIR. Students send
// picks; the teacher, holding the secret made when the class was opened, reads the stats and
// the picks. Every error is JSON {"error": "..."} with its status.
const (
	classPrefix = "/api/class"
	// secretHeader carries the teacher's secret: a header, never a URL, so it stays out of
	// logs and browser history.
	secretHeader = "X-Class-Secret"
	// A student sends at most picksPerMinute picks a minute (a token bucket that refills
	// continuously, so a burst of a full minute's picks is allowed at once).
	picksPerMinute = 120
	// maxBuckets bounds the rate limiter's memory: 1000 classes of 30 students fit many times.
	maxBuckets = 50000
)

// classAPI serves /api/class.
type classAPI struct {
	store   *classstore.Store
	checker *classstore.Checker
	limiter *rateLimiter
	mu      sync.Mutex
	classes map[string]classstore.Class // classes read so far (a class never changes); known codes only
}

func newClassAPI(store *classstore.Store, checker *classstore.Checker) *classAPI {
	return &classAPI{
		store:   store,
		checker: checker,
		limiter: newRateLimiter(picksPerMinute, time.Minute, maxBuckets, time.Now),
		classes: map[string]classstore.Class{},
	}
}

// classRouter sends /api/class and everything under it to the class API, the rest to the
// playground. The test is on the decoded path so that an encoded slash or dot cannot slip a
// request around it; the API then parses the path as it was sent.
type classRouter struct {
	api, app http.Handler
}

func (c classRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; p == classPrefix || strings.HasPrefix(p, classPrefix+"/") {
		c.api.ServeHTTP(w, r)
		return
	}
	c.app.ServeHTTP(w, r)
}

// apiError is an error with its status; Pick is the index of a refused pick (-1 for none).
type apiError struct {
	status int
	msg    string
	pick   int
}

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, msg: fmt.Sprintf(format, args...), pick: -1}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]any{"error": e.msg}
	if e.pick >= 0 {
		body["pick"] = e.pick // the index the message names, for the student's queue to drop
	}
	writeJSON(w, e.status, body)
}

// route is one shape of path: its methods and handler. The handlers return an *apiError
// instead of writing one, so no path writes a status twice.
type route struct {
	methods []string
	handle  func(w http.ResponseWriter, r *http.Request, seg []string) *apiError
}

func (a *classAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := a.serve(w, r); e != nil {
		writeError(w, e)
	}
}

func (a *classAPI) serve(w http.ResponseWriter, r *http.Request) *apiError {
	// The path as sent: %2e%2e, %2f or a look-alike letter stays encoded and fails the shapes
	// below (every segment is plain ASCII letters, digits, '_' and '-').
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), classPrefix)
	if !ok || r.URL.RawQuery != "" {
		return errorf(http.StatusNotFound, "no such class API path")
	}
	var seg []string
	if rest != "" {
		if rest[0] != '/' {
			return errorf(http.StatusNotFound, "no such class API path")
		}
		seg = strings.Split(rest[1:], "/")
	}
	var rt route
	switch {
	case len(seg) == 0:
		rt = route{[]string{http.MethodGet, http.MethodPost}, a.root}
	case len(seg) == 1:
		rt = route{[]string{http.MethodGet}, a.info}
	case len(seg) == 2 && seg[1] == "picks":
		rt = route{[]string{http.MethodGet, http.MethodPost}, a.picks}
	case len(seg) == 2 && seg[1] == "stats":
		rt = route{[]string{http.MethodGet}, a.stats}
	case len(seg) == 3 && seg[1] == "students":
		rt = route{[]string{http.MethodGet}, a.student}
	default:
		return errorf(http.StatusNotFound, "no such class API path")
	}
	if len(seg) > 0 && !classstore.ValidCode(seg[0]) {
		return errorf(http.StatusNotFound, "no class has the code %q: a code is %d of %s", clip(seg[0]), classstore.CodeLen, classstore.CodeAlphabet)
	}
	allowed := false
	for _, m := range rt.methods {
		allowed = allowed || r.Method == m
	}
	if !allowed {
		w.Header().Set("Allow", strings.Join(rt.methods, ", "))
		return errorf(http.StatusMethodNotAllowed, "%s is not allowed here; use %s", r.Method, strings.Join(rt.methods, " or "))
	}
	return rt.handle(w, r, seg)
}

// clip shortens what a client sent before it goes into a message.
func clip(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}

// class returns the class of a code, from memory once it has been read.
func (a *classAPI) class(r *http.Request, code string) (classstore.Class, *apiError) {
	a.mu.Lock()
	c, ok := a.classes[code]
	a.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := a.store.Class(r.Context(), code)
	switch {
	case errors.Is(err, classstore.ErrNotFound):
		return c, errorf(http.StatusNotFound, "no class has the code %s", code)
	case err != nil:
		return c, errorf(http.StatusInternalServerError, "reading the class: %v", err)
	}
	a.mu.Lock()
	a.classes[code] = c
	a.mu.Unlock()
	return c, nil
}

// decodeBody decodes a JSON body of at most classstore.MaxBodyBytes into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) *apiError {
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "the request body is over %d KiB", classstore.MaxBodyBytes>>10)
	if r.ContentLength > classstore.MaxBodyBytes {
		return tooLarge
	}
	err := classstore.DecodeStrict(http.MaxBytesReader(w, r.Body, classstore.MaxBodyBytes), v)
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return tooLarge
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "the request body is empty; it is one JSON object")
	case err != nil:
		return errorf(http.StatusBadRequest, "the request body: %v", err)
	}
	return nil
}

// classInfo is what a student's page needs to join a class.
type classInfo struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Lang string `json:"lang"`
	Spec string `json:"spec"`
	Seed uint64 `json:"seed"`
}

func infoOf(c classstore.Class) classInfo {
	return classInfo{Code: c.Code, Name: c.Name, Lang: c.Lang, Spec: c.Spec, Seed: c.Seed}
}

// root: GET is the page's probe; POST opens a class.
func (a *classAPI) root(w http.ResponseWriter, r *http.Request, _ []string) *apiError {
	if r.Method == http.MethodGet {
		writeJSON(w, http.StatusOK, map[string]bool{"class_mode": true})
		return nil
	}
	var req struct {
		Name string `json:"name"`
		Lang string `json:"lang"`
	}
	if e := decodeBody(w, r, &req); e != nil {
		return e
	}
	if err := classstore.CheckText("name", req.Name, 1, classstore.MaxNameBytes); err != nil {
		return errorf(http.StatusBadRequest, "%v (a class's name is 1 to %d bytes)", err, classstore.MaxNameBytes)
	}
	if req.Lang != "en" && req.Lang != "zh" {
		return errorf(http.StatusBadRequest, "lang: %q is not a language of the playground (en or zh)", clip(req.Lang))
	}
	spec, err := classstore.FeedbackSpec(req.Lang)
	if err == nil {
		err = a.checker.Prepare(req.Lang, spec) // refuse to open a class whose picks cannot be checked
	}
	if err != nil {
		return errorf(http.StatusInternalServerError, "%v", err)
	}
	var raw [32]byte
	rand.Read(raw[:]) // never fails (crypto/rand)
	secret := hex.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	rand.Read(raw[:8])
	seed := binary.LittleEndian.Uint64(raw[:8]) >> 11 // below 2^53: exact as a JSON number
	c, err := a.store.CreateClass(r.Context(), classstore.Class{Name: req.Name, Lang: req.Lang, Spec: spec, Seed: seed, SecretSHA256: sum[:]})
	switch {
	case errors.Is(err, classstore.ErrFull):
		return errorf(http.StatusConflict, "%v", err)
	case err != nil:
		return errorf(http.StatusInternalServerError, "opening the class: %v", err)
	}
	writeJSON(w, http.StatusCreated, struct {
		classInfo
		Secret string `json:"secret"`
	}{infoOf(c), secret})
	return nil
}

// info: GET /api/class/{code}.
func (a *classAPI) info(w http.ResponseWriter, r *http.Request, seg []string) *apiError {
	c, e := a.class(r, seg[0])
	if e != nil {
		return e
	}
	writeJSON(w, http.StatusOK, infoOf(c))
	return nil
}

// teacher checks the teacher's secret against the class's stored hash, in constant time.
func teacher(r *http.Request, c classstore.Class) *apiError {
	secret := r.Header.Get(secretHeader)
	if secret == "" {
		return errorf(http.StatusForbidden, "this needs the class's teacher secret in the %s header", secretHeader)
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], c.SecretSHA256) != 1 {
		return errorf(http.StatusForbidden, "the teacher secret is wrong for class %s", c.Code)
	}
	return nil
}

// picks: POST stores a student's batch; GET (the teacher's) exports every pick as JSON Lines.
func (a *classAPI) picks(w http.ResponseWriter, r *http.Request, seg []string) *apiError {
	c, e := a.class(r, seg[0])
	if e != nil {
		return e
	}
	if r.Method == http.MethodGet {
		return a.export(w, r, c)
	}
	var req classstore.PicksRequest
	if e := decodeBody(w, r, &req); e != nil {
		return e
	}
	if err := a.checker.Check(c, req); err != nil {
		var pe *classstore.PickError
		var ie *classstore.InternalError
		switch {
		case errors.As(err, &pe):
			return &apiError{status: http.StatusBadRequest, msg: err.Error(), pick: pe.Index}
		case errors.As(err, &ie):
			return errorf(http.StatusInternalServerError, "%v", err)
		}
		return errorf(http.StatusBadRequest, "%v", err)
	}
	key := c.Code + "/" + req.Student
	n := len(req.Picks)
	if wait, ok := a.limiter.take(key, n); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		return errorf(http.StatusTooManyRequests, "a student sends at most %d picks a minute: send these again in %d s", picksPerMinute, secs)
	}
	added, err := a.store.AddPicks(r.Context(), c.Code, req.Student, req.Picks)
	if err != nil {
		a.limiter.give(key, n) // nothing was stored
		return errorf(http.StatusInternalServerError, "storing the picks: %v", err)
	}
	// Picks sent again (after a lost answer) cost nothing: only new picks count.
	a.limiter.give(key, added.Duplicates)
	writeJSON(w, http.StatusOK, added)
	return nil
}

// export writes the class's picks in arrival order, one {"prompt","chosen","rejected"} a line:
// TRL's preference format, which feedback.ParsePairs reads.
func (a *classAPI) export(w http.ResponseWriter, r *http.Request, c classstore.Class) *apiError {
	if e := teacher(r, c); e != nil {
		return e
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	wrote := false
	err := a.store.EachPick(r.Context(), c.Code, func(p classstore.Pick) error {
		wrote = true
		return enc.Encode(feedback.Pair{Prompt: p.Prompt, Chosen: p.Chosen, Rejected: p.Rejected})
	})
	if err != nil && !wrote {
		return errorf(http.StatusInternalServerError, "reading the picks: %v", err)
	}
	if !wrote {
		w.WriteHeader(http.StatusOK) // an empty class: an empty file
	}
	return nil // an error mid-stream cuts the body short, which the client's parse notices
}

// stats: GET /api/class/{code}/stats, the teacher's.
func (a *classAPI) stats(w http.ResponseWriter, r *http.Request, seg []string) *apiError {
	c, e := a.class(r, seg[0])
	if e != nil {
		return e
	}
	if e := teacher(r, c); e != nil {
		return e
	}
	st, err := a.store.Stats(r.Context(), c.Code)
	if err != nil {
		return errorf(http.StatusInternalServerError, "reading the stats: %v", err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// student: GET /api/class/{code}/students/{student}, a student's own count.
func (a *classAPI) student(w http.ResponseWriter, r *http.Request, seg []string) *apiError {
	if !classstore.ValidStudent(seg[2]) {
		return errorf(http.StatusBadRequest, "student: an id is %d to %d characters of A-Z, a-z, 0-9, _ and -", classstore.MinStudentID, classstore.MaxStudentID)
	}
	c, e := a.class(r, seg[0])
	if e != nil {
		return e
	}
	n, err := a.store.StudentPicks(r.Context(), c.Code, seg[2])
	if err != nil {
		return errorf(http.StatusInternalServerError, "reading the count: %v", err)
	}
	writeJSON(w, http.StatusOK, map[string]int{"picks": n})
	return nil
}

// rateLimiter is a token bucket per key (a class and a student), in memory: a restart forgets
// them, which only lets students send a minute's picks early. At most max buckets are kept; a
// bucket that has refilled holds nothing a fresh one would not, so those go first.
type rateLimiter struct {
	mu      sync.Mutex
	rate    float64 // tokens a second
	burst   float64
	max     int
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(n int, per time.Duration, max int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: float64(n) / per.Seconds(), burst: float64(n), max: max, now: now, buckets: map[string]*bucket{}}
}

// refill brings b's tokens up to now.
func (l *rateLimiter) refill(b *bucket, now time.Time) {
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
}

// take takes n tokens from key's bucket, or says how long until there are n (taking none).
func (l *rateLimiter) take(key string, n int) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, found := l.buckets[key]
	if !found {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		if len(l.buckets) >= l.max {
			// Every bucket is in use: more students sent picks this minute than the server
			// keeps track of. Refusing is safe (the browser retries); forgetting one is not.
			return time.Minute, false
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	l.refill(b, now)
	if b.tokens < float64(n) {
		return time.Duration((float64(n) - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens -= float64(n)
	return 0, true
}

// give returns n tokens (a batch that stored less than it took).
func (l *rateLimiter) give(key string, n int) {
	if n == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		l.refill(b, l.now())
		b.tokens = min(l.burst, b.tokens+float64(n))
	}
}

// sweep drops the buckets that have refilled by now.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
