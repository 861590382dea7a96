package corpus

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxUserBytes is the largest text a learner may load: 1 MiB, enough for a short book, and small
// enough to tokenize, hold and train on in a browser tab.
const MaxUserBytes = 1 << 20

// MinUserRunes is the fewest characters, not counting whitespace, that FromText accepts: below it
// there is too little to split off a held-out part and still train on something.
const MinUserRunes = 200

// Codes of TextError, stable for the UI to translate.
const (
	CodeEmpty       = "empty"
	CodeBinary      = "binary"
	CodeInvalidUTF8 = "invalid_utf8"
	CodeTooLarge    = "too_large"
	CodeTooShort    = "too_short"
)

// TextError is why FromText refused a text. Code is one of the Code* constants; the other fields
// hold the numbers the message quotes, so a translated message can quote them too.
type TextError struct {
	Code   string
	Offset int // CodeBinary, CodeInvalidUTF8: byte offset of the first bad byte
	Size   int // CodeTooLarge: bytes; CodeTooShort: characters
	Limit  int // CodeTooLarge: MaxUserBytes; CodeTooShort: MinUserRunes
}

func (e *TextError) Error() string {
	switch e.Code {
	case CodeEmpty:
		return "the text is empty"
	case CodeBinary:
		return fmt.Sprintf("the file looks binary, not text: it has a NUL byte at offset %d", e.Offset)
	case CodeInvalidUTF8:
		return fmt.Sprintf("the text is not valid UTF-8: the first invalid byte is at offset %d", e.Offset)
	case CodeTooLarge:
		return fmt.Sprintf("the text is %d bytes, larger than the limit of %d bytes", e.Size, e.Limit)
	case CodeTooShort:
		return fmt.Sprintf("the text is too short: it has %d characters other than spaces and line breaks, and at least %d are needed to keep a held-out part", e.Size, e.Limit)
	}
	return "the text was refused: " + e.Code
}

// FromText validates a learner's text and splits it into a training and a held-out part.
//
// It refuses a text larger than MaxUserBytes, one with a NUL byte (a binary file), one that is
// not valid UTF-8, one that is empty or only whitespace, and one with fewer than MinUserRunes
// characters other than whitespace; the error is a *TextError. It drops a leading UTF-8 byte-order mark and turns
// CRLF and lone CR line ends into LF. The held-out part is about the last 10% of the text, cut
// at a line boundary when there is one between 50% and 95% of the text (the nearest to 90%), else
// after a space in that range, else at 90% (shares of the characters other than whitespace, so
// both parts always hold some text). Train+Val is exactly the
// normalised text.
func FromText(name string, data []byte) (*Corpus, error) {
	if len(data) > MaxUserBytes {
		return nil, &TextError{Code: CodeTooLarge, Size: len(data), Limit: MaxUserBytes}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, &TextError{Code: CodeBinary, Offset: i}
	}
	if i := invalidUTF8(data); i >= 0 {
		return nil, &TextError{Code: CodeInvalidUTF8, Offset: i}
	}
	text := Normalize(string(data))
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		return nil, &TextError{Code: CodeEmpty}
	}
	if n := countNonSpace(text); n < MinUserRunes {
		return nil, &TextError{Code: CodeTooShort, Size: n, Limit: MinUserRunes}
	}
	cut := splitPoint(text)
	return &Corpus{
		ID:    "user",
		Lang:  GuessLang(text),
		Name:  name,
		Train: text[:cut],
		Val:   text[cut:],
	}, nil
}

// invalidUTF8 returns the offset of the first byte that does not start a valid UTF-8 sequence,
// or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// Normalize drops a leading byte-order mark and turns CRLF and lone CR into LF. FromText applies
// it; it is exported so that a caller can compare a file with what FromText kept.
func Normalize(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func countNonSpace(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// splitPoint picks the byte offset where the held-out part starts; see FromText. Shares are
// counted in characters other than whitespace, so that Chinese and English texts split alike and
// leading or trailing blank lines cannot leave either part without text: with m >= MinUserRunes
// such characters, Train keeps at least m/2 of them and Val at least m/20.
func splitPoint(text string) int {
	m := countNonSpace(text)
	lo, target, hi := m/2, m-m/10, m-m/20
	dist := func(k int) int {
		if k < target {
			return target - k
		}
		return k - target
	}
	bestLine, bestSpace, targetByte := -1, -1, -1
	var bestLineDist, bestSpaceDist int
	k := 0 // characters other than whitespace before byte offset off
	prev := rune(-1)
	for off, r := range text {
		if k == target && targetByte < 0 {
			targetByte = off
		}
		// A cut before this rune is at a line boundary when the previous rune is '\n', and
		// after a space when it is a space.
		if k >= lo && k <= hi {
			if prev == '\n' && (bestLine < 0 || dist(k) < bestLineDist) {
				bestLine, bestLineDist = off, dist(k)
			}
			if prev == ' ' && (bestSpace < 0 || dist(k) < bestSpaceDist) {
				bestSpace, bestSpaceDist = off, dist(k)
			}
		}
		if !unicode.IsSpace(r) {
			k++
		}
		prev = r
	}
	switch {
	case bestLine >= 0:
		return bestLine
	case bestSpace >= 0:
		return bestSpace
	default:
		return targetByte
	}
}

// GuessLang says "zh" when Han characters are at least a quarter of the letters, else "en". It is
// a display hint for a learner's text, not a language detector.
func GuessLang(text string) string {
	han, letters := 0, 0
	for _, r := range text {
		if unicode.Is(unicode.Han, r) {
			han++
			letters++
		} else if unicode.IsLetter(r) {
			letters++
		}
	}
	if han > 0 && 4*han >= letters {
		return "zh"
	}
	return "en"
}
