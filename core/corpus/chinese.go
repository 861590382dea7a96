package corpus

import "strings"

// zh writes Chinese (simplified) paragraphs about the same world as en, with the same kinds of
// paragraph. Sentences end in full-width punctuation and are written without spaces. The
// vocabulary is kept small on purpose (a few hundred distinct characters) so that a tiny
// character-level model can learn whole words.
type zh struct {
	r *Rand
	w *World
}

var zhTimes = []string{
	"一天早上", "有一天", "下午", "去年夏天", "星期天", "上个星期", "一大早", "一天晚上", "吃完午饭以后", "春天的时候",
}

var zhWeather = []string{
	"太阳很暖和。", "天上下着小雨。", "风很冷。", "天很蓝。", "那天很安静。", "天上有白白的云。", "空气很新鲜。",
}

func (g *zh) subject(a *Animal, first bool) string {
	if first || g.r.Chance(1, 3) {
		return a.Zh
	}
	return "它"
}

func zhPronoun(p *Person) string {
	if p.She {
		return "她"
	}
	return "他"
}

// fact writes one sentence stating attribute k (0 home, 1 food, 2 colour, 3 size, 4 habit).
func (g *zh) fact(a *Animal, k int, subj string) string {
	w := g.w
	switch k {
	case 0:
		place := w.Places[a.Place].ZhIn
		return g.r.Pick(subj+"住在"+place+"。", subj+"的家在"+place+"。", "在"+place+"可以找到"+subj+"。")
	case 1:
		food := w.Foods[a.Food].Zh
		return g.r.Pick(subj+"吃"+food+"。", subj+"爱吃"+food+"。", subj+"每天都吃"+food+"。", subj+"最喜欢吃"+food+"。")
	case 2:
		colour := w.Colours[a.Colour].Zh
		return g.r.Pick(subj+"是"+colour+"的。", subj+"的颜色是"+colour+"。")
	case 3:
		return g.r.Pick(subj+"很"+SizeZh(a.Big)+"。", subj+"是一种"+SizeZh(a.Big)+"动物。", subj+"一点也不"+SizeZh(!a.Big)+"。")
	default:
		h := w.Habits[a.Habit].Zh
		return g.r.Pick(subj+"喜欢"+h+"。", subj+"常常"+h+"。", subj+"最喜欢"+h+"。")
	}
}

func (g *zh) profile() string {
	a := &g.w.Animals[g.r.Intn(len(g.w.Animals))]
	var b strings.Builder
	if g.r.Chance(1, 2) {
		b.WriteString(g.r.Pick("我来说说"+a.Zh+"吧。", "这是"+a.Zh+"。", "你知道"+a.Zh+"吗？", "下面说一说"+a.Zh+"。"))
	}
	kinds := []int{0, 1, 2, 3, 4}
	g.r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	n := 3 + g.r.Intn(3)
	for i, k := range kinds[:n] {
		b.WriteString(g.fact(a, k, g.subject(a, i == 0)))
	}
	return b.String()
}

func (g *zh) story() string {
	w := g.w
	p := &w.People[g.r.Intn(len(w.People))]
	a := &w.Animals[g.r.Intn(len(w.Animals))]
	if g.r.Chance(1, 3) {
		a = &w.Animals[p.Pet]
	}
	place := &w.Places[a.Place]
	he := zhPronoun(p)
	var b strings.Builder
	b.WriteString(g.r.Pick(zhTimes...) + "，" + p.Zh + "去了" + place.ZhGo + "。")
	if g.r.Chance(1, 2) {
		b.WriteString(g.r.Pick(zhWeather...))
	}
	if &w.Animals[p.Pet] == a && g.r.Chance(1, 2) {
		b.WriteString(p.Zh + "带着" + he + "的" + a.Zh + "一起去。")
	} else {
		b.WriteString(g.r.Pick(
			he+"在那里看见了"+a.Zh+"。",
			p.Zh+"在"+place.ZhIn+"遇到了"+a.Zh+"。",
			"在那里，"+he+"看见了"+a.Zh+"。"))
	}
	food := w.Foods[a.Food].Zh
	middle := []string{
		a.Zh + "正在" + w.Habits[a.Habit].Zh + "。",
		a.Zh + "正在吃" + food + "。",
		p.Zh + "给了" + a.Zh + "一些" + food + "。",
		a.Zh + "是" + w.Colours[a.Colour].Zh + "的，也很" + SizeZh(a.Big) + "。",
		"他们一起待了一会儿。",
		place.ZhDesc,
	}
	g.r.Shuffle(len(middle), func(i, j int) { middle[i], middle[j] = middle[j], middle[i] })
	for _, s := range middle[:1+g.r.Intn(3)] {
		b.WriteString(s)
	}
	name := g.r.Pick(he, p.Zh)
	b.WriteString(g.r.Pick("后来"+name+"回家了。", name+"非常高兴。", "这真是美好的一天。",
		name+"明天还会再来。", name+"笑着走回了家。", name+"把这件事告诉了"+he+"的朋友们。"))
	return b.String()
}

