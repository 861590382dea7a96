// Package runspec is a run's whole setup as a share link: the corpus (a built-in one by id and
// hash, or a learner's text carried compressed), the config, the device choice and optionally
// the fingerprint the run produced, so whoever opens the link can reproduce it and see whether
// their run matches.
//
// # The code
//
// A code is its version, one character ('1' to '6'), followed by the payload; the payload of
// every version is the Spec as JSON, compressed with raw DEFLATE and written in unpadded base64url
// (RFC 4648 §5), so it is safe in a URL fragment, a query or a chat message. The app puts it in
// the fragment, "#r=CODE", which browsers never send to a server.
//
// Version 3 adds the pretraining objective (Objective, MaskRate: masked LM beside causal LM).
// Version 2 adds a fine-tuning comparison (Task, FineTune, Methods): the spec's corpus, config
// and seed are the pretraining of the base every method starts from, so a comparison's link
// embeds the pretraining it starts from. A spec without them is still written as version 1.
//
// Version 3 adds the fine-tuning's own seed (FineTune.Seed): in version 2 the methods draw their
// data order and initialisation from the pretraining seed, so another fine-tuning seed meant
// another base. A comparison without its own seed is still written as version 2.
//
// Version 4 adds the fingerprints a comparison's author got for the untouched base and each
// method (Fingerprints), so whoever opens the link sees whether each method reproduced. A
// comparison shared before its results came is still written as version 2 or 3.
//
// Version 5 adds a feedback stage (Feedback, Prefs: RLHF with core/feedback) after a comparison
// of exactly one method, full or LoRA fine-tuning (LoRA's update baked into the weights), which
// makes the SFT model the stage starts from. Its Fingerprints name the feedback results
// (feedback.SFT, feedback.RewardModel and the feedback methods' labels) instead of the
// comparison's.
//
// Version 6 adds fine-tuning method kinds (#17: compare.DoRA, compare.IA3, compare.BitFit,
// compare.LNTuning, compare.LoRAPlus with its Method.Ratio, compare.PiSSA, compare.Prompt;
// methodVersions): a comparison naming one of them is version 6, so an older build says the
// link is newer instead of calling a kind unknown or its ratio a damaged field. A comparison of
// the first kinds only keeps its old version.
//
// Version 7 adds the pretraining's shard count (Config.Shards): each step's batch is cut into
// that many shards whose gradients are summed in a fixed order, so the run depends on it (and
// not on how many workers computed the shards). A link without it is a one-shard run.
//
// # Versioning rule
//
//   - A build decodes every link version up to its own, forever: testdata/ holds real codes of
//     each version and a test checks they still decode to the same Spec.
//   - A field that changes what a run does (fine-tuning methods, a base run to start from) takes
//     a new version. A build writes the lowest version able to express the spec, so a link that
//     uses no new feature still opens in older builds.
//   - An older build refuses a newer version with "made by a newer pretune" instead of running
//     something else. Within a version, decoding is strict: an unknown JSON field is an error,
//     because it can only come from a damaged or hand-edited link (a newer build using a new
//     field writes a newer version), and ignoring it would silently reproduce a different run.
//   - A field added to core.Config must keep zero meaning the old behaviour, or take a new link
//     version whose decoder fills in the old value for version-1 links.
package runspec

import (
	"bytes"
	"cmp"
	"compress/flate"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"pretune/core"
	"pretune/core/checkpoint"
	"pretune/core/compare"
	"pretune/core/corpus"
	"pretune/core/feedback"
	"pretune/core/fingerprint"
	"pretune/core/task"
)

// Link versions. Version stays the version of a plain run (no comparison), which Encode still
// writes for it: callers that build a plain Spec (the playground's form) set Version and get
// the same Spec back from Decode.
const (
	// Version is the link version of a spec without a comparison.
	Version = 1
	// VersionCompare is the first version with a fine-tuning comparison (Task, FineTune,
	// Methods).
	VersionCompare = 2
	// Version 3 adds three things, each optional: a pretraining objective other than causal LM
	// (Objective, MaskRate), a fine-tuning seed of its own (FineTune.Seed) and a learner's own
	// task (TaskRef with ID UserTask). A spec takes version 3 only when it uses one of them.
	VersionObjective = 3
	VersionSeed      = 3
	VersionUserTask  = 3
	// VersionFingerprints adds a comparison's fingerprints per method (Fingerprints).
	VersionFingerprints = 4
	// VersionFeedback adds a feedback stage after the comparison (Feedback, Prefs).
	VersionFeedback = 5
	// VersionMethods adds method kinds (methodVersions).
	VersionMethods = 6
	// VersionShards adds the pretraining's shard count (Config.Shards, data-parallel steps):
	// a link that names one, any one, is version 7; a link without it trains unsharded.
	VersionShards = 7
	// Newest is the newest link version this build writes and reads.
	Newest = 7
)

