package app

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"pretune/core/runspec"
)

// oldFragments are the fragment forms before teacher links, with what they meant: the code a
// view opens (and whether it runs it) and the view the page shows.
var oldFragments = []struct {
	frag, code string
	run, link  bool
	view       string
}{
	{"r=1abc", "1abc", true, true, viewPretrain},
	{"o=1abc", "1abc", false, true, viewPretrain},
	{"r=1abc~kq3", "1abc", true, true, viewPretrain},
	{"o=1abc~kq3", "1abc", false, true, viewPretrain},
	{"r=", "", true, true, viewPretrain},
	{"class=K7QX", "", false, false, viewFeedback},
	{"class=K7QX~1", "", false, false, viewFeedback},
	{"view=presets", "", false, false, viewPresets},
	{"view=feedback~kq3", "", false, false, viewFeedback},
	{"view=nothing", "", false, false, ""},
	{"x=1abc", "", false, false, ""},
	{"", "", false, false, ""},
}

// TestOldFragmentsKeepTheirMeaning: every fragment form links had before lesson options opens
// the same code, run or not, in the same view, carries no lesson, and writes back unchanged.
func TestOldFragmentsKeepTheirMeaning(t *testing.T) {
	for _, c := range oldFragments {
		t.Run(c.frag, func(t *testing.T) {
			code, run, ok := linkFragment(c.frag)
			require.Equal(t, []any{c.code, c.run, c.link}, []any{code, run, ok})
			require.Equal(t, c.view, linkView(c.frag))
			f := parseFragment(c.frag)
			require.False(t, f.HasLesson)
			require.True(t, f.Lesson.IsZero())
			if c.frag != "x=1abc" { // not a base: an unknown option, reported
				require.Empty(t, f.Ignored)
				require.Equal(t, c.frag, f.String())
			} else {
				require.Equal(t, []string{"x=1abc"}, f.Ignored)
			}
		})
	}
	// A real run's link, with options after it, still opens its run, in the page and in runspec
	// (the CLI's -run and any tool reading the URL).
	code, err := runspec.Encode(runspec.Presets()[0].Spec)
	require.NoError(t, err)
	got, run, ok := linkFragment("r=" + code + "&hide=lr&fix=steps:20~n1")
	require.Equal(t, []any{code, true, true}, []any{got, run, ok})
	spec, err := runspec.Decode("http://127.0.0.1:8080/#r=" + code + "&views=pretrain&hide=lr")
	require.NoError(t, err)
	require.Equal(t, runspec.Presets()[0].Spec.Config, spec.Config)
}

// TestFragmentRoundTrip: a fragment written from a lesson reads back as the same lesson, and a
// fragment in the written form writes back unchanged.
func TestFragmentRoundTrip(t *testing.T) {
	lessons := []fragment{
		{Lesson: Lesson{Views: []string{viewPretrain, viewCompare}}},
		{Base: "r", Value: "1abc", Lesson: Lesson{Hide: []string{"lr", "seed", "cmp.methods"}, Fix: []fixedValue{{"steps", "200"}, {"device", "cpu"}}}},
		{Base: "o", Value: "2xyz", Nonce: "kq3", Lesson: Lesson{Steps: []string{"pretrain", "sft"}, Lang: ZH, Projector: true}},
		{Base: "class", Value: "K7QX", Lesson: Lesson{Lang: EN}},
		{Base: "view", Value: viewCompare, Lesson: Lesson{Views: []string{}, Steps: []string{}}},
		{Lesson: Lesson{Fix: []fixedValue{{"corpus", "zh-world"}, {"size", "small"}, {"lr", "0.01"}}}},
	}
	for _, want := range lessons {
		s := want.String()
		t.Run(s, func(t *testing.T) {
			got := parseFragment(s)
			require.Empty(t, got.Ignored)
			require.True(t, got.HasLesson)
			want.HasLesson = true
			require.Equal(t, want, got)
			require.Equal(t, s, got.String())
		})
	}
	require.Equal(t, "r=1abc&views=pretrain,compare&hide=steps,lr&fix=batch:4,lr:0.01&lang=zh&projector=1",
		parseFragment("r=1abc&projector=1&lang=zh&fix=lr:0.01,batch:4&hide=lr,steps&views=compare,pretrain").String(), "one lesson, one link: options in a fixed order, ids in the app's")
}

