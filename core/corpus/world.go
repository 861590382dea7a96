package corpus

// The world is the small set of facts that every built-in corpus and task is written from. The
// facts never change between sentences (the fox always lives in the forest and always eats eggs),
// so a model pretrained on the corpus can later be asked about them, and package task builds its
// questions and true/false statements from the same tables.
//
// Every term carries its English and its Chinese (simplified) forms side by side. The tables are
// package data: callers read them and must not modify them.

// Place is where animals live and people go.
type Place struct {
	En     string // noun phrase: "the forest"
	EnIn   string // where something is: "in the forest"
	EnDesc string // a fixed sentence about the place
	Zh     string // noun: "森林"
	ZhIn   string // locative, the answer to 住在哪里: "森林里"
	ZhGo   string // after 去了: "森林"
	ZhDesc string
}

// Food is what an animal eats; the English form is plural or uncountable ("eggs", "honey").
type Food struct{ En, Zh string }

// Colour is an animal's colour or a person's favourite colour; Zh ends in 色 ("红色").
type Colour struct{ En, Zh string }

// Habit is what an animal likes to do, in every verb form the grammar needs.
type Habit struct {
	En     string // base form: "climb trees"
	EnS    string // third person: "climbs trees"
	EnPast string // "climbed trees"
	EnIng  string // "climbing trees"
	Zh     string // "爬树"
}

// Job is a person's work; EnDoes and ZhDoes say what someone with the job does every day.
type Job struct {
	En     string // "teacher" (every job starts with a consonant, so "a" is always the article)
	EnDoes string // "teaches children at the school"
	Zh     string
	ZhDoes string
}

// Animal is one animal of the world; the int fields index the tables of the World.
type Animal struct {
	En, EnPlural string
	Zh           string
	ZhMeasure    string // the classifier after 一: 只, 头, 匹
	Place        int
	Food         int
	Colour       int
	Habit        int
	Big          bool
}

// Person is one person of the world; En and Zh are the names used by the English and the
// Chinese corpus (the two corpora tell parallel stories with local names).
type Person struct {
	En, Zh string
	She    bool
	Job    int
	Pet    int // index into Animals
	Colour int // favourite colour
}

// World holds all the tables.
type World struct {
	Places  []Place
	Foods   []Food
	Colours []Colour
	Habits  []Habit
	Jobs    []Job
	Animals []Animal
	People  []Person
}

// Indices into the tables, so that the facts below read as facts.
const (
	forest = iota
	mountains
	garden
	lake
	farm
	river
	town
	sea
	jungle
)

const (
	eggs = iota
	honey
	carrots
	bread
	mice
	grass
	bugs
	fish
	bones
	shrimp
	apples
	bananas
)

const (
	red = iota
	brown
	white
	yellow
	grey
	black
	green
	orange
	pink
	blue
)

const (
	hide = iota
	sleep
	jump
	swim
	fly
	run
	dig
	sing
	climb
	ball
	mud
)

const (
	teacher = iota
	farmer
	doctor
	baker
	painter
	fisherman
)

const (
	fox = iota
	bear
	rabbit
	duck
	owl
	horse
	frog
	cat
	dog
	whale
	pig
	monkey
	goat
)