// methodVersions are the link versions of the method kinds added after version 2; a kind not
// listed is version 2's (VersionCompare).
var methodVersions = map[string]int{
	// #17.
	compare.DoRA: VersionMethods, compare.IA3: VersionMethods, compare.BitFit: VersionMethods,
	compare.LNTuning: VersionMethods, compare.LoRAPlus: VersionMethods, compare.PiSSA: VersionMethods,
	compare.Prompt: VersionMethods,
}

// methodsVersion is the newest link version among the spec's method kinds (0 without methods).
func (s Spec) methodsVersion() int {
	v := 0
	for _, m := range s.Methods {
		v = max(v, cmp.Or(methodVersions[m.Kind], VersionCompare))
	}
	return v
}

// Objectives. The zero value, "", is causal LM (every link before version 3).
const (
	ObjectiveCausal = ""       // predict each next token
	ObjectiveMasked = "masked" // predict masked tokens from both sides (core.NewMLMTrainerFor)
)

// Limits. A link must fit in a URL that chat apps and browsers carry; they hold far more than
// MaxCodeBytes, but a link that long is no longer something a person would share.
const (
	// MaxLinkTextBytes is the most learner text a link carries (raw UTF-8 bytes, before
	// compression). A larger corpus is refused; share a built-in corpus or a shorter text.
	MaxLinkTextBytes = 48 << 10
	// MaxCodeBytes is the longest code Encode writes and Decode reads. 48 KiB of text that does
	// not compress at all still fits.
	MaxCodeBytes = 80 << 10
	// maxInflatedBytes bounds the decompressed JSON, against decompression bombs (DEFLATE can
	// expand a thousandfold). JSON escapes can make text up to six times longer.
	// A link may carry a learner's corpus and a learner's task, each up to MaxLinkTextBytes.
	maxInflatedBytes = 2*6*MaxLinkTextBytes + 16<<10
	// MaxNameBytes bounds a learner corpus's display name.
	MaxNameBytes = 200
)

// UserCorpus is CorpusRef.ID for a learner's own text.
const UserCorpus = "user"

// Device choices.
const (
	DeviceAuto   = "auto" // WebGPU when a real adapter exists, else the CPU
	DeviceCPU    = "cpu"
	DeviceWebGPU = "webgpu"
)

// Errors. Decode wraps one of them with a message that says what is wrong.
var (
	// ErrMalformed: not a code at all, or damaged (bad base64, bad DEFLATE, bad JSON).
	ErrMalformed = errors.New("the link is malformed")
	// ErrNewerVersion: the code has a version above Version.
	ErrNewerVersion = errors.New("the link was made by a newer pretune")
	// ErrInvalid: the code decodes but a value is out of range (a config field, an unknown
	// corpus, a bad device name).
	ErrInvalid = errors.New("the link's settings are invalid")
	// ErrTooLarge: the text, the code or its decompressed form is over its limit.
	ErrTooLarge = errors.New("the link is too large")
	// ErrCorpusChanged: a built-in corpus's hash differs from this build's: the sample text
	// changed since the link was made, so the run would not reproduce. Decode returns the Spec
	// with this error, so a caller can offer to run it on the current text anyway.
	ErrCorpusChanged = errors.New("the sample text changed since this link was made")
)

// Spec is a run's whole setup. Version is set by Encode and Decode; the other zero values mean
// "not given" where the field is optional.
type Spec struct {
	Version int       `json:"v"`
	Corpus  CorpusRef `json:"corpus"`
	// Config is the model, optimiser and schedule. Vocab stays 0: it comes from the corpus.
	Config core.Config `json:"config"`
	// Device is DeviceAuto, DeviceCPU or DeviceWebGPU; "" means DeviceAuto.
	Device string `json:"device,omitempty"`
	// Fingerprint is the result the link's author got (fingerprint.Of); optional.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Lang is the UI language, "en" or "zh"; "" leaves the receiver's choice.
	Lang string `json:"lang,omitempty"`

	// Version 3: the pretraining objective. Objective is ObjectiveCausal ("") or ObjectiveMasked;
	// MaskRate is the masked objective's share of chosen positions (0 means
	// core.DefaultMLM's 15%).
	Objective string  `json:"objective,omitempty"`
	MaskRate  float32 `json:"mask_rate,omitempty"`

	// Version 2: a fine-tuning comparison from the base the fields above pretrain. All three are
	// given together or not at all.

	// Task is the built-in task every method fine-tunes on.
	Task *TaskRef `json:"task,omitempty"`
	// FineTune is the schedule every method shares.
	FineTune *FineTune `json:"finetune,omitempty"`
	// Methods are run one after another, each from its own copy of the base.
	Methods []compare.Method `json:"methods,omitempty"`

	// Version 4: Fingerprints are the comparison's results the link's author got, by result
	// name: compare.Base for the untouched base measured on the task, and each method's label
	// (compare.Method.Label). Optional, any of them; Fingerprint stays the pretraining's.
	Fingerprints map[string]string `json:"fingerprints,omitempty"`

	// Version 5: a feedback stage (RLHF) from the SFT model that the comparison's one method,
	// full or LoRA fine-tuning, makes. Its preference pairs come from Feedback.Taste (a built-in taste
	// in the corpus's language) or from a learner's file (Prefs), at least one: with both, the
	// file teaches and the taste judges (gold win rate, the reward model's gold accuracy).
	Feedback *feedback.Config `json:"feedback,omitempty"`
	Prefs    *PrefsRef        `json:"prefs,omitempty"`
}

