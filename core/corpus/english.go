package corpus

import "strings"

// en writes English paragraphs about the world. Every paragraph is one line of sentences
// separated by single spaces; the facts it states come only from the tables in world.go, and
// everything chosen at random (times, weather, moods) is scenery that contradicts no fact.
type en struct {
	r *Rand
	w *World
}

var enTimes = []string{
	"One morning", "One day", "In the afternoon", "Last summer", "On Sunday",
	"Last week", "Early in the morning", "One evening", "After lunch", "In the spring",
}

var enWeather = []string{
	"The sun was warm.", "It was raining a little.", "The wind was cold.", "The sky was blue.",
	"It was a quiet day.", "There were white clouds in the sky.", "The air was fresh.",
}

// capFirst upper-cases the first letter; the grammar writes ASCII English only.
func capFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// subject returns the words that name the animal in a sentence after the first one: mostly
// "it", sometimes the full noun again, as people write.
func (g *en) subject(a *Animal, first bool) string {
	if first || g.r.Chance(1, 3) {
		return "the " + a.En
	}
	return "it"
}

func possessive(subj string) string {
	if subj == "it" {
		return "its"
	}
	return subj + "'s"
}

// pronouns returns the subject pronoun and the possessive for a person.
func pronouns(p *Person) (subj, poss string) {
	if p.She {
		return "she", "her"
	}
	return "he", "his"
}

// fact writes one sentence stating attribute k (0 home, 1 food, 2 colour, 3 size, 4 habit) of
// animal a, with subj naming it.
func (g *en) fact(a *Animal, k int, subj string) string {
	w := g.w
	named := subj != "it"
	switch k {
	case 0:
		place := w.Places[a.Place].EnIn
		switch g.r.Intn(4) {
		case 0:
			return subj + " lives " + place + "."
		case 1:
			return possessive(subj) + " home is " + place + "."
		case 2:
			if named {
				return a.EnPlural + " live " + place + "."
			}
			return subj + " lives " + place + "."
		default:
			return "you can find " + subj + " " + place + "."
		}
	case 1:
		food := w.Foods[a.Food].En
		switch g.r.Intn(4) {
		case 0:
			return subj + " eats " + food + "."
		case 1:
			return subj + " likes to eat " + food + "."
		case 2:
			return "every day, " + subj + " eats " + food + "."
		default:
			return possessive(subj) + " favourite food is " + food + "."
		}
	case 2:
		colour := w.Colours[a.Colour].En
		switch g.r.Intn(2) {
		case 0:
			return subj + " is " + colour + "."
		default:
			if subj == "it" {
				return "its colour is " + colour + "."
			}
			return "the colour of " + subj + " is " + colour + "."
		}
	case 3:
		size := SizeEn(a.Big)
		switch g.r.Intn(3) {
		case 0:
			return subj + " is " + size + "."
		case 1:
			return subj + " is a " + size + " animal."
		default:
			return subj + " is not " + SizeEn(!a.Big) + "."
		}
	default:
		h := w.Habits[a.Habit]
		switch g.r.Intn(3) {
		case 0:
			return subj + " likes to " + h.En + "."
		case 1:
			return subj + " often " + h.EnS + "."
		default:
			return "more than anything, " + subj + " likes " + h.EnIng + "."
		}
	}
}

// sentences joins sentences into one paragraph line, capitalising each.
func sentences(ss []string) string {
	for i := range ss {
		ss[i] = capFirst(ss[i])
	}
	return strings.Join(ss, " ")
}

func (g *en) profile() string {
	a := &g.w.Animals[g.r.Intn(len(g.w.Animals))]
	var ss []string
	if g.r.Chance(1, 2) {
		ss = append(ss, g.r.Pick("Let me tell you about the "+a.En+".", "This is the "+a.En+".",
			"Do you know the "+a.En+"?", "Here is what we know about the "+a.En+"."))
	}
	kinds := []int{0, 1, 2, 3, 4}
	g.r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	n := 3 + g.r.Intn(3)
	for i, k := range kinds[:n] {
		ss = append(ss, g.fact(a, k, g.subject(a, i == 0)))
	}
	return sentences(ss)
}

