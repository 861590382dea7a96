package app

import (
	"bytes"
	"errors"

	"pretune/core/feedback"
	"pretune/core/protocol"
	"pretune/core/task"
)

// pick is one preference the learner made (or let the built-in taste make): for Prompt,
// Chosen is better than Rejected. ID names it for the undo stack, which must find a pick again
// after the table reordered nothing but removed others around it.
type pick struct {
	ID       int    `json:"id"`
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
	// Taste says the built-in taste made it (simulated), not the learner.
	Taste bool `json:"taste,omitempty"`
}

// pair is the pick as core/feedback reads it.
func (p pick) pair() feedback.Pair {
	return feedback.Pair{Prompt: p.Prompt, Chosen: p.Chosen, Rejected: p.Rejected}
}

// How many picks the reward model needs (feedback's splitPairs: 8 to learn from, 2 to measure
// on) and how many make it useful in the lesson's measurements; the counter names both.
const (
	minPicks    = 10
	usefulPicks = 60
)

// Offers are asked for in batches; a new batch is asked for when this few are left, so the
// learner never waits between two picks. tasteFill is how many the built-in taste adds at once.
const (
	offerBatch = 20
	refillAt   = 5
	tasteFill  = 50
)

// undoStep is what one pick or skip did: the offer it took off the queue, and the pick it made
// (0 for a skip).
type undoStep struct {
	Offer  protocol.Offer
	PickID int
}

// picks are the offers waiting to be judged and the picks made, with the undo stack of the
// keyboard's and buttons' picks. Plain Go: the Feedback view draws it, its tests drive it.
type picks struct {
	Offers []protocol.Offer // Offers[0] is the one shown
	List   []pick
	undo   []undoStep
	nextID int
}

// Current is the offer shown, if any.
func (p *picks) Current() (protocol.Offer, bool) {
	if len(p.Offers) == 0 {
		return protocol.Offer{}, false
	}
	return p.Offers[0], true
}

// add appends a pick and returns its id.
func (p *picks) add(prompt, chosen, rejected string, taste bool) int {
	p.nextID++
	p.List = append(p.List, pick{ID: p.nextID, Prompt: prompt, Chosen: chosen, Rejected: rejected, Taste: taste})
	return p.nextID
}

// choose judges the shown offer: which is 1 for its first answer, 2 for its second.
func (p *picks) choose(which int) bool {
	o, ok := p.Current()
	if !ok || (which != 1 && which != 2) {
		return false
	}
	chosen, rejected := o.A, o.B
	if which == 2 {
		chosen, rejected = o.B, o.A
	}
	p.Offers = p.Offers[1:]
	p.undo = append(p.undo, undoStep{Offer: o, PickID: p.add(o.Prompt, chosen, rejected, false)})
	return true
}

// skip puts the shown offer aside unjudged.
func (p *picks) skip() bool {
	o, ok := p.Current()
	if !ok {
		return false
	}
	p.Offers = p.Offers[1:]
	p.undo = append(p.undo, undoStep{Offer: o})
	return true
}

// undoLast takes back the last pick or skip: its offer is shown again, its pick (unless the
// table removed it meanwhile) is gone.
func (p *picks) undoLast() bool {
	if len(p.undo) == 0 {
		return false
	}
	u := p.undo[len(p.undo)-1]
	p.undo = p.undo[:len(p.undo)-1]
	if u.PickID != 0 {
		p.removeID(u.PickID)
	}
	p.Offers = append([]protocol.Offer{u.Offer}, p.Offers...)
	return true
}

// key acts on a key the learner pressed (KeyboardEvent.key): 1 and 2 pick, 0 and space skip,
// Backspace undoes. It says whether the key did something (and changed the picks).
func (p *picks) key(k string) bool {
	switch k {
	case "1":
		return p.choose(1)
	case "2":
		return p.choose(2)
	case "0", " ":
		return p.skip()
	case "Backspace":
		return p.undoLast()
	}
	return false
}

// wantsMore says whether the queue runs low enough to ask for the next batch.
func (p *picks) wantsMore() bool { return len(p.Offers) <= refillAt }

// addOffers queues a batch of offers: pairs of one prompt whose answers are the same text are
// dropped, as a pick between them says nothing (and WriteJSONL would refuse it).
func (p *picks) addOffers(os []protocol.Offer) {
	for _, o := range os {
		if o.A != o.B {
			p.Offers = append(p.Offers, o)
		}
	}
}

