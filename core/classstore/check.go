//go:build !js

package classstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"unicode"
	"unicode/utf8"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/feedback"
	"pretune/core/ops"
	"pretune/core/runspec"
)

// Limits on what a student sends.
const (
	MaxBodyBytes   = 256 << 10 // a request body; more is refused before it is read
	MaxPicks       = 100       // picks in one request
	MaxTextBytes   = 512       // a prompt or an answer
	MaxNameBytes   = 80        // a class's name
	MinStudentID   = 8
	MaxStudentID   = 64
	MaxPickIDBytes = 64
)

// PicksRequest is the body of POST /api/class/{code}/picks.
type PicksRequest struct {
	Student string `json:"student"`
	Picks   []Pick `json:"picks"`
}

// DecodeStrict decodes exactly one JSON value into v: an unknown field or anything after the
// value is an error (a client sending fields the server ignores would believe they were kept).
func DecodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("the body holds more than one JSON value")
	}
	return nil
}

// PickError says which pick of a request is refused and why.
type PickError struct {
	Index  int
	Reason string
}

func (e *PickError) Error() string { return fmt.Sprintf("pick %d: %s", e.Index, e.Reason) }

// idChar reports whether c may appear in a student's or a pick's id: ids end up in URLs and
// logs, so they are plain ASCII.
func idChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

func validID(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return false
		}
	}
	return true
}

// ValidStudent reports whether s has a student id's shape: 8..64 of [A-Za-z0-9_-].
func ValidStudent(s string) bool { return validID(s, MinStudentID, MaxStudentID) }

// ValidPickID reports whether s has a pick id's shape: 1..64 of [A-Za-z0-9_-].
func ValidPickID(s string) bool { return validID(s, 1, MaxPickIDBytes) }

// CheckText checks a text a person typed or a model wrote: valid UTF-8, lo..hi bytes, and no
// control or invisible format characters (a bidi override in a class's name would reorder the
// teacher's page).
func CheckText(what, s string, lo, hi int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case len(s) < lo:
		return fmt.Errorf("%s is empty", what)
	case len(s) > hi:
		return fmt.Errorf("%s is %d bytes; the most is %d", what, len(s), hi)
	}
	for i, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%s has a control character (U+%04X) at byte %d", what, r, i)
		}
	}
	return nil
}

// Checker checks picks against their class: the prompt must be one of the class's taste's
// prompts and the answers made of characters the class's model knows. It reads each
// language's kept SFT checkpoint once, the first time a class of that language needs it, and
// keeps only its tokenizer.
type Checker struct {
	baseDir string // web/base: the kept checkpoints
	mu      sync.Mutex
	toks    map[string]*core.Tokenizer     // by language
	prompts map[string]map[string]struct{} // by spec (share code)
}

// NewChecker returns a Checker reading the kept checkpoints in baseDir (web/base).
func NewChecker(baseDir string) *Checker {
	return &Checker{baseDir: baseDir, toks: map[string]*core.Tokenizer{}, prompts: map[string]map[string]struct{}{}}
}

// FeedbackSpec is the share code of a language's feedback preset: the kept SFT model and the
// taste a class of that language uses.
func FeedbackSpec(lang string) (string, error) {
	p, err := runspec.PresetByName(lang + "-feedback")
	if err != nil {
		return "", fmt.Errorf("no feedback preset for language %q", lang)
	}
	return runspec.Encode(p.Spec)
}

// Prepare loads what checking a class's picks needs (its language's tokenizer and its spec's
// prompts), so a class is only opened when its picks can be checked.
func (c *Checker) Prepare(lang, spec string) error {
	_, _, err := c.load(lang, spec)
	return err
}

