// Package protocol is the conversation between the page and a trainer worker: JSON requests with
// an id, and messages that answer them (any of which may be an error). The types live here, in
// pure Go, so both sides and their tests share one definition without a browser.
package protocol

import (
	"encoding/json"
	"errors"
	"fmt"

	"pretune/core"
	"pretune/core/job"
)

// Request kinds, page to worker.
const (
	Start       = "start"       // train the run of Code on Device
	Pause       = "pause"       // stop between steps, keeping the run
	Resume      = "resume"      // continue a paused run
	Stop        = "stop"        // end the run; it answers with an error "stopped"
	Conformance = "conformance" // run the device conformance suite on Device
	Bench       = "bench"       // measure kernels and a training step on Device
	Save        = "save"        // the model of the worker's last run, as checkpoint bytes in Format
	// Inspect asks what the model of the run in progress (or of the last run) does with Prompt:
	// its InspectTop most likely next tokens and its attention maps. It answers Inspection.
	Inspect = "inspect"
	// LoadAdapter puts the adapter file Adapter (LoRA, DoRA or IA3) on the comparison base Base (a checkpoint
	// in either format) and answers the fixed prompts of the comparison Code carries (its task
	// and schedule): a Result whose event is named compare.Loaded, with the answers on, off and
	// merged and the updates ΔW, then Done. Nothing trains. A file that cannot be used answers
	// an Error with Code set (CodeAdapterDamaged, ...).
	LoadAdapter = "load_adapter"

	// The feedback view's requests. One worker holds the model a class improves (the SFT model)
	// and, once trained, its reward model; the methods then train in workers of their own, each
	// a Start of a one-method feedback spec with the SFT model as Base.
	//
	// OpenSFT makes the worker's SFT model for the feedback spec Code: Base as it is when AsSFT
	// (a learner's file) or when it is the spec's kept SFT model (job.IsSFTOf), else the spec's
	// SFT fine-tuning from Base (a pretrained base) or, with no Base, from the spec's pretraining
	// run here first (job.OpenSFT). It answers Device; the pretraining's Eval messages and
	// Result when it runs here (a loaded Base is reported as the pretraining's Result, with a
	// note); the SFT fine-tuning's Eval messages when it runs; a Result with method
	// feedback.SFT (the fingerprint the stage's SFT result carries); then Done. Like a Start it
	// takes the worker's run slot: Pause, Resume and Stop act on it (Stop answers the error
	// "stopped") and a Start meanwhile is refused. A later OpenSFT replaces the model and drops
	// the reward model.
	OpenSFT = "open_sft"
	// SamplePairs asks the worker's SFT model for Count pairs of different answers to the
	// prompts of the spec's taste (Code), from the sampling stream seeded by Seed: one Pairs
	// message, then Done. Decided keeps only pairs the taste tells apart (the taste picks them).
	// It needs an OpenSFT first and a link with a taste; it may return fewer than Count offers
	// when the model's answers rarely differ.
	SamplePairs = "sample_pairs"
	// TrainReward trains a reward model from the worker's SFT model on the pairs of Code's
	// preference file (Prefs) with its feedback config: Eval messages (method
	// feedback.RewardModel) and a Progress message after every step, a Result, a Scores message
	// (every pair's two scores), then Done. It needs an OpenSFT first; picks with characters the
	// SFT model never saw are refused, naming the pair. It takes the run slot as OpenSFT does
	// (Stop answers "stopped" and keeps the reward model before it). The worker keeps the reward
	// model for Score; the same spec's Start trains the very same one.
	TrainReward = "train_reward"
	// Calibrate times a few training steps of the pretraining of Code's config on Device (after
	// one untimed step), so the page can say how long a run would take here before starting
	// it: Device, a Metric named MetricMsPerStep (Unit "ms"), then Done. Nothing is kept, and
	// it takes no run slot (the page asks before any run starts).
	Calibrate = "calibrate"
	// Score asks the worker's reward model for the score of the answer Text to Prompt: a ScoreOf
	// message (Value), then Done.
	Score = "score"
)

// MetricMsPerStep names calibrate's answer: the milliseconds one training step takes.
const MetricMsPerStep = "ms_per_step"

// CalibrationSteps is how many steps calibrate times: a few, so asking costs about a second.
const CalibrationSteps = 3

