package app

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Class mode (issue #13): the teacher's server collects a class's picks through a small JSON
// API under /api/class (CLASS_PLAN.md). This file is the API as the page sees it: its bodies,
// its errors and the interface the feedback state calls, which the tests fake. The fetch
// behind it is class_fetch.go.

// classInfo is a class as the server describes it. Secret comes only with the answer to
// opening one (the teacher's); a student's page never sees it.
type classInfo struct {
	Code   string `json:"code"`
	Secret string `json:"secret,omitempty"`
	Name   string `json:"name"`
	Lang   string `json:"lang"`
	Spec   string `json:"spec"` // runspec share code of the class's feedback stage
	Seed   uint64 `json:"seed"` // the students' offers are drawn from Seed+batch
}

// classPick is a pick as the server stores it; ID makes sending it again harmless (the server
// counts a known ID as a duplicate).
type classPick struct {
	ID       string `json:"id"`
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// classSent is the server's answer to a batch of picks.
type classSent struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// classStats is the teacher's live view of the class.
type classStats struct {
	Picks     int              `json:"picks"`
	Students  []classStudentN  `json:"students"`
	Agreement classAgreementOf `json:"agreement"`
}

// classStudentN is one student's count under an anonymous id (a hash prefix, not the id).
type classStudentN struct {
	Student string `json:"student"`
	Picks   int    `json:"picks"`
	Last    int64  `json:"last"`
}

// classAgreementOf is how often two students who judged the same pair chose the same answer:
// Agree over Judgements student-pairs, on Pairs distinct pairs.
type classAgreementOf struct {
	Pairs      int     `json:"pairs"`
	Judgements int     `json:"judgements"`
	Agree      float64 `json:"agree"`
}

// classClient is the class API, owned by the feedback state so the tests answer it by hand.
// Every done runs on the UI goroutine. An error is a *classError when the server answered
// with a status, any other error when the network failed.
type classClient interface {
	// probe says whether the server runs with -class: GET /api/class answers
	// {"class_mode": true}. Anything else (the page's HTML, an error) is no.
	probe(done func(on bool))
	openClass(name, lang string, done func(classInfo, error))
	getClass(code string, done func(classInfo, error))
	sendPicks(code, student string, picks []classPick, done func(classSent, error))
	ownCount(code, student string, done func(int, error))
	stats(code, secret string, done func(classStats, error))
	// allPicks is the class's picks as JSON Lines (feedback.ParsePairs reads them).
	allPicks(code, secret string, done func([]byte, error))
}

// classError is a status the server answered with, its message, for 429 how long to wait, and
// for a 400 about one pick of a batch that pick's index (the server's "pick" field).
type classError struct {
	Status     int
	Msg        string // the server's English message (shown as data)
	RetryAfter time.Duration
	Pick       *int
}

func (e *classError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Msg) }

// classAnswer turns a response into into's value or a *classError. A body that is not the
// JSON asked for is an error too (a proxy's page, the playground's HTML without -class).
func classAnswer(status int, retryAfter string, body []byte, into any) error {
	if status < 200 || status > 299 {
		e := &classError{Status: status, Msg: strings.TrimSpace(string(body))}
		var msg struct {
			Error string `json:"error"`
			Pick  *int   `json:"pick"`
		}
		if json.Unmarshal(body, &msg) == nil && msg.Error != "" {
			e.Msg, e.Pick = msg.Error, msg.Pick
		}
		if len(e.Msg) > 200 { // an HTML error page says nothing useful in full
			e.Msg = e.Msg[:200]
		}
		if s, err := strconv.Atoi(strings.TrimSpace(retryAfter)); err == nil && s >= 0 {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if into == nil {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return &classError{Status: status, Msg: "the answer is not the class API's JSON: " + err.Error()}
	}
	return nil
}

// probeAnswer is the probe's verdict on a response: only a 200 whose body is the JSON
// {"class_mode": true} turns class mode on.
func probeAnswer(status int, body []byte) bool {
	var p struct {
		ClassMode bool `json:"class_mode"`
	}
	return classAnswer(status, "", body, &p) == nil && p.ClassMode
}

// refusedPick is the index of the pick of a batch of n a 400 refused, if it names one.
func (e *classError) refusedPick(n int) (int, bool) {
	if e.Status != 400 || e.Pick == nil || *e.Pick < 0 || *e.Pick >= n {
		return 0, false
	}
	return *e.Pick, true
}