// TaskRef names a built-in task by ID and Hash (task.Task.Hash: this build must have the same
// examples), or carries a learner's own task (ID UserTask, version 3): its Kind, the file's Text
// (TSV or JSON Lines, read by task.FromFile) and a display Name, with Hash = TextHash(Text).
// Encode fills in Hash when it is empty.
type TaskRef struct {
	ID   string `json:"id"`
	Hash string `json:"hash"`
	Kind string `json:"kind,omitempty"`
	Text string `json:"text,omitempty"`
	Name string `json:"name,omitempty"`
}

// UserTask is TaskRef.ID for a learner's own task.
const UserTask = "user"

// UserTaskRef returns a reference to a learner's task file, checked as task.FromFile checks it
// (line-numbered errors) and against MaxLinkTextBytes.
func UserTaskRef(name, kind, text string) (*TaskRef, error) {
	ref := &TaskRef{ID: UserTask, Hash: TextHash(text), Kind: kind, Text: text, Name: name}
	if _, err := ref.Resolve(); err != nil {
		return nil, err
	}
	return ref, nil
}

// Resolve returns the task the reference names: a built-in task, or the learner's parsed.
func (r TaskRef) Resolve() (*task.Task, error) {
	if r.ID != UserTask {
		if r.Kind != "" || r.Text != "" || r.Name != "" {
			return nil, fmt.Errorf("runspec: %w: a built-in task carries no kind, text or name", ErrInvalid)
		}
		t, err := task.Builtin(r.ID)
		if err != nil {
			return nil, fmt.Errorf("runspec: %w: %v", ErrInvalid, err)
		}
		return t, nil
	}
	switch {
	case len(r.Text) > MaxLinkTextBytes:
		return nil, fmt.Errorf("runspec: %w: your task is %d bytes; a link carries at most %d", ErrTooLarge, len(r.Text), MaxLinkTextBytes)
	case len(r.Name) > MaxNameBytes || !utf8.ValidString(r.Name):
		return nil, fmt.Errorf("runspec: %w: the task name must be UTF-8 of at most %d bytes", ErrInvalid, MaxNameBytes)
	case r.Hash != TextHash(r.Text):
		return nil, fmt.Errorf("runspec: %w: your task's text does not match its hash: the link was changed or cut", ErrMalformed)
	}
	return parseUserTask(r)
}

// lastUserTask keeps the last learner's task parsed: the playground validates its form on every
// redraw (each worker message during a comparison), and a task file may be 48 KiB.
var lastUserTask struct {
	sync.Mutex
	key string
	t   *task.Task
	err error
}

// parseUserTask reads a learner's task (its hash already checked against its text).
func parseUserTask(r TaskRef) (*task.Task, error) {
	key := r.Kind + "\x00" + r.Name + "\x00" + r.Hash
	lastUserTask.Lock()
	defer lastUserTask.Unlock()
	if lastUserTask.key != key || lastUserTask.t == nil && lastUserTask.err == nil {
		t, err := task.FromFile(r.Name, r.Kind, []byte(r.Text))
		if err != nil {
			err = fmt.Errorf("runspec: %w: your task: %w", ErrInvalid, err)
		}
		lastUserTask.key, lastUserTask.t, lastUserTask.err = key, t, err
	}
	if lastUserTask.err != nil {
		return nil, lastUserTask.err
	}
	return lastUserTask.t.Clone(), nil
}

// FineTune is a comparison's shared schedule; the seed is the pretraining config's.
type FineTune struct {
	Steps     int `json:"steps"`      // fine-tuning steps per method
	Warmup    int `json:"warmup"`     // steps of warm-up, at most Steps
	EvalEvery int `json:"eval_every"` // steps between held-out task losses
	// Seed drives the methods' data order, dropout and initialisation (version 3); 0 takes the
	// pretraining config's seed, as version 2 always does. Use Spec.FineTuneSeed to read it.
	Seed uint64 `json:"seed,omitempty"`
}

// FineTuneSeed is the seed a comparison's methods use: FineTune.Seed, else the pretraining's.
func (s Spec) FineTuneSeed() uint64 {
	if s.FineTune != nil && s.FineTune.Seed != 0 {
		return s.FineTune.Seed
	}
	return s.Config.Seed
}