func (c *Checker) load(lang, spec string) (*core.Tokenizer, map[string]struct{}, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tok, ok := c.toks[lang]
	if !ok {
		p, err := runspec.PresetByName(lang + "-feedback")
		if err != nil {
			return nil, nil, fmt.Errorf("no feedback preset for language %q", lang)
		}
		name := filepath.Join(c.baseDir, runspec.SFTFile(p))
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, fmt.Errorf("the class's model: %w (make base writes it)", err)
		}
		ck, err := checkpoint.Load(bytes.NewReader(data), ops.NewCPU())
		if err != nil {
			return nil, nil, fmt.Errorf("the class's model %s: %w", name, err)
		}
		tok = ck.Tok // the weights go: only the vocabulary is needed here
		c.toks[lang] = tok
	}
	prompts, ok := c.prompts[spec]
	if !ok {
		s, err := runspec.Decode(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("the class's spec: %w", err)
		}
		if !s.Feeds() || s.Feedback.Taste == "" {
			return nil, nil, errors.New("the class's spec has no feedback stage with a built-in taste")
		}
		t, err := feedback.BuiltinTaste(s.Feedback.Taste)
		if err != nil {
			return nil, nil, err
		}
		prompts = map[string]struct{}{}
		for _, p := range append(append([]string(nil), t.Train...), t.Held...) {
			prompts[p] = struct{}{}
		}
		c.prompts[spec] = prompts
	}
	return tok, prompts, nil
}

// Check checks a picks request for class cl before anything is written: the student's id, the
// number of picks, and each pick (a *PickError names the first bad one). Errors other than
// those mean the class's model or spec could not be read.
func (c *Checker) Check(cl Class, req PicksRequest) error {
	if !ValidStudent(req.Student) {
		return fmt.Errorf("student: an id is %d to %d characters of A-Z, a-z, 0-9, _ and -", MinStudentID, MaxStudentID)
	}
	if len(req.Picks) == 0 || len(req.Picks) > MaxPicks {
		return fmt.Errorf("picks: a request sends 1 to %d picks, not %d", MaxPicks, len(req.Picks))
	}
	tok, prompts, err := c.load(cl.Lang, cl.Spec)
	if err != nil {
		return &InternalError{err}
	}
	seen := make(map[string]bool, len(req.Picks))
	for i, p := range req.Picks {
		if reason := checkPick(p, tok, prompts); reason != "" {
			return &PickError{Index: i, Reason: reason}
		}
		if seen[p.ID] {
			// Two picks with one id in one batch: the second would be counted a duplicate of a
			// different judgement, so the client has a bug worth hearing about.
			return &PickError{Index: i, Reason: fmt.Sprintf("id %q appears twice in this request", p.ID)}
		}
		seen[p.ID] = true
	}
	return nil
}

// InternalError wraps a failure of the server's own files, not of the request.
type InternalError struct{ Err error }

func (e *InternalError) Error() string { return e.Err.Error() }
func (e *InternalError) Unwrap() error { return e.Err }

// checkPick returns why a pick is refused, or "".
func checkPick(p Pick, tok *core.Tokenizer, prompts map[string]struct{}) string {
	if !ValidPickID(p.ID) {
		return fmt.Sprintf("id: a pick's id is 1 to %d characters of A-Z, a-z, 0-9, _ and -", MaxPickIDBytes)
	}
	for _, f := range []struct{ what, s string }{{"prompt", p.Prompt}, {"chosen", p.Chosen}, {"rejected", p.Rejected}} {
		if err := CheckText(f.what, f.s, 1, MaxTextBytes); err != nil {
			return err.Error()
		}
	}
	if p.Chosen == p.Rejected {
		return "chosen and rejected are the same answer"
	}
	if _, ok := prompts[p.Prompt]; !ok {
		return "prompt: not one of this class's prompts"
	}
	for _, f := range []struct{ what, s string }{{"chosen", p.Chosen}, {"rejected", p.Rejected}} {
		for _, r := range f.s {
			if !tok.Knows(r) {
				return fmt.Sprintf("%s: %q (U+%04X) is not a character this class's model knows", f.what, r, r)
			}
		}
	}
	return ""
}
