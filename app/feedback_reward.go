package app

import (
	"strconv"

	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/protocol"
)

// rewardModel is one training of the reward model on the picks, in the picker worker, as the
// page knows it from the worker's messages: its loss curve, its held-out accuracy, and each
// pair's two scores. Pairs are the picks it trained on, in order: the Scores message follows
// that order, and the picks table finds a pick's scores by its texts, so a pick changed since
// shows none.
type rewardModel struct {
	Status string // statusRunning, then statusDone, statusStopped or statusFailed
	Err    string // the worker's reason, in English (shown as data)
	Step   int
	Steps  int
	Points []point // evaluations: training loss, held-out loss
	Result *job.Event
	Scores []protocol.PairScore
	Pairs  []feedback.Pair
	// Judged says the built-in taste made every pick, so the worker also measures the reward
	// model against the taste (RMGoldAccuracy).
	Judged bool

	// The score box: an answer the learner typed, and the score the reward model gave it.
	Query scoreQuery
}

// scoreQuery is the score box's last question and its answer.
type scoreQuery struct {
	Prompt, Text string
	Value        *float64
	Err          string
	Busy         bool
}

func newRewardModel(pairs []feedback.Pair, judged bool) *rewardModel {
	return &rewardModel{Status: statusRunning, Pairs: pairs, Judged: judged}
}

// Active says whether the reward model still trains.
func (r *rewardModel) Active() bool { return r.Status == statusRunning }

// apply takes one message of the train_reward request. It says whether the request is over.
func (r *rewardModel) apply(m protocol.Message) bool {
	if !r.Active() { // stopped: a late message changes nothing
		return m.Kind == protocol.Done || m.Kind == protocol.Error
	}
	switch m.Kind {
	case protocol.Eval:
		if e := m.Event; e != nil && e.Method == feedback.RewardModel {
			r.Points = append(keepUpTo(r.Points, e.Step-1), point{Step: e.Step, Train: e.TrainLoss, Val: e.ValLoss})
			r.Step, r.Steps = e.Step, e.Steps
		}
	case protocol.Progress: // every step, between the evaluations
		if e := m.Event; e != nil && e.Method == feedback.RewardModel {
			r.Step, r.Steps = e.Step, e.Steps
		}
	case protocol.Result:
		if e := m.Event; e != nil && e.Method == feedback.RewardModel {
			ev := *e
			r.Result = &ev
			r.Step = max(r.Step, r.Steps)
		}
	case protocol.Scores:
		r.Scores = m.PairScores
	case protocol.Done, protocol.Error:
		r.Status, r.Err = ended(m, r.Result != nil)
		return true
	}
	return false
}

// stopped marks a training the learner stopped (the worker's "stopped" may never come if the
// worker is gone).
func (r *rewardModel) stopped() {
	if r.Active() {
		r.Status = statusStopped
	}
}

// scoreOf is the reward model's scores of a pick, if it trained on that very pair.
func (r *rewardModel) scoreOf(p pick) (protocol.PairScore, bool) {
	if r == nil || len(r.Scores) != len(r.Pairs) {
		return protocol.PairScore{}, false
	}
	want := p.pair()
	for i, pr := range r.Pairs {
		if pr == want {
			return r.Scores[i], true
		}
	}
	return protocol.PairScore{}, false
}

// applyScore takes the score request's answer. It says whether the request is over.
func (r *rewardModel) applyScore(m protocol.Message) bool {
	switch m.Kind {
	case protocol.ScoreOf:
		v := m.Value
		r.Query.Value = &v
	case protocol.Done:
		r.Query.Busy = false
		return true
	case protocol.Error:
		r.Query.Busy, r.Query.Err = false, m.Error
		return true
	}
	return false
}

// chart draws the reward model's training: its loss on the picks it learns from, and on the
// held-out ones.
func (r *rewardModel) chart(l Lang) string { return r.plot(l).SVG(l) }

// plot is the reward model's chart (chart draws it).
func (r *rewardModel) plot(l Lang) plot {
	var tr, va [][2]float64
	if r != nil {
		for _, p := range r.Points {
			tr = append(tr, [2]float64{float64(p.Step), p.Train})
			va = append(va, [2]float64{float64(p.Step), p.Val})
		}
	}
	return plot{ID: "fb-reward-chart", Title: l.T("fb.rm.chart_title"), XLabel: l.T("fb.rm.chart_x"), YLabel: l.T("fb.rm.chart_y"), Empty: l.T("chart.empty"), Lines: []chartLine{
		{Label: l.T("fb.rm.chart_train"), Color: palette[0], Points: tr},
		{Label: l.T("fb.rm.chart_val"), Color: palette[0], Dashed: true, Points: va},
	}}
}

// fmtScore writes a reward-model score.
func fmtScore(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// fmtPct writes a share from 0 to 1 as a percentage.
func fmtPct(v *float64) string {
	if v == nil {
		return "–"
	}
	return strconv.FormatFloat(100**v, 'f', 0, 64) + "%"
}