// TestFragmentBadInput: what a fragment cannot use is ignored and listed, what it can use
// still counts, and nothing panics.
func TestFragmentBadInput(t *testing.T) {
	cases := []struct {
		frag    string
		lesson  Lesson
		ignored []string
	}{
		{"r=1abc&colour=red", Lesson{}, []string{"colour=red"}},
		{"r=1abc&views=pretrain,nowhere", Lesson{Views: []string{viewPretrain}}, []string{"views=pretrain,nowhere"}},
		{"hide=lr,wings", Lesson{Hide: []string{"lr"}}, []string{"hide=lr,wings"}},
		{"fix=lr:abc,steps:20", Lesson{Fix: []fixedValue{{"steps", "20"}}}, []string{"fix=lr:abc,steps:20"}},
		{"fix=lr:5", Lesson{}, []string{"fix=lr:5"}},             // out of the form's range
		{"fix=steps:2.5", Lesson{}, []string{"fix=steps:2.5"}},   // not an integer
		{"fix=prompt:hi", Lesson{}, []string{"fix=prompt:hi"}},   // hide-only control
		{"fix=device:tpu", Lesson{}, []string{"fix=device:tpu"}}, // no such device
		{"fix=lr", Lesson{}, []string{"fix=lr"}},                 // no value
		{"lang=fr&projector=2", Lesson{}, []string{"lang=fr", "projector=2"}},
		{"steps=sft,bogus", Lesson{Steps: []string{"sft"}}, []string{"steps=sft,bogus"}},
		{"&&&=&~~", Lesson{}, []string{"="}},
		{"views=pretrain,pretrain,", Lesson{Views: []string{viewPretrain}}, nil},
	}
	for _, c := range cases {
		t.Run(c.frag, func(t *testing.T) {
			f := parseFragment(c.frag)
			require.Equal(t, c.lesson, f.Lesson)
			require.Equal(t, c.ignored, f.Ignored)
		})
	}
}

// FuzzParseFragment: any fragment reads without panicking, and what it reads writes a fragment
// that reads back the same (so a teacher's link survives being opened and shared again).
func FuzzParseFragment(f *testing.F) {
	for _, c := range oldFragments {
		f.Add(c.frag)
	}
	for _, s := range []string{"r=1abc&views=pretrain,compare&hide=lr,steps&fix=lr:0.01&lang=zh&projector=1", "fix=lr:1e-3,steps:20,,", "views=&steps=", "~&r=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := parseFragment(s)
		if strings.ContainsAny(a.Value, "&~") {
			t.Fatalf("%q: a code with & or ~: %q", s, a.Value)
		}
		b := parseFragment(a.String())
		if a.Base == "" && a.Value == "" && !a.HasLesson { // nothing to write back
			return
		}
		if b.Base != a.Base || b.Value != a.Value || b.Nonce != a.Nonce || len(b.Ignored) != 0 {
			t.Fatalf("%q -> %q -> %+v", s, a.String(), b)
		}
		if a.String() != b.String() {
			t.Fatalf("%q: %q then %q", s, a.String(), b.String())
		}
	})
}

// TestLessonNavViews: the nav offers the lesson's views in the app's order, plus the view a
// link's run opens in; no lesson offers every view.
func TestLessonNavViews(t *testing.T) {
	require.Equal(t, views, Lesson{}.navViews(views, viewPretrain))
	l := Lesson{Views: []string{viewCompare, viewPretrain}}
	require.Equal(t, []string{viewPretrain, viewCompare}, l.navViews(views, viewPretrain))
	require.Equal(t, []string{viewPretrain, viewCompare, viewFeedback}, l.navViews(views, viewFeedback))
}

// TestKeepOptions: a built-in run opened from a teacher's link keeps the link's options in the
// URL; a fragment with options of its own keeps its own.
func TestKeepOptions(t *testing.T) {
	require.Equal(t, "o=1x&views=presets&hide=lr", keepOptions("r=1abc&views=presets&hide=lr", "o=1x"))
	require.Equal(t, "o=1x&views=presets~k1", keepOptions("view=presets&views=presets", "o=1x~k1"))
	require.Equal(t, "o=1x", keepOptions("r=1abc", "o=1x"))
	require.Equal(t, "o=1x&lang=en", keepOptions("r=1abc&views=presets", "o=1x&lang=en"))
}

// TestFixSetup: fixed values reach the form, and through it every run Start starts; a size
// fixes the shape only.
func TestFixSetup(t *testing.T) {
	s := defaultSetup()
	lr := s.Cfg.LR
	fixSetup(&s, []fixedValue{{"steps", "20"}, {"device", "cpu"}, {"seed", "7"}})
	require.Equal(t, 20, s.Cfg.Steps)
	require.Equal(t, uint64(7), s.Cfg.Seed)
	require.Equal(t, runspec.DeviceCPU, s.Device)
	require.Equal(t, lr, s.Cfg.LR, "a value not fixed stays")
	require.LessOrEqual(t, s.Cfg.Warmup, 20)
	fixSetup(&s, []fixedValue{{"size", "small"}})
	require.Equal(t, "small", s.Size)
	require.Equal(t, 20, s.Cfg.Steps, "the size fixes the shape, not the schedule")

	st := pretrainState{host: &fakeHost{}, form: defaultSetup(), fixed: []fixedValue{{"lr", "0.01"}}}
	st.form.Cfg.LR = 0.5 // as a preset button would set it
	st.startForm(EN)
	require.NotNil(t, st.cur)
	require.Equal(t, float32(0.01), st.cur.Spec.Config.LR, "Start runs the fixed value")
}

