package app

import (
	"strconv"
	"strings"

	"pretune/core/runspec"
)

// classStudent is the class a student's page (#class=CODE) picks for.
type classStudent struct {
	Code string
	ID   string     // this browser's student id
	Info *classInfo // nil until the server described the class
	Err  *classError
	// Own is how many of this student's picks the server has (its own count), once known.
	Own      int
	OwnKnown bool
	// UndoRefused says the last undo was refused: that pick is already sent (or on its way).
	UndoRefused bool
	// ids maps the picks made on this page (picks' ids) to their class pick ids, so an undo
	// finds the pick in the queue.
	ids map[int]string
}

// pickCountKey keeps the counter of this browser's pick ids beside the student id: both are
// lost together, so a new id never meets an old counter.
const pickCountKey = studentKey + ".count"

// classJoin makes the page a student's for the class code: the class's model opens and its
// offers come from the class's seed, the same for every student.
func (f *feedbackState) classJoin(code string) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if f.class.api == nil || (f.class.student != nil && f.class.student.Code == code && f.class.student.Err == nil) {
		return
	}
	f.stop()
	f.classStopPoll()
	f.link, f.offer = nil, nil
	f.picks.clear()
	st := &classStudent{Code: code, ID: f.studentID(), ids: map[int]string{}}
	f.class.student = st
	if !validClassCode(code) {
		st.Err = &classError{Status: 404, Msg: "not a class code: " + code}
		return
	}
	f.class.api.getClass(code, func(info classInfo, err error) {
		if st != f.class.student {
			return
		}
		if err != nil {
			st.Err = classErrOf(err)
			return
		}
		spec, err := runspec.Decode(info.Spec)
		if err != nil || !spec.Feeds() {
			st.Err = &classError{Msg: "the class's spec is not a feedback stage"}
			return
		}
		st.Info, st.Err = &info, nil
		if info.Lang == string(EN) || info.Lang == string(ZH) {
			f.host.setLang(Lang(info.Lang))
		}
		// Every student samples on the CPU: the same seed then gives the same offers bit for
		// bit, whatever GPU a browser has (agreement compares the same pairs).
		f.choice, f.device = startChoice{Kind: startKept}, runspec.DeviceCPU
		f.seed = max(f.seed, f.class.queue.Batches[code]+1)
		f.findSFT(spec)
		f.classCountOwn()
		f.classSchedule(classSendEvery)
	})
}

// validClassCode keeps anything but a plausible code out of the API's paths.
func validClassCode(code string) bool {
	if len(code) < 4 || len(code) > 16 {
		return false
	}
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// classOfferSeed is the sample_pairs seed of offer batch number batch: the class's seed plus
// the batch, so every student gets the same offers in the same order. Outside a class it is
// the batch number itself, as before.
func (f *feedbackState) classOfferSeed(batch uint64) uint64 {
	st := f.class.student
	if st == nil || st.Info == nil {
		return batch
	}
	f.class.queue.setBatches(st.Code, batch)
	f.classKeepQueue()
	return st.Info.Seed + batch
}

// classPicked queues the pick the student just made (picks' id counter was before); a skip or
// no pick queues nothing.
func (f *feedbackState) classPicked(before int) {
	st := f.class.student
	if st == nil || st.Info == nil || f.picks.nextID == before || len(f.picks.List) == 0 {
		return
	}
	p := f.picks.List[len(f.picks.List)-1]
	n, _ := strconv.Atoi(f.class.host.local(pickCountKey))
	n++
	f.class.host.setLocal(pickCountKey, strconv.Itoa(n))
	id := st.ID + "-" + strconv.Itoa(n)
	f.class.queue.add(classQueued{Class: st.Code, Student: st.ID, Pick: classPick{ID: id, Prompt: p.Prompt, Chosen: p.Chosen, Rejected: p.Rejected}})
	st.ids[p.ID] = id
	st.UndoRefused = false
	f.classKeepQueue()
	f.classSchedule(classSendEvery)
}

// classCanUndo says whether the last pick or skip can be taken back: in a class, only a pick
// that has not been sent (the server keeps what it took).
func (f *feedbackState) classCanUndo() bool {
	st := f.class.student
	if st == nil || len(f.picks.undo) == 0 {
		return len(f.picks.undo) > 0
	}
	u := f.picks.undo[len(f.picks.undo)-1]
	id := st.ids[u.PickID]
	return u.PickID == 0 || id == "" || f.class.queue.unsent(id)
}

// classTakeBack is asked before an undo: it takes an unsent pick off the queue and says yes,
// or says no (and why, on the page) for a pick already sent.
func (f *feedbackState) classTakeBack() bool {
	st := f.class.student
	if st == nil || len(f.picks.undo) == 0 {
		return true
	}
	if !f.classCanUndo() {
		st.UndoRefused = true
		return false
	}
	st.UndoRefused = false
	u := f.picks.undo[len(f.picks.undo)-1]
	if id := st.ids[u.PickID]; id != "" {
		f.class.queue.remove(id)
		delete(st.ids, u.PickID)
		f.classKeepQueue()
	}
	return true
}

// classForgetLocal takes a pick the server refused out of the page's picks too.
func (f *feedbackState) classForgetLocal(id string) {
	st := f.class.student
	if st == nil {
		return
	}
	for local, v := range st.ids {
		if v == id {
			f.picks.removeID(local)
			delete(st.ids, local)
		}
	}
}

// classCountOwn asks the server how many of this student's picks it has.
func (f *feedbackState) classCountOwn() {
	st := f.class.student
	if st == nil || st.Info == nil {
		return
	}
	f.class.api.ownCount(st.Code, st.ID, func(n int, err error) {
		if err == nil && st == f.class.student {
			st.Own, st.OwnKnown = n, true
		}
	})
}