func (g *en) story() string {
	w := g.w
	p := &w.People[g.r.Intn(len(w.People))]
	a := &w.Animals[g.r.Intn(len(w.Animals))]
	if g.r.Chance(1, 3) {
		a = &w.Animals[p.Pet]
	}
	place := &w.Places[a.Place]
	he, his := pronouns(p)
	var ss []string
	ss = append(ss, g.r.Pick(enTimes...)+", "+p.En+" went to "+place.En+".")
	if g.r.Chance(1, 2) {
		ss = append(ss, g.r.Pick(enWeather...))
	}
	if &w.Animals[p.Pet] == a && g.r.Chance(1, 2) {
		ss = append(ss, p.En+" took "+his+" "+a.En+" along.")
	} else {
		ss = append(ss, g.r.Pick(
			"There "+he+" saw the "+a.En+".",
			p.En+" met the "+a.En+" "+place.EnIn+".",
			he+" saw the "+a.En+" there."))
	}
	h := w.Habits[a.Habit]
	food := w.Foods[a.Food].En
	middle := []string{
		"the " + a.En + " was " + h.EnIng + ".",
		"the " + a.En + " was eating " + food + ".",
		p.En + " gave the " + a.En + " some " + food + ".",
		"the " + a.En + " was " + w.Colours[a.Colour].En + " and " + SizeEn(a.Big) + ".",
		"they stayed together for a while.",
		"the " + a.En + " " + h.EnPast + " for a long time.",
		place.EnDesc,
	}
	g.r.Shuffle(len(middle), func(i, j int) { middle[i], middle[j] = middle[j], middle[i] })
	ss = append(ss, middle[:1+g.r.Intn(3)]...)
	name := g.r.Pick(he, p.En)
	ss = append(ss, g.r.Pick("then "+name+" went home.", name+" was very happy.", "it was a good day.",
		name+" will come back tomorrow.", name+" smiled and walked home.",
		name+" told the story to "+his+" friends."))
	return sentences(ss)
}

func (g *en) person() string {
	w := g.w
	p := &w.People[g.r.Intn(len(w.People))]
	he, his := pronouns(p)
	job := w.Jobs[p.Job]
	pet := &w.Animals[p.Pet]
	parts := [][]string{
		{p.En + " is a " + job.En + ".", he + " " + job.EnDoes + "."},
		{g.r.Pick(p.En+" has a "+pet.En+".", he+" has a "+pet.En+" at home.", p.En+" keeps a "+pet.En+"."),
			g.r.Pick("every day "+he+" gives the "+pet.En+" some "+w.Foods[pet.Food].En+".",
				his+" "+pet.En+" likes to "+w.Habits[pet.Habit].En+".")},
		{g.r.Pick(his+" favourite colour is "+w.Colours[p.Colour].En+".",
			p.En+" likes the colour "+w.Colours[p.Colour].En+" best.")},
	}
	g.r.Shuffle(len(parts)-1, func(i, j int) { parts[i+1], parts[j+1] = parts[j+1], parts[i+1] })
	var ss []string
	// Leave out at most one of the later parts, so that a paragraph has two sentences or more.
	skip := 1 + g.r.Intn(len(parts)*2)
	for i, part := range parts {
		if i == skip {
			continue
		}
		n := 1 + g.r.Intn(len(part))
		ss = append(ss, part[:n]...)
	}
	return sentences(ss)
}

func (g *en) questions() string {
	w := g.w
	a := &w.Animals[g.r.Intn(len(w.Animals))]
	h := w.Habits[a.Habit]
	qa := [][2]string{
		{"where does the " + a.En + " live?", "it lives " + w.Places[a.Place].EnIn + "."},
		{"what does the " + a.En + " eat?", "it eats " + w.Foods[a.Food].En + "."},
		{"what colour is the " + a.En + "?", "it is " + w.Colours[a.Colour].En + "."},
		{"is the " + a.En + " big or small?", "it is " + SizeEn(a.Big) + "."},
		{"what does the " + a.En + " like to do?", "it likes to " + h.En + "."},
	}
	g.r.Shuffle(len(qa), func(i, j int) { qa[i], qa[j] = qa[j], qa[i] })
	var ss []string
	for _, x := range qa[:2+g.r.Intn(3)] {
		ss = append(ss, x[0], x[1])
	}
	return sentences(ss)
}

