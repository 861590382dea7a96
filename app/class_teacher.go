package app

import (
	"strings"

	"pretune/core/feedback"
	"pretune/core/runspec"
)

// classTeacher is the class the teacher opened: what the board shows (the code, the link), the
// secret the teacher's calls carry, and the live figures.
type classTeacher struct {
	Info    classInfo
	Secret  string
	Stats   *classStats
	Err     *classError // the last failed poll, use or export
	poll    func()      // stops the pending poll; nil when none is pending
	polling bool        // a stats request is on its way
	Busy    bool        // the class's picks are being fetched
	Used    int         // how many picks "use" put in the view, 0 before
}

// classOpen opens a class named name in the page's language and keeps its secret in this
// browser, so a reload shows the same class.
func (f *feedbackState) classOpen(name string, l Lang) {
	name = strings.TrimSpace(name)
	if f.class.Opening || name == "" {
		return
	}
	f.class.Opening, f.class.OpenErr = true, nil
	f.class.api.openClass(name, string(l), func(info classInfo, err error) {
		f.class.Opening = false
		if err != nil {
			f.class.OpenErr = classErrOf(err)
			return
		}
		f.class.host.setLocal(classKeyPrefix+info.Code, info.Secret)
		f.class.host.setLocal(classOpenKey, info.Code)
		f.classTeach(info, info.Secret)
	})
}

// classResume shows the class this browser opened before, if its secret is here.
func (f *feedbackState) classResume() {
	code := f.class.host.local(classOpenKey)
	secret := f.class.host.local(classKeyPrefix + code)
	if code == "" || secret == "" || f.class.teacher != nil {
		return
	}
	f.class.api.getClass(code, func(info classInfo, err error) {
		if err != nil {
			// A class the server no longer has (another DIR) is forgotten; a network error
			// leaves it for the next reload.
			if ce, ok := err.(*classError); ok && ce.Status == 404 {
				f.class.host.setLocal(classOpenKey, "")
			}
			return
		}
		if f.class.teacher == nil {
			f.classTeach(info, secret)
		}
	})
}

func (f *feedbackState) classTeach(info classInfo, secret string) {
	f.classStopPoll()
	info.Secret = "" // kept in localStorage and in Secret, not shown
	f.class.teacher = &classTeacher{Info: info, Secret: secret}
	f.classShow(f.class.Visible)
}

// classForget leaves the class on this page (to open another); its secret stays in
// localStorage under its code, so nothing the teacher may need is lost.
func (f *feedbackState) classForget() {
	f.classStopPoll()
	f.class.teacher = nil
	f.class.host.setLocal(classOpenKey, "")
}

// classLink is the link students open: the page itself with the class's code.
func (f *feedbackState) classLink() string {
	if f.class.teacher == nil {
		return ""
	}
	return f.class.host.origin() + "/#class=" + f.class.teacher.Info.Code
}

// classShow says whether the teacher's panel shows: the class is polled every classPollEvery
// only while it does, so a hidden tab does not keep asking.
func (f *feedbackState) classShow(visible bool) {
	f.class.Visible = visible
	t := f.class.teacher
	if t == nil {
		return
	}
	if !visible || f.classStudentMode() { // a student's page shows no teacher's panel
		f.classStopPoll()
		return
	}
	if t.poll == nil && !t.polling {
		f.classPoll(t)
	}
}

func (f *feedbackState) classStopPoll() {
	if t := f.class.teacher; t != nil && t.poll != nil {
		t.poll()
		t.poll = nil
	}
}

// classPoll asks for the figures now and again classPollEvery after each answer (never two
// requests at once, however slow the server).
func (f *feedbackState) classPoll(t *classTeacher) {
	t.poll, t.polling = nil, true
	f.class.api.stats(t.Info.Code, t.Secret, func(s classStats, err error) {
		t.polling = false
		if t != f.class.teacher {
			return
		}
		if err != nil {
			t.Err = classErrOf(err)
			if t.Err.Status == 403 || t.Err.Status == 404 {
				return // the secret or the class is gone: asking again changes nothing
			}
		} else {
			t.Stats, t.Err = &s, nil
		}
		if f.class.Visible {
			t.poll = f.class.host.after(classPollEvery, func() {
				t.poll = nil
				if t == f.class.teacher && f.class.Visible {
					f.classPoll(t)
				}
			})
		}
	})
}

// classUsePicks replaces the view's picks with the class's (the learners', so the reward model
// is the only judge), and opens the class's model when none is open, so the reward model and
// the methods run as they do on the teacher's own picks.
func (f *feedbackState) classUsePicks() {
	t := f.class.teacher
	if t == nil || t.Busy || f.busy() {
		return
	}
	t.Busy = true
	f.class.api.allPicks(t.Info.Code, t.Secret, func(data []byte, err error) {
		t.Busy = false
		if t != f.class.teacher {
			return
		}
		if err != nil {
			t.Err = classErrOf(err)
			return
		}
		pairs, err := feedback.ParsePairs("class.jsonl", data)
		if err != nil {
			t.Err = classErrOf(err)
			return
		}
		t.Err = nil
		f.picks.setPairs(pairs, false)
		t.Used = len(pairs)
		f.reward = nil
		f.changed()
		if f.sft == nil && !f.busy() {
			if spec, err := runspec.Decode(t.Info.Spec); err == nil && spec.Feeds() {
				f.choice = startChoice{Kind: startKept}
				f.findSFT(spec)
			}
		}
	})
}

// classExport offers the class's picks as the server has them (TRL's preference format).
func (f *feedbackState) classExport() {
	t := f.class.teacher
	if t == nil || t.Busy {
		return
	}
	t.Busy = true
	f.class.api.allPicks(t.Info.Code, t.Secret, func(data []byte, err error) {
		t.Busy = false
		if err != nil {
			t.Err = classErrOf(err)
			return
		}
		f.host.download(data, "class-"+t.Info.Code+".jsonl")
	})
}
