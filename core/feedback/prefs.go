package feedback

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"pretune/core/task"
)

// Pair is one preference: for Prompt, the response Chosen is better than Rejected. The field
// names and JSON keys are TRL's preference format. The texts are kept exactly as written,
// spaces included: a response continues its prompt directly, so " ate eggs in the forest."
// after "One day the fox" needs its leading space.
type Pair struct {
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
}

// Limits on a preference file.
const (
	// MaxFileBytes is the largest preference file accepted: the task files' limit, since
	// task.Lines checks it.
	MaxFileBytes = task.MaxFileBytes
	// MaxPairs is the most pairs in a file: far more than a reward model trained in the browser
	// gets through, and it bounds the work one file can ask for.
	MaxPairs = 5000
	// MinPairs is the fewest pairs in a file: a single comparison cannot teach a reward model
	// anything but that one answer.
	MinPairs = 2
)

// Codes of the refusals only a preference file has; the others are task's Code* constants, so
// the page translates them as it translates a task file's.
const (
	// CodeSameResponse: a pair's chosen and rejected are the same text (spaces around them aside).
	CodeSameResponse = "same_response"
	// CodeTooManyPairs: the file has more than MaxPairs pairs.
	CodeTooManyPairs = "too_many_pairs"
)

// fields are the keys of a JSONL line and the columns of a TSV line, in order.
var fields = [3]string{"prompt", "chosen", "rejected"}

// ParsePairs reads a preference file: JSON Lines, one {"prompt": ..., "chosen": ...,
// "rejected": ...} object a line with exactly those three string fields, or TSV, one
// prompt<TAB>chosen<TAB>rejected a line after an optional header line naming the columns.
// A name ending in .jsonl, .json or .ndjson means JSON Lines and one ending in .tsv means TSV;
// any other file is JSON Lines when its first non-blank character is '{', as task files are.
// Blank lines are skipped and fields are kept as written (see Pair). Errors are
// *task.ParseError with the 1-based line of the problem, or 0 for the whole file.
func ParsePairs(name string, data []byte) ([]Pair, error) {
	jsonl := isJSONL(name, data)
	ls, err := task.Lines(data) // checks the size first, before looking at the text
	if err != nil {
		return nil, err
	}
	n, first := 0, true
	for i, l := range ls {
		if l == "" {
			continue
		}
		if first && !jsonl && isHeader(l) {
			ls[i] = "" // only the first non-blank line may be a header
		} else {
			n++
		}
		first = false
	}
	if n == 0 {
		return nil, task.NewParseError(0, task.CodeEmpty, "", 0, 0, "the file is empty")
	}
	if n > MaxPairs {
		return nil, task.NewParseError(0, CodeTooManyPairs, "", n, MaxPairs,
			fmt.Sprintf("the file has %d preference pairs, more than the limit of %d", n, MaxPairs))
	}
	out := make([]Pair, 0, n)
	for i, l := range ls {
		if l == "" {
			continue
		}
		parse := tsvPair
		if jsonl {
			parse = jsonPair
		}
		p, err := parse(i+1, l)
		if err != nil {
			return nil, err
		}
		if err := checkPair(i+1, p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) < MinPairs {
		what := "pairs"
		if len(out) == 1 {
			what = "pair"
		}
		return nil, task.NewParseError(0, task.CodeTooFew, "", len(out), MinPairs,
			fmt.Sprintf("the file has %d preference %s; at least %d are needed", len(out), what, MinPairs))
	}
	return out, nil
}

// isJSONL tells the format from the file's name, or from its first non-blank character when
// the name does not tell (only the start is looked at, so a huge file costs nothing here).
func isJSONL(name string, data []byte) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jsonl", ".json", ".ndjson":
		return true
	case ".tsv":
		return false
	}
	head := data[:min(len(data), 4096)]
	return bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("{"))
}

