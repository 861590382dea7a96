package job

import "time"

// pace decides which steps a run reports as "progress" events when Options.ProgressEvery is
// set: the first step of each trainer (so a page moves as soon as training does), then at most
// one per every. A page that redrew at every step would spend the worker's time drawing, and a
// page that waited for evaluations (every 100 steps, 10-20 s on a CPU) looks frozen.
type pace struct {
	every time.Duration
	now   func() time.Time
	last  time.Time
	sent  bool
}

// newPace is o's pace, or nil when o asks for no progress events.
func newPace(o Options) *pace {
	if o.ProgressEvery <= 0 {
		return nil
	}
	now := o.Clock
	if now == nil {
		now = time.Now
	}
	return &pace{every: o.ProgressEvery, now: now}
}

// due says whether the step that just ended is reported; first marks a trainer's first step.
func (p *pace) due(first bool) bool {
	if p == nil {
		return false
	}
	t := p.now()
	if first || !p.sent || t.Sub(p.last) >= p.every {
		p.last, p.sent = t, true
		return true
	}
	return false
}