// Pretraining is the plain run a spec's model comes from: for a comparison, the pretraining of
// its base; for a plain run, the run itself. It keeps only what changes the trained weights (the
// corpus and the config), so two specs with equal Pretraining train the same model.
func (s Spec) Pretraining() Spec {
	p := Spec{Corpus: s.Corpus, Config: s.Config, Objective: s.Objective, MaskRate: s.MaskRate}
	p.Version = p.lowestVersion()
	return p
}

// MLM is the masked objective's options (nil for causal LM).
func (s Spec) MLM() *core.MLMOptions {
	if s.Objective != ObjectiveMasked {
		return nil
	}
	o := core.DefaultMLM()
	if s.MaskRate != 0 {
		o.Rate = s.MaskRate
	}
	return &o
}

// Compares says whether the spec is a fine-tuning comparison.
func (s Spec) Compares() bool {
	return s.Task != nil || s.FineTune != nil || len(s.Methods) > 0
}

// lowestVersion is the lowest link version able to express s.
func (s Spec) lowestVersion() int {
	switch {
	case s.Config.Shards != 0:
		return VersionShards
	case s.methodsVersion() > VersionFeedback:
		return s.methodsVersion()
	case s.Feedback != nil || s.Prefs != nil:
		return VersionFeedback
	case len(s.Fingerprints) > 0:
		return VersionFingerprints
	case s.Objective != ObjectiveCausal || s.MaskRate != 0:
		return VersionObjective
	case s.FineTune != nil && s.FineTune.Seed != 0:
		return VersionSeed
	case s.Task != nil && s.Task.ID == UserTask:
		return VersionUserTask
	case s.Compares():
		return VersionCompare
	}
	return 1
}

// CorpusRef names the corpus: a built-in one by ID and Hash, or a learner's Text (ID UserCorpus).
type CorpusRef struct {
	// ID is a built-in id ("en-world") or UserCorpus.
	ID string `json:"id"`
	// Hash is corpus.Corpus.Hash for a built-in corpus (this build must have the same text),
	// and TextHash(Text) for a learner's text (it catches a damaged link). Encode fills it in
	// when it is empty.
	Hash string `json:"hash"`
	// Text is the learner's text (UserCorpus only), at most MaxLinkTextBytes.
	Text string `json:"text,omitempty"`
	// Name is shown to the learner (a file name, say); optional.
	Name string `json:"name,omitempty"`
}

// Builtin returns a reference to the built-in corpus id with this build's hash.
func Builtin(id string) (CorpusRef, error) {
	c, err := corpus.Builtin(id)
	if err != nil {
		return CorpusRef{}, fmt.Errorf("runspec: %w: %v", ErrInvalid, err)
	}
	return CorpusRef{ID: id, Hash: hashOf(id, c)}, nil
}

// UserText returns a reference to a learner's text, checked as corpus.FromText checks it and
// against MaxLinkTextBytes.
func UserText(name, text string) (CorpusRef, error) {
	ref := CorpusRef{ID: UserCorpus, Hash: TextHash(text), Text: text, Name: name}
	if _, err := ref.resolve(); err != nil {
		return CorpusRef{}, err
	}
	return ref, nil
}

// TextHash is the first 16 hex digits of the SHA-256 of a learner's text as the link carries it.
func TextHash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// Encode checks s and returns its code, in the lowest version able to express it (1 without a
// comparison, so older builds open it; Vocab is not carried and must be 0). A learner text over MaxLinkTextBytes, or a code over MaxCodeBytes, is refused with the
// size and the limit.
func Encode(s Spec) (string, error) {
	s.Version = s.lowestVersion()
	if s.Task != nil && s.Task.Hash == "" {
		ref := *s.Task
		if ref.ID == UserTask {
			ref.Hash = TextHash(ref.Text)
		} else if t, err := task.Builtin(ref.ID); err == nil {
			ref.Hash = t.Hash()
		}
		s.Task = &ref
	}
	if s.Corpus.Hash == "" {
		switch s.Corpus.ID {
		case UserCorpus:
			s.Corpus.Hash = TextHash(s.Corpus.Text)
		default:
			if c, err := corpus.Builtin(s.Corpus.ID); err == nil {
				s.Corpus.Hash = hashOf(s.Corpus.ID, c)
			}
		}
	}
	if err := s.Validate(); err != nil {
		return "", err
	}
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false) // "<" stays one byte, not six
	if err := enc.Encode(s); err != nil {
		return "", fmt.Errorf("runspec: %w", err)
	}
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestCompression) // the level is valid: no error
	zw.Write(bytes.TrimSuffix(js.Bytes(), []byte("\n")))
	zw.Close()
	code := string(versionChar(s.Version)) + base64.RawURLEncoding.EncodeToString(z.Bytes())
	if len(code) > MaxCodeBytes {
		return "", fmt.Errorf("runspec: %w: the link would be %d characters, more than the limit of %d", ErrTooLarge, len(code), MaxCodeBytes)
	}
	return code, nil
}

