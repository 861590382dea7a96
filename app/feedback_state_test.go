package app

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/feedback"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// fakeFeedbackHost is fakeHost with the feedback view's own wishes: what it kept in IndexedDB
// and the files it offered, bytes and all.
type fakeFeedbackHost struct {
	*fakeHost
	kept  []savedFeedback
	files map[string][]byte
}

func newFakeFeedbackHost() *fakeFeedbackHost {
	return &fakeFeedbackHost{fakeHost: &fakeHost{}, files: map[string][]byte{}}
}

func (h *fakeFeedbackHost) keepFeedback(s savedFeedback) { h.kept = append(h.kept, s) }
func (h *fakeFeedbackHost) download(data []byte, name string) {
	h.fakeHost.download(data, name)
	h.files[name] = data
}

func readBase(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("../web/base/" + name + ".ckpt")
	require.NoError(t, err)
	return data
}

// openedSFT is the picker worker's whole answer to open_sft (id 1) and to the save that
// follows (id 2): an evaluation, the SFT model's result, then its bytes.
func openSFTMessages(fp string) []protocol.Message {
	return []protocol.Message{
		{ID: 1, Kind: protocol.Device, Device: &protocol.DeviceInfo{Name: "cpu"}},
		{ID: 1, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: feedback.SFT, Step: 10, Steps: 20, TrainLoss: 2, ValLoss: 2.5}},
		{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: feedback.SFT, Fingerprint: fp}},
		{ID: 1, Kind: protocol.Done},
		{ID: 2, Kind: protocol.Saved, Format: protocol.FormatSFT, Data: []byte("sft bytes")},
		{ID: 2, Kind: protocol.Done},
	}
}

// offers are n distinct offers to one prompt; the taste prefers A in even ones, B in odd ones.
func offers(n, from int) []protocol.Offer {
	var out []protocol.Offer
	for i := from; i < from+n; i++ {
		out = append(out, protocol.Offer{Prompt: "The fox ate", A: fmt.Sprintf(" eggs %d.", i), B: fmt.Sprintf(" mud %d.", i), Taste: 1 + i%2})
	}
	return out
}

// openKept opens the kept SFT model of English and answers its worker: the state is then
// ready to pick.
func openKept(t *testing.T) (*feedbackState, *fakeFeedbackHost, *fakeWorker) {
	t.Helper()
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h, choice: startChoice{Kind: startKept}, setup: newTuningSetup(EN)}
	f.open(EN)
	require.Equal(t, []string{"en-sft"}, h.fetches)
	h.fetched[0](readBase(t, "en-sft"), nil)
	w := h.worker(t, 0)
	w.say(openSFTMessages("cpu:0000000000aa")...)
	require.True(t, f.sft.Ready())
	return f, h, w
}

// TestFeedbackOpensTheSFTModel: the kept SFT model goes to the picker worker as it is; its
// training's evaluations and result show; then its bytes are saved for the methods and the
// first offers are asked for.
func TestFeedbackOpensTheSFTModel(t *testing.T) {
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h, choice: startChoice{Kind: startKept}}
	f.open(EN)
	require.Equal(t, statusStarting, f.sft.Status)
	require.Empty(t, h.workers, "no worker before the model file")
	sft := readBase(t, "en-sft")
	h.fetched[0](sft, nil)
	w := h.worker(t, 0)
	open := w.sent[0]
	require.Equal(t, protocol.OpenSFT, open.Kind)
	require.Equal(t, sft, open.Base)
	require.False(t, open.AsSFT)
	got, err := runspec.Decode(open.Code)
	require.NoError(t, err)
	require.True(t, runspec.SameSFT(keptFeedbackSpec(EN), got))
	require.Equal(t, "fb.sft.note.kept", f.sft.Note)

	msgs := openSFTMessages("cpu:0000000000aa")
	w.say(msgs[:4]...)
	require.Equal(t, []point{{Step: 10, Train: 2, Val: 2.5}}, f.sft.Points)
	require.Equal(t, "cpu:0000000000aa", f.sft.Result.Fingerprint)
	require.Equal(t, protocol.Request{ID: 2, Kind: protocol.Save, Format: protocol.FormatSFT}, w.last())
	w.say(msgs[4:]...)
	require.Equal(t, []byte("sft bytes"), f.sft.Data)
	require.True(t, f.sft.Ready())
	pairs := w.last()
	require.Equal(t, protocol.SamplePairs, pairs.Kind)
	require.Equal(t, offerBatch, pairs.Count)
	require.Equal(t, uint64(1), pairs.Seed)
	require.False(t, pairs.Decided)
}