// personQuestions asks and answers the facts about one person, in the words the fine-tuning
// task uses, so that the task's questions find their answers in the corpus.
func (g *en) personQuestions() string {
	w := g.w
	p := &w.People[g.r.Intn(len(w.People))]
	he, _ := pronouns(p)
	qa := [][2]string{
		{g.r.Pick("what is "+p.En+"'s job?", "what does "+p.En+" do for work?"), he + " is a " + w.Jobs[p.Job].En + "."},
		{g.r.Pick("what pet does "+p.En+" have?", "which animal does "+p.En+" keep?"), he + " has a " + w.Animals[p.Pet].En + "."},
		{g.r.Pick("what is "+p.En+"'s favourite colour?", "which colour does "+p.En+" like best?"),
			he + " likes " + w.Colours[p.Colour].En + " best."},
	}
	g.r.Shuffle(len(qa), func(i, j int) { qa[i], qa[j] = qa[j], qa[i] })
	var ss []string
	for _, x := range qa[:2+g.r.Intn(2)] {
		ss = append(ss, x[0], x[1])
	}
	return sentences(ss)
}

func (g *en) compare() string {
	w := g.w
	i := g.r.Intn(len(w.Animals))
	j := (i + 1 + g.r.Intn(len(w.Animals)-1)) % len(w.Animals)
	a, b := &w.Animals[i], &w.Animals[j]
	var ss []string
	if a.Big == b.Big {
		ss = append(ss, "the "+a.En+" and the "+b.En+" are both "+SizeEn(a.Big)+".")
	} else {
		ss = append(ss, "the "+a.En+" is "+SizeEn(a.Big)+", but the "+b.En+" is "+SizeEn(b.Big)+".")
	}
	if a.Place == b.Place {
		ss = append(ss, "they both live "+w.Places[a.Place].EnIn+".")
	} else {
		ss = append(ss, "the "+a.En+" lives "+w.Places[a.Place].EnIn+", but the "+b.En+" lives "+w.Places[b.Place].EnIn+".")
	}
	if a.Food == b.Food {
		ss = append(ss, "they both eat "+w.Foods[a.Food].En+".")
	} else if g.r.Chance(1, 2) {
		ss = append(ss, "the "+a.En+" eats "+w.Foods[a.Food].En+", and the "+b.En+" eats "+w.Foods[b.Food].En+".")
	}
	if a.Colour == b.Colour {
		ss = append(ss, "they are both "+w.Colours[a.Colour].En+".")
	} else if g.r.Chance(1, 2) {
		ss = append(ss, "the "+a.En+" is "+w.Colours[a.Colour].En+" and the "+b.En+" is "+w.Colours[b.Colour].En+".")
	}
	return sentences(ss)
}

func (g *en) place() string {
	w := g.w
	k := g.r.Intn(len(w.Places))
	pl := &w.Places[k]
	var who []*Animal
	for i := range w.Animals {
		if w.Animals[i].Place == k {
			who = append(who, &w.Animals[i])
		}
	}
	ss := []string{pl.EnDesc}
	switch len(who) {
	case 0:
		ss = append(ss, "people like to visit "+pl.En+".")
	case 1:
		ss = append(ss, g.r.Pick("the "+who[0].En+" lives there.", who[0].EnPlural+" live "+pl.EnIn+"."))
	default:
		// Half the time in the generic plural ("Foxes and owls live in the forest."), the form
		// that the true/false task also uses.
		plural := g.r.Chance(1, 2)
		names := make([]string, len(who))
		for i, a := range who {
			names[i] = "the " + a.En
			if plural {
				names[i] = a.EnPlural
			}
		}
		all := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
		if plural {
			ss = append(ss, all+" live "+pl.EnIn+".")
		} else {
			ss = append(ss, all+" live there.")
		}
	}
	for _, a := range who {
		if g.r.Chance(1, 2) {
			ss = append(ss, "the "+a.En+" likes to "+w.Habits[a.Habit].En+" there.")
		}
	}
	if g.r.Chance(1, 2) {
		ss = append(ss, g.r.Pick(enWeather...))
	}
	return sentences(ss)
}
