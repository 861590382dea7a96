package task

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"pretune/core/corpus"
)

// builtin describes one built-in task; make writes its examples from the world in a fixed order
// and split divides them with the seeded generator.
type builtin struct {
	lang, kind, name string
	seed             uint64
	labels           []string
	pairs            func(w *corpus.World) []Pair
	claims           func(w *corpus.World) []claim
}

var builtins = map[string]builtin{
	"en-facts": {lang: "en", kind: KindGenerate, name: "Questions about the world (English)", seed: 0x656e2d6661637473, pairs: enQuestions},
	"zh-facts": {lang: "zh", kind: KindGenerate, name: "Questions about the world (Chinese)", seed: 0x7a682d6661637473, pairs: zhQuestions},
	"en-truth": {lang: "en", kind: KindClassify, name: "True or false (English)", seed: 0x656e2d7472757468,
		labels: []string{"true", "false"}, claims: enClaims},
	"zh-truth": {lang: "zh", kind: KindClassify, name: "True or false (Chinese)", seed: 0x7a682d7472757468,
		labels: []string{"对", "错"}, claims: zhClaims},
}

// valEvery: one example in valEvery goes to the held-out part (20%). The built-in tasks are
// small, so a larger share than the corpora's keeps the held-out accuracy from jumping in
// steps too coarse to read.
const valEvery = 5

var (
	cacheMu sync.Mutex
	cache   = map[string]*Task{}
)