// MaxOffers bounds one sample_pairs request.
const MaxOffers = 200

// InspectTop is how many next tokens an inspection lists.
const InspectTop = 10

// Checkpoint formats for Save (and for Base, which Load tells apart by its first bytes).
const (
	FormatPretune     = "pretune"     // core/checkpoint's own format, with the optimizer state
	FormatSafetensors = "safetensors" // weights only, readable by other tools
	// FormatBase is core/job's SaveBase: the finished pretraining's weights and tokenizer with
	// its spec and fingerprint and no optimizer state, so a comparison started from it knows
	// (job.IsBaseOf) which pretraining its base is. Only a run that finished can be saved so.
	FormatBase = "base"
	// FormatAdapter is a LoRA, DoRA or IA3 method's adapter alone (core.Model.ExportLoRA or
	// ExportIA3: PEFT-style safetensors), after a comparison in this worker finished: the method
	// named Method, or the only such method when Method is empty (compare.AdapterOf). Another
	// method, or a save before the comparison's result, answers an error.
	FormatAdapter = "adapter"
	// FormatSFT is the SFT model an OpenSFT made or loaded, weights and tokenizer (job.SaveSFT
	// when it is a feedback spec's SFT model, which records the spec), for the method workers'
	// Base (with AsSFT when the model was a learner's file, which records none).
	FormatSFT = "sft"
)

// Error codes: an Error message about an adapter file carries one in Code, so the page can say
// in the learner's language what is wrong (Error keeps the details, in English).
const (
	CodeAdapterDamaged  = "adapter_damaged"  // cut short, or its header or data damaged
	CodeAdapterNotLoRA  = "adapter_not_lora" // a safetensors file without a LoRA adapter
	CodeAdapterMismatch = "adapter_mismatch" // made for a model of another shape
)

// ErrorCode is the Code of an error message about err: an adapter file's refusal (core's
// sentinels), or "" for anything else.
func ErrorCode(err error) string {
	switch {
	case errors.Is(err, core.ErrLoRADamaged):
		return CodeAdapterDamaged
	case errors.Is(err, core.ErrLoRANotAdapter):
		return CodeAdapterNotLoRA
	case errors.Is(err, core.ErrLoRAMismatch):
		return CodeAdapterMismatch
	}
	return ""
}

// Message kinds, worker to page.
const (
	Ready  = "ready"  // the worker is listening (id 0)
	Device = "device" // which device a request runs on, and any fallback
	Eval   = "eval"   // a held-out evaluation during a run
	Check  = "check"  // one conformance check's outcome
	Metric = "metric" // one benchmark figure
	Sample = "sample" // text the model wrote at an evaluation (Step, Text, Tokens)
	Saved  = "saved"  // a save request's checkpoint (Data, Format)
	// Inspection answers inspect: the prompt's tokens, the next tokens and attention maps.
	Inspection = "inspection"
	// Snapshot is a run's state at an evaluation (Step, Data), to resume it from there.
	Snapshot = "snapshot"
	Result   = "result" // a run's final figures
	// Progress is one step of a run (Event with Event "progress", Step, Steps, TrainLoss and,
	// for the pretraining and a comparison's methods, TokensPerS): every step of a feedback
	// stage (its reward model or a method), so its lanes move at every step; the pretraining's
	// and a comparison method's first step and then one a second at most, so the page moves
	// between evaluations without redrawing at every step.
	Progress = "progress"
	Pairs    = "pairs"  // sample_pairs's answer: Offers
	Scores   = "scores" // train_reward's reward model's score of every pair: PairScores
	ScoreOf  = "score"  // score's answer: Value
	Done     = "done"   // the request finished (after its result, checks or metrics)
	Error    = "error"  // the request failed; Error says why
)

