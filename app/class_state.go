package app

import (
	"crypto/rand"
	"time"
)

// classHost is what class mode asks of the page beyond the feedback view's host: timers,
// localStorage, the IndexedDB queue, the clipboard and the page's origin. Feedback implements
// it with the browser's; the tests with a clock they move by hand.
type classHost interface {
	// after calls fn on the UI goroutine after d; the function it returns stops it.
	after(d time.Duration, fn func()) (stop func())
	local(key string) string
	setLocal(key, value string)
	keepClassQueue(s savedClassQueue)
	copyText(text string)
	origin() string
}

// localStorage keys: the student id of this browser, and the teacher's open class and its
// secret (only ever in the teacher's browser, never in a link).
const (
	studentKey     = "pretune.student"
	classKeyPrefix = "pretune.class."
	classOpenKey   = "pretune.class" // the code of the class the teacher's page shows
)

// classPollEvery is how often the teacher's panel asks for the class's figures while it shows.
const classPollEvery = 2 * time.Second

// classState is class mode as the feedback view knows it: whether the server has it, the
// teacher's class, the student's class, and the queue of picks on their way.
type classState struct {
	api  classClient
	host classHost

	On     bool // the server answered the probe with {"class_mode": true}
	probed bool

	teacher *classTeacher
	student *classStudent
	queue   classQueue
	// OpenErr is why a class could not be opened or found (the server's message as data).
	OpenErr *classError
	Opening bool
	// Visible says the feedback view shows (with the teacher's panel): only then is the
	// class polled.
	Visible bool
}

// classOn wires class mode to its client and host; the view does it on mount, the tests
// with fakes.
func (f *feedbackState) classOn(api classClient, host classHost) {
	f.class.api, f.class.host = api, host
}

// classProbe asks the server once whether it runs a class; only then does the teacher's panel
// show, with the class the teacher opened before, if any.
func (f *feedbackState) classProbe() {
	if f.class.probed || f.class.api == nil {
		return
	}
	f.class.probed = true
	f.class.api.probe(func(on bool) {
		f.class.On = on
		if on {
			f.classResume()
		}
	})
}

// classStudentMode says the page is a student's: only the offers and the counter show.
func (f *feedbackState) classStudentMode() bool { return f.class.student != nil }

// studentID is this browser's anonymous id, made once: 16 characters of [A-Za-z0-9].
func (f *feedbackState) studentID() string {
	id := f.class.host.local(studentKey)
	if validStudentID(id) {
		return id
	}
	id = randomID(16)
	f.class.host.setLocal(studentKey, id)
	return id
}

// validStudentID says whether id is one the API takes (8..64 of [A-Za-z0-9_-]).
func validStudentID(id string) bool {
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomID is n characters of [A-Za-z0-9] from crypto/rand (the browser's getRandomValues
// under wasm), so two browsers do not share an id by chance (the slight bias of 256 mod 62
// does not matter for an anonymous id).
func randomID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}

// classErrOf is err as the page shows it: the server's status and message, or the network.
func classErrOf(err error) *classError {
	if ce, ok := err.(*classError); ok {
		return ce
	}
	return &classError{Msg: err.Error()}
}
