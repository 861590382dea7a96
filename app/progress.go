package app

import (
	"math"
	"time"
)

// stepPace measures how fast a run goes on this device, from when its steps arrive: the first
// reported step and the latest. Wall-clock time, evaluations and samples included, so the time
// left it gives is the time the learner waits (the worker's tokens/s leaves evaluations out).
// The first step is the anchor, not the start: building the model and compiling take a while
// that the remaining steps do not repeat.
type stepPace struct {
	Step0, Step int
	T0, T       time.Time
}

// observe records that the run had done step steps at t; an earlier step (a run resumed from a
// snapshot, or restarted on the CPU) starts the measure again.
func (p *stepPace) observe(step int, t time.Time) {
	if p.T0.IsZero() || step < p.Step {
		*p = stepPace{Step0: step, T0: t, Step: step, T: t}
		return
	}
	p.Step, p.T = step, t
}

// perSecond is the measured steps per second, 0 until two steps a while apart arrived.
func (p stepPace) perSecond() float64 {
	dt := p.T.Sub(p.T0).Seconds()
	if p.Step <= p.Step0 || dt < 0.2 {
		return 0
	}
	return float64(p.Step-p.Step0) / dt
}

// left is the time the run's remaining steps take at the measured pace; ok is false while
// there is no pace yet.
func (p stepPace) left(steps int) (time.Duration, bool) {
	r := p.perSecond()
	if r <= 0 {
		return 0, false
	}
	return time.Duration(float64(max(steps-p.Step, 0)) / r * float64(time.Second)), true
}

// trendAlpha is the weight of each new step's training loss in the smoothed curve. One step's
// loss is noisy (one batch) and the page sees about one a second, so a third each keeps the
// curve readable and still lets it follow the loss within a few seconds.
const trendAlpha = 0.3

// smooth extends the exponential moving average of the training losses by one step's loss.
func smooth(trend []point, step int, loss float64) []point {
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return trend
	}
	if n := len(trend); n > 0 {
		loss = trendAlpha*loss + (1-trendAlpha)*trend[n-1].Train
	}
	return append(trend, point{Step: step, Train: loss})
}

// fmtDuration says d in the page's language, as precisely as a wait needs: seconds (to 5 s)
// under a minute, minutes and seconds (to 10 s) under an hour, hours and minutes above.
func fmtDuration(l Lang, d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return l.T("dur.s", max(5, (s+4)/5*5))
	case s < 3600:
		s = (s + 5) / 10 * 10
		if s%60 == 0 {
			return l.T("dur.m", s/60)
		}
		return l.T("dur.ms", s/60, s%60)
	}
	m := (s + 30) / 60
	return l.T("dur.hm", m/60, m%60)
}

// fmtLeft is "about 3 min 20 s left" in the page's language.
func fmtLeft(l Lang, d time.Duration) string { return l.T("dur.left", fmtDuration(l, d)) }
