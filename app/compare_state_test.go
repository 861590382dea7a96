package app

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/compare"
	"pretune/core/job"
	"pretune/core/protocol"
	"pretune/core/runspec"
)

// baseForm is the English built-in base with two methods, full fine-tuning and LoRA, for 20
// steps, and the kept base file it starts from.
func baseForm(t *testing.T) (compareSetup, []byte) {
	t.Helper()
	f := defaultCompareSetup(EN)
	require.NoError(t, f.SetSteps("20"))
	for i := range f.Methods {
		f.Methods[i].On = f.Methods[i].Kind == compare.Full || f.Methods[i].Kind == compare.LoRA
	}
	data, err := os.ReadFile("../web/base/en-base.ckpt")
	require.NoError(t, err)
	return f, data
}

// TestCompareStateRunsTheForm: the run button fetches the chosen built-in base, then starts one
// worker per method with it; a method's worker ends with its method, a LoRA method's after it
// gave its adapter file; an adapter file loaded afterwards is answered in a worker of its own.
func TestCompareStateRunsTheForm(t *testing.T) {
	f, data := baseForm(t)
	want, err := f.Spec(EN)
	require.NoError(t, err)
	h := &fakeHost{}
	c := &compareState{host: h, form: f}
	c.runForm(EN)
	require.Equal(t, []string{"en-base"}, h.fetches)
	require.Empty(t, h.workers, "no worker before the base")
	cmp := c.cmp
	require.Equal(t, phaseBase, cmp.Phase)
	require.True(t, c.running())

	h.fetched[0](data, nil)
	require.Equal(t, phaseFineTune, cmp.Phase)
	require.Equal(t, "base.note.kept", cmp.BaseNote)
	require.Equal(t, data, cmp.BaseData)
	specs := methodSpecs(want)
	require.Len(t, h.workers, len(specs))
	for i, w := range h.workers {
		start := w.sent[0]
		require.Equal(t, protocol.Start, start.Kind)
		require.Equal(t, data, start.Base)
		got, err := runspec.Decode(start.Code)
		require.NoError(t, err)
		require.Equal(t, specs[i], got, "worker %d runs its method", i)
		require.Equal(t, start.ID, cmp.Lanes[i].ReqID)
	}

	answers := heldOut(t, 2)
	full, lora := h.workers[0], h.workers[1]
	full.say(workerMessages(1, "full", answers, 1, 0.25, 30016, 240128, 12.5)...)
	require.Equal(t, statusDone, cmp.Lanes[0].Status)
	require.True(t, full.closed, "its method is over")
	require.Nil(t, c.workers[0])

	lora.say(workerMessages(1, "lora", answers, 0.5, 0, 1024, 8192, 7.25)...)
	require.Equal(t, phaseDone, cmp.Phase)
	require.False(t, lora.closed, "the adapter file first")
	require.Equal(t, protocol.Request{ID: 2, Kind: protocol.Save, Format: protocol.FormatAdapter, Method: "lora"}, lora.last())
	lora.say(protocol.Message{ID: 2, Kind: protocol.Saved, Format: protocol.FormatAdapter, Data: []byte("adapter")})
	require.Equal(t, []byte("adapter"), cmp.Lanes[1].Adapter)
	require.True(t, lora.closed)
	require.False(t, c.running())

	c.loadAdapter(cmp, "mine.safetensors", nil)
	require.Equal(t, statusFailed, cmp.Loaded.Status, "an empty file needs no worker to be refused")
	require.Equal(t, protocol.CodeAdapterDamaged, cmp.Loaded.Code)
	require.Len(t, h.workers, 2)

	c.loadAdapter(cmp, "mine.safetensors", []byte("file"))
	ld := h.worker(t, 2)
	req := ld.sent[0]
	require.Equal(t, protocol.LoadAdapter, req.Kind)
	require.Equal(t, data, req.Base)
	require.Equal(t, []byte("file"), req.Adapter)
	ld.say(protocol.Message{ID: 1, Kind: protocol.Result, Event: &job.Event{Event: "result", Method: compare.Loaded, Answers: answers}},
		protocol.Message{ID: 1, Kind: protocol.Done})
	require.Equal(t, statusDone, cmp.Loaded.Status)
	require.True(t, ld.closed)
	require.Nil(t, c.loadWorker)
}

// TestCompareStateBaseFailures: a base that cannot be had says why, and no method starts.
func TestCompareStateBaseFailures(t *testing.T) {
	f, data := baseForm(t)
	zh, err := os.ReadFile("../web/base/zh-base.ckpt")
	require.NoError(t, err)
	tests := []struct {
		name    string
		data    []byte
		err     error
		key     string
		detail  string
		damaged bool
	}{
		{"missing", nil, errors.New("HTTP 404 Not Found"), "base.err.missing", "web/base/en-base.ckpt: HTTP 404 Not Found", false},
		{"damaged", []byte("PRETUNE\x00 but not really"), nil, "base.err.damaged", "", true},
		{"another model", zh, nil, "base.err.not_this", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &fakeHost{}
			c := &compareState{host: h, form: f}
			c.runForm(EN)
			h.fetched[0](tc.data, tc.err)
			require.Equal(t, phaseFailed, c.cmp.Phase)
			require.Equal(t, tc.key, c.cmp.ErrKey)
			if tc.detail != "" {
				require.Equal(t, tc.detail, c.cmp.ErrDetail)
			}
			require.Equal(t, tc.damaged, c.cmp.ErrCheckpoint != nil)
			require.Empty(t, h.workers)
			require.False(t, c.cmp.Started)
		})
	}

	// The model just pretrained: not ready, or its worker cannot give it.
	pf := f
	pf.Base = basePretrained
	c := &compareState{host: &fakeHost{}, form: pf}
	c.runForm(EN)
	require.Equal(t, "base.err.no_pretrained", c.cmp.ErrKey)

	var asked int
	c.pretrained = pretrainedModel{Ready: true, Spec: f.Pre, save: func(done func([]byte, error)) {
		asked++
		done(nil, errors.New("the pretraining view closed"))
	}}
	c.runForm(EN)
	require.Equal(t, 1, asked)
	require.Equal(t, "base.err.save", c.cmp.ErrKey)
	require.Equal(t, "the pretraining view closed", c.cmp.ErrDetail)

	c.pretrained.save = func(done func([]byte, error)) { done(data, nil) }
	h := &fakeHost{}
	c.host = h
	c.runForm(EN)
	require.Equal(t, "base.note.pretrained", c.cmp.BaseNote)
	require.Len(t, h.workers, 2)
}