// TestFeedbackDevice: the device the learner picks is the one the picker worker opens and the
// one every method's worker gets.
func TestFeedbackDevice(t *testing.T) {
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h, choice: startChoice{Kind: startKept}, setup: newTuningSetup(EN)}
	require.Equal(t, runspec.DeviceAuto, f.deviceShown())
	f.device = runspec.DeviceCPU
	f.open(EN)
	h.fetched[0](readBase(t, "en-sft"), nil)
	w := h.worker(t, 0)
	require.Equal(t, runspec.DeviceCPU, w.sent[0].Device)
	w.say(openSFTMessages("cpu:0000000000aa")...)
	require.Equal(t, runspec.DeviceCPU, f.sft.Spec.Device)
	learnerPicks(t, f, w, 10)
	spec, err := f.stageSpec()
	require.NoError(t, err)
	require.Equal(t, runspec.DeviceCPU, spec.Device, "the methods' workers open it too")
}

// TestFeedbackFindsAnSFTModel: without a kept SFT model the kept base is fine-tuned in the
// worker; without either the worker pretrains first; a file is taken as it is; a model file
// that does not load is refused before any worker.
func TestFeedbackFindsAnSFTModel(t *testing.T) {
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h, choice: startChoice{Kind: startKept}}
	f.open(EN)
	h.fetched[0](nil, errors.New("HTTP 404 Not Found"))
	require.Equal(t, []string{"en-sft", "en-base"}, h.fetches)
	base := readBase(t, "en-base")
	h.fetched[1](base, nil)
	require.Equal(t, base, h.worker(t, 0).sent[0].Base)
	require.Equal(t, "fb.sft.note.base", f.sft.Note)

	f.open(EN)
	h.fetched[2](readBase(t, "zh-sft"), nil) // another stage's SFT model
	h.fetched[3](readBase(t, "zh-base"), nil)
	w := h.worker(t, 1)
	require.Nil(t, w.sent[0].Base)
	require.Equal(t, "fb.sft.note.pretrain", f.sft.Note)
	require.True(t, h.workers[0].closed, "a new start ends the old worker")

	f.chooseFile("mine.pretune", base) // while the worker pretrains: not now
	require.Nil(t, f.file)
	f.stop()
	f.chooseFile("mine.pretune", []byte("PRETUNE\x00 but not really"))
	require.Error(t, f.fileErr)
	f.choice.Kind = startFile
	require.False(t, f.canOpen(EN))
	f.chooseFile("mine.pretune", base)
	require.NoError(t, f.fileErr)
	require.Equal(t, startChoice{Kind: startFile, File: "mine.pretune"}, f.choice)
	f.open(EN)
	open := h.worker(t, 2).sent[0]
	require.True(t, open.AsSFT)
	require.Equal(t, base, open.Base)

	// A worker that fails says so, with its reason kept as data.
	h.worker(t, 2).say(protocol.Message{ID: 1, Kind: protocol.Error, Error: "the file is not a model of this task"})
	require.Equal(t, statusFailed, f.sft.Status)
	require.Equal(t, "fb.err.sft", f.sft.ErrKey)
	require.Equal(t, "the file is not a model of this task", f.sft.Err)
}