// Request is one instruction to a worker.
type Request struct {
	ID     int    `json:"id"`
	Kind   string `json:"kind"`
	Code   string `json:"code,omitempty"`   // a share code or link, for start
	Device string `json:"device,omitempty"` // "cpu", "webgpu" or "auto" (the default)
	// Base is a checkpoint (either format) that start trains on from, instead of a fresh model:
	// its shape and tokenizer win over the code's, the code's corpus and schedule are used.
	Base []byte `json:"base,omitempty"`
	// Prompt starts the samples a run writes at each evaluation ("" picks one from the
	// corpus); for inspect, it is the text to look at (required).
	Prompt string `json:"prompt,omitempty"`
	// Format is save's checkpoint format: FormatPretune (the default), FormatSafetensors,
	// FormatBase or FormatAdapter.
	Format string `json:"format,omitempty"`
	// Method names the comparison method whose adapter a save in FormatAdapter asks for ("":
	// the only LoRA method).
	Method string `json:"method,omitempty"`
	// Adapter is load_adapter's LoRA adapter file.
	Adapter []byte `json:"adapter,omitempty"`
	// Snapshots asks start to send the run's state at each evaluation (a Snapshot message),
	// which the page keeps so the run can resume after the tab closes.
	Snapshots bool `json:"snapshots,omitempty"`
	// Resume is a Snapshot message's Data: start continues the run from there, exactly.
	Resume []byte `json:"resume,omitempty"`
	// AsSFT says Base is the model to improve as it is (a learner's file), for open_sft and a
	// feedback start: no SFT fine-tuning runs on it.
	AsSFT bool `json:"as_sft,omitempty"`
	// Text is score's answer to Prompt.
	Text string `json:"text,omitempty"`
	// Count and Decided are sample_pairs's: how many pairs, and only those the taste decides.
	// Seed seeds their sampling (the page asks for more with another seed).
	Count   int    `json:"count,omitempty"`
	Decided bool   `json:"decided,omitempty"`
	Seed    uint64 `json:"seed,omitempty"`
	// Workers is, for start, how many workers may compute a sharded pretraining's shards on
	// the CPU device: this one and up to Workers-1 helper workers it starts (shards.go). 0 or 1:
	// this worker alone. It never changes the result.
	Workers int `json:"workers,omitempty"`
}

// Offer is one pair of the SFT model's answers to a prompt for a learner to pick from. Taste is
// which one the spec's built-in taste prefers: 1 for A, 2 for B, 0 when it cannot tell them
// apart.
type Offer struct {
	Prompt string `json:"prompt"`
	A      string `json:"a"`
	B      string `json:"b"`
	Taste  int    `json:"taste"`
}

// PairScore is a trained reward model's score of one preference pair's two answers, in the
// order of the pairs it trained on; Held says the pair was held out (measured, not learned).
type PairScore struct {
	Chosen   float64 `json:"chosen"`
	Rejected float64 `json:"rejected"`
	Held     bool    `json:"held,omitempty"`
}

// DeviceInfo says which device runs a request.
type DeviceInfo struct {
	Name     string `json:"name"`               // the fingerprint class: "cpu" or "webgpu/<adapter>"
	Fallback string `json:"fallback,omitempty"` // why the requested device was not used
	// Kernel is the CPU device's matmul kernel here (ops.CPUKernel): "wasm-simd128" in a worker
	// whose engine has WebAssembly SIMD, else "go" with the reason. The same bits either way.
	Kernel string `json:"kernel,omitempty"`
	// MaxBufferMiB and WorkgroupKiB are a WebGPU adapter's limits that bound the models it can
	// train: the largest buffer and the workgroup memory (0 for the CPU device).
	MaxBufferMiB int `json:"max_buffer_mib,omitempty"`
	WorkgroupKiB int `json:"workgroup_kib,omitempty"`
}

// Message is one answer from a worker; which fields are set depends on Kind.
type Message struct {
	ID     int         `json:"id"`
	Kind   string      `json:"kind"`
	Event  *job.Event  `json:"event,omitempty"`  // eval and result
	Device *DeviceInfo `json:"device,omitempty"` // device
	Name   string      `json:"name,omitempty"`   // check and metric: what was checked or measured
	Pass   bool        `json:"pass,omitempty"`   // check
	Value  float64     `json:"value,omitempty"`  // metric
	Unit   string      `json:"unit,omitempty"`   // metric
	Step   int         `json:"step,omitempty"`   // sample and inspection: the steps the model had trained
	Text   string      `json:"text,omitempty"`   // sample: the prompt and what the model wrote
	// Filled is a masked-LM model's sample: Text is held-out text with blanks ('_') and Filled
	// the same text with the model's guesses there (such a model cannot write).
	Filled string `json:"filled,omitempty"`
	Data   []byte `json:"data,omitempty"`   // saved: the checkpoint's (or adapter's) bytes
	Format string `json:"format,omitempty"` // saved: the request's format
	Error  string `json:"error,omitempty"`  // check (the mismatch) and error
	// Code is an error's kind where the page explains it in its own words (CodeAdapterDamaged...).
	Code string `json:"code,omitempty"`
	// Tokens are a sample's written tokens (Text ends with them, after the prompt), each with the
	// probability the model gave it, so the page can shade them.
	Tokens []core.TokenProb `json:"tokens,omitempty"`
	// Inspection is an inspect request's answer.
	Inspection *core.Inspection `json:"inspection,omitempty"`
	// Offers answers sample_pairs; PairScores follows train_reward's result.
	Offers     []Offer     `json:"offers,omitempty"`
	PairScores []PairScore `json:"pair_scores,omitempty"`
}

