// Package corpus holds the text a model is pretrained on: the built-in sample corpora, written
// by a seeded grammar about a small consistent world (world.go), and a learner's own text,
// validated and split by FromText.
//
// Every corpus comes with a held-out part (Val) that training never reads, so the playground can
// show a validation loss. Generation uses only integer arithmetic on the package's own
// generator, so a built-in id gives the same bytes natively and under wasm.
package corpus

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Corpus is a text split into a training part and a held-out part. Train+Val is the whole text:
// nothing is dropped or added at the split.
type Corpus struct {
	ID   string // a built-in id ("en-world"), or "user" for a learner's text
	Lang string // "en" or "zh"; for a learner's text a best guess used only for display
	Name string // shown to the learner
	// Train and Val are the training and held-out parts.
	Train, Val string
}

// builtin describes how to generate one built-in corpus.
type builtin struct {
	lang, name string
	seed       uint64
	// target is the size in bytes at which generation stops; the result is a little larger.
	target int
	// newWriter returns the paragraph grammar for the language.
	newWriter func(r *Rand) func() string
}

var builtins = map[string]builtin{
	"en-world": {"en", "World stories (English)", 0x656e2d776f726c64, 190_000,
		func(r *Rand) func() string { return paragraphOf(r, &en{r: r, w: &world}) }},
	"zh-world": {"zh", "World stories (Chinese)", 0x7a682d776f726c64, 190_000,
		func(r *Rand) func() string { return paragraphOf(r, &zh{r: r, w: &world}) }},
}

// valEvery sends every valEvery-th paragraph to the held-out part (10%), spread over the whole
// corpus rather than taken from its end, so that the held-out part has every kind of paragraph.
const valEvery = 10

// maxTries bounds generation, so a grammar too small for its target fails loudly instead of
// looping forever.
const maxTries = 1 << 20

var (
	cacheMu sync.Mutex
	cache   = map[string]*Corpus{}
)

// Builtins lists the ids of the built-in corpora in a fixed order.
func Builtins() []string {
	ids := make([]string, 0, len(builtins))
	for id := range builtins {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Builtin returns the built-in corpus with the given id, generating it on first use. Each call
// returns a fresh copy of the struct, so a caller that edits it cannot change what others get.
func Builtin(id string) (*Corpus, error) {
	b, ok := builtins[id]
	if !ok {
		return nil, fmt.Errorf("corpus: unknown built-in corpus %q; the built-in corpora are %s",
			id, strings.Join(Builtins(), ", "))
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	c, ok := cache[id]
	if !ok {
		var err error
		if c, err = generate(id, b); err != nil {
			return nil, err
		}
		cache[id] = c
	}
	out := *c
	return &out, nil
}

// generate writes distinct paragraphs until the target size is reached. Paragraphs are kept
// distinct so that no held-out paragraph also appears in the training part.
func generate(id string, b builtin) (*Corpus, error) {
	r := NewRand(b.seed)
	next := b.newWriter(r)
	seen := map[string]bool{}
	var train, val []string
	size := 0
	for tries := 0; size < b.target; tries++ {
		if tries > maxTries {
			return nil, fmt.Errorf("corpus: the grammar of %s ran out of distinct paragraphs at %d bytes", id, size)
		}
		p := next()
		if seen[p] {
			continue
		}
		seen[p] = true
		if (len(train)+len(val))%valEvery == valEvery-1 {
			val = append(val, p)
		} else {
			train = append(train, p)
		}
		size += len(p) + 2
	}
	return &Corpus{
		ID:    id,
		Lang:  b.lang,
		Name:  b.name,
		Train: strings.Join(train, "\n\n") + "\n",
		Val:   strings.Join(val, "\n\n") + "\n",
	}, nil
}

// Hash returns the first 16 hex digits of the SHA-256 of the corpus's canonical encoding: a
// version tag, then Lang, Train and Val, each preceded by its length as a uvarint. ID and Name
// are left out on purpose: the hash names the content, so the same text loaded under another
// file name has the same hash, and a share link can carry "id + hash" to detect a built-in
// corpus that changed between versions.
func (c *Corpus) Hash() string {
	h := sha256.New()
	h.Write([]byte("pretune/corpus/v1\x00"))
	var n [binary.MaxVarintLen64]byte
	for _, s := range []string{c.Lang, c.Train, c.Val} {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// grammar is one language's paragraph kinds. Both languages write the same kinds about the same
// world, so they share the mix below.
type grammar interface {
	profile() string
	story() string
	person() string
	personQuestions() string
	questions() string
	compare() string
	place() string
}

// paragraphOf returns a writer of paragraphs of g, each of a kind chosen with fixed integer
// weights from r (so generation needs no floating point).
func paragraphOf(r *Rand, g grammar) func() string {
	return func() string {
		switch k := r.Intn(20); {
		case k < 5:
			return g.profile()
		case k < 11:
			return g.story()
		case k < 13:
			return g.person()
		case k < 14:
			return g.personQuestions()
		case k < 17:
			return g.questions()
		case k < 19:
			return g.compare()
		default:
			return g.place()
		}
	}
}