var world = World{
	Places: []Place{
		forest:    {"the forest", "in the forest", "There are many tall trees in the forest.", "森林", "森林里", "森林", "森林里有很多高高的树。"},
		mountains: {"the mountains", "in the mountains", "There are big rocks in the mountains.", "大山", "山里", "山里", "山里有很多大石头。"},
		garden:    {"the garden", "in the garden", "There are many flowers in the garden.", "花园", "花园里", "花园", "花园里有很多花。"},
		lake:      {"the lake", "by the lake", "The water of the lake is calm.", "湖", "湖边", "湖边", "湖水很平静。"},
		farm:      {"the farm", "on the farm", "There is a big old house on the farm.", "农场", "农场里", "农场", "农场里有一座大房子。"},
		river:     {"the river", "by the river", "The water of the river runs fast.", "小河", "河边", "河边", "河水流得很快。"},
		town:      {"the town", "in the town", "There are many small houses in the town.", "小镇", "小镇上", "小镇", "小镇上有很多小房子。"},
		sea:       {"the sea", "in the sea", "The sea is wide and deep.", "大海", "海里", "海边", "大海又宽又深。"},
		jungle:    {"the jungle", "in the jungle", "The jungle is hot and wet.", "丛林", "丛林里", "丛林", "丛林里又热又湿。"},
	},
	Foods: []Food{
		eggs:    {"eggs", "鸡蛋"},
		honey:   {"honey", "蜂蜜"},
		carrots: {"carrots", "胡萝卜"},
		bread:   {"bread", "面包"},
		mice:    {"mice", "老鼠"},
		grass:   {"grass", "青草"},
		bugs:    {"bugs", "虫子"},
		fish:    {"fish", "鱼"},
		bones:   {"bones", "骨头"},
		shrimp:  {"shrimp", "小虾"},
		apples:  {"apples", "苹果"},
		bananas: {"bananas", "香蕉"},
	},
	Colours: []Colour{
		red:    {"red", "红色"},
		brown:  {"brown", "棕色"},
		white:  {"white", "白色"},
		yellow: {"yellow", "黄色"},
		grey:   {"grey", "灰色"},
		black:  {"black", "黑色"},
		green:  {"green", "绿色"},
		orange: {"orange", "橙色"},
		pink:   {"pink", "粉色"},
		blue:   {"blue", "蓝色"},
	},
	Habits: []Habit{
		hide:  {"hide", "hides", "hid", "hiding", "躲起来"},
		sleep: {"sleep", "sleeps", "slept", "sleeping", "睡觉"},
		jump:  {"jump", "jumps", "jumped", "jumping", "跳来跳去"},
		swim:  {"swim", "swims", "swam", "swimming", "游泳"},
		fly:   {"fly", "flies", "flew", "flying", "飞来飞去"},
		run:   {"run", "runs", "ran", "running", "跑步"},
		dig:   {"dig", "digs", "dug", "digging", "挖洞"},
		sing:  {"sing", "sings", "sang", "singing", "唱歌"},
		climb: {"climb trees", "climbs trees", "climbed trees", "climbing trees", "爬树"},
		ball:  {"play with a ball", "plays with a ball", "played with a ball", "playing with a ball", "玩球"},
		mud:   {"play in the mud", "plays in the mud", "played in the mud", "playing in the mud", "玩泥巴"},
	},
	Jobs: []Job{
		teacher:   {"teacher", "teaches children at the school", "老师", "在学校教孩子们"},
		farmer:    {"farmer", "works in the fields", "农民", "在田里干活"},
		doctor:    {"doctor", "helps sick people", "医生", "帮助生病的人"},
		baker:     {"baker", "makes bread every morning", "面包师", "每天早上做面包"},
		painter:   {"painter", "paints pictures of flowers", "画家", "喜欢画花"},
		fisherman: {"fisherman", "catches fish by the river", "渔民", "在河边钓鱼"},
	},
	Animals: []Animal{
		fox:    {"fox", "foxes", "狐狸", "只", forest, eggs, red, hide, false},
		bear:   {"bear", "bears", "熊", "头", mountains, honey, brown, sleep, true},
		rabbit: {"rabbit", "rabbits", "兔子", "只", garden, carrots, white, jump, false},
		duck:   {"duck", "ducks", "鸭子", "只", lake, bread, yellow, swim, false},
		owl:    {"owl", "owls", "猫头鹰", "只", forest, mice, grey, fly, false},
		horse:  {"horse", "horses", "马", "匹", farm, grass, black, run, true},
		frog:   {"frog", "frogs", "青蛙", "只", river, bugs, green, sing, false},
		cat:    {"cat", "cats", "猫", "只", town, fish, orange, ball, false},
		dog:    {"dog", "dogs", "狗", "只", farm, bones, brown, dig, true},
		whale:  {"whale", "whales", "鲸鱼", "头", sea, shrimp, blue, sing, true},
		pig:    {"pig", "pigs", "猪", "头", farm, apples, pink, mud, true},
		monkey: {"monkey", "monkeys", "猴子", "只", jungle, bananas, grey, climb, false},
		goat:   {"goat", "goats", "山羊", "只", mountains, grass, white, jump, false},
	},
	People: []Person{
		{"Anna", "小红", true, teacher, cat, blue},
		{"Ben", "小明", false, farmer, horse, green},
		{"Lily", "小丽", true, doctor, rabbit, pink},
		{"Tom", "小东", false, baker, dog, red},
		{"Mia", "小兰", true, painter, duck, yellow},
		{"Sam", "小伟", false, fisherman, frog, orange},
	},
}

// TheWorld returns the facts the built-in corpora and tasks are written from. The result is
// shared: read it, never modify it.
func TheWorld() *World {
	return &world
}

// SizeEn and SizeZh name an animal's size in each language.
func SizeEn(big bool) string {
	if big {
		return "big"
	}
	return "small"
}

// SizeZh is the Chinese counterpart of SizeEn.
func SizeZh(big bool) string {
	if big {
		return "大"
	}
	return "小"
}
