package app

import (
	"errors"
	"time"
)

// A student's picks go to the class's server through a queue kept in IndexedDB (key
// "class-queue"), so a pick made offline, or before a tab closed, is sent later. A pick leaves
// the queue only once the server answered 200 for it; the server is idempotent by pick id, so
// sending one again after a lost answer stores it once.

const (
	classBatch      = 50               // picks in one request (the API takes up to 100)
	classSendEvery  = 2 * time.Second  // picks are gathered this long into one batch
	classBackoffMin = 2 * time.Second  // the first retry after a network error or 5xx
	classBackoffMax = 30 * time.Second // retries never wait longer
	classQueueKey   = "class-queue"
)

// classQueued is a pick waiting to be sent, with the class and the student it was made for
// (the student id may change if the browser's storage is cleared; the pick keeps its own).
type classQueued struct {
	Class   string    `json:"class"`
	Student string    `json:"student"`
	Pick    classPick `json:"pick"`
}

// savedClassQueue is what IndexedDB keeps: the picks not yet sent, and per class how many
// the server took and how many batches of offers this browser asked for (so a reopened page
// goes on with new offers).
type savedClassQueue struct {
	Items   []classQueued     `json:"items"`
	Sent    map[string]int    `json:"sent,omitempty"`
	Batches map[string]uint64 `json:"batches,omitempty"`
}

// classQueue is the queue and its sending: one request at a time, every classSendEvery while
// picks wait, backing off after failures.
type classQueue struct {
	savedClassQueue
	flight  map[string]bool // ids in the request on its way: not to be undone or sent twice
	timer   func()          // stops the pending send; nil when none is pending
	backoff time.Duration   // the last wait after a failure; 0 after a success
	// Err is the last refusal or failure, for the page: the server's message as data, and
	// whether it dropped a pick.
	Err     *classError
	Dropped bool
	Offline bool // the last try failed on the network or a 5xx: the picks wait for it
	// loading says the kept queue is being read: until it is, nothing is written, so a pick
	// made meanwhile cannot replace the picks a closed page left.
	loading bool
}

// sentOf and waitingOf are the counter's figures for a class.
func (q *classQueue) sentOf(class string) int { return q.Sent[class] }

func (q *classQueue) waitingOf(class string) int {
	n := 0
	for _, it := range q.Items {
		if it.Class == class {
			n++
		}
	}
	return n
}

func (q *classQueue) add(it classQueued) { q.Items = append(q.Items, it) }

// index is where pick id is in the queue, or -1.
func (q *classQueue) index(id string) int {
	for i, it := range q.Items {
		if it.Pick.ID == id {
			return i
		}
	}
	return -1
}

// unsent says whether pick id waits and is not on its way (so it may still be taken back).
func (q *classQueue) unsent(id string) bool { return q.index(id) >= 0 && !q.flight[id] }

func (q *classQueue) remove(id string) bool {
	i := q.index(id)
	if i < 0 {
		return false
	}
	q.Items = append(q.Items[:i:i], q.Items[i+1:]...)
	return true
}

// merge takes back what a closed page kept, after whatever this page queued meanwhile
// (the kept picks were made first), leaving out picks it already has.
func (q *classQueue) merge(s savedClassQueue) {
	var items []classQueued
	for _, it := range s.Items {
		if q.index(it.Pick.ID) < 0 {
			items = append(items, it)
		}
	}
	q.Items = append(items, q.Items...)
	for c, n := range s.Sent {
		q.setSent(c, max(q.Sent[c], n))
	}
	for c, n := range s.Batches {
		q.setBatches(c, max(q.Batches[c], n))
	}
}

func (q *classQueue) setSent(class string, n int) {
	if q.Sent == nil {
		q.Sent = map[string]int{}
	}
	q.Sent[class] = n
}

func (q *classQueue) setBatches(class string, n uint64) {
	if q.Batches == nil {
		q.Batches = map[string]uint64{}
	}
	q.Batches[class] = n
}