// URL returns base (the app's address, any origin) with the code in its fragment.
func URL(base string, s Spec) (string, error) {
	code, err := Encode(s)
	if err != nil {
		return "", err
	}
	if i := strings.IndexByte(base, '#'); i >= 0 {
		base = base[:i]
	}
	return base + "#r=" + code, nil
}

// Decode reads a code: bare ("1..."), as "#r=CODE" or "r=CODE", or inside a whole URL on any
// origin, in the fragment (#r=...) or the query (?r=...). Whitespace (a link wrapped in an
// email) and base64 padding are tolerated. The result is checked as Encode checks; see the
// package's Err* values for what can go wrong.
func Decode(codeOrURL string) (Spec, error) {
	code, err := extract(codeOrURL)
	if err != nil {
		return Spec{}, err
	}
	if len(code) > MaxCodeBytes {
		return Spec{}, fmt.Errorf("runspec: %w: the code is %d characters, more than the limit of %d", ErrTooLarge, len(code), MaxCodeBytes)
	}
	v := versionOf(code[0])
	switch {
	case v < 0:
		return Spec{}, fmt.Errorf("runspec: %w: a code starts with its version number, not %q", ErrMalformed, code[:1])
	case v > Newest:
		return Spec{}, fmt.Errorf("runspec: %w (link version %d; this one reads up to %d): update the page or the program to open it", ErrNewerVersion, v, Newest)
	}
	// Versions 1 to 6 share the format (each only adds fields); a later version with another
	// format adds a case here and keeps these.
	return decodeJSON(v, code[1:])
}

// decodeJSON reads the payload of version v (1 to 6): deflated JSON in base64url.
func decodeJSON(v int, payload string) (Spec, error) {
	z, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return Spec{}, fmt.Errorf("runspec: %w: the code is not base64url (%v): was it cut or changed when copied?", ErrMalformed, err)
	}
	zr := bytes.NewReader(z)
	js, err := io.ReadAll(io.LimitReader(flate.NewReader(zr), maxInflatedBytes+1))
	switch {
	case err != nil:
		return Spec{}, fmt.Errorf("runspec: %w: the compressed data is damaged (%v): was the link cut short?", ErrMalformed, err)
	case len(js) > maxInflatedBytes:
		return Spec{}, fmt.Errorf("runspec: %w: it decompresses to more than %d bytes", ErrTooLarge, maxInflatedBytes)
	case zr.Len() > 0:
		return Spec{}, fmt.Errorf("runspec: %w: %d bytes follow the compressed data", ErrMalformed, zr.Len())
	}
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields() // see the versioning rule in the package doc
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("runspec: %w: the settings are not valid JSON for this version (%v)", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Spec{}, fmt.Errorf("runspec: %w: something follows the settings", ErrMalformed)
	}
	if s.Version != v {
		return Spec{}, fmt.Errorf("runspec: %w: the code says version %d but its settings say %d", ErrMalformed, v, s.Version)
	}
	if err := s.Validate(); err != nil {
		if errors.Is(err, ErrCorpusChanged) {
			return s, err
		}
		return Spec{}, err
	}
	return s, nil
}