// isHeader reports whether a TSV line names the columns ("prompt<TAB>chosen<TAB>rejected", in
// any case), as spreadsheets export it and WriteTSV writes it.
func isHeader(l string) bool {
	cols := strings.Split(l, "\t")
	if len(cols) != len(fields) {
		return false
	}
	for i, c := range cols {
		if !strings.EqualFold(strings.TrimSpace(c), fields[i]) {
			return false
		}
	}
	return true
}

// tsvPair splits line n into its three fields.
func tsvPair(n int, l string) (Pair, error) {
	cols := strings.Split(l, "\t")
	switch {
	case len(cols) < len(fields):
		return Pair{}, task.NewParseError(n, task.CodeMissingTab, "", len(cols)-1, len(fields)-1,
			fmt.Sprintf("%d tab(s) where 2 are needed: write the prompt, a tab, the chosen response, a tab, then the rejected one", len(cols)-1))
	case len(cols) > len(fields):
		return Pair{}, task.NewParseError(n, task.CodeExtraTab, "", len(cols)-1, len(fields)-1,
			fmt.Sprintf("%d tabs where 2 are needed: write the prompt, a tab, the chosen response, a tab, then the rejected one", len(cols)-1))
	}
	return Pair{Prompt: cols[0], Chosen: cols[1], Rejected: cols[2]}, nil
}

// jsonPair decodes line n, an object with exactly the three string fields. Unknown fields are
// refused so that a misspelt key is caught rather than read as a missing one.
func jsonPair(n int, l string) (Pair, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(l), &m); err != nil || m == nil {
		return Pair{}, task.NewParseError(n, task.CodeNotJSON, "", 0, 0,
			`not a JSON object like {"prompt": "...", "chosen": "...", "rejected": "..."}`)
	}
	var unknown []string
	for k := range m {
		if k != fields[0] && k != fields[1] && k != fields[2] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown) // the same key is named whatever the map's order
		return Pair{}, task.NewParseError(n, task.CodeUnknownField, unknown[0], 0, 0,
			fmt.Sprintf("unknown field %q; the fields are %q, %q and %q", unknown[0], fields[0], fields[1], fields[2]))
	}
	var s [3]string
	for i, k := range fields {
		raw, ok := m[k]
		if !ok {
			return Pair{}, task.NewParseError(n, task.CodeMissingField, k, 0, 0, fmt.Sprintf("missing field %q", k))
		}
		// json.Unmarshal leaves a string alone on null, which would read as an empty field.
		if !bytes.HasPrefix(raw, []byte(`"`)) || json.Unmarshal(raw, &s[i]) != nil {
			return Pair{}, task.NewParseError(n, task.CodeFieldType, k, 0, 0, "the "+k+" must be a string")
		}
	}
	return Pair{Prompt: s[0], Chosen: s[1], Rejected: s[2]}, nil
}

// checkPair checks a pair of line n (0 when it has none): every field valid UTF-8, not blank,
// at most task.MaxFieldRunes characters and one line without control characters or tabs, and
// two different responses.
func checkPair(n int, p Pair) error {
	for i, s := range [3]string{p.Prompt, p.Chosen, p.Rejected} {
		name := fields[i]
		if !utf8.ValidString(s) {
			return task.NewParseError(n, task.CodeInvalidUTF8, name, 0, 0, "the "+name+" is not valid UTF-8")
		}
		if err := task.CheckField(n, name, s); err != nil {
			return err
		}
		// A task file's JSONL fields may hold tabs; a preference's may not, so that every pair
		// read from either format can be written in both.
		if strings.ContainsRune(s, '\t') {
			return task.NewParseError(n, task.CodeControl, name, '\t', 0,
				"the "+name+" contains a tab; a field of a preference pair must not, so that it can be written as TSV")
		}
	}
	if strings.TrimSpace(p.Chosen) == strings.TrimSpace(p.Rejected) {
		return task.NewParseError(n, CodeSameResponse, "rejected", 0, 0,
			"chosen and rejected are the same text; a preference needs two different answers")
	}
	return nil
}