// nextBatch is the first classBatch picks for the first waiting pick's class and student:
// one request goes to one class for one student.
func (q *classQueue) nextBatch() (class, student string, picks []classPick) {
	if len(q.Items) == 0 {
		return "", "", nil
	}
	class, student = q.Items[0].Class, q.Items[0].Student
	for _, it := range q.Items {
		if it.Class == class && it.Student == student && len(picks) < classBatch {
			picks = append(picks, it.Pick)
		}
	}
	return class, student, picks
}

// nextBackoff is the wait after another failure: 2 s, doubling, at most 30 s.
func (q *classQueue) nextBackoff() time.Duration {
	q.backoff = min(max(2*q.backoff, classBackoffMin), classBackoffMax)
	return q.backoff
}

// classSchedule has the queue sent after d, unless a send is already pending or on its way.
func (f *feedbackState) classSchedule(d time.Duration) {
	q := &f.class.queue
	if q.timer != nil || len(q.flight) > 0 || len(q.Items) == 0 || f.class.host == nil {
		return
	}
	q.timer = f.class.host.after(d, func() {
		q.timer = nil
		f.classSend()
	})
}

// classSend sends the next batch and acts on the answer: 200 takes the batch off the queue; a
// network error or 5xx keeps it and tries again later, waiting longer each time; 429 waits as
// long as the server says; 400 drops the pick it names (the server stored none of the batch)
// and sends the rest again; any other refusal keeps the picks and backs off, so nothing is lost
// to a server that cannot take them now.
func (f *feedbackState) classSend() {
	q := &f.class.queue
	if len(q.flight) > 0 {
		return
	}
	class, student, batch := q.nextBatch()
	if len(batch) == 0 {
		return
	}
	q.flight = map[string]bool{}
	for _, p := range batch {
		q.flight[p.ID] = true
	}
	f.class.api.sendPicks(class, student, batch, func(res classSent, err error) {
		q.flight = nil
		var ce *classError
		switch {
		case err == nil:
			for _, p := range batch {
				q.remove(p.ID)
			}
			q.setSent(class, q.Sent[class]+len(batch))
			q.backoff, q.Err, q.Dropped, q.Offline = 0, nil, false, false
			f.classKeepQueue()
			f.classCountOwn()
			f.classSchedule(classSendEvery)
		case !errors.As(err, &ce) || ce.Status >= 500:
			q.Offline = true
			f.classSchedule(q.nextBackoff())
		case ce.Status == 429:
			q.Offline = false
			wait := ce.RetryAfter
			if wait <= 0 {
				wait = q.nextBackoff()
			}
			f.classSchedule(wait)
		case ce.Status == 400:
			q.Err, q.Offline = ce, false
			if i, ok := ce.refusedPick(len(batch)); ok {
				q.remove(batch[i].ID)
				q.Dropped = true
				f.classForgetLocal(batch[i].ID)
				f.classKeepQueue()
				f.classSchedule(classSendEvery)
				return
			}
			q.Dropped = false
			f.classSchedule(q.nextBackoff())
		default:
			q.Err, q.Dropped, q.Offline = ce, false, false
			f.classSchedule(q.nextBackoff())
		}
	})
}

// classKeepQueue keeps the queue in IndexedDB, replacing what was kept.
func (f *feedbackState) classKeepQueue() {
	q := &f.class.queue
	if q.loading {
		return
	}
	f.class.host.keepClassQueue(savedClassQueue{Items: append([]classQueued(nil), q.Items...), Sent: q.Sent, Batches: q.Batches})
}

// classQueueLoaded takes what a closed page kept and sends it: reopening the page sends what
// is queued, whatever class the page opens now.
func (f *feedbackState) classQueueLoaded(s *savedClassQueue) {
	wasLoading := f.class.queue.loading
	f.class.queue.loading = false
	if s == nil {
		if wasLoading && len(f.class.queue.Items) > 0 {
			f.classKeepQueue() // what was made while the read was on its way
		}
		f.classSchedule(classSendEvery)
		return
	}
	f.class.queue.merge(*s)
	f.classKeepQueue()
	if st := f.class.student; st != nil {
		// Go on with new offers, not the batches this browser was shown before.
		f.seed = max(f.seed, f.class.queue.Batches[st.Code]+1)
	}
	f.classSchedule(classSendEvery)
}
