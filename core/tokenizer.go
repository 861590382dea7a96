package core

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Reserved token ids, the same in every vocabulary.
const (
	TokUnknown = 0 // a code point the training text did not contain
	TokPad     = 1 // filler after a short example; its loss weight is always 0
	TokMask    = 2 // the blank of the masked-LM objective
	numSpecial = 3
)

var specialNames = [numSpecial]string{"<unk>", "<pad>", "<mask>"}

// Tokenizer maps Unicode code points to ids: one token per code point of the training text, so
// Chinese and English work alike and a learner can see every token. It is built from the text
// and stored with the model, because ids only mean something together with it.
type Tokenizer struct {
	runes []rune       // id-numSpecial -> rune, in increasing code point order
	ids   map[rune]int // rune -> id
}

// MaxTokenizerRunes bounds a vocabulary (the config's MaxVocab less the specials).
const MaxTokenizerRunes = MaxVocab - numSpecial

// NewTokenizer builds the vocabulary of text: every distinct code point, in code point order.
func NewTokenizer(text string) (*Tokenizer, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("tokenizer: the text is not valid UTF-8")
	}
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	return tokenizerFromRunes(runes)
}

// TokenizerFromString rebuilds a tokenizer from its Alphabet (checkpoints store that string).
func TokenizerFromString(alphabet string) (*Tokenizer, error) {
	if !utf8.ValidString(alphabet) {
		return nil, fmt.Errorf("tokenizer: the alphabet is not valid UTF-8")
	}
	runes := []rune(alphabet)
	for i := 1; i < len(runes); i++ {
		if runes[i] <= runes[i-1] {
			return nil, fmt.Errorf("tokenizer: the alphabet is not in strictly increasing code point order at rune %d", i)
		}
	}
	return tokenizerFromRunes(runes)
}

func tokenizerFromRunes(runes []rune) (*Tokenizer, error) {
	if len(runes) == 0 {
		return nil, fmt.Errorf("tokenizer: the text is empty")
	}
	if len(runes) > MaxTokenizerRunes {
		return nil, fmt.Errorf("tokenizer: %d distinct characters is more than the limit of %d", len(runes), MaxTokenizerRunes)
	}
	ids := make(map[rune]int, len(runes))
	for i, r := range runes {
		ids[r] = i + numSpecial
	}
	return &Tokenizer{runes: runes, ids: ids}, nil
}

// Alphabet is the vocabulary's code points in id order, without the reserved tokens.
func (tk *Tokenizer) Alphabet() string { return string(tk.runes) }

// VocabSize counts every id, the reserved ones included.
func (tk *Tokenizer) VocabSize() int { return len(tk.runes) + numSpecial }

// Encode maps text to ids; a code point outside the vocabulary becomes TokUnknown.
func (tk *Tokenizer) Encode(text string) []int32 {
	out := make([]int32, 0, len(text))
	for _, r := range text {
		id, ok := tk.ids[r]
		if !ok {
			id = TokUnknown
		}
		out = append(out, int32(id))
	}
	return out
}

// Decode maps ids back to text; reserved ids print as their names (<unk>, <pad>, <mask>).
func (tk *Tokenizer) Decode(ids []int32) string {
	var sb strings.Builder
	for _, id := range ids {
		sb.WriteString(tk.Token(int(id)))
	}
	return sb.String()
}

// Token is the text of one id.
func (tk *Tokenizer) Token(id int) string {
	switch {
	case id >= 0 && id < numSpecial:
		return specialNames[id]
	case id >= numSpecial && id < tk.VocabSize():
		return string(tk.runes[id-numSpecial])
	}
	return fmt.Sprintf("<bad id %d>", id)
}

// Knows reports whether r is in the vocabulary (Encode maps any other rune to TokUnknown).
func (tk *Tokenizer) Knows(r rune) bool {
	_, ok := tk.ids[r]
	return ok
}