func (g *zh) person() string {
	w := g.w
	p := &w.People[g.r.Intn(len(w.People))]
	he := zhPronoun(p)
	job := w.Jobs[p.Job]
	pet := &w.Animals[p.Pet]
	parts := [][]string{
		{p.Zh + "是一名" + job.Zh + "。", he + job.ZhDoes + "。"},
		{g.r.Pick(p.Zh+"养了一"+pet.ZhMeasure+pet.Zh+"。", he+"家里有一"+pet.ZhMeasure+pet.Zh+"。"),
			g.r.Pick(he+"每天都给"+pet.Zh+"吃"+w.Foods[pet.Food].Zh+"。",
				he+"的"+pet.Zh+"喜欢"+w.Habits[pet.Habit].Zh+"。")},
		{g.r.Pick(he+"最喜欢的颜色是"+w.Colours[p.Colour].Zh+"。", p.Zh+"最喜欢"+w.Colours[p.Colour].Zh+"。")},
	}
	g.r.Shuffle(len(parts)-1, func(i, j int) { parts[i+1], parts[j+1] = parts[j+1], parts[i+1] })
	var b strings.Builder
	// Leave out at most one of the later parts, so that a paragraph has two sentences or more.
	skip := 1 + g.r.Intn(len(parts)*2)
	for i, part := range parts {
		if i == skip {
			continue
		}
		for _, s := range part[:1+g.r.Intn(len(part))] {
			b.WriteString(s)
		}
	}
	return b.String()
}

func (g *zh) questions() string {
	w := g.w
	a := &w.Animals[g.r.Intn(len(w.Animals))]
	qa := [][2]string{
		{a.Zh + "住在哪里？", "它住在" + w.Places[a.Place].ZhIn + "。"},
		{a.Zh + "吃什么？", "它吃" + w.Foods[a.Food].Zh + "。"},
		{a.Zh + "是什么颜色的？", "它是" + w.Colours[a.Colour].Zh + "的。"},
		{a.Zh + "是大的还是小的？", "它是" + SizeZh(a.Big) + "的。"},
		{a.Zh + "喜欢做什么？", "它喜欢" + w.Habits[a.Habit].Zh + "。"},
	}
	g.r.Shuffle(len(qa), func(i, j int) { qa[i], qa[j] = qa[j], qa[i] })
	var b strings.Builder
	for _, x := range qa[:2+g.r.Intn(3)] {
		b.WriteString(x[0] + x[1])
	}
	return b.String()
}

// personQuestions is the Chinese counterpart of en.personQuestions.
func (g *zh) personQuestions() string {
	w := g.w
	p := &w.People[g.r.Intn(len(w.People))]
	he := zhPronoun(p)
	pet := &w.Animals[p.Pet]
	colour := w.Colours[p.Colour].Zh
	qa := [][2]string{
		{g.r.Pick(p.Zh+"是做什么的？", p.Zh+"做什么工作？"), he + "是一名" + w.Jobs[p.Job].Zh + "。"},
		{g.r.Pick(p.Zh+"养了什么动物？", p.Zh+"家里有什么动物？"), he + "养了一" + pet.ZhMeasure + pet.Zh + "。"},
		{g.r.Pick(p.Zh+"最喜欢什么颜色？", p.Zh+"最喜欢的颜色是什么？"), he + "最喜欢" + colour + "。"},
	}
	g.r.Shuffle(len(qa), func(i, j int) { qa[i], qa[j] = qa[j], qa[i] })
	var b strings.Builder
	for _, x := range qa[:2+g.r.Intn(2)] {
		b.WriteString(x[0] + x[1])
	}
	return b.String()
}

func (g *zh) compare() string {
	w := g.w
	i := g.r.Intn(len(w.Animals))
	j := (i + 1 + g.r.Intn(len(w.Animals)-1)) % len(w.Animals)
	a, c := &w.Animals[i], &w.Animals[j]
	var b strings.Builder
	if a.Big == c.Big {
		b.WriteString(a.Zh + "和" + c.Zh + "都很" + SizeZh(a.Big) + "。")
	} else {
		b.WriteString(a.Zh + "很" + SizeZh(a.Big) + "，但是" + c.Zh + "很" + SizeZh(c.Big) + "。")
	}
	if a.Place == c.Place {
		b.WriteString("它们都住在" + w.Places[a.Place].ZhIn + "。")
	} else {
		b.WriteString(a.Zh + "住在" + w.Places[a.Place].ZhIn + "，" + c.Zh + "住在" + w.Places[c.Place].ZhIn + "。")
	}
	if a.Food == c.Food {
		b.WriteString("它们都吃" + w.Foods[a.Food].Zh + "。")
	} else if g.r.Chance(1, 2) {
		b.WriteString(a.Zh + "吃" + w.Foods[a.Food].Zh + "，" + c.Zh + "吃" + w.Foods[c.Food].Zh + "。")
	}
	if a.Colour == c.Colour {
		b.WriteString("它们都是" + w.Colours[a.Colour].Zh + "的。")
	} else if g.r.Chance(1, 2) {
		b.WriteString(a.Zh + "是" + w.Colours[a.Colour].Zh + "的，" + c.Zh + "是" + w.Colours[c.Colour].Zh + "的。")
	}
	return b.String()
}

func (g *zh) place() string {
	w := g.w
	k := g.r.Intn(len(w.Places))
	pl := &w.Places[k]
	var who []*Animal
	for i := range w.Animals {
		if w.Animals[i].Place == k {
			who = append(who, &w.Animals[i])
		}
	}
	var b strings.Builder
	b.WriteString(pl.ZhDesc)
	names := make([]string, len(who))
	for i, a := range who {
		names[i] = a.Zh
	}
	switch len(names) {
	case 0:
		b.WriteString("人们喜欢去" + pl.ZhGo + "玩。")
	case 1:
		b.WriteString(names[0] + "住在那里。")
	default:
		b.WriteString(strings.Join(names[:len(names)-1], "、") + "和" + names[len(names)-1] + "住在那里。")
	}
	for _, a := range who {
		if g.r.Chance(1, 2) {
			b.WriteString(a.Zh + "喜欢在那里" + w.Habits[a.Habit].Zh + "。")
		}
	}
	if g.r.Chance(1, 2) {
		b.WriteString(g.r.Pick(zhWeather...))
	}
	return b.String()
}