// TestFixSpec: a run whose values the lesson fixes is unchanged (fingerprint kept); one they
// change becomes another run (fingerprint dropped).
func TestFixSpec(t *testing.T) {
	spec := runspec.Presets()[0].Spec
	spec.Fingerprint = "cpu:00000000000a"
	same, changed := fixSpec(spec, []fixedValue{{"steps", fmtNum(float64(spec.Config.Steps))}})
	require.False(t, changed)
	require.Equal(t, spec, same)
	other, changed := fixSpec(spec, []fixedValue{{"steps", "20"}})
	require.True(t, changed)
	require.Equal(t, 20, other.Config.Steps)
	require.Empty(t, other.Fingerprint)
}

// TestTeacherFormLink: the panel's ticks make the link they say: the views ticked (the panel
// itself left out by default), hidden and fixed controls, language, projector, and the current
// run embedded so the link reproduces it.
func TestTeacherFormLink(t *testing.T) {
	f := newTeacherForm()
	u, changed, bad, err := f.link("http://h/", teacherRunsNow{})
	require.NoError(t, err)
	require.False(t, changed)
	require.Empty(t, bad)
	require.Equal(t, "http://h/#views=path,pretrain,compare,feedback,bench,presets", u)

	f.Views = tick(f.Views, views, viewBench, false)
	f.Views = tick(f.Views, views, viewFeedback, false)
	f.Steps = tick(f.Steps, lessonStepIDs, "peft", false)
	f.Modes["lr"], f.Modes["steps"], f.Values["steps"] = modeHide, modeFix, "20"
	f.Modes["seed"], f.Values["seed"] = modeFix, "x" // refused, left out
	f.Lang, f.Projector = ZH, true
	u, _, bad, _ = f.link("http://h/", teacherRunsNow{})
	require.Equal(t, []string{"seed"}, bad)
	require.Equal(t, "http://h/#views=path,pretrain,compare,presets&steps=pretrain,sft,feedback&hide=lr&fix=steps:20&lang=zh&projector=1", u)

	spec := runspec.Presets()[0].Spec
	spec.Fingerprint = "cpu:00000000000a"
	f.Run = runPretrain
	u, changed, _, err = f.link("http://h/", teacherRunsNow{Pretrain: &spec})
	require.NoError(t, err)
	require.True(t, changed, "steps fixed at 20 change the run")
	fr := parseFragment(strings.TrimPrefix(u, "http://h/#"))
	require.Equal(t, "r", fr.Base)
	got, err := runspec.Decode(fr.Value)
	require.NoError(t, err)
	require.Equal(t, 20, got.Config.Steps)
	require.Equal(t, "zh", got.Lang)

	f.Modes["steps"], f.Run = "", runOpen
	u, changed, _, _ = f.link("http://h/", teacherRunsNow{Pretrain: &spec})
	require.False(t, changed)
	fr = parseFragment(strings.TrimPrefix(u, "http://h/#"))
	require.Equal(t, "o", fr.Base)
	got, err = runspec.Decode(fr.Value)
	require.NoError(t, err)
	require.Equal(t, "cpu:00000000000a", got.Fingerprint, "an unchanged run keeps its fingerprint: the link reproduces it")
}

// TestFixComparison: a comparison's fixed fine-tuning steps and seed reach the form, every
// comparison the run button starts, and the comparison a teacher's link embeds (whose methods'
// fingerprints then go, the pretraining's staying).
func TestFixComparison(t *testing.T) {
	f, _ := baseForm(t)
	fix := []fixedValue{{"cmp.steps", "7"}, {"cmp.seed", "5"}}
	c := &compareState{host: &fakeHost{}, form: f, fixed: fix}
	c.form.Steps, c.form.Seed = 30, 9 // typed before the lesson, or by a "try this"
	c.runForm(EN)
	require.NotNil(t, c.cmp)
	require.Equal(t, 7, c.cmp.Spec.FineTune.Steps)
	require.Equal(t, uint64(5), c.cmp.Spec.FineTuneSeed())

	spec, err := f.Spec(EN)
	require.NoError(t, err)
	spec.Fingerprint, spec.Fingerprints = "cpu:00000000000a", map[string]string{"base": "cpu:00000000000b"}
	same, changed := fixSpec(spec, []fixedValue{{"cmp.steps", fmtNum(float64(spec.FineTune.Steps))}, {"steps", "3"}})
	require.False(t, changed, "a plain run's steps do not touch a comparison")
	require.Equal(t, spec, same)
	other, changed := fixSpec(spec, fix)
	require.True(t, changed)
	require.Equal(t, runspec.ScheduleFor(7).Warmup, other.FineTune.Warmup)
	require.Equal(t, uint64(5), other.FineTuneSeed())
	require.Nil(t, other.Fingerprints)
	require.Equal(t, spec.Fingerprint, other.Fingerprint)
	require.Equal(t, 20, spec.FineTune.Steps, "the spec given is left as it was")
}
