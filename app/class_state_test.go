package app

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/feedback"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// fakeClassClient records the class API calls the state makes; the test answers each through
// its done, as the server would.
type fakeClassClient struct {
	probes []func(bool)
	opens  []classCall[classInfo]
	gets   []classCall[classInfo]
	sends  []classCall[classSent]
	owns   []classCall[int]
	polls  []classCall[classStats]
	alls   []classCall[[]byte]
}

// classCall is one call: its arguments as one string ("code student", "name lang"...), the
// picks it sent, and the function that answers it.
type classCall[T any] struct {
	args  string
	picks []classPick
	done  func(T, error)
}

func (c *fakeClassClient) probe(done func(bool)) { c.probes = append(c.probes, done) }
func (c *fakeClassClient) openClass(name, lang string, done func(classInfo, error)) {
	c.opens = append(c.opens, classCall[classInfo]{args: name + " " + lang, done: done})
}
func (c *fakeClassClient) getClass(code string, done func(classInfo, error)) {
	c.gets = append(c.gets, classCall[classInfo]{args: code, done: done})
}
func (c *fakeClassClient) sendPicks(code, student string, picks []classPick, done func(classSent, error)) {
	c.sends = append(c.sends, classCall[classSent]{args: code + " " + student, picks: append([]classPick(nil), picks...), done: done})
}
func (c *fakeClassClient) ownCount(code, student string, done func(int, error)) {
	c.owns = append(c.owns, classCall[int]{args: code + " " + student, done: done})
}
func (c *fakeClassClient) stats(code, secret string, done func(classStats, error)) {
	c.polls = append(c.polls, classCall[classStats]{args: code + " " + secret, done: done})
}
func (c *fakeClassClient) allPicks(code, secret string, done func([]byte, error)) {
	c.alls = append(c.alls, classCall[[]byte]{args: code + " " + secret, done: done})
}

// lastSend is the latest batch of picks sent.
func (c *fakeClassClient) lastSend(t *testing.T) classCall[classSent] {
	t.Helper()
	require.NotEmpty(t, c.sends, "no picks were sent")
	return c.sends[len(c.sends)-1]
}

// fakeTimer is a timer the test fires by hand.
type fakeTimer struct {
	d              time.Duration
	fn             func()
	stopped, fired bool
}

// fakeClassHost is the page around class mode: localStorage as a map, the kept queue, and
// timers that run only when the test fires them.
type fakeClassHost struct {
	ls     map[string]string
	timers []*fakeTimer
	kept   []savedClassQueue
	copied []string
}

func newFakeClassHost() *fakeClassHost { return &fakeClassHost{ls: map[string]string{}} }

func (h *fakeClassHost) after(d time.Duration, fn func()) func() {
	t := &fakeTimer{d: d, fn: fn}
	h.timers = append(h.timers, t)
	return func() { t.stopped = true }
}
func (h *fakeClassHost) local(key string) string { return h.ls[key] }
func (h *fakeClassHost) setLocal(key, value string) {
	if value == "" {
		delete(h.ls, key)
		return
	}
	h.ls[key] = value
}
func (h *fakeClassHost) keepClassQueue(s savedClassQueue) { h.kept = append(h.kept, s) }
func (h *fakeClassHost) copyText(text string)             { h.copied = append(h.copied, text) }
func (h *fakeClassHost) origin() string                   { return "http://127.0.0.1:8080" }

// pending are the timers neither fired nor stopped.
func (h *fakeClassHost) pending() []*fakeTimer {
	var out []*fakeTimer
	for _, t := range h.timers {
		if !t.stopped && !t.fired {
			out = append(out, t)
		}
	}
	return out
}

// fire runs the one pending timer and says how long it waited.
func (h *fakeClassHost) fire(t *testing.T) time.Duration {
	t.Helper()
	p := h.pending()
	require.Len(t, p, 1, "one timer pending")
	p[0].fired = true
	p[0].fn()
	return p[0].d
}

// lastKept is the queue as IndexedDB holds it now.
func (h *fakeClassHost) lastKept(t *testing.T) savedClassQueue {
	t.Helper()
	require.NotEmpty(t, h.kept)
	return h.kept[len(h.kept)-1]
}