// Builtins lists the ids of the built-in tasks in a fixed order.
func Builtins() []string {
	ids := make([]string, 0, len(builtins))
	for id := range builtins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Builtin returns the built-in task with the given id, generating it on first use. Each call
// returns a fresh copy whose slices the caller may modify.
func Builtin(id string) (*Task, error) {
	b, ok := builtins[id]
	if !ok {
		return nil, fmt.Errorf("task: unknown built-in task %q; the built-in tasks are %s",
			id, strings.Join(Builtins(), ", "))
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	t, ok := cache[id]
	if !ok {
		t = generate(id, b)
		cache[id] = t
	}
	return t.Clone(), nil
}

func generate(id string, b builtin) *Task {
	w := corpus.TheWorld()
	r := corpus.NewRand(b.seed)
	t := &Task{ID: id, Lang: b.lang, Kind: b.kind, Name: b.name}
	if b.kind == KindGenerate {
		pairs := b.pairs(w)
		r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		for i, p := range pairs {
			if i%valEvery == valEvery-1 {
				t.ValPairs = append(t.ValPairs, p)
			} else {
				t.TrainPairs = append(t.TrainPairs, p)
			}
		}
		return t
	}
	// One true and one false statement per claim: the labels are balanced by construction, and
	// splitting each label's list alike keeps both parts balanced.
	t.Labels = append([]string(nil), b.labels...)
	var byLabel [2][]Example
	for _, c := range b.claims(w) {
		wrong := (c.truth + 1 + r.Intn(c.n-1)) % c.n
		byLabel[0] = append(byLabel[0], Example{Text: c.say(c.truth), Label: 0})
		byLabel[1] = append(byLabel[1], Example{Text: c.say(wrong), Label: 1})
	}
	for label := range byLabel {
		ex := byLabel[label]
		r.Shuffle(len(ex), func(i, j int) { ex[i], ex[j] = ex[j], ex[i] })
		for i, e := range ex {
			if i%valEvery == valEvery-1 {
				t.ValExamples = append(t.ValExamples, e)
			} else {
				t.TrainExamples = append(t.TrainExamples, e)
			}
		}
	}
	// The lists stay grouped by label: a trainer draws its batches with its own data-order
	// stream, never in list order.
	return t
}

// claim is one fact with n possible values of which truth is the right one; say writes the
// statement for any value.
type claim struct {
	n, truth int
	say      func(v int) string
}

func enQuestions(w *corpus.World) []Pair {
	var out []Pair
	add := func(answer string, prompts ...string) {
		for _, p := range prompts {
			out = append(out, Pair{Prompt: p, Response: answer})
		}
	}
	for _, a := range w.Animals {
		the := "the " + a.En
		add(w.Places[a.Place].EnIn, "Where does "+the+" live?", "Where is "+the+"'s home?", "Where can you find "+the+"?")
		add(w.Foods[a.Food].En, "What does "+the+" eat?", "What food does "+the+" like?", "What is "+the+"'s favourite food?")
		add(w.Colours[a.Colour].En, "What colour is "+the+"?", "What is the colour of "+the+"?")
		add(corpus.SizeEn(a.Big), "Is "+the+" big or small?", "Is "+the+" a big or a small animal?")
		add(w.Habits[a.Habit].En, "What does "+the+" like to do?", "What does "+the+" love to do?")
	}
	for _, p := range w.People {
		add(w.Jobs[p.Job].En, "What is "+p.En+"'s job?", "What does "+p.En+" do for work?")
		add("a "+w.Animals[p.Pet].En, "What pet does "+p.En+" have?", "Which animal does "+p.En+" keep?")
		add(w.Colours[p.Colour].En, "What is "+p.En+"'s favourite colour?", "Which colour does "+p.En+" like best?")
	}
	return out
}

func zhQuestions(w *corpus.World) []Pair {
	var out []Pair
	add := func(answer string, prompts ...string) {
		for _, p := range prompts {
			out = append(out, Pair{Prompt: p, Response: answer})
		}
	}
	for _, a := range w.Animals {
		n := a.Zh
		size := corpus.SizeZh(a.Big)
		add(w.Places[a.Place].ZhIn, n+"住在哪里？", n+"的家在哪里？", "在哪里可以找到"+n+"？")
		add(w.Foods[a.Food].Zh, n+"吃什么？", n+"爱吃什么？", n+"最喜欢吃什么？")
		add(w.Colours[a.Colour].Zh, n+"是什么颜色的？", n+"的颜色是什么？")
		add(size+"的", n+"是大的还是小的？")
		add(size+"动物", n+"是大动物还是小动物？")
		add(w.Habits[a.Habit].Zh, n+"喜欢做什么？", n+"常常做什么？")
	}
	for _, p := range w.People {
		pet := w.Animals[p.Pet]
		add(w.Jobs[p.Job].Zh, p.Zh+"是做什么的？", p.Zh+"做什么工作？")
		add("一"+pet.ZhMeasure+pet.Zh, p.Zh+"养了什么动物？", p.Zh+"家里有什么动物？")
		add(w.Colours[p.Colour].Zh, p.Zh+"最喜欢什么颜色？", p.Zh+"最喜欢的颜色是什么？")
	}
	return out
}

func capFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func bigSmall(v int) bool { return v == 1 }

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

func enClaims(w *corpus.World) []claim {
	var out []claim
	for _, a := range w.Animals {
		the, plural := "The "+a.En, capFirst(a.EnPlural)
		out = append(out,
			claim{len(w.Places), a.Place, func(v int) string { return the + " lives " + w.Places[v].EnIn + "." }},
			claim{len(w.Places), a.Place, func(v int) string { return plural + " live " + w.Places[v].EnIn + "." }},
			claim{len(w.Foods), a.Food, func(v int) string { return the + " eats " + w.Foods[v].En + "." }},
			claim{len(w.Foods), a.Food, func(v int) string { return the + " likes to eat " + w.Foods[v].En + "." }},
			claim{len(w.Colours), a.Colour, func(v int) string { return the + " is " + w.Colours[v].En + "." }},
			claim{2, boolIndex(a.Big), func(v int) string { return the + " is " + corpus.SizeEn(bigSmall(v)) + "." }},
			claim{2, boolIndex(a.Big), func(v int) string { return the + " is a " + corpus.SizeEn(bigSmall(v)) + " animal." }},
			claim{len(w.Habits), a.Habit, func(v int) string { return the + " likes to " + w.Habits[v].En + "." }},
		)
	}
	for _, p := range w.People {
		name := p.En
		out = append(out,
			claim{len(w.Jobs), p.Job, func(v int) string { return name + " is a " + w.Jobs[v].En + "." }},
			claim{len(w.Animals), p.Pet, func(v int) string { return name + " has a " + w.Animals[v].En + "." }},
			claim{len(w.Colours), p.Colour, func(v int) string { return name + "'s favourite colour is " + w.Colours[v].En + "." }},
		)
	}
	return out
}

func zhClaims(w *corpus.World) []claim {
	var out []claim
	for _, a := range w.Animals {
		n := a.Zh
		out = append(out,
			claim{len(w.Places), a.Place, func(v int) string { return n + "住在" + w.Places[v].ZhIn + "。" }},
			claim{len(w.Places), a.Place, func(v int) string { return n + "的家在" + w.Places[v].ZhIn + "。" }},
			claim{len(w.Foods), a.Food, func(v int) string { return n + "吃" + w.Foods[v].Zh + "。" }},
			claim{len(w.Foods), a.Food, func(v int) string { return n + "爱吃" + w.Foods[v].Zh + "。" }},
			claim{len(w.Colours), a.Colour, func(v int) string { return n + "是" + w.Colours[v].Zh + "的。" }},
			claim{2, boolIndex(a.Big), func(v int) string { return n + "很" + corpus.SizeZh(bigSmall(v)) + "。" }},
			claim{2, boolIndex(a.Big), func(v int) string { return n + "是一种" + corpus.SizeZh(bigSmall(v)) + "动物。" }},
			claim{len(w.Habits), a.Habit, func(v int) string { return n + "喜欢" + w.Habits[v].Zh + "。" }},
		)
	}
	for _, p := range w.People {
		name := p.Zh
		out = append(out,
			claim{len(w.Jobs), p.Job, func(v int) string { return name + "是一名" + w.Jobs[v].Zh + "。" }},
			claim{len(w.Animals), p.Pet, func(v int) string {
				return name + "养了一" + w.Animals[v].ZhMeasure + w.Animals[v].Zh + "。"
			}},
			claim{len(w.Colours), p.Colour, func(v int) string { return name + "最喜欢" + w.Colours[v].Zh + "。" }},
		)
	}
	return out
}
