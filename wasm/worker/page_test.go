package worker

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/ops"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// page is the page's side of a conversation with a Handler: it sends requests encoded as the
// page encodes them and keeps every message the handler posts, as the page decodes it (only
// what JSON carries arrives).
type page struct {
	t    *testing.T
	h    *Handler
	mu   sync.Mutex
	msgs []protocol.Message
	news chan struct{} // a message arrived
	ids  int
}

// cpuOnly opens the CPU device for "cpu", "auto" and "", as go test has no WebGPU.
func cpuOnly(name string) (ops.Device, protocol.DeviceInfo, error) {
	if name == "webgpu" {
		return nil, protocol.DeviceInfo{}, errors.New("no WebGPU adapter in go test")
	}
	dev := ops.NewCPU()
	return dev, protocol.DeviceInfo{Name: dev.Name()}, nil
}

func newPage(t *testing.T) *page {
	return newPageWith(t, cpuOnly)
}

func newPageWith(t *testing.T, open Opener) *page {
	p := &page{t: t, news: make(chan struct{}, 1)}
	p.h = New(open, p.receive)
	return p
}

func (p *page) receive(m protocol.Message) {
	var got protocol.Message
	if err := json.Unmarshal([]byte(m.Encode()), &got); err != nil {
		p.t.Errorf("the page cannot read %s: %v", m.Encode(), err)
		return
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, got)
	p.mu.Unlock()
	select {
	case p.news <- struct{}{}:
	default:
	}
}

// encode is r as the page posts it, with a fresh id unless r has one.
func (p *page) encode(r protocol.Request) (int, []byte) {
	if r.ID == 0 {
		p.ids++
		r.ID = p.ids
	}
	data, err := json.Marshal(r)
	require.NoError(p.t, err)
	return r.ID, data
}

// ask sends r and returns its id once the handler answered it.
func (p *page) ask(r protocol.Request) int {
	id, data := p.encode(r)
	p.h.Handle(data)
	return id
}

// begin sends r on a goroutine of its own, as the browser does, and returns its id at once.
func (p *page) begin(r protocol.Request) int {
	id, data := p.encode(r)
	go p.h.Handle(data)
	return id
}

// all is every message so far.
func (p *page) all() []protocol.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]protocol.Message(nil), p.msgs...)
}

// of is every message answering request id so far.
func (p *page) of(id int) []protocol.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []protocol.Message
	for _, m := range p.msgs {
		if m.ID == id {
			out = append(out, m)
		}
	}
	return out
}

// wait returns the first message answering id that satisfies ok, waiting for it if need be.
func (p *page) wait(id int, ok func(protocol.Message) bool) protocol.Message {
	p.t.Helper()
	deadline := time.After(time.Minute) // the longest request here, a comparison, takes seconds
	for {
		for _, m := range p.of(id) {
			if ok(m) {
				return m
			}
		}
		select {
		case <-p.news:
		case <-deadline:
			p.t.Fatalf("no such answer to request %d; it has %v", id, kinds(p.of(id)))
		}
	}
}

// waitKind returns the first message of kind answering id.
func (p *page) waitKind(id int, kind string) protocol.Message {
	p.t.Helper()
	return p.wait(id, func(m protocol.Message) bool { return m.Kind == kind })
}

// waitEnd returns the message that ends request id: done or error.
func (p *page) waitEnd(id int) protocol.Message {
	p.t.Helper()
	return p.wait(id, func(m protocol.Message) bool { return m.Kind == protocol.Done || m.Kind == protocol.Error })
}

// answer is the last message answering id (a request answered at once), which must be of kind.
func (p *page) answer(id int, kind string) protocol.Message {
	p.t.Helper()
	got := p.of(id)
	require.NotEmpty(p.t, got, "request %d has no answer", id)
	last := got[len(got)-1]
	require.Equal(p.t, kind, last.Kind, "request %d ends with %+v", id, last)
	return last
}

func kinds(ms []protocol.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Kind)
	}
	return out
}

// tinyCode is the en-tiny preset's link (60 steps, evaluations at 20, 40 and 60), with steps
// steps instead when steps > 0.
func tinyCode(t *testing.T, steps int) string {
	t.Helper()
	p, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	spec := p.Spec
	if steps > 0 {
		spec.Config.Steps = steps
	}
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	return code
}

// tinyComparison is a comparison small enough for go test: en-tiny's pretraining, then full
// fine-tuning and LoRA r2 for 20 steps each.
func tinyComparison(t *testing.T) string {
	t.Helper()
	tiny, err := runspec.PresetByName("en-tiny")
	require.NoError(t, err)
	lesson, err := runspec.PresetByName("en-lesson")
	require.NoError(t, err)
	spec := tiny.Spec
	spec.Version, spec.Task = runspec.VersionCompare, lesson.Spec.Task
	spec.FineTune = &runspec.FineTune{Steps: 20, Warmup: 2, EvalEvery: 10}
	spec.Methods = []compare.Method{{Kind: compare.Full}, {Kind: compare.LoRA, Rank: 2}}
	code, err := runspec.Encode(spec)
	require.NoError(t, err)
	return code
}

// without is ms less the messages of kind.
func without(ms []protocol.Message, kind string) []protocol.Message {
	var out []protocol.Message
	for _, m := range ms {
		if m.Kind != kind {
			out = append(out, m)
		}
	}
	return out
}