// Validate checks every field; Encode and Decode call it. With ErrCorpusChanged the spec is
// otherwise valid.
func (s Spec) Validate() error {
	if s.Version < 1 || s.Version > Newest {
		return fmt.Errorf("runspec: %w: version %d is outside 1..%d", ErrInvalid, s.Version, Newest)
	}
	if s.Config.Vocab != 0 {
		return fmt.Errorf("runspec: %w: config vocab is %d; a link leaves it 0 because the corpus decides it", ErrInvalid, s.Config.Vocab)
	}
	if err := s.Config.Validate(); err != nil {
		return fmt.Errorf("runspec: %w: %v", ErrInvalid, err)
	}
	switch s.Device {
	case "", DeviceAuto, DeviceCPU, DeviceWebGPU:
	default:
		return fmt.Errorf("runspec: %w: device %q is not one of %q, %q, %q", ErrInvalid, s.Device, DeviceAuto, DeviceCPU, DeviceWebGPU)
	}
	switch s.Lang {
	case "", "en", "zh":
	default:
		return fmt.Errorf("runspec: %w: language %q is not \"en\" or \"zh\"", ErrInvalid, s.Lang)
	}
	if s.Fingerprint != "" {
		if _, _, err := fingerprint.Parse(s.Fingerprint); err != nil {
			return fmt.Errorf("runspec: %w: %v", ErrInvalid, err)
		}
	}
	if err := s.validateObjective(); err != nil {
		return err
	}
	switch {
	case s.Config.Shards != 0 && s.Version < VersionShards:
		return fmt.Errorf("runspec: %w: a shard count needs link version %d, not %d", ErrInvalid, VersionShards, s.Version)
	case s.Config.Shards == 0 && s.Version == VersionShards:
		return fmt.Errorf("runspec: %w: a version %d link carries a shard count", ErrInvalid, s.Version)
	}
	c, corpusErr := s.Corpus.resolve() // with ErrCorpusChanged, c is this build's corpus
	if c == nil {
		return corpusErr
	}
	// A changed built-in task is reported like a changed corpus, after the other checks.
	err := s.validateCompare(c.Lang)
	if err == nil || errors.Is(err, ErrCorpusChanged) {
		// The feedback stage's checks come after the comparison's: they need its task.
		if ferr := s.validateFeedback(c.Lang); ferr != nil {
			return ferr
		}
	}
	if errors.Is(err, ErrCorpusChanged) {
		corpusErr = cmp.Or(corpusErr, err)
	} else if err != nil {
		return err
	}
	// A valid config can still need more memory than a tab has (the B·H·T·T attention
	// matrices); refuse it here rather than crash the tab that opens the link.
	cfg := s.Config
	vocab, err := vocabOf(s.Corpus.ID, c)
	if err != nil {
		return err
	}
	cfg.Vocab = vocab
	if need := checkpoint.TrainingBytes(cfg); need > checkpoint.MaxTrainingBytes {
		return fmt.Errorf("runspec: %w: this model needs about %.1f GiB to train; the limit is %d GiB", ErrTooLarge, float64(need)/(1<<30), checkpoint.MaxTrainingBytes>>30)
	}
	return corpusErr // nil, or ErrCorpusChanged
}

// Built-in corpora do not change within a build, so their hash and vocabulary size are worked
// out once: the app validates every preset's link each time it draws the page.
var (
	builtinMu    sync.Mutex
	builtinHash  = map[string]string{}
	builtinVocab = map[string]int{}
)

func hashOf(id string, c *corpus.Corpus) string {
	builtinMu.Lock()
	defer builtinMu.Unlock()
	h, ok := builtinHash[id]
	if !ok {
		h = c.Hash()
		builtinHash[id] = h
	}
	return h
}

// vocabOf is the vocabulary a model pretrained on c gets: core.PretrainTokenizer's, the corpus's
// characters and the built-in tasks' (so any pretrained model can be fine-tuned on them).
func vocabOf(id string, c *corpus.Corpus) (int, error) {
	if id != UserCorpus {
		builtinMu.Lock()
		v, ok := builtinVocab[id]
		builtinMu.Unlock()
		if ok {
			return v, nil
		}
	}
	tk, err := core.PretrainTokenizer(c)
	if err != nil {
		return 0, fmt.Errorf("runspec: %w: the corpus: %v", ErrInvalid, err)
	}
	if id != UserCorpus {
		builtinMu.Lock()
		builtinVocab[id] = tk.VocabSize()
		builtinMu.Unlock()
	}
	return tk.VocabSize(), nil
}

// resolve checks the reference and returns its corpus. With ErrCorpusChanged it returns this
// build's corpus as well.
func (r CorpusRef) resolve() (*corpus.Corpus, error) {
	if len(r.Name) > MaxNameBytes || !utf8.ValidString(r.Name) {
		return nil, fmt.Errorf("runspec: %w: the corpus name must be UTF-8 of at most %d bytes", ErrInvalid, MaxNameBytes)
	}
	if r.ID == UserCorpus {
		if len(r.Text) > MaxLinkTextBytes {
			return nil, fmt.Errorf("runspec: %w: the text is %d bytes; a link carries at most %d bytes (%d KiB) of text: share a built-in corpus or a shorter text", ErrTooLarge, len(r.Text), MaxLinkTextBytes, MaxLinkTextBytes>>10)
		}
		if r.Hash != TextHash(r.Text) {
			return nil, fmt.Errorf("runspec: %w: the text does not match its hash (%q, want %q): the link was damaged", ErrMalformed, r.Hash, TextHash(r.Text))
		}
		c, err := corpus.FromText(r.Name, []byte(r.Text))
		if err != nil {
			return nil, fmt.Errorf("runspec: %w: the text: %v", ErrInvalid, err)
		}
		return c, nil
	}
	if r.Text != "" {
		return nil, fmt.Errorf("runspec: %w: corpus %q is built in, so the link must not carry text (a learner's text has id %q)", ErrInvalid, r.ID, UserCorpus)
	}
	c, err := corpus.Builtin(r.ID)
	if err != nil {
		return nil, fmt.Errorf("runspec: %w: %v (a link from a newer pretune may name a corpus this one lacks)", ErrInvalid, err)
	}
	if h := hashOf(r.ID, c); r.Hash != h {
		return c, fmt.Errorf("runspec: %w: corpus %s has hash %s in this pretune, %q in the link, so the run will not reproduce exactly", ErrCorpusChanged, r.ID, h, r.Hash)
	}
	return c, nil
}