// TestCompareStatePretrainsALinksBase: a link whose base is kept nowhere here pretrains it first
// in one worker, takes the model as a base file and fans out; the link's language is the page's;
// stopping ends every worker.
func TestCompareStatePretrainsALinksBase(t *testing.T) {
	f, data := baseForm(t)
	spec, err := f.Spec(ZH)
	require.NoError(t, err)
	spec.Lang, spec.Fingerprint = string(ZH), "cpu:00000000000a"
	code, err := runspec.Encode(spec)
	require.NoError(t, err)

	h := &fakeHost{}
	c := &compareState{host: h, form: defaultCompareSetup(EN)}
	c.openLink("r=" + code)
	require.Equal(t, []Lang{ZH}, h.langs)
	require.NotNil(t, c.link)
	require.Equal(t, []string{"en-base"}, h.fetches, "a link's built-in base is looked for first")
	h.fetched[0](nil, errors.New("HTTP 404 Not Found"))
	cmp := c.cmp
	require.Equal(t, phasePretrain, cmp.Phase)
	require.Equal(t, "base.note.missing", cmp.BaseNote)
	pre := h.worker(t, 0)
	got, err := runspec.Decode(pre.sent[0].Code)
	require.NoError(t, err)
	require.True(t, samePretraining(spec, got))
	require.Equal(t, "cpu:00000000000a", got.Fingerprint, "the worker checks the link's fingerprint")

	pre.say(finishRun(1, "cpu:00000000000a")...)
	require.Equal(t, "cpu:00000000000a", cmp.PretrainResult.Fingerprint)
	require.Equal(t, protocol.Request{ID: 2, Kind: protocol.Save, Format: protocol.FormatBase}, pre.last())
	pre.say(protocol.Message{ID: 2, Kind: protocol.Saved, Format: protocol.FormatBase, Data: data})
	require.True(t, pre.closed)
	require.Equal(t, phaseFineTune, cmp.Phase)
	require.Equal(t, "base.note.missing", cmp.BaseNote)
	require.Len(t, h.workers, 3, "the pretraining's, then one per method")

	c.stop()
	require.Equal(t, phaseStopped, cmp.Phase)
	for i, w := range h.workers {
		require.True(t, w.closed, "worker %d", i)
	}
	h.workers[1].say(workerMessages(1, "full", heldOut(t, 2), 1, 0.25, 30016, 240128, 12.5)...)
	require.Equal(t, statusStopped, cmp.Lanes[0].Status, "a stopped lane's late messages change nothing")

	// A pretraining that fails fails the comparison; a newer comparison ignores the old one's
	// worker.
	h = &fakeHost{}
	c = &compareState{host: h, form: defaultCompareSetup(EN)}
	c.openLink("r=" + code)
	h.fetched[0](nil, errors.New("HTTP 404 Not Found"))
	old := c.cmp
	h.worker(t, 0).say(protocol.Message{ID: 1, Kind: protocol.Error, Error: "device lost"})
	require.Equal(t, phaseFailed, old.Phase)
	require.Equal(t, "base.err.pretrain", old.ErrKey)
	c.runAnyway()
	require.NotSame(t, old, c.cmp)
	require.Equal(t, phaseBase, c.cmp.Phase, "run anyway: the base is looked for again")

	// A kept base that is another pretraining: the link's is pretrained here instead.
	zh, err := os.ReadFile("../web/base/zh-base.ckpt")
	require.NoError(t, err)
	h.fetched[1](zh, nil)
	require.Equal(t, phasePretrain, c.cmp.Phase)
	require.Equal(t, "base.note.not_kept", c.cmp.BaseNote)
	require.Len(t, h.workers, 2)
}

// TestCompareStateIgnoresAnOldComparison: a message from a comparison the learner replaced
// reaches neither the new comparison nor its workers.
func TestCompareStateIgnoresAnOldComparison(t *testing.T) {
	f, data := baseForm(t)
	h := &fakeHost{}
	c := &compareState{host: h, form: f}
	c.runForm(EN)
	h.fetched[0](data, nil)
	oldFull := h.worker(t, 0)
	c.runForm(EN)
	require.True(t, oldFull.closed, "a new comparison ends the old one's workers")
	h.fetched[1](data, nil)
	require.Len(t, h.workers, 4)
	oldFull.say(workerMessages(1, "full", heldOut(t, 2), 1, 0.25, 30016, 240128, 12.5)...)
	require.Equal(t, statusStarting, c.cmp.Lanes[0].Status)
	require.False(t, h.workers[2].closed, "the new comparison's worker for the same method goes on")
	require.NotNil(t, c.workers[0])
}