// TestFeedbackPicksByKey: one offer at a time; 1 and 2 pick, 0 and space skip, Backspace undoes;
// the queue asks for more (the next seed) before it runs out; every change is kept.
func TestFeedbackPicksByKey(t *testing.T) {
	f, h, w := openKept(t)
	w.say(protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(8, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	require.Len(t, f.picks.Offers, 8)
	require.False(t, f.key("x"), "other keys do nothing")

	require.True(t, f.key("1"))
	require.True(t, f.key("2"))
	require.Equal(t, []pick{
		{ID: 1, Prompt: "The fox ate", Chosen: " eggs 0.", Rejected: " mud 0."},
		{ID: 2, Prompt: "The fox ate", Chosen: " mud 1.", Rejected: " eggs 1."},
	}, f.picks.List)
	require.Equal(t, 3, len(w.sent), "6 offers left: no refill yet")
	require.True(t, f.key(" "))
	require.Equal(t, 4, len(w.sent), "5 left: the next batch is asked for")
	require.Equal(t, protocol.SamplePairs, w.last().Kind)
	require.Equal(t, uint64(2), w.last().Seed)
	require.True(t, f.key("0"))
	require.Len(t, f.picks.Offers, 4)
	require.Equal(t, 4, len(w.sent), "one refill at a time")
	require.Empty(t, f.queue, "one refill at a time, none waiting")

	require.True(t, f.key("Backspace"))
	require.Equal(t, " eggs 3.", f.picks.Offers[0].A, "the skipped offer is back")
	require.True(t, f.key("Backspace"))
	require.True(t, f.key("Backspace"))
	require.Len(t, f.picks.List, 1, "the second pick is undone")
	require.Equal(t, " eggs 1.", f.picks.Offers[0].A)
	require.Equal(t, f.picks.List, h.kept[len(h.kept)-1].Picks)
	require.Equal(t, startChoice{Kind: startKept}, h.kept[len(h.kept)-1].Start)

	w.say(protocol.Message{ID: 4, Kind: protocol.Pairs, Offers: offers(20, 8)}, protocol.Message{ID: 4, Kind: protocol.Done})
	require.Len(t, f.picks.Offers, 27)
}

// TestFeedbackTasteFillsAndTableEdits: the taste's picks are marked as such; a swapped pick
// turns round and becomes the learner's; a removed one is gone.
func TestFeedbackTasteFillsAndTableEdits(t *testing.T) {
	f, h, w := openKept(t)
	f.fillFromTaste()
	req := w.sent[len(w.sent)-1]
	require.Equal(t, protocol.SamplePairs, req.Kind, "queued after the offers")
	w.say(protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(20, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	req = w.last()
	require.Equal(t, protocol.Request{ID: 4, Kind: protocol.SamplePairs, Code: req.Code, Count: tasteFill, Decided: true, Seed: 2}, req)
	os := offers(3, 100)
	os[2].Taste = 0 // undecided: no pick
	w.say(protocol.Message{ID: 4, Kind: protocol.Pairs, Offers: os}, protocol.Message{ID: 4, Kind: protocol.Done})
	require.Equal(t, []pick{
		{ID: 1, Prompt: "The fox ate", Chosen: " eggs 100.", Rejected: " mud 100.", Taste: true},
		{ID: 2, Prompt: "The fox ate", Chosen: " mud 101.", Rejected: " eggs 101.", Taste: true},
	}, f.picks.List)
	require.True(t, f.picks.AllTaste())
	require.Len(t, h.kept[len(h.kept)-1].Picks, 2)

	f.swapPick(1)
	require.Equal(t, pick{ID: 1, Prompt: "The fox ate", Chosen: " mud 100.", Rejected: " eggs 100."}, f.picks.List[0])
	require.False(t, f.picks.AllTaste())
	f.removePick(2)
	require.Len(t, f.picks.List, 1)
	require.Equal(t, 1, f.picks.List[0].ID)
}

// TestFeedbackExportImport: the picks export as TRL's JSON Lines and import back as the
// learner's; a damaged file is refused with its line, in the page's language, and changes
// nothing.
func TestFeedbackExportImport(t *testing.T) {
	f, h, w := openKept(t)
	w.say(protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(8, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	f.key("1")
	f.key("2")
	f.fillFromTaste()
	w.say(protocol.Message{ID: 4, Kind: protocol.Pairs, Offers: offers(1, 50)}, protocol.Message{ID: 4, Kind: protocol.Done})
	want := f.picks.Pairs()
	require.NoError(t, f.exportPicks())
	data := h.files["picks.jsonl"]
	require.Equal(t, `{"prompt":"The fox ate","chosen":" eggs 0.","rejected":" mud 0."}`+"\n", string(data[:len(`{"prompt":"The fox ate","chosen":" eggs 0.","rejected":" mud 0."}`)+1]))

	f.importPicks("picks.jsonl", data)
	require.Len(t, f.picks.List, 3, "the same picks again add nothing")
	f.picks.clear()
	f.importPicks("picks.jsonl", data)
	require.NoError(t, f.importErr)
	require.Equal(t, want, f.picks.Pairs())
	require.False(t, f.picks.AllTaste(), "imported picks are the learner's")
	require.Equal(t, 3, f.imported)

	bad := []byte(`{"prompt":"a","chosen":" b","rejected":" c"}` + "\n" + `{"prompt":"a","chosen":" b","rejected":" b "}` + "\n")
	f.importPicks("bad.jsonl", bad)
	require.Error(t, f.importErr)
	require.Equal(t, "Line 2: the chosen and the rejected answer are the same text; a pick needs two different answers.", prefsFileErrText(EN, f.importErr))
	require.Equal(t, "第 2 行： 选中的回答和被拒的回答是同一段文字；一次选择需要两个不同的回答。", prefsFileErrText(ZH, f.importErr))
	require.Len(t, f.picks.List, 3)

	f.importPicks("bad.jsonl", []byte(`{"prompt":"a","chosen":" b"}`+"\n"+`{"prompt":"a","chosen":" b","rejected":" c"}`))
	require.Equal(t, "第 1 行： 缺少字段 被拒的回答。", prefsFileErrText(ZH, f.importErr))
}

// learnerPicks makes n picks by key from the worker's offers (request 3).
func learnerPicks(t *testing.T, f *feedbackState, w *fakeWorker, n int) {
	t.Helper()
	w.say(protocol.Message{ID: 3, Kind: protocol.Pairs, Offers: offers(n+refillAt+1, 0)}, protocol.Message{ID: 3, Kind: protocol.Done})
	for i := 0; i < n; i++ {
		require.True(t, f.key("1"))
	}
}

// TestFeedbackStageSpec: the reward model trains on the picks as a preference file; the taste
// judges only when it made every pick; too few picks cannot train.
func TestFeedbackStageSpec(t *testing.T) {
	f, _, w := openKept(t)
	learnerPicks(t, f, w, 9)
	_, err := f.stageSpec()
	require.ErrorIs(t, err, errTooFewPicks)
	f.key("1")
	spec, err := f.stageSpec()
	require.NoError(t, err)
	require.Equal(t, "", spec.Feedback.Taste, "the learner's picks: no judge but the reward model")
	pairs, err := spec.Prefs.Resolve()
	require.NoError(t, err)
	require.Equal(t, f.picks.Pairs(), pairs)
	require.True(t, runspec.SameSFT(keptFeedbackSpec(EN), spec))
	steps, def := f.rewardStepsShown()
	require.Equal(t, keptFeedbackSpec(EN).Feedback.RewardSteps, def)
	require.Equal(t, def, spec.Feedback.RewardSteps)
	require.Equal(t, def, steps)
	require.Error(t, f.setRewardSteps("0"), "a reward model trains at least a step")
	require.NoError(t, f.setRewardSteps("12"))
	spec, err = f.stageSpec()
	require.NoError(t, err)
	require.Equal(t, 12, spec.Feedback.RewardSteps, "the steps the learner set")

	for i := range f.picks.List {
		f.picks.List[i].Taste = true
	}
	spec, err = f.stageSpec()
	require.NoError(t, err)
	require.Equal(t, feedback.DefaultTaste("en"), spec.Feedback.Taste, "every pick the taste's: the taste judges")
	f.picks.List[3].Taste = false
	spec, err = f.stageSpec()
	require.NoError(t, err)
	require.Equal(t, "", spec.Feedback.Taste)
}

// TestFeedbackTrainsTheRewardModel: train_reward carries the stage; its evaluations draw the
// curve, its result the accuracy, its scores fill the picks table (held-out ones marked); a
// typed answer gets its score; the methods then run from the SFT model's bytes.
func TestFeedbackTrainsTheRewardModel(t *testing.T) {
	f, _, w := openKept(t)
	learnerPicks(t, f, w, 10)
	want, err := f.stageSpec()
	require.NoError(t, err)
	w.say(protocol.Message{ID: 4, Kind: protocol.Done}) // the refill the picks asked for
	f.trainReward()
	req := w.last()
	require.Equal(t, protocol.TrainReward, req.Kind)
	got, err := runspec.Decode(req.Code)
	require.NoError(t, err)
	want.Version = got.Version
	want.Prefs.Hash = got.Prefs.Hash
	require.Equal(t, want, got)
	require.True(t, f.busy())

	id := req.ID
	acc := 0.75
	var scores []protocol.PairScore
	for i := 0; i < 10; i++ {
		scores = append(scores, protocol.PairScore{Chosen: float64(i), Rejected: -1, Held: i%5 == 4})
	}
	w.say(
		protocol.Message{ID: id, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: feedback.RewardModel, Step: 50, Steps: 150, TrainLoss: 0.6, ValLoss: 0.65}},
		protocol.Message{ID: id, Kind: protocol.Eval, Event: &job.Event{Event: "eval", Method: feedback.RewardModel, Step: 100, Steps: 150, TrainLoss: 0.4, ValLoss: 0.5}},
	)
	require.Equal(t, []point{{50, 0.6, 0.65}, {100, 0.4, 0.5}}, f.reward.Points)
	require.Contains(t, f.reward.chart(EN), `data-line="1"`, "both curves drawn")
	w.say(protocol.Message{ID: id, Kind: protocol.Progress, Event: &job.Event{Event: "progress", Method: feedback.RewardModel, Step: 101, Steps: 150, TrainLoss: 0.39}})
	require.Equal(t, 101, f.reward.Step, "the progress bar moves at every step, between evaluations")
	require.Len(t, f.reward.Points, 2, "a step's progress draws no evaluation")
	w.say(
		protocol.Message{ID: id, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: feedback.RewardModel, RMAccuracy: &acc, Fingerprint: "cpu:0000000000bb"}},
		protocol.Message{ID: id, Kind: protocol.Scores, PairScores: scores},
		protocol.Message{ID: id, Kind: protocol.Done},
	)
	r := f.reward
	require.Equal(t, statusDone, r.Status)
	require.Equal(t, 0.75, *r.Result.RMAccuracy)
	require.False(t, r.Judged)
	s, ok := r.scoreOf(f.picks.List[4])
	require.True(t, ok)
	require.Equal(t, protocol.PairScore{Chosen: 4, Rejected: -1, Held: true}, s)
	f.swapPick(f.picks.List[4].ID)
	_, ok = r.scoreOf(f.picks.List[4])
	require.False(t, ok, "a pick changed since has no score")

	f.score("The fox ate", " eggs.")
	require.Equal(t, protocol.Request{ID: id + 1, Kind: protocol.Score, Prompt: "The fox ate", Text: " eggs."}, w.last())
	w.say(protocol.Message{ID: id + 1, Kind: protocol.ScoreOf, Value: 1.5}, protocol.Message{ID: id + 1, Kind: protocol.Done})
	require.Equal(t, 1.5, *r.Query.Value)
	require.False(t, r.Query.Busy)

	require.NoError(t, f.runMethods())
	require.NotNil(t, f.tuning)
	require.Equal(t, feedback.DefaultMethods(), f.tuningSpec.Feedback.Methods, "the form's methods")
	require.Equal(t, got.Prefs.Text, f.tuningSpec.Prefs.Text)
	spec, ok := f.shareSpec(ZH)
	require.True(t, ok)
	require.Equal(t, "zh", spec.Lang)
	require.Equal(t, map[string]string{feedback.SFT: "cpu:0000000000aa", feedback.RewardModel: "cpu:0000000000bb"}, spec.Fingerprints)
	_, err = runspec.Encode(spec)
	require.NoError(t, err, "the share link encodes")
}

// TestFeedbackStopsTheRewardModel: the stop button sends stop and the training ends stopped;
// the queue goes on once the worker answers.
func TestFeedbackStopsTheRewardModel(t *testing.T) {
	f, _, w := openKept(t)
	learnerPicks(t, f, w, 10)
	w.say(protocol.Message{ID: 4, Kind: protocol.Done})
	f.trainReward()
	id := w.last().ID
	f.stopReward()
	require.Equal(t, protocol.Stop, w.last().Kind)
	require.Equal(t, statusStopped, f.reward.Status)
	f.key("1") // a refill waits for the training's end
	n := len(w.sent)
	w.say(protocol.Message{ID: id, Kind: protocol.Error, Error: "stopped"})
	require.Equal(t, statusStopped, f.reward.Status)
	require.Len(t, w.sent, n+1)
	require.Equal(t, protocol.SamplePairs, w.last().Kind)
}

// TestFeedbackOpensALink: a link's picks fill the table (the taste's when its taste judges),
// its SFT model is found as for any start, the reward model trains on the link's own spec and
// the link's methods run; a link the command line made (the taste labels its own pairs) is
// not run here.
func TestFeedbackOpensALink(t *testing.T) {
	f, _, w := openKept(t)
	learnerPicks(t, f, w, 12)
	spec, err := f.stageSpec()
	require.NoError(t, err)
	fb := *spec.Feedback
	fb.Methods = []feedback.Method{feedback.Defaults(feedback.DPO)}
	spec.Feedback, spec.Lang = &fb, "zh"
	spec.Fingerprints = map[string]string{feedback.SFT: "cpu:0000000000aa"}
	code, err := runspec.Encode(spec)
	require.NoError(t, err)

	h := newFakeFeedbackHost()
	g := &feedbackState{host: h, choice: startChoice{Kind: startKept}, setup: newTuningSetup(EN)}
	g.openLink("r=" + code)
	require.Equal(t, []Lang{ZH}, h.langs)
	require.Equal(t, f.picks.Pairs(), g.picks.Pairs())
	require.False(t, g.picks.AllTaste())
	require.Equal(t, startLink, g.choice.Kind)
	require.Equal(t, []string{"en-sft"}, h.fetches, "the kept SFT model of the link's stage")
	h.fetched[0](readBase(t, "en-sft"), nil)
	lw := h.worker(t, 0)
	open := lw.sent[0]
	require.Equal(t, protocol.OpenSFT, open.Kind)
	got, err := runspec.Decode(open.Code)
	require.NoError(t, err)
	require.Equal(t, spec.Fingerprints, got.Fingerprints, "the worker checks the SFT model's fingerprint")
	lw.say(openSFTMessages("cpu:0000000000aa")...)
	train := lw.last()
	require.Equal(t, protocol.TrainReward, train.Kind, "a link trains its reward model at once")
	require.Equal(t, code, train.Code, "the link's own stage, exactly")
	require.Empty(t, h.kept, "a link's picks do not replace the learner's")
	lw.say(
		protocol.Message{ID: 3, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: feedback.RewardModel}},
		protocol.Message{ID: 3, Kind: protocol.Done},
	)
	require.NotNil(t, g.tuning, "then the link's methods run")
	require.Equal(t, fb.Methods, g.tuningSpec.Feedback.Methods)

	// The command line's link: the taste labels its own pairs, which the page does not do.
	cli, err := runspec.Encode(keptFeedbackSpec(EN))
	require.NoError(t, err)
	h = newFakeFeedbackHost()
	g = &feedbackState{host: h}
	g.openLink("r=" + cli)
	require.True(t, g.linkCLI)
	require.Empty(t, h.fetches)
	require.Empty(t, h.workers)
	require.False(t, g.canOpen(EN))
}

// TestFeedbackGoesOn: last time's picks are offered on mount and taken back with their start;
// starting over forgets them; a link's view offers nothing.
func TestFeedbackGoesOn(t *testing.T) {
	h := newFakeFeedbackHost()
	f := &feedbackState{host: h}
	kept := &savedFeedback{Picks: []pick{{ID: 7, Prompt: "p", Chosen: " a", Rejected: " b", Taste: true}}, Start: startChoice{Kind: startFile, File: "x.pretune"}, Seed: 5}
	f.offerKept(kept)
	require.Same(t, kept, f.offer)
	f.goOn(EN)
	require.Nil(t, f.offer)
	require.Equal(t, []pick{{ID: 1, Prompt: "p", Chosen: " a", Rejected: " b", Taste: true}}, f.picks.List)
	require.Equal(t, startKept, f.choice.Kind, "a file is not kept: the kept SFT model")
	require.Equal(t, uint64(5), f.seed)
	require.Equal(t, []string{"en-sft"}, h.fetches, "going on opens the model")

	f = &feedbackState{host: h}
	f.offerKept(kept)
	f.startOver()
	require.Nil(t, f.offer)
	require.Empty(t, h.kept[len(h.kept)-1].Picks)

	f = &feedbackState{host: h, link: &runspec.Spec{}}
	f.offerKept(kept)
	require.Nil(t, f.offer)
}

// TestFeedbackStartsFromACompareMethod: the compare view's finished full fine-tuning and LoRA
// are offered (an adapter is not); each one's stage is the comparison with that method alone,
// and the worker fine-tunes it again from the comparison's base.
func TestFeedbackStartsFromACompareMethod(t *testing.T) {
	form, base := baseForm(t)
	for i := range form.Methods {
		form.Methods[i].On = form.Methods[i].On || form.Methods[i].Kind == compare.Adapter
	}
	spec, err := form.Spec(EN)
	require.NoError(t, err)
	c := &compareState{host: &fakeHost{}}
	require.False(t, c.tuned().Ready)
	c.cmp = newComparison(spec)
	c.cmp.Phase, c.cmp.BaseData = phaseDone, base
	for _, ln := range c.cmp.Lanes {
		ln.Status = statusDone
	}
	tm := c.tuned()
	require.True(t, tm.Ready)
	require.Equal(t, []string{compare.Full, compare.LoRA}, tm.Methods, "an adapter cannot make a feedback stage's SFT model")

	for _, kind := range tm.Methods {
		t.Run(kind, func(t *testing.T) {
			h := newFakeFeedbackHost()
			f := &feedbackState{host: h, tuned: tm}
			f.choose(startChoice{Kind: startTuned, Method: kind})
			require.True(t, f.canOpen(EN))
			f.open(EN)
			open := h.worker(t, 0).sent[0]
			require.Equal(t, base, open.Base)
			require.False(t, open.AsSFT)
			got, err := runspec.Decode(open.Code)
			require.NoError(t, err)
			var want []compare.Method
			for _, m := range spec.Methods {
				if m.Kind == kind {
					want = append(want, m)
				}
			}
			require.Len(t, want, 1)
			require.Equal(t, want, got.Methods, "the open_sft code carries that method, its settings as the comparison ran it")
			require.Equal(t, spec.Task, got.Task)
			require.Equal(t, "fb.sft.note.tuned", f.sft.Note)
		})
	}
}

// TestFeedbackLinkGoesToTheFeedbackView: a feedback stage's link shows the feedback view, and the
// compare view (a feedback spec is also a comparison) leaves it alone rather than run its SFT
// comparison.
func TestFeedbackLinkGoesToTheFeedbackView(t *testing.T) {
	code, err := runspec.Encode(keptFeedbackSpec(EN))
	require.NoError(t, err)
	require.Equal(t, viewFeedback, linkView("r="+code))
	h := &fakeHost{}
	c := &compareState{host: h, form: defaultCompareSetup(EN)}
	c.openLink("r=" + code)
	require.Nil(t, c.link)
	require.Nil(t, c.cmp)
	require.Empty(t, h.fetches)
}
