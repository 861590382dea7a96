package corpus

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// words returns n distinct-looking words of English, one line every lineEvery words (0: one
// line), as a learner's text might be.
func words(n, lineEvery int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			if lineEvery > 0 && i%lineEvery == 0 {
				b.WriteString("\n")
			} else {
				b.WriteString(" ")
			}
		}
		b.WriteString("word")
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

func TestFromTextErrors(t *testing.T) {
	long := words(100, 10)
	tests := []struct {
		name   string
		data   []byte
		code   string
		offset int
		inMsg  []string
	}{
		{"empty", nil, CodeEmpty, 0, []string{"the text is empty"}},
		{"whitespace only", []byte(" \n\t\r\n  \u3000"), CodeEmpty, 0, []string{"the text is empty"}},
		{"byte-order mark only", []byte("\ufeff\n"), CodeEmpty, 0, []string{"empty"}},
		{"NUL is binary", []byte(long[:50] + "\x00" + long[50:]), CodeBinary, 50, []string{"binary", "offset 50"}},
		{"PNG header", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), CodeBinary, 8, []string{"offset 8"}},
		{"invalid UTF-8", []byte(long[:77] + "\xff" + long[77:]), CodeInvalidUTF8, 77, []string{"UTF-8", "offset 77"}},
		{"truncated sequence", []byte("abc" + "\xe4\xb8"), CodeInvalidUTF8, 3, []string{"offset 3"}},
		{"Latin-1", []byte("caf\xe9 " + long), CodeInvalidUTF8, 3, []string{"offset 3"}},
		{"too large", []byte(strings.Repeat("a", MaxUserBytes+1)), CodeTooLarge, 0,
			[]string{strconv.Itoa(MaxUserBytes + 1), strconv.Itoa(MaxUserBytes)}},
		{"too short", []byte("a short note\n"), CodeTooShort, 0, []string{"10 characters", "200"}},
		{"short with padding", []byte(strings.Repeat("ab ", 99) + strings.Repeat(" \n", 300)), CodeTooShort, 0,
			[]string{"198 characters"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromText("mine.txt", tc.data)
			require.Nil(t, c)
			var te *TextError
			require.True(t, errors.As(err, &te), "error %v is not a *TextError", err)
			require.Equal(t, tc.code, te.Code)
			require.Equal(t, tc.offset, te.Offset)
			for _, s := range tc.inMsg {
				require.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestFromTextSplit(t *testing.T) {
	han := strings.Repeat("小狐狸住在森林里它爱吃鸡蛋", 30) // no spaces and no line breaks
	tests := []struct {
		name     string
		in       string
		wantText string // the normalised text
		lang     string
		cutAfter string // the last characters of Train ("" to skip)
	}{
		{"lines", words(300, 10), words(300, 10), "en", "\n"},
		{"CRLF", strings.ReplaceAll(words(300, 10), "\n", "\r\n"), words(300, 10), "en", "\n"},
		{"lone CR", strings.ReplaceAll(words(300, 10), "\n", "\r"), words(300, 10), "en", "\n"},
		{"byte-order mark", "\ufeff" + words(300, 10), words(300, 10), "en", "\n"},
		{"one line splits at a space", words(300, 0), words(300, 0), "en", " "},
		{"no spaces splits by character", han, han, "zh", ""},
		{"leading blank lines", strings.Repeat(" \n", 200) + strings.Repeat("z", 200), strings.Repeat(" \n", 200) + strings.Repeat("z", 200), "en", ""},
		{"trailing blank lines", words(300, 10) + strings.Repeat("\n", 500), words(300, 10) + strings.Repeat("\n", 500), "en", "\n"},
		{"line break too near the end", strings.Repeat("x", 300) + "\nab", strings.Repeat("x", 300) + "\nab", "en", ""},
		{"line break too near the start", "ab\n" + strings.Repeat("x", 300), "ab\n" + strings.Repeat("x", 300), "en", ""},
		{"exactly the minimum", strings.Repeat("x", MinUserRunes), strings.Repeat("x", MinUserRunes), "en", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := FromText("mine.txt", []byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, tc.wantText, c.Train+c.Val)
			require.Equal(t, "user", c.ID)
			require.Equal(t, "mine.txt", c.Name)
			require.Equal(t, tc.lang, c.Lang)
			require.NotEmpty(t, strings.TrimSpace(c.Val), "held-out part holds no text")
			require.NotEmpty(t, strings.TrimSpace(c.Train))
			if tc.cutAfter != "" {
				require.True(t, strings.HasSuffix(c.Train, tc.cutAfter), "train ends %q", c.Train[len(c.Train)-10:])
			}
			// The held-out part is between 5% and 50% of the text, near 10%.
			n, v := countNonSpace(tc.wantText), countNonSpace(c.Val)
			require.GreaterOrEqual(t, v*100, n*5)
			require.LessOrEqual(t, v*100, n*15)
			// Loading the same text again gives the same split and hash.
			c2, err := FromText("other.txt", []byte(tc.in))
			require.NoError(t, err)
			require.Equal(t, c.Hash(), c2.Hash())
		})
	}
}

func TestFromTextBuiltinRoundTrip(t *testing.T) {
	// A built-in corpus saved to a file and loaded back is accepted and keeps every byte.
	for _, id := range Builtins() {
		t.Run(id, func(t *testing.T) {
			b, err := Builtin(id)
			require.NoError(t, err)
			c, err := FromText(id+".txt", []byte(b.Train+b.Val))
			require.NoError(t, err)
			require.Equal(t, b.Train+b.Val, c.Train+c.Val)
			require.Equal(t, b.Lang, c.Lang)
		})
	}
}

func FuzzFromText(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("hello\r\nworld\r\n"))
	f.Add([]byte(words(120, 7)))
	f.Add([]byte(strings.Repeat("狐狸住在森林里。\n", 30)))
	f.Add([]byte("\ufeff" + words(80, 0) + "\r" + words(80, 0)))
	f.Add([]byte(strings.Repeat("a\x00", 150)))
	f.Add([]byte(strings.Repeat("\xe4\xb8", 150)))
	f.Add([]byte(strings.Repeat(" \n", 200) + strings.Repeat("z", 200)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := FromText("fuzz.txt", data)
		if err != nil {
			var te *TextError
			if !errors.As(err, &te) || te.Error() == "" {
				t.Fatalf("error %v is not a *TextError with a message", err)
			}
			return
		}
		if c.Train+c.Val != Normalize(string(data)) {
			t.Fatalf("Train+Val is not the normalised input")
		}
		if strings.TrimSpace(c.Val) == "" || strings.TrimSpace(c.Train) == "" {
			t.Fatalf("empty part: train %q val %q", c.Train, c.Val)
		}
		if !utf8.ValidString(c.Train) || !utf8.ValidString(c.Val) || strings.Contains(c.Train+c.Val, "\r") {
			t.Fatalf("accepted text is not clean UTF-8 with LF line ends")
		}
		again, err := FromText("again.txt", []byte(c.Train+c.Val))
		if err != nil || again.Train != c.Train || again.Val != c.Val {
			t.Fatalf("reloading the accepted text changed it: %v", err)
		}
	})
}

func TestUnigramEntropy(t *testing.T) {
	tests := []struct {
		name string
		text string
		want float64
	}{
		{"empty", "", 0},
		{"one symbol", "aaaa", 0},
		{"two equal", "abab", math.Ln2},
		{"four equal, multibyte", "狐狸森林狸狐林森", math.Log(4)},
		{"skewed", "aab", -(2.0/3*math.Log(2.0/3) + 1.0/3*math.Log(1.0/3))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.want, UnigramEntropy(tc.text), 1e-12)
		})
	}
	// A real corpus lies between a handful of letters and a uniform draw from its alphabet.
	c, err := Builtin("en-world")
	require.NoError(t, err)
	h := UnigramEntropy(c.Train)
	require.Greater(t, h, 2.5)
	require.Less(t, h, math.Log(60))
}