// addTaste adds the offers the built-in taste decided as its picks (simulated), and says how
// many it added.
func (p *picks) addTaste(os []protocol.Offer) int {
	n := 0
	for _, o := range os {
		switch {
		case o.A == o.B:
		case o.Taste == 1:
			p.add(o.Prompt, o.A, o.B, true)
			n++
		case o.Taste == 2:
			p.add(o.Prompt, o.B, o.A, true)
			n++
		}
	}
	return n
}

// swap turns pick id round: the rejected answer becomes the chosen one. A pick the learner
// turned round is the learner's, whoever made it first.
func (p *picks) swap(id int) bool {
	for i := range p.List {
		if p.List[i].ID == id {
			q := &p.List[i]
			q.Chosen, q.Rejected, q.Taste = q.Rejected, q.Chosen, false
			return true
		}
	}
	return false
}

// remove drops pick id.
func (p *picks) remove(id int) bool { return p.removeID(id) }

func (p *picks) removeID(id int) bool {
	for i := range p.List {
		if p.List[i].ID == id {
			p.List = append(p.List[:i:i], p.List[i+1:]...)
			return true
		}
	}
	return false
}

// clear drops every pick, offer and undo step (start over).
func (p *picks) clear() { *p = picks{nextID: p.nextID} }

// Counts are the picks made by the learner and by the taste.
func (p *picks) Counts() (yours, taste int) {
	for _, q := range p.List {
		if q.Taste {
			taste++
		} else {
			yours++
		}
	}
	return yours, taste
}

// AllTaste says every pick is the built-in taste's: then the taste judges the results.
func (p *picks) AllTaste() bool {
	_, taste := p.Counts()
	return len(p.List) > 0 && taste == len(p.List)
}

// Pairs are the picks as preference pairs, in the table's order.
func (p *picks) Pairs() []feedback.Pair {
	out := make([]feedback.Pair, len(p.List))
	for i, q := range p.List {
		out[i] = q.pair()
	}
	return out
}

// JSONL is the picks in TRL's preference format (prompt, chosen, rejected), as the file the
// learner exports and the link carries.
func (p *picks) JSONL() ([]byte, error) {
	var buf bytes.Buffer
	if err := feedback.WriteJSONL(&buf, p.Pairs()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// importFile reads a preference file (JSON Lines or TSV) and adds its pairs as the learner's
// picks, leaving out those already in the list (importing the file just exported changes
// nothing). It returns how many it added; a refused file changes nothing and its error is
// feedback.ParsePairs's line-numbered *task.ParseError.
func (p *picks) importFile(name string, data []byte) (int, error) {
	pairs, err := feedback.ParsePairs(name, data)
	if err != nil {
		return 0, err
	}
	have := map[feedback.Pair]bool{}
	for _, q := range p.List {
		have[q.pair()] = true
	}
	n := 0
	for _, pr := range pairs {
		if have[pr] {
			continue
		}
		have[pr] = true
		p.add(pr.Prompt, pr.Chosen, pr.Rejected, false)
		n++
	}
	return n, nil
}

// setPairs replaces the picks with a link's pairs; taste marks them the taste's (a link whose
// taste judges: every pick was simulated).
func (p *picks) setPairs(pairs []feedback.Pair, taste bool) {
	p.clear()
	for _, pr := range pairs {
		p.add(pr.Prompt, pr.Chosen, pr.Rejected, taste)
	}
}

// restore takes back the picks a closed tab kept.
func (p *picks) restore(list []pick) {
	p.clear()
	for _, q := range list {
		p.add(q.Prompt, q.Chosen, q.Rejected, q.Taste)
	}
}

// prefsFileErrText says, in l, why a preference file was refused: the task file's words (the
// same parser codes), with preference files' own fields and codes.
func prefsFileErrText(l Lang, err error) string {
	var pe *task.ParseError
	if !errors.As(err, &pe) {
		return l.T("fb.err.import") + " " + err.Error()
	}
	e := *pe
	switch e.Field {
	case "chosen":
		e.Field = l.T("fb.field.chosen")
	case "rejected":
		e.Field = l.T("fb.field.rejected")
	}
	var what string
	switch e.Code {
	case feedback.CodeSameResponse:
		what = l.T("fb.err.same_response")
	case feedback.CodeTooManyPairs:
		what = l.T("fb.err.too_many_pairs", e.N, e.Limit)
	case task.CodeTooFew:
		what = l.T("fb.err.too_few_pairs", e.N, e.Limit)
	default:
		return taskFileErrText(l, &e)
	}
	if e.Line > 0 {
		return l.T("usertask.line", e.Line) + " " + what
	}
	return what
}