// classFixture is a feedback state with class mode on fakes.
type classFixture struct {
	f  *feedbackState
	h  *fakeFeedbackHost
	c  *fakeClassClient
	ch *fakeClassHost
}

func newClassFixture(ch *fakeClassHost) classFixture {
	if ch == nil {
		ch = newFakeClassHost()
	}
	x := classFixture{h: newFakeFeedbackHost(), c: &fakeClassClient{}, ch: ch}
	x.f = &feedbackState{host: x.h, choice: startChoice{Kind: startKept}, setup: newTuningSetup(EN)}
	x.f.classOn(x.c, x.ch)
	return x
}

const (
	testCode   = "K7M2QX"
	testSecret = "5ecret5ecret5ecret5ecret5ecret5ecret5ecret5ecret5ecret5ecret5ecr"
	testSeed   = uint64(1000)
)

func testClassInfo(t *testing.T, l Lang) classInfo {
	t.Helper()
	spec, err := runspec.Encode(keptFeedbackSpec(l))
	require.NoError(t, err)
	return classInfo{Code: testCode, Name: "7b biology", Lang: string(l), Spec: spec, Seed: testSeed}
}

// TestClassProbe: only a 200 whose body is {"class_mode": true} turns class mode on; the
// page's HTML (a server without -class), other JSON, an error status or a failed fetch leave
// it off, silently. The state probes once, and with class mode finds the teacher's class again.
func TestClassProbe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"yes", 200, `{"class_mode": true}`, true},
		{"no", 200, `{"class_mode": false}`, false},
		{"html", 200, "<!doctype html><html><head><title>pretune</title>", false},
		{"other json", 200, `{"mode": "class"}`, false},
		{"null", 200, `null`, false},
		{"empty", 200, ``, false},
		{"error status", 404, `{"class_mode": true}`, false},
		{"server error", 500, `{"error": "boom"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, probeAnswer(tc.status, []byte(tc.body)))
		})
	}

	x := newClassFixture(nil)
	x.f.classProbe()
	x.f.classProbe()
	require.Len(t, x.c.probes, 1, "the page probes once")
	x.c.probes[0](false)
	require.False(t, x.f.class.On)
	require.Empty(t, x.c.gets)

	ch := newFakeClassHost()
	ch.ls[classOpenKey], ch.ls[classKeyPrefix+testCode] = testCode, testSecret
	x = newClassFixture(ch)
	x.f.classProbe()
	x.c.probes[0](true)
	require.True(t, x.f.class.On)
	require.Len(t, x.c.gets, 1, "a reload finds the teacher's class again")
	require.Equal(t, testCode, x.c.gets[0].args)
	x.c.gets[0].done(testClassInfo(t, EN), nil)
	require.Equal(t, testSecret, x.f.class.teacher.Secret, "with the secret this browser kept")
	require.Equal(t, "http://127.0.0.1:8080/#class="+testCode, x.f.classLink())
}

// TestClassAnswer: an error status becomes a *classError with the server's message and, for
// 429, Retry-After; a body that is not the JSON asked for is an error too.
func TestClassAnswer(t *testing.T) {
	var info classInfo
	err := classAnswer(429, "7", []byte(`{"error": "too many picks"}`), &info)
	var ce *classError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, classError{Status: 429, Msg: "too many picks", RetryAfter: 7 * time.Second}, *ce)
	require.ErrorAs(t, classAnswer(200, "", []byte("<html>"), &info), &ce)
	require.NoError(t, classAnswer(201, "", []byte(`{"code":"K7M2QX","seed":9007199254740991}`), &info))
	require.Equal(t, uint64(1<<53-1), info.Seed, "a seed below 2^53 reads exactly")
	// A refused pick: the server names its index in "pick" (the message is for people).
	require.ErrorAs(t, classAnswer(400, "", []byte(`{"error": "pick 3: the prompt is not one of the class's prompts", "pick": 3}`), nil), &ce)
	i, ok := ce.refusedPick(5)
	require.True(t, ok)
	require.Equal(t, 3, i)
	_, ok = ce.refusedPick(3)
	require.False(t, ok, "an index outside the batch names no pick of it")
	require.ErrorAs(t, classAnswer(400, "", []byte(`{"error": "invalid character 'x' looking for beginning of value"}`), nil), &ce)
	_, ok = ce.refusedPick(5)
	require.False(t, ok)
}

// openedClass is a teacher's page whose class is open and whose panel shows.
func openedClass(t *testing.T) classFixture {
	t.Helper()
	x := newClassFixture(nil)
	x.f.class.On = true
	x.f.classShow(true)
	x.f.classOpen("  7b biology ", ZH)
	x.f.classOpen("7b biology", ZH) // a second click while it opens does nothing
	require.Len(t, x.c.opens, 1)
	require.Equal(t, "7b biology zh", x.c.opens[0].args, "the name, trimmed, and the page's language")
	info := testClassInfo(t, EN)
	info.Secret = testSecret
	x.c.opens[0].done(info, nil)
	return x
}

// TestClassOpen: opening a class keeps its secret in localStorage under its code (a reload
// keeps the teacher's view) and shows the code and the link; the secret is in no link; a
// refusal is shown with the server's message.
func TestClassOpen(t *testing.T) {
	x := openedClass(t)
	require.Equal(t, testSecret, x.ch.ls["pretune.class."+testCode])
	require.Equal(t, testCode, x.ch.ls["pretune.class"])
	tc := x.f.class.teacher
	require.Equal(t, testCode, tc.Info.Code)
	require.Empty(t, tc.Info.Secret, "the secret is not in what the page shows")
	require.Equal(t, "http://127.0.0.1:8080/#class=K7M2QX", x.f.classLink())
	require.NotContains(t, x.f.classLink(), testSecret)

	x.f.classForget()
	require.Nil(t, x.f.class.teacher)
	require.Empty(t, x.ch.ls["pretune.class"])
	require.Equal(t, testSecret, x.ch.ls["pretune.class."+testCode], "the secret stays for the teacher")

	x = newClassFixture(nil)
	x.f.classOpen("", EN)
	require.Empty(t, x.c.opens, "a class needs a name")
	x.f.classOpen("8a", EN)
	x.c.opens[0].done(classInfo{}, &classError{Status: 409, Msg: "this server holds 1000 classes already"})
	require.Nil(t, x.f.class.teacher)
	require.Equal(t, 409, x.f.class.OpenErr.Status)
	require.Empty(t, x.ch.ls)
}

// TestClassStatsPolling: while the panel shows the class's figures are asked for with the
// secret, every 2 s after each answer (never two at once); hidden, the polling stops; a wrong
// secret stops it with a message.
func TestClassStatsPolling(t *testing.T) {
	x := openedClass(t)
	require.Len(t, x.c.polls, 1, "the figures are asked for at once")
	require.Equal(t, testCode+" "+testSecret, x.c.polls[0].args)
	require.Empty(t, x.ch.pending(), "no second request while one is on its way")
	s := classStats{Picks: 7, Students: []classStudentN{{Student: "a1b2c3d4", Picks: 5}, {Student: "e5f6a7b8", Picks: 2}},
		Agreement: classAgreementOf{Pairs: 3, Judgements: 4, Agree: 0.75}}
	x.c.polls[0].done(s, nil)
	require.Equal(t, s, *x.f.class.teacher.Stats)
	require.Equal(t, classPollEvery, x.ch.fire(t))
	require.Len(t, x.c.polls, 2)
	s.Picks = 9
	x.c.polls[1].done(s, nil)
	require.Equal(t, 9, x.f.class.teacher.Stats.Picks, "the new figures replace the old")

	x.f.classShow(false)
	require.Empty(t, x.ch.pending(), "hidden: no more polls")
	x.f.classShow(true)
	require.Len(t, x.c.polls, 3, "shown again: polled at once")
	x.c.polls[2].done(classStats{}, errors.New("the network request failed"))
	require.Equal(t, 0, x.f.class.teacher.Err.Status)
	x.ch.fire(t)
	x.c.polls[3].done(classStats{}, &classError{Status: 403, Msg: "wrong secret"})
	require.Equal(t, 403, x.f.class.teacher.Err.Status)
	require.Empty(t, x.ch.pending(), "a wrong secret is not asked again")
}

// classJSONL is n pairs of the class in TRL's preference format.
func classJSONL(t *testing.T, n int) ([]byte, []feedback.Pair) {
	t.Helper()
	var b strings.Builder
	var pairs []feedback.Pair
	for i := 0; i < n; i++ {
		p := feedback.Pair{Prompt: "The fox ate", Chosen: fmt.Sprintf(" eggs %d.", i), Rejected: fmt.Sprintf(" mud %d.", i)}
		pairs = append(pairs, p)
		fmt.Fprintf(&b, `{"prompt":%q,"chosen":%q,"rejected":%q}`+"\n", p.Prompt, p.Chosen, p.Rejected)
	}
	return []byte(b.String()), pairs
}

// TestClassUsePicks: "use" replaces the view's picks with the class's, as the learners' (the
// reward model judges, not the taste), opens the class's model when none is open, and the
// reward model then trains on them; export offers the file as the server has it.
func TestClassUsePicks(t *testing.T) {
	x := openedClass(t)
	x.f.picks.add("mine", " a", " b", true)
	x.f.classUsePicks()
	require.Len(t, x.c.alls, 1)
	require.Equal(t, testCode+" "+testSecret, x.c.alls[0].args)
	data, pairs := classJSONL(t, 12)
	x.c.alls[0].done(data, nil)
	require.Equal(t, pairs, x.f.picks.Pairs(), "the class's picks replace the view's")
	yours, taste := x.f.picks.Counts()
	require.Equal(t, []int{12, 0}, []int{yours, taste}, "the learners' picks, not the taste's")
	require.Equal(t, 12, x.f.class.teacher.Used)
	require.Equal(t, []string{"en-sft"}, x.h.fetches, "the class's model opens")
	x.h.fetched[0](readBase(t, "en-sft"), nil)
	w := x.h.worker(t, 0)
	w.say(openSFTMessages("cpu:0000000000aa")...)
	w.say(protocol.Message{ID: 3, Kind: protocol.Done})
	x.f.trainReward()
	train := w.last()
	require.Equal(t, protocol.TrainReward, train.Kind)
	spec, err := runspec.Decode(train.Code)
	require.NoError(t, err)
	got, err := spec.Prefs.Resolve()
	require.NoError(t, err)
	require.Equal(t, pairs, got, "the reward model trains on the class's picks")
	require.Empty(t, spec.Feedback.Taste, "judged by the reward model only")

	x.f.classExport()
	x.c.alls[1].done(data, nil)
	require.Equal(t, data, x.h.files["class-K7M2QX.jsonl"])

	// Not while the reward model trains; then a refused download changes nothing and says why.
	x.f.classUsePicks()
	require.Len(t, x.c.alls, 2)
	x.f.stopReward()
	x.f.classUsePicks()
	x.c.alls[2].done(nil, &classError{Status: 403, Msg: "wrong secret"})
	require.Equal(t, pairs, x.f.picks.Pairs())
	require.Equal(t, 403, x.f.class.teacher.Err.Status)
}

// joined is a student's page on the class, its model open and the first offers in.
func joined(t *testing.T, ch *fakeClassHost) (classFixture, *fakeWorker) {
	t.Helper()
	x := newClassFixture(ch)
	x.f.classJoin(strings.ToLower(testCode))
	require.Len(t, x.c.gets, 1)
	require.Equal(t, testCode, x.c.gets[0].args)
	x.c.gets[0].done(testClassInfo(t, ZH), nil)
	require.Equal(t, []string{"zh-sft"}, x.h.fetches, "the class's kept SFT model")
	x.h.fetched[0](readBase(t, "zh-sft"), nil)
	w := x.h.worker(t, 0)
	w.say(openSFTMessages("cpu:0000000000aa")...)
	require.True(t, x.f.sft.Ready())
	w.say(protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(200, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	return x, w
}

// TestClassStudentOpens: #class=CODE opens the class's spec (its kept SFT model, on the CPU so
// every browser samples alike) in the class's language, the offers come from the class's seed
// plus the batch number, and the student gets a random id kept in localStorage.
func TestClassStudentOpens(t *testing.T) {
	x, w := joined(t, nil)
	require.True(t, x.f.classStudentMode())
	require.Equal(t, []Lang{ZH}, x.h.langs)
	open := w.sent[0]
	require.Equal(t, runspec.DeviceCPU, open.Device)
	got, err := runspec.Decode(open.Code)
	require.NoError(t, err)
	require.True(t, runspec.SameSFT(keptFeedbackSpec(ZH), got))
	first := w.sent[2]
	require.Equal(t, protocol.SamplePairs, first.Kind)
	require.Equal(t, testSeed+1, first.Seed, "batch 1: the class's seed + 1")
	for i := 0; i < 200-refillAt; i++ {
		x.f.key("0")
	}
	require.Equal(t, testSeed+2, w.last().Seed, "batch 2")
	require.Equal(t, uint64(2), x.ch.lastKept(t).Batches[testCode])

	id := x.ch.ls[studentKey]
	require.Regexp(t, regexp.MustCompile(`^[A-Za-z0-9]{16}$`), id)
	require.Len(t, x.c.owns, 1, "the own count is asked for")
	require.Equal(t, testCode+" "+id, x.c.owns[0].args)
	x.c.owns[0].done(4, nil)
	require.Equal(t, 4, x.f.class.student.Own)

	y := newClassFixture(x.ch)
	y.f.classJoin(testCode)
	require.Equal(t, id, y.f.class.student.ID, "the same browser is the same student")
	y.c.gets[0].done(classInfo{}, &classError{Status: 404, Msg: "no such class"})
	require.Equal(t, 404, y.f.class.student.Err.Status)
	require.Empty(t, y.h.fetches)

	z := newClassFixture(nil)
	z.f.classJoin("../stats")
	require.Empty(t, z.c.gets, "no path tricks reach the API")
	require.NotNil(t, z.f.class.student.Err)
}

// TestClassStudentQueuesPicks: each pick gets a unique id (student id, "-", counter) and goes
// to the queue kept in IndexedDB, not to the learner's own kept picks; the taste cannot pick.
func TestClassStudentQueuesPicks(t *testing.T) {
	x, _ := joined(t, nil)
	id := x.f.class.student.ID
	require.True(t, x.f.key("1"))
	x.f.choosePick(2)
	x.f.key(" ")
	q := x.ch.lastKept(t)
	require.Len(t, q.Items, 2, "a skip sends nothing")
	require.Equal(t, classQueued{Class: testCode, Student: id, Pick: classPick{ID: id + "-1", Prompt: "The fox ate", Chosen: " eggs 0.", Rejected: " mud 0."}}, q.Items[0])
	require.Equal(t, classPick{ID: id + "-2", Prompt: "The fox ate", Chosen: " mud 1.", Rejected: " eggs 1."}, q.Items[1].Pick)
	require.Equal(t, "2", x.ch.ls[pickCountKey], "the counter outlives the page")
	require.Empty(t, x.h.kept, "a class's picks do not replace the learner's own")
	require.Equal(t, []time.Duration{classSendEvery}, delays(x.ch.pending()), "sent in 2 s")
	n := len(x.h.workers[0].sent)
	x.f.fillFromTaste()
	require.Len(t, x.h.workers[0].sent, n, "no simulated picks in a class")
}

func delays(ts []*fakeTimer) []time.Duration {
	var out []time.Duration
	for _, t := range ts {
		out = append(out, t.d)
	}
	return out
}

// TestClassSendsInBatches: at most 50 picks a request, one request at a time; a pick leaves the
// queue only after a 200, and the counter says how many are sent and how many wait.
func TestClassSendsInBatches(t *testing.T) {
	x, _ := joined(t, nil)
	for i := 0; i < 120; i++ {
		require.True(t, x.f.key("1"))
	}
	require.Equal(t, classSendEvery, x.ch.fire(t))
	b := x.c.lastSend(t)
	require.Len(t, b.picks, classBatch)
	require.Equal(t, testCode+" "+x.f.class.student.ID, b.args)
	x.f.key("1")
	require.Empty(t, x.ch.pending(), "nothing more while a request is on its way")
	require.Equal(t, 121, x.f.class.queue.waitingOf(testCode), "on its way is still waiting")
	b.done(classSent{Accepted: 50}, nil)
	require.Equal(t, 50, x.f.class.queue.sentOf(testCode))
	require.Equal(t, 71, x.f.class.queue.waitingOf(testCode))
	require.Len(t, x.ch.lastKept(t).Items, 71)
	require.Equal(t, 50, x.ch.lastKept(t).Sent[testCode])
	require.Equal(t, classSendEvery, x.ch.fire(t))
	b2 := x.c.lastSend(t)
	require.Equal(t, x.f.class.student.ID+"-51", b2.picks[0].ID, "the next 50 in order")
	b2.done(classSent{Accepted: 49, Duplicates: 1}, nil)
	x.ch.fire(t)
	require.Len(t, x.c.lastSend(t).picks, 21)
	x.c.lastSend(t).done(classSent{Accepted: 21}, nil)
	require.Equal(t, 0, x.f.class.queue.waitingOf(testCode))
	require.Equal(t, 121, x.f.class.queue.sentOf(testCode))
	require.Empty(t, x.ch.pending(), "an empty queue sends nothing")
	require.Len(t, x.c.owns, 4, "the own count follows each 200")
}

// TestClassRetries: a network error or a 5xx keeps the picks and tries again after 2, 4, 8,
// 16, then 30 s at most; a 200 ends the backoff; a 429 waits what Retry-After says.
func TestClassRetries(t *testing.T) {
	x, _ := joined(t, nil)
	x.f.key("1")
	x.f.key("1")
	var waits []time.Duration
	waits = append(waits, x.ch.fire(t))
	for i := 0; i < 7; i++ {
		if i%2 == 0 {
			x.c.lastSend(t).done(classSent{}, errors.New("the network request failed: TypeError: Failed to fetch"))
		} else {
			x.c.lastSend(t).done(classSent{}, &classError{Status: 503, Msg: "database is locked"})
		}
		require.Equal(t, 2, x.f.class.queue.waitingOf(testCode), "the picks stay")
		require.True(t, x.f.class.queue.Offline)
		waits = append(waits, x.ch.fire(t))
	}
	s := time.Second
	require.Equal(t, []time.Duration{2 * s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}, waits)
	require.Len(t, x.c.lastSend(t).picks, 2, "the same picks again")
	x.c.lastSend(t).done(classSent{Accepted: 2}, nil)
	require.False(t, x.f.class.queue.Offline)

	x.f.key("1")
	x.ch.fire(t)
	x.c.lastSend(t).done(classSent{}, &classError{Status: 429, Msg: "too many picks", RetryAfter: 7 * s})
	require.Equal(t, 7*s, x.ch.fire(t), "Retry-After")
	require.Equal(t, 1, x.f.class.queue.waitingOf(testCode))
	x.c.lastSend(t).done(classSent{}, errors.New("the network request failed"))
	require.Equal(t, 2*s, x.ch.fire(t), "the backoff starts again after a success")
}

// TestClassDropsARefusedPick: a 400 naming a pick drops that pick (with a message) and sends
// the others again; a 400 naming none keeps them all.
func TestClassDropsARefusedPick(t *testing.T) {
	x, _ := joined(t, nil)
	for i := 0; i < 5; i++ {
		x.f.key("1")
	}
	x.ch.fire(t)
	b := x.c.lastSend(t)
	bad := b.picks[3].ID
	b.done(classSent{}, &classError{Status: 400, Msg: "pick 3: the prompt is not one of the class's prompts", Pick: ptrTo(3)})
	q := &x.f.class.queue
	require.Equal(t, 4, q.waitingOf(testCode))
	require.Equal(t, -1, q.index(bad))
	require.NotContains(t, x.ch.lastKept(t).Items, classQueued{Class: testCode, Student: x.f.class.student.ID, Pick: b.picks[3]})
	require.True(t, q.Dropped)
	require.Equal(t, "pick 3: the prompt is not one of the class's prompts", q.Err.Msg)
	require.Len(t, x.f.picks.List, 4, "the page's picks lose it too")
	require.Equal(t, classSendEvery, x.ch.fire(t))
	require.Len(t, x.c.lastSend(t).picks, 4)

	x.c.lastSend(t).done(classSent{}, &classError{Status: 400, Msg: "invalid character '}' looking for beginning of value"})
	require.Equal(t, 4, q.waitingOf(testCode), "nothing named: nothing dropped")
	require.False(t, q.Dropped)
}

// TestClassReopenSendsTheQueue: what a closed page kept is sent when the page opens again,
// before and whatever class it shows, and the offers go on after the batches shown before.
func TestClassReopenSendsTheQueue(t *testing.T) {
	x, _ := joined(t, nil)
	x.f.key("1")
	x.f.key("2")
	kept := x.ch.lastKept(t)

	ch := newFakeClassHost()
	ch.ls = x.ch.ls
	y := newClassFixture(ch)
	y.f.classQueueLoaded(&kept)
	require.Equal(t, classSendEvery, y.ch.fire(t))
	require.Equal(t, kept.Items[0].Pick, y.c.lastSend(t).picks[0])
	require.Len(t, y.c.lastSend(t).picks, 2)
	require.Equal(t, testCode+" "+kept.Items[0].Student, y.c.lastSend(t).args)

	z := newClassFixture(ch)
	z.f.classJoin(testCode)
	z.f.classQueueLoaded(&kept)
	z.c.gets[0].done(testClassInfo(t, ZH), nil)
	z.h.fetched[0](readBase(t, "zh-sft"), nil)
	w := z.h.worker(t, 0)
	w.say(openSFTMessages("cpu:0000000000aa")...)
	require.Equal(t, testSeed+2, w.last().Seed, "batch 1 was shown before: batch 2 next")
	require.Equal(t, kept.Items, z.f.class.queue.Items, "the kept picks wait to be sent")
	require.Len(t, z.ch.pending(), 1, "one send pending, not one per cause")

	// A pick made while the kept queue is still being read does not overwrite it.
	ch = newFakeClassHost()
	ch.ls = x.ch.ls
	ch.ls[pickCountKey] = "2"
	v := newClassFixture(ch)
	v.f.class.queue.loading = true
	v.f.classJoin(testCode)
	v.c.gets[0].done(testClassInfo(t, ZH), nil)
	v.h.fetched[0](readBase(t, "zh-sft"), nil)
	vw := v.h.worker(t, 0)
	vw.say(openSFTMessages("cpu:0000000000aa")...)
	vw.say(protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(10, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	v.f.key("1")
	require.Empty(t, ch.kept, "nothing written before the read")
	v.f.classQueueLoaded(&kept)
	ids := []string{}
	for _, it := range ch.lastKept(t).Items {
		ids = append(ids, it.Pick.ID)
	}
	sid := kept.Items[0].Student
	require.Equal(t, []string{sid + "-1", sid + "-2", sid + "-3"}, ids, "the kept picks first, then the new one")
}

// TestClassUndo: an unsent pick can be taken back (it leaves the queue); a pick sent, or on its
// way, cannot: the page says so, and the pick stays.
func TestClassUndo(t *testing.T) {
	x, _ := joined(t, nil)
	x.f.key("1")
	x.ch.fire(t)
	x.c.lastSend(t).done(classSent{Accepted: 1}, nil)
	x.f.key("2")
	x.f.key("1")
	q := &x.f.class.queue
	require.Equal(t, 2, q.waitingOf(testCode))
	require.True(t, x.f.classCanUndo())
	require.True(t, x.f.key("Backspace"))
	require.Equal(t, 1, q.waitingOf(testCode), "the unsent pick left the queue")
	require.Len(t, x.ch.lastKept(t).Items, 1)
	x.ch.fire(t) // the second pick is on its way
	require.False(t, x.f.classCanUndo())
	x.f.undoPick()
	require.True(t, x.f.class.student.UndoRefused)
	require.Len(t, x.f.picks.List, 2, "a pick on its way stays")
	x.c.lastSend(t).done(classSent{Accepted: 1}, nil)
	require.True(t, x.f.key("Backspace"), "the key is used (the page says why)")
	require.Len(t, x.f.picks.List, 2, "a sent pick stays")
	require.Equal(t, 2, q.sentOf(testCode))
	x.f.key(" ")
	require.True(t, x.f.classCanUndo(), "a skip is only this page's")
	x.f.key("Backspace")
	require.False(t, x.f.class.student.UndoRefused)
}

// TestClassLinkOpensTheFeedbackView: #class=CODE shows the feedback view.
func TestClassLinkOpensTheFeedbackView(t *testing.T) {
	require.Equal(t, viewFeedback, linkView("class="+testCode))
	require.Equal(t, "", linkView("classes"))
}

// TestClassRenders: the teacher's panel (before and after opening a class, with its figures)
// and the student's page draw in both languages with no key missing, with the element ids the
// browser test finds; the student's page leaves out the teacher's parts.
func TestClassRenders(t *testing.T) {
	for _, l := range []Lang{EN, ZH} {
		t.Run(string(l), func(t *testing.T) {
			x := newClassFixture(nil)
			fb := &Feedback{Lang: l, feedbackState: *x.f}
			fb.class.On = true
			page := render(t, fb)
			require.False(t, strings.Contains(page, "[class."), "a missing text shows as [key]")
			for _, id := range []string{"class-panel", "class-name", "class-open"} {
				hasID(t, page, id, true)
			}
			fb.class.teacher = &classTeacher{Info: testClassInfo(t, l), Secret: testSecret, Used: 12,
				Stats: &classStats{Picks: 7, Students: []classStudentN{{Student: "a1b2c3d4", Picks: 7}}, Agreement: classAgreementOf{Pairs: 3, Judgements: 4, Agree: 0.75}}}
			page = render(t, fb)
			require.False(t, strings.Contains(page, "[class."))
			for _, id := range []string{"class-panel", "class-code", "class-link", "class-copy", "class-stats", "class-total", "class-students", "class-agreement", "class-use", "class-export", "class-used", "fb-start", "fb-reward"} {
				hasID(t, page, id, true)
			}
			require.True(t, strings.Contains(page, ">"+testCode+"</p>"), "the code in large type")
			require.True(t, strings.Contains(page, `data-student="a1b2c3d4"`))
			require.True(t, strings.Contains(page, `data-agree="0.75"`) && strings.Contains(page, "75%"))
			require.False(t, strings.Contains(page, testSecret), "the secret never shows")

			st := &classStudent{Code: testCode, ID: "abcdefgh12345678", Info: &classInfo{Name: "7b biology"}, OwnKnown: true, Own: 3, UndoRefused: true, ids: map[int]string{}}
			fb.class.student = st
			fb.class.queue = classQueue{savedClassQueue: savedClassQueue{Items: []classQueued{{Class: testCode}}, Sent: map[string]int{testCode: 5}},
				Err: &classError{Status: 400, Msg: "pick 0: bad", Pick: ptrTo(0)}, Dropped: true, Offline: true}
			page = render(t, fb)
			require.False(t, strings.Contains(page, "[class."))
			for _, id := range []string{"class-student", "class-student-name", "class-counter", "class-sent", "class-waiting", "class-own", "class-undo-sent", "class-offline", "class-send-error", "class-error", "fb-skip", "fb-undo"} {
				hasID(t, page, id, true)
			}
			require.True(t, strings.Contains(page, l.T("class.sent", 5)))
			require.True(t, strings.Contains(page, l.T("class.waiting", 1)))
			for _, id := range []string{"class-panel", "fb-start", "fb-reward", "fb-tune", "fb-share", "fb-taste", "fb-export"} {
				hasID(t, page, id, false)
			}
		})
	}
}

// hasID says whether the page has an element with id (without printing the whole page).
func hasID(t *testing.T, page, id string, want bool) {
	t.Helper()
	if got := strings.Contains(page, `id="`+id+`"`); got != want {
		t.Errorf("element #%s shown: %v, want %v", id, got, want)
	}
}

func ptrTo[T any](v T) *T { return &v }