func TestBigramCrossEntropy(t *testing.T) {
	// "ababab": a is followed by b three times, b by a twice; each has one distinct follower, so
	// p(b|a) = (c(a,b) + u(a)·q(b)) / (c(a) + u(a)) = (3 + q(b)) / 4 and p(a|b) = (2 + q(a)) / 3,
	// with the unigram q(a) = q(b) = (3+1) / (6+2+1). The held-out "bab" costs q(b), p(a|b), p(b|a).
	q := 4.0 / 9
	want := -(math.Log(q) + math.Log((2+q)/3) + math.Log((3+q)/4)) / 3
	require.InDelta(t, want, BigramCrossEntropy("ababab", "bab"), 1e-12)
	require.Zero(t, BigramCrossEntropy("abc", ""))
	// A code point train never has gets the unigram's spare slot: finite, and costlier than any seen.
	require.Greater(t, BigramCrossEntropy("ababab", "z"), BigramCrossEntropy("ababab", "a"))

	// On a real corpus the previous character helps: below the unigram entropy, above zero.
	for _, id := range []string{"en-world", "zh-world"} {
		c, err := Builtin(id)
		require.NoError(t, err)
		uni, bi := UnigramEntropy(c.Train), BigramCrossEntropy(c.Train, c.Val)
		t.Logf("%s: unigram entropy %.3f, held-out bigram loss %.3f nats per code point", id, uni, bi)
		require.Less(t, bi, uni)
		require.Greater(t, bi, 0.5)
	}
}
