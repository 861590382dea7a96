package corpus

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt from the current generator")

const goldenPath = "testdata/golden.txt"

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// goldenLine is how one built-in corpus is pinned: the SHA-256 of each part and the short hash.
func goldenLine(c *Corpus) string {
	return fmt.Sprintf("%s train=%s val=%s hash=%s", c.ID, sha(c.Train), sha(c.Val), c.Hash())
}

func TestBuiltinDeterministic(t *testing.T) {
	for _, id := range Builtins() {
		t.Run(id, func(t *testing.T) {
			a, err := generate(id, builtins[id])
			require.NoError(t, err)
			b, err := generate(id, builtins[id])
			require.NoError(t, err)
			require.Equal(t, a.Train, b.Train)
			require.Equal(t, a.Val, b.Val)
			require.Equal(t, a.Hash(), b.Hash())
			c, err := Builtin(id)
			require.NoError(t, err)
			require.Equal(t, a.Hash(), c.Hash())
			require.Equal(t, id, c.ID)
		})
	}
}

// TestBuiltinGolden pins every built-in corpus byte for byte, so that a change to the grammar
// (which would break every share link naming the corpus) is noticed. After an intended change,
// run: go test ./core/corpus/ -run TestBuiltinGolden -update
func TestBuiltinGolden(t *testing.T) {
	var lines []string
	for _, id := range Builtins() {
		c, err := Builtin(id)
		require.NoError(t, err)
		lines = append(lines, goldenLine(c))
	}
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(goldenPath), 0o755))
		require.NoError(t, os.WriteFile(goldenPath, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	}
	want, err := os.ReadFile(goldenPath)
	require.NoError(t, err, "run with -update to create it")
	got := map[string]string{}
	for _, l := range lines {
		got[strings.Fields(l)[0]] = l
	}
	sc := bufio.NewScanner(strings.NewReader(string(want)))
	n := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		n++
		t.Run(f[0], func(t *testing.T) {
			require.Equal(t, sc.Text(), got[f[0]], "built-in corpus changed; rerun with -update only if intended")
		})
	}
	require.Equal(t, len(lines), n, "golden file and Builtins() list different corpora")
}

func paragraphs(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n\n")
}

func TestBuiltinShape(t *testing.T) {
	for _, id := range Builtins() {
		t.Run(id, func(t *testing.T) {
			c, err := Builtin(id)
			require.NoError(t, err)
			total := len(c.Train) + len(c.Val)
			require.GreaterOrEqual(t, total, 100_000)
			require.LessOrEqual(t, total, 300_000)
			// The held-out part is about 10% of the text.
			require.Greater(t, len(c.Val)*100, total*7, "held-out share")
			require.Less(t, len(c.Val)*100, total*13, "held-out share")
			require.Equal(t, id[:2], c.Lang)
			require.NotEmpty(t, c.Name)

			train := map[string]bool{}
			for _, p := range paragraphs(c.Train) {
				require.NotEmpty(t, strings.TrimSpace(p))
				require.NotContains(t, p, "\n")
				train[p] = true
			}
			val := paragraphs(c.Val)
			require.NotEmpty(t, val)
			for _, p := range val {
				require.NotEmpty(t, strings.TrimSpace(p))
				require.False(t, train[p], "held-out paragraph also in training: %q", p)
			}
		})
	}
}

func TestChineseVocabulary(t *testing.T) {
	c, err := Builtin("zh-world")
	require.NoError(t, err)
	runes := map[rune]bool{}
	for _, r := range c.Train + c.Val {
		runes[r] = true
		// Chinese text only: Han characters, full-width punctuation and the line breaks.
		ok := unicode.Is(unicode.Han, r) || strings.ContainsRune("，。？、\n", r)
		require.True(t, ok, "unexpected character %q in the Chinese corpus", r)
	}
	require.Greater(t, len(runes), 100)
	require.Less(t, len(runes), 400, "keep the Chinese vocabulary small for a character-level model")
	// Every held-out character is also seen in training, so the held-out loss is finite for a
	// vocabulary built from the training part.
	train := map[rune]bool{}
	for _, r := range c.Train {
		train[r] = true
	}
	for _, r := range c.Val {
		require.True(t, train[r], "held-out character %q never appears in training", r)
	}
}