// WriteJSONL writes pairs in TRL's preference format, one object a line with the keys in the
// order prompt, chosen, rejected. Every pair is checked as ParsePairs checks it before anything
// is written, so what it writes reads back the same (given MinPairs to MaxPairs pairs within
// MaxFileBytes).
func WriteJSONL(w io.Writer, pairs []Pair) error {
	if err := checkAll(pairs); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // keep <, > and & readable; the file is not HTML
	for _, p := range pairs {
		if err := enc.Encode(p); err != nil { // Encode ends each object with "\n"
			return err
		}
	}
	return bw.Flush()
}

// WriteTSV writes pairs as TSV, a header line "prompt<TAB>chosen<TAB>rejected" first (which
// also keeps a first pair that reads like a header from being skipped), with the same checks
// and round trip as WriteJSONL.
func WriteTSV(w io.Writer, pairs []Pair) error {
	if err := checkAll(pairs); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(fields[:], "\t") + "\n")
	for _, p := range pairs {
		bw.WriteString(p.Prompt + "\t" + p.Chosen + "\t" + p.Rejected + "\n")
	}
	return bw.Flush()
}

func checkAll(pairs []Pair) error {
	for i, p := range pairs {
		if err := checkPair(0, p); err != nil {
			return fmt.Errorf("feedback: pair %d cannot be written: %w", i+1, err)
		}
	}
	return nil
}

// UnseenError names the characters of preference pairs that a model has never seen: they
// encode as the unknown token, which a model can read but never write, so it could neither
// learn nor be rewarded for a response that needs one.
type UnseenError struct {
	// Runes are the unseen characters in the order they first appear.
	Runes []rune
	// Pairs[i] is the 1-based number, in file order, of the first pair where Runes[i] appears.
	Pairs []int
}

// maxUnseenNamed is the most characters an UnseenError's message names; a file in another
// script would otherwise give a message as long as its alphabet.
const maxUnseenNamed = 20

func (e *UnseenError) Error() string {
	const why = "the model has never seen (its vocabulary comes from its pretraining text)"
	shown := min(len(e.Runes), maxUnseenNamed)
	// Runes are in order of first appearance, so each pair's are consecutive.
	var groups []string
	for i := 0; i < shown; {
		j := i
		var qs []string
		for ; j < shown && e.Pairs[j] == e.Pairs[i]; j++ {
			qs = append(qs, fmt.Sprintf("%q", string(e.Runes[j])))
		}
		groups = append(groups, fmt.Sprintf("pair %d: %s", e.Pairs[i], andList(qs)))
		i = j
	}
	more := ""
	if len(e.Runes) > shown {
		more = fmt.Sprintf("; and %d more", len(e.Runes)-shown)
	}
	switch {
	case len(e.Runes) == 1:
		return groups[0] + " is a character " + why
	case len(groups) == 1:
		return groups[0] + more + " are characters " + why
	}
	return "characters " + why + ": " + strings.Join(groups, "; ") + more
}

// andList joins ["a", "b", "c"] as "a, b and c".
func andList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// CheckVocab returns an *UnseenError naming the characters of pairs for which known is false
// (known says whether the model's vocabulary has a character, e.g. that its tokenizer does not
// encode it as the unknown token), or nil when it knows them all. Pairs are numbered from 1 in
// order: a Pair carries no line number, and the pair number is the line number in a file
// without blank lines or header, as WriteJSONL writes it.
func CheckVocab(pairs []Pair, known func(r rune) bool) error {
	var e UnseenError
	seen := map[rune]bool{}
	for i, p := range pairs {
		for _, s := range [3]string{p.Prompt, p.Chosen, p.Rejected} {
			for _, r := range s {
				if seen[r] {
					continue
				}
				seen[r] = true
				if !known(r) {
					e.Runes = append(e.Runes, r)
					e.Pairs = append(e.Pairs, i+1)
				}
			}
		}
	}
	if len(e.Runes) == 0 {
		return nil
	}
	return &e
}