// Resolve returns the spec's corpus: the built-in one (its hash checked) or the learner's text
// split by corpus.FromText.
func (s Spec) Resolve() (*corpus.Corpus, error) {
	c, err := s.Corpus.resolve()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// extract finds the code in a bare code, "#r=", "r=", or a URL's fragment or query.
func extract(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("runspec: %w: it is empty", ErrMalformed)
	}
	code, found := s, false
	if i := strings.IndexByte(s, '#'); i >= 0 {
		code, found = param(s[i+1:])
		s = s[:i]
	}
	if !found {
		if i := strings.IndexByte(s, '?'); i >= 0 {
			code, found = param(s[i+1:])
		} else if !strings.Contains(s, "://") && !strings.HasPrefix(s, "/") {
			code, found = s, true
			if strings.HasPrefix(code, "r=") {
				code = code[2:]
			}
		}
	}
	if !found {
		return "", fmt.Errorf("runspec: %w: the address carries no run (no #r=... or ?r=...)", ErrMalformed)
	}
	if u, err := url.PathUnescape(code); err == nil {
		code = u
	}
	code = strings.Join(strings.Fields(code), "")
	code = strings.TrimRight(code, "=")
	if code == "" {
		return "", fmt.Errorf("runspec: %w: the run code is empty", ErrMalformed)
	}
	return code, nil
}

// param returns the value of r in an "a=b&r=CODE" list.
func param(q string) (string, bool) {
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "r="); ok {
			return v, true
		}
	}
	return "", false
}

// versionChar and versionOf map versions 1..35 to '1'..'9', 'A'..'Z' (room for 34 more).
func versionChar(v int) byte {
	if v < 10 {
		return byte('0' + v)
	}
	return byte('A' + v - 10)
}