// ParseRequest decodes and validates one request.
func ParseRequest(data []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("protocol: bad request: %v", err)
	}
	switch r.Kind {
	case Start:
		if r.Code == "" {
			return r, fmt.Errorf("protocol: start needs a code")
		}
		if len(r.Base) > 0 && len(r.Resume) > 0 {
			return r, fmt.Errorf("protocol: start takes a base model or a state to resume, not both")
		}
		if r.AsSFT && len(r.Base) == 0 {
			return r, fmt.Errorf("protocol: start: as_sft says the base is the model to improve, but there is no base")
		}
	case Save:
		switch r.Format {
		case "", FormatPretune, FormatSafetensors, FormatBase, FormatAdapter, FormatSFT:
		default:
			return r, fmt.Errorf("protocol: unknown checkpoint format %q (%s, %s, %s, %s or %s)", r.Format, FormatPretune, FormatSafetensors, FormatBase, FormatAdapter, FormatSFT)
		}
		if r.Method != "" && r.Format != FormatAdapter {
			return r, fmt.Errorf("protocol: save names a method only for a LoRA adapter (format %s)", FormatAdapter)
		}
	case LoadAdapter:
		switch {
		case r.Code == "":
			return r, fmt.Errorf("protocol: load_adapter needs the comparison's code: its task and prompts")
		case len(r.Base) == 0:
			return r, fmt.Errorf("protocol: load_adapter needs the base model the adapter goes on")
		case len(r.Adapter) == 0:
			return r, fmt.Errorf("protocol: load_adapter needs an adapter file, and this one is empty")
		case len(r.Resume) > 0:
			return r, fmt.Errorf("protocol: load_adapter trains nothing, so it resumes nothing")
		}
	case Inspect:
		if r.Prompt == "" {
			return r, fmt.Errorf("protocol: inspect needs a prompt: the text to look at")
		}
	case Calibrate:
		if r.Code == "" {
			return r, fmt.Errorf("protocol: calibrate needs a code: the config to time")
		}
	case OpenSFT, TrainReward:
		if r.Code == "" {
			return r, fmt.Errorf("protocol: %s needs a feedback spec's code", r.Kind)
		}
		if r.AsSFT && len(r.Base) == 0 {
			return r, fmt.Errorf("protocol: %s: as_sft says the base is the model to improve, but there is no base", r.Kind)
		}
	case SamplePairs:
		if r.Code == "" {
			return r, fmt.Errorf("protocol: sample_pairs needs a feedback spec's code: its taste's prompts")
		}
		if r.Count < 1 || r.Count > MaxOffers {
			return r, fmt.Errorf("protocol: sample_pairs asks for %d pairs; ask for 1..%d", r.Count, MaxOffers)
		}
	case Score:
		if r.Prompt == "" || r.Text == "" {
			return r, fmt.Errorf("protocol: score needs a prompt and an answer")
		}
	case Pause, Resume, Stop, Conformance, Bench:
	default:
		return r, fmt.Errorf("protocol: unknown request kind %q", r.Kind)
	}
	switch r.Device {
	case "", "auto", "cpu", "webgpu":
	default:
		return r, fmt.Errorf("protocol: unknown device %q (cpu, webgpu or auto)", r.Device)
	}
	return r, nil
}

// Encode renders a message as JSON.
func (m Message) Encode() string {
	data, err := json.Marshal(m)
	if err != nil { // only NaN or Inf can fail here; report it rather than lose the message
		data, _ = json.Marshal(Message{ID: m.ID, Kind: Error, Error: "protocol: " + err.Error()})
	}
	return string(data)
}
