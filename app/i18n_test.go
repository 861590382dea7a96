package app

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"pretune/core"
	"pretune/core/compare"
	"pretune/core/corpus"
	"pretune/core/protocol"
	"pretune/core/runspec"
	"pretune/core/task"
)

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestTablesHaveTheSameKeys: every English text has its Chinese one and the other way round.
func TestTablesHaveTheSameKeys(t *testing.T) {
	require.Equal(t, keys(en), keys(zh))
}

// verbs lists a text's fmt verbs, so a translation takes the same arguments.
var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// TestChineseIsChinese: no Chinese entry is left in English (each has Han characters), and each
// takes the same arguments as its English one.
func TestChineseIsChinese(t *testing.T) {
	for _, k := range keys(zh) {
		t.Run(k, func(t *testing.T) {
			v := zh[k]
			han := false
			for _, r := range v {
				han = han || unicode.Is(unicode.Han, r)
			}
			require.True(t, han, "zh[%q] = %q has no Chinese", k, v)
			// Latin words left in are English; only an encoding's name may stay.
			for _, w := range regexp.MustCompile(`[A-Za-z]{3,}`).FindAllString(verbRE.ReplaceAllString(v, ""), -1) {
				if w == "UTF" {
					continue
				}
				t.Errorf("zh[%q] has the English word %q", k, w)
			}
			ev, zv := verbRE.FindAllString(en[k], -1), verbRE.FindAllString(v, -1)
			sort.Strings(ev)
			sort.Strings(zv)
			require.Equal(t, ev, zv, "the same format verbs in both languages")
		})
	}
}

// TestEveryKeyUsedExists reads the package's source for T("key") calls, and lists the keys
// built from values (a corpus id, a status...), and checks both tables have them all.
func TestEveryKeyUsedExists(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	used := map[string]bool{}
	re := regexp.MustCompile(`T\("([a-z_.0-9-]+)"\s*[,)]`)
	// tryThis links and the error tables name their keys as plain strings.
	tryRE := regexp.MustCompile(`tryThis\(l, "([a-z_.0-9-]+)"|"((?:link|ckpt)\.err\.[a-z_]+|link\.corpus_changed|base\.(?:err|note)\.[a-z_]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
		if f == "i18n.go" { // the tables name every key: that is no use
			continue
		}
		for _, m := range tryRE.FindAllStringSubmatch(string(src), -1) {
			used[m[1]+m[2]] = true
		}
	}
	require.Greater(t, len(used), 100, "the scan found the calls")
	for _, id := range corpus.Builtins() {
		used["corpus."+id] = true
	}
	for _, p := range core.SizePresets() {
		used["size."+p.Name] = true
	}
	for _, p := range runspec.Presets() {
		used["preset."+p.Name] = true
		used["preset.about."+p.Name] = true
	}
	// The built-in runs tab's names built from presets and views.
	for _, p := range append(runspec.ComparisonPresets(), runspec.FeedbackPresets()...) {
		used["presets.name."+p.Name] = true
		used["presets.about."+p.Name] = true
	}
	for _, v := range []string{viewPretrain, viewCompare, viewFeedback} {
		used["presets.kind."+v] = true
		used["presets.run."+v] = true
	}
	for _, s := range []string{statusStarting, statusRunning, statusPaused, statusDone, statusStopped, statusFailed} {
		used["status."+s] = true
	}
	for _, a := range runNames {
		used["animal."+a] = true
	}
	for _, k := range []string{"software", "none", "other"} {
		used["fallback."+k] = true
	}
	for _, v := range views {
		used["nav."+v] = true
	}
	for _, f := range fields {
		used["field."+f.Key] = true
	}
	for _, c := range []string{"not_number", "not_integer", "heads", "warmup", "shards"} {
		used["field.err."+c] = true
	}
	for _, c := range []string{corpus.CodeEmpty, corpus.CodeBinary, corpus.CodeInvalidUTF8, corpus.CodeTooLarge, corpus.CodeTooShort} {
		used["text.err."+c] = true
	}
	for _, d := range deviceChoices {
		used["device."+d] = true
	}
	// The compare view's names built from values.
	for _, b := range append(builtinBases(), basePretrained, baseLink) {
		used["base."+b] = true
	}
	for _, id := range task.Builtins() {
		used["task."+id] = true
	}
	used["task."+runspec.UserTask] = true
	for _, k := range []string{task.KindGenerate, task.KindClassify} {
		used["task.kind."+k] = true
		used["usertask.kind."+k] = true
		used["usertask.placeholder."+k] = true
		used["usertask.formats."+k] = true
	}
	for _, k := range compare.Kinds {
		used["method."+k] = true
		used["method.about."+k] = true
		for _, f := range fieldsOf(k) {
			used["mfield."+f.Key] = true
		}
	}
	for _, p := range []string{phaseBase, phasePretrain, phaseFineTune, phaseDone, phaseStopped, phaseFailed} {
		used["phase."+p] = true
	}
	for _, m := range []string{"matches", "differs", "other-device"} {
		used["cmp.match."+m] = true
		used["cmp.fp."+m] = true
	}
	// The LoRA view's names built from values.
	for _, m := range adapterModes {
		used["lora.mode."+m] = true
		used["lora.mode_about."+m] = true
	}
	for _, c := range []string{protocol.CodeAdapterDamaged, protocol.CodeAdapterNotLoRA, protocol.CodeAdapterMismatch} {
		used["lora.err."+c] = true
	}
	// The feedback view's tuning piece: names built from kinds, fields and win judges.
	for _, k := range tuningKeys() {
		used[k] = true
	}
	// The results columns' explanations.
	for _, k := range columnKeys {
		used[k], used["about."+k] = true, true
	}
	// The teacher panel's names built from ids (teacher_view.go).
	for _, c := range lessonControls {
		used[controlKey(c.ID)] = true
	}
	for _, s := range lessonStepIDs {
		used["lesson.step."+s] = true
	}
	for _, r := range teacherRuns {
		used["teacher.run."+r] = true
	}
	for _, m := range []string{"show", modeHide, modeFix} {
		used["teacher.mode."+m] = true
	}
	for _, k := range pathKeys() { // the guided path's, built from its steps
		used[k] = true
	}
	for k := range used {
		require.Contains(t, en, k, "English has no %q", k)
		require.Contains(t, zh, k, "Chinese has no %q", k)
	}
	for k := range en {
		require.True(t, used[k], "%q is in the tables but never used", k)
	}
}

func TestT(t *testing.T) {
	require.Equal(t, "step 3 of 60", EN.T("live.step", 3, 60))
	require.Equal(t, "第 3 步，共 60 步", ZH.T("live.step", 3, 60))
	require.Equal(t, "[no.such.key]", ZH.T("no.such.key"))
	require.Equal(t, EN.T("btn.start"), Lang("fr").T("btn.start"), "an unknown language shows English")
	require.Equal(t, "Largest loss difference from run otter: 0.01, over 3 evaluations.", EN.T("match.max_diff", "0.01", 3, "otter"))
}