// TestCorpusStatesOnlyFacts reads back every "X lives Y", "X eats Y" and "X is <colour>"
// sentence of the English corpus and every 住在 / 吃 sentence of the Chinese one, and checks it
// against the world's tables.
func TestCorpusStatesOnlyFacts(t *testing.T) {
	w := TheWorld()
	enC, err := Builtin("en-world")
	require.NoError(t, err)
	zhC, err := Builtin("zh-world")
	require.NoError(t, err)
	en := enC.Train + enC.Val
	zh := zhC.Train + zhC.Val
	colours := make([]string, len(w.Colours))
	for i, c := range w.Colours {
		colours[i] = c.En
	}
	colourRe := strings.Join(colours, "|")
	for _, a := range w.Animals {
		t.Run(a.En, func(t *testing.T) {
			// Matches of the skip pattern are questions or other facts in the same shape
			// ("likes to eat ...", 住在哪里).
			// Optional checks are for phrasings the grammar uses only now and then.
			checks := []struct {
				text, re, want, skip string
				optional             bool
			}{
				{en, `(?i)\bthe ` + a.En + ` lives ((?:in|by|on) the \w+)`, w.Places[a.Place].EnIn, "", false},
				{en, `\b` + strings.ToUpper(a.EnPlural[:1]) + a.EnPlural[1:] + ` live ((?:in|by|on) the \w+)`, w.Places[a.Place].EnIn, "", true},
				{en, `(?i)\bthe ` + a.En + ` eats (\w+)`, w.Foods[a.Food].En, "", false},
				{en, `(?i)\bthe ` + a.En + ` is (` + colourRe + `)\b`, w.Colours[a.Colour].En, "", false},
				{en, `(?i)\bthe ` + a.En + ` is (big|small)\b`, SizeEn(a.Big), "", false},
				{en, `(?i)\bthe ` + a.En + ` likes to ([a-z ]+?)(?: there)?\.`, w.Habits[a.Habit].En, `^eat `, false},
				{zh, `(?:^|[。，？\n])` + a.Zh + `住在([^，。？]+)`, w.Places[a.Place].ZhIn, `^(哪里|那里)$`, false},
				{zh, `(?:^|[。，？\n])` + a.Zh + `吃([^，。？]+)`, w.Foods[a.Food].Zh, `^什么$`, false},
				{zh, `(?:^|[。，？\n])` + a.Zh + `是([^，。？]+色)的`, w.Colours[a.Colour].Zh, `^什么颜色$`, false},
			}
			for _, c := range checks {
				ms := regexp.MustCompile(c.re).FindAllStringSubmatch(c.text, -1)
				if !c.optional {
					require.NotEmpty(t, ms, "the corpus never states %q", c.re)
				}
				for _, m := range ms {
					if c.skip != "" && regexp.MustCompile(c.skip).MatchString(m[1]) {
						continue
					}
					require.Equal(t, c.want, m[1], "sentence %q", m[0])
				}
			}
		})
	}
}

func TestBuiltinUnknown(t *testing.T) {
	_, err := Builtin("fr-world")
	require.Error(t, err)
	for _, id := range Builtins() {
		require.Contains(t, err.Error(), id)
	}
	require.Contains(t, err.Error(), "fr-world")
}

func TestBuiltinReturnsCopy(t *testing.T) {
	a, err := Builtin("en-world")
	require.NoError(t, err)
	want := a.Hash()
	a.Train = "changed"
	b, err := Builtin("en-world")
	require.NoError(t, err)
	require.Equal(t, want, b.Hash())
}

func TestHash(t *testing.T) {
	base := Corpus{ID: "user", Lang: "en", Name: "a.txt", Train: "ab", Val: "c"}
	h := base.Hash()
	require.Regexp(t, `^[0-9a-f]{16}$`, h)
	tests := []struct {
		name string
		edit func(c *Corpus)
		same bool
	}{
		{"name is not content", func(c *Corpus) { c.Name = "b.txt" }, true},
		{"id is not content", func(c *Corpus) { c.ID = "other" }, true},
		{"split point", func(c *Corpus) { c.Train, c.Val = "a", "bc" }, false},
		{"language", func(c *Corpus) { c.Lang = "zh" }, false},
		{"text", func(c *Corpus) { c.Val = "d" }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			require.Equal(t, tc.same, c.Hash() == h)
		})
	}
}

func TestRand(t *testing.T) {
	// The published splitmix64 stream for seed 0 starts with this value.
	require.Equal(t, uint64(0xe220a8397b1dcdaf), NewRand(0).Uint64())
	a, b := NewRand(42), NewRand(42)
	for i := 0; i < 100; i++ {
		require.Equal(t, a.Uint64(), b.Uint64())
	}
	r := NewRand(7)
	seen := make([]int, 5)
	for i := 0; i < 1000; i++ {
		seen[r.Intn(5)]++
	}
	for v, n := range seen {
		require.Greater(t, n, 150, "value %d drawn too rarely", v)
	}
	p := []int{0, 1, 2, 3, 4, 5, 6, 7}
	r.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	require.ElementsMatch(t, []int{0, 1, 2, 3, 4, 5, 6, 7}, p)
	require.Panics(t, func() { r.Intn(0) })
}

// BenchmarkGenerate measures the cost of the first Builtin call for each corpus, which the
// trainer pays at start-up (the result is cached after that).
func BenchmarkGenerate(b *testing.B) {
	for _, id := range Builtins() {
		b.Run(id, func(b *testing.B) {
			var n int
			for i := 0; i < b.N; i++ {
				c, err := generate(id, builtins[id])
				if err != nil {
					b.Fatal(err)
				}
				n = len(c.Train) + len(c.Val)
			}
			b.SetBytes(int64(n))
		})
	}
}