func versionOf(c byte) int {
	switch {
	case c >= '1' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// MaxMethods bounds a comparison's methods: each one fine-tunes its own copy of the base.
const MaxMethods = 8

// validateCompare checks the comparison fields against the version and the corpus's language
// (lang). A built-in task whose hash differs is ErrCorpusChanged, like a changed corpus.
// validateObjective checks the pretraining objective and that the version carries it.
func (s Spec) validateObjective() error {
	switch s.Objective {
	case ObjectiveCausal:
		if s.MaskRate != 0 {
			return fmt.Errorf("runspec: %w: a mask rate belongs to the masked objective only", ErrInvalid)
		}
		if s.Version == VersionObjective && !s.Compares() {
			return fmt.Errorf("runspec: %w: a version %d link carries a fine-tuning seed, the masked objective or your own task", ErrInvalid, s.Version)
		}
	case ObjectiveMasked:
		if s.Version < VersionObjective {
			return fmt.Errorf("runspec: %w: the masked objective needs link version %d, not %d", ErrInvalid, VersionObjective, s.Version)
		}
		if s.MaskRate != 0 && !(s.MaskRate >= MinMaskRate && s.MaskRate <= MaxMaskRate) {
			return fmt.Errorf("runspec: %w: mask rate %g is outside %g..%g", ErrInvalid, s.MaskRate, MinMaskRate, MaxMaskRate)
		}
	default:
		return fmt.Errorf("runspec: %w: objective %q is not causal (\"\") or %q", ErrInvalid, s.Objective, ObjectiveMasked)
	}
	return nil
}

// The masked objective's mask rate bounds: below 5% a step teaches almost nothing; above half
// the window there is too little left to read the blanks from.
const (
	MinMaskRate = 0.05
	MaxMaskRate = 0.5
)

func (s Spec) validateCompare(lang string) error {
	if !s.Compares() {
		switch {
		case len(s.Fingerprints) > 0:
			return fmt.Errorf("runspec: %w: fingerprints per method belong to a comparison", ErrInvalid)
		case s.Version == VersionCompare || s.Version == VersionFingerprints || s.Version == VersionMethods:
			return fmt.Errorf("runspec: %w: a version %d link must carry a comparison (task, finetune, methods)", ErrInvalid, s.Version)
		}
		return nil
	}
	if s.Version < VersionCompare {
		return fmt.Errorf("runspec: %w: a fine-tuning comparison needs link version %d, not %d", ErrInvalid, VersionCompare, s.Version)
	}
	if s.Task == nil || s.FineTune == nil || len(s.Methods) == 0 {
		return fmt.Errorf("runspec: %w: a comparison needs a task, a fine-tuning schedule and at least one method", ErrInvalid)
	}
	if s.Task.ID == UserTask && s.Version < VersionUserTask {
		return fmt.Errorf("runspec: %w: your own task needs link version %d, not %d", ErrInvalid, VersionUserTask, s.Version)
	}
	t, err := s.Task.Resolve()
	if err != nil {
		return err
	}
	// A learner's task has only a guessed language: the base's vocabulary is checked when the
	// comparison runs instead.
	if t.Lang != lang && s.Task.ID != UserTask {
		return fmt.Errorf("runspec: %w: task %s is in %q but the corpus is in %q: the base would not know the task's language", ErrInvalid, s.Task.ID, t.Lang, lang)
	}
	if s.Objective == ObjectiveMasked && t.Kind != task.KindClassify {
		return fmt.Errorf("runspec: %w: a masked-LM base cannot generate, so it cannot be fine-tuned on task %s (%s); pick a classify task", ErrInvalid, s.Task.ID, t.Kind)
	}
	ft := *s.FineTune
	switch {
	case ft.Seed != 0 && s.Version < VersionSeed:
		return fmt.Errorf("runspec: %w: a fine-tuning seed needs link version %d, not %d", ErrInvalid, VersionSeed, s.Version)
	case ft.Seed == 0 && s.Version == VersionSeed && s.Objective == ObjectiveCausal && s.Task.ID != UserTask:
		return fmt.Errorf("runspec: %w: a version %d link carries a fine-tuning seed, the masked objective or your own task", ErrInvalid, s.Version)
	case ft.Steps < 1 || ft.Steps > core.MaxSteps:
		return fmt.Errorf("runspec: %w: fine-tuning steps %d is outside 1..%d", ErrInvalid, ft.Steps, core.MaxSteps)
	case ft.Warmup < 0 || ft.Warmup > ft.Steps:
		return fmt.Errorf("runspec: %w: fine-tuning warm-up %d is outside 0..%d (the steps)", ErrInvalid, ft.Warmup, ft.Steps)
	case ft.EvalEvery < 1 || ft.EvalEvery > ft.Steps:
		return fmt.Errorf("runspec: %w: fine-tuning eval_every %d is outside 1..%d (the steps)", ErrInvalid, ft.EvalEvery, ft.Steps)
	case len(s.Methods) > MaxMethods:
		return fmt.Errorf("runspec: %w: %d methods; a comparison has at most %d", ErrInvalid, len(s.Methods), MaxMethods)
	}
	seen := map[string]bool{}
	for i, m := range s.Methods {
		if err := m.Validate(s.Config.Dim, t.Kind); err != nil {
			return fmt.Errorf("runspec: %w: method %d (%s): %v", ErrInvalid, i+1, m.Label(), err)
		}
		if v := methodVersions[m.Kind]; v > s.Version {
			return fmt.Errorf("runspec: %w: method %d (%s): a %s method needs link version %d, not %d", ErrInvalid, i+1, m.Label(), m.Kind, v, s.Version)
		}
		if seen[m.Label()] {
			return fmt.Errorf("runspec: %w: two methods are named %q; give one a name", ErrInvalid, m.Label())
		}
		seen[m.Label()] = true
	}
	if s.Version == VersionMethods && s.methodsVersion() < VersionMethods {
		return fmt.Errorf("runspec: %w: a version %d link names a method kind added in version %d", ErrInvalid, s.Version, VersionMethods)
	}
	if s.Feedback != nil {
		seen = feedbackResults(s.Feedback)
	}
	if err := s.validateFingerprints(seen); err != nil {
		return err
	}
	if h := t.Hash(); s.Task.ID != UserTask && s.Task.Hash != h {
		return fmt.Errorf("runspec: %w: task %s has hash %s in this pretune, %q in the link, so the comparison will not reproduce exactly", ErrCorpusChanged, s.Task.ID, h, s.Task.Hash)
	}
	return nil
}

// validateFingerprints checks a comparison's fingerprints against the version and its methods'
// labels (methods).
func (s Spec) validateFingerprints(methods map[string]bool) error {
	switch {
	case len(s.Fingerprints) > 0 && s.Version < VersionFingerprints:
		return fmt.Errorf("runspec: %w: fingerprints per method need link version %d, not %d", ErrInvalid, VersionFingerprints, s.Version)
	case len(s.Fingerprints) == 0 && s.Version == VersionFingerprints:
		return fmt.Errorf("runspec: %w: a version %d link carries fingerprints per method", ErrInvalid, s.Version)
	}
	for name, fp := range s.Fingerprints {
		if !methods[name] && (name != compare.Base || s.Feedback != nil) {
			if s.Feedback != nil {
				return fmt.Errorf("runspec: %w: a fingerprint for %q, which is neither %s, %s nor one of the feedback methods", ErrInvalid, name, feedback.SFT, feedback.RewardModel)
			}
			return fmt.Errorf("runspec: %w: a fingerprint for %q, which is neither the base nor one of the methods", ErrInvalid, name)
		}
		if _, _, err := fingerprint.Parse(fp); err != nil {
			return fmt.Errorf("runspec: %w: the fingerprint of %s: %v", ErrInvalid, name, err)
		}
	}
	return nil
}
