package app

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Lang is the interface language: EN or ZH.
type Lang string

// The languages, as runspec.Spec.Lang carries them.
const (
	EN Lang = "en"
	ZH Lang = "zh"
)

// langState is the go-app state (persisted in localStorage) holding the chosen language.
const langState = "pretune.lang"

// T returns the text for key in l, formatted with args (fmt verbs). A key missing from the
// table shows as "[key]" so it is seen, not silently blank; a test keeps both tables complete.
func (l Lang) T(key string, args ...any) string {
	table := en
	if l == ZH {
		table = zh
	}
	s, ok := table[key]
	if !ok {
		return "[" + key + "]"
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// setLang switches the interface language and remembers it (localStorage), for every component.
func setLang(ctx app.Context, l Lang) {
	if l != EN && l != ZH {
		return
	}
	ctx.SetState(langState, l, app.Persist)
}

// savedLang is the remembered language, else the browser's (Chinese for any zh locale).
func savedLang(ctx app.Context) Lang {
	var l Lang
	ctx.GetState(langState, &l)
	if l == EN || l == ZH {
		return l
	}
	if nav := app.Window().Get("navigator"); nav.Truthy() && strings.HasPrefix(nav.Get("language").String(), "zh") {
		return ZH
	}
	return EN
}

// en is every English word of the interface. Keys are grouped by where they show.
var en = map[string]string{
	"app.tagline":  "pretrain a tiny transformer in your browser",
	"nav.label":    "Views",
	"nav.pretrain": "Pretrain",
	"nav.bench":    "Bench",
	"nav.presets":  "Built-in runs and links",
	"lang.label":   "Language",
	"details":      "Details",

	"explain.pretrain": "Pretraining teaches a model to guess the next character of a text. The loss is how surprised it is: it falls as the model learns. The held-out loss is measured on text it never trains on, so it shows whether the model learns the language or only memorises.",
	"try.lr":           "Try this: a learning rate ten times too high",
	"explain.model":    "A bigger model (more layers and channels) can learn more of the text, but each step takes longer. The seed decides the starting weights and the order of the text: change it and the curve changes a little.",
	"try.bigger":       "Try this: the small model",
	"try.seed":         "Try this: another seed, then compare the runs on the chart",
	"explain.bench":    "How fast this browser trains on this device: matrix products in billions of operations a second, and a whole training step in tokens a second.",

	"setup.title":           "Setup",
	"setup.presets":         "Start from:",
	"preset.en-tiny":        "English, tiny",
	"preset.en-small":       "English, small",
	"preset.zh-small":       "Chinese, small",
	"preset.about.en-tiny":  "English stories on the tiny model for 60 steps: seconds, for a first look",
	"preset.about.en-small": "English stories on the small model: it learns names and short sentences",
	"preset.about.zh-small": "Chinese stories on the small model: more characters to learn",
	"preset.en-base":        "English base (long)",
	"preset.zh-base":        "Chinese base",
	"preset.about.en-base":  "The English lesson's base: the small model on English stories for 20000 steps (kept on the server, so the compare view need not pretrain it)",
	"preset.about.zh-base":  "The Chinese lesson's base: the small model on Chinese stories for 1000 steps (kept on the server, so the compare view need not pretrain it)",

	"label.corpus":      "Text",
	"label.model":       "Model",
	"label.training":    "Training",
	"label.device":      "Device",
	"device.limits":     "largest buffer %d MiB, workgroup memory %d KiB",
	"label.expected":    "Expected fingerprint",
	"label.fingerprint": "Fingerprint",

	"corpus.pick":       "Text to learn from",
	"corpus.en-world":   "World stories (English)",
	"corpus.zh-world":   "World stories (Chinese)",
	"corpus.user":       "Your own text",
	"corpus.user_named": "Your text “%s”",
	"corpus.paste":      "Paste your text",
	"corpus.pasted":     "pasted text",
	"corpus.upload":     "or load a text file from your computer:",
	"file.choose_text":  "Choose a text file…",
	"file.choose_model": "Choose a model file…",

	"text.err.empty":        "The text is empty.",
	"text.err.binary":       "The file looks binary, not text (a zero byte at offset %d).",
	"text.err.invalid_utf8": "The text is not UTF-8: the first bad byte is at offset %d.",
	"text.err.too_large":    "The text is %d bytes; the limit is %d bytes.",
	"text.err.too_short":    "The text is too short: %d characters other than spaces, and %d are needed to keep a held-out part.",

	"size.pick":        "Model size",
	"size.tiny":        "tiny",
	"size.small":       "small",
	"size.base":        "base",
	"size.custom":      "your own shape",
	"objective.causal": "Objective: causal language model (guess the next character).",

	"field.layers":      "Layers",
	"field.dim":         "Channels",
	"field.heads":       "Attention heads",
	"field.context":     "Context (characters)",
	"field.batch":       "Batch (sequences)",
	"field.steps":       "Steps",
	"field.lr":          "Learning rate",
	"field.dropout":     "Dropout",
	"field.eval_every":  "Evaluate every (steps)",
	"field.seed":        "Seed",
	"field.default":     "default %s",
	"field.reset":       "Reset to the default",
	"field.reset_label": "Reset %s to its default",

	"field.err.not_number":  "Type a number.",
	"field.err.not_integer": "Type a whole number.",
	"field.err.range":       "Between %s and %s.",
	"field.err.heads":       "The number of heads must divide the channels.",
	"field.err.warmup":      "The warm-up is longer than the run.",
	"config.err":            "These settings cannot run:",

	"params.count":   "%s parameters",
	"params.unknown": "Parameters: choose a usable text first",

	"device.pick":       "Run on",
	"device.auto":       "the best device here (WebGPU on a real GPU, else the CPU)",
	"device.cpu":        "the CPU (reproduces exactly everywhere)",
	"device.webgpu":     "WebGPU, even on a software adapter",
	"device.waiting":    "starting…",
	"device.fallback":   "Not on WebGPU:",
	"fallback.software": "this browser's WebGPU runs on the CPU (no graphics card), which would be slower than the CPU device, so the run uses the CPU device.",
	"fallback.none":     "this browser has no usable WebGPU, so the run uses the CPU device.",
	"fallback.other":    "WebGPU failed, so the run uses the CPU device.",

	"live.title":  "Training",
	"live.step":   "step %d of %d",
	"live.tokens": "%s tokens/s",
	"btn.start":   "Start",
	"btn.pause":   "Pause",
	"btn.resume":  "Resume",
	"btn.stop":    "Stop",

	"run.name":              "Run %s",
	"status.idle":           "No run yet: pick a setup and press Start.",
	"status.starting":       "starting",
	"status.running":        "training",
	"status.paused":         "paused",
	"status.done":           "finished",
	"status.stopped":        "stopped",
	"status.failed":         "failed",
	"status.failed_because": "It failed:",

	"chart.title": "Loss during training",
	"chart.x":     "step (optimizer updates)",
	"chart.y":     "loss (nats per character)",
	"chart.empty": "The curves appear at the first evaluation.",
	"chart.train": "%s training",
	"chart.val":   "%s held-out",

	"result.loss":   "held-out loss %.4f",
	"result.params": "%s parameters",

	"match.matches":       "Matches the link: the run reproduced bit for bit.",
	"match.differs":       "Differs from the link's fingerprint, on the same kind of device: something changed.",
	"match.other_device":  "The link was made on another kind of device, where results agree only within a tolerance:",
	"match.reproduce_cpu": "Reproduce exactly on the CPU",
	"match.cpu_exact":     "This run is on the CPU, which reproduces bit for bit everywhere: share its link for an exact reference.",
	"match.max_diff":      "Largest loss difference from run %[3]s: %[1]s, over %[2]d evaluations.",
	"btn.share":           "Copy share link",
	"share.copied":        "Share link (copied when the browser allows):",
	"share.before_result": "Before the run ends, the link carries the setup without a fingerprint.",
	"share.from_base":     "A run from a loaded model cannot be shared: the link does not carry the model.",
	"link.title":          "This link carries a run",
	"link.no_fingerprint": "none (the link was shared before its run ended)",
	"link.refused":        "This link cannot be opened.",
	"link.corpus_changed": "The sample text changed since this link was made, so the run will not reproduce exactly.",
	"link.run_anyway":     "Run it on the current text",
	"link.err.malformed":  "It is damaged or cut short: copy the whole link again.",
	"link.err.newer":      "It was made by a newer pretune: reload the page to update it.",
	"link.err.comparison": "It carries a comparison of fine-tuning methods, which the playground cannot show yet: run it with the command line (go run . -run and the link).",
	"link.err.too_large":  "It is too large to open.",
	"link.err.invalid":    "Its settings are out of range.",

	"resume.offer":   "Run %s stopped at step %d of %d when the page closed; its state was kept in this browser.",
	"resume.yes":     "Resume it",
	"resume.no":      "Discard it",
	"resume.resumed": "resumed at step %d",
	"resume.kept":    "state kept at step %d",

	"samples.title": "What the model writes",
	"samples.step":  "after %d steps",
	"prompt.label":  "The samples start with",
	"prompt.auto":   "the start of the held-out text",

	"runs.title":         "Runs of this session",
	"runs.name":          "Run",
	"runs.status":        "State",
	"runs.loss":          "Held-out loss",
	"runs.changes":       "Changed from the run before",
	"runs.overlay":       "On the chart",
	"runs.overlay_label": "Show run %s on the chart",
	"runs.first":         "first run",
	"runs.same":          "same setup",
	"runs.from_base":     "from a loaded model",

	"model.file":              "Save or load the model",
	"btn.save":                "Save model",
	"btn.save_safetensors":    "Export safetensors",
	"model.save_when":         "Saving works when a run has finished or is paused.",
	"model.load":              "Train from a saved model (pretune or safetensors file)",
	"model.loaded":            "Loaded: %d layers × %d channels, %d heads, context %d, %s parameters; the next run trains it further.",
	"model.forget":            "Start from a fresh model instead",
	"model.shape":             "%d layers × %d channels, %d heads, context %d",
	"model.training":          "%d steps of batch %d, learning rate %g, seed %d",
	"ckpt.err.not_checkpoint": "This file is not a saved pretune model.",
	"ckpt.err.newer":          "This model was saved by a newer pretune.",
	"ckpt.err.truncated":      "This file is cut short: it was not saved or copied completely.",
	"ckpt.err.corrupt":        "This file is damaged: its checksum does not match.",
	"ckpt.err.too_large":      "This model is too large for the browser.",
	"ckpt.err.invalid":        "This file's model description cannot be used.",
	"ckpt.err.bad_weights":    "This model's weights are not finite numbers.",

	"bench.title":   "Bench",
	"bench.start":   "Measure",
	"bench.idle":    "Press Measure: it takes a few seconds.",
	"bench.running": "Measuring…",
	"bench.done":    "Done.",
	"bench.what":    "What",
	"bench.value":   "Speed",
	"bench.unit":    "Unit",

	"presets.title":  "Built-in runs",
	"presets.name":   "Name",
	"presets.params": "Parameters",
	"presets.code":   "Share code",
	"presets.read":   "Read a share link",
	"presets.paste":  "Paste a link or a code to see the run it carries:",
	"presets.none":   "No link read yet.",
	"presets.cli":    "Run a code without a browser:",

	"animal.otter":  "otter",
	"animal.heron":  "heron",
	"animal.lynx":   "lynx",
	"animal.finch":  "finch",
	"animal.badger": "badger",
	"animal.marten": "marten",
	"animal.ibis":   "ibis",
	"animal.gecko":  "gecko",
	"animal.puffin": "puffin",
	"animal.tapir":  "tapir",
}

// zh is every Simplified Chinese word of the interface, with the same keys as en.
var zh = map[string]string{
	"app.tagline":  "在浏览器里预训练一个小小的变换器模型",
	"nav.label":    "视图",
	"nav.pretrain": "预训练",
	"nav.bench":    "测速",
	"nav.presets":  "内置运行与链接",
	"lang.label":   "语言",
	"details":      "详情",

	"explain.pretrain": "预训练让模型学习猜出文本的下一个字符。损失表示它有多“意外”：模型学得越好，损失越低。留出损失在模型从未训练过的文本上测量，能看出它是学会了语言，还是只是背下了原文。",
	"try.lr":           "试一试：把学习率调高十倍",
	"explain.model":    "更大的模型（更多的层和通道）能学到更多，但每一步更慢。随机种子决定初始权重和读文本的顺序：换一个种子，曲线会有些不同。",
	"try.bigger":       "试一试：小型模型",
	"try.seed":         "试一试：换一个种子，再在图上比较两次运行",
	"explain.bench":    "这个浏览器在这台设备上训练得有多快：矩阵乘法每秒十亿次运算，以及整个训练步骤每秒处理的词元数。",

	"setup.title":           "设置",
	"setup.presets":         "从这里开始：",
	"preset.en-tiny":        "英文，微型",
	"preset.en-small":       "英文，小型",
	"preset.zh-small":       "中文，小型",
	"preset.about.en-tiny":  "微型模型读英文故事，训练 60 步：几秒钟，先看一眼",
	"preset.about.en-small": "小型模型读英文故事：学会名字和短句",
	"preset.about.zh-small": "小型模型读中文故事：要学的字更多",
	"preset.en-base":        "英文基础模型（较长）",
	"preset.zh-base":        "中文基础模型",
	"preset.about.en-base":  "英文课的基础模型：小型模型读英文故事两万步（服务器上保存了一份，所以比较视图不必再预训练它）",
	"preset.about.zh-base":  "中文课的基础模型：小型模型读中文故事一千步（服务器上保存了一份，所以比较视图不必再预训练它）",

	"label.corpus":      "文本",
	"label.model":       "模型",
	"label.training":    "训练",
	"label.device":      "设备",
	"device.limits":     "最大缓冲区 %d MB，工作组内存 %d KB",
	"label.expected":    "预期指纹",
	"label.fingerprint": "指纹",

	"corpus.pick":       "用来学习的文本",
	"corpus.en-world":   "世界故事（英文）",
	"corpus.zh-world":   "世界故事（中文）",
	"corpus.user":       "你自己的文本",
	"corpus.user_named": "你的文本“%s”",
	"corpus.paste":      "粘贴你的文本",
	"corpus.pasted":     "粘贴的文本",
	"corpus.upload":     "或者从电脑里载入一个文本文件：",
	"file.choose_text":  "选择文本文件……",
	"file.choose_model": "选择模型文件……",

	"text.err.empty":        "文本是空的。",
	"text.err.binary":       "这个文件看起来是二进制文件，不是文本（偏移 %d 处有零字节）。",
	"text.err.invalid_utf8": "文本不是 UTF-8 编码：第一个错误字节在偏移 %d 处。",
	"text.err.too_large":    "文本有 %d 字节，上限是 %d 字节。",
	"text.err.too_short":    "文本太短：除空白外只有 %d 个字符，至少需要 %d 个才能留出一部分用于评估。",

	"size.pick":        "模型大小",
	"size.tiny":        "微型",
	"size.small":       "小型",
	"size.base":        "基础",
	"size.custom":      "自定义形状",
	"objective.causal": "目标：因果语言模型（猜下一个字符）。",

	"field.layers":      "层数",
	"field.dim":         "通道数",
	"field.heads":       "注意力头数",
	"field.context":     "上下文（字符数）",
	"field.batch":       "批大小（序列数）",
	"field.steps":       "步数",
	"field.lr":          "学习率",
	"field.dropout":     "丢弃率",
	"field.eval_every":  "每隔多少步评估",
	"field.seed":        "随机种子",
	"field.default":     "默认 %s",
	"field.reset":       "恢复默认值",
	"field.reset_label": "把%s恢复为默认值",

	"field.err.not_number":  "请输入数字。",
	"field.err.not_integer": "请输入整数。",
	"field.err.range":       "应在 %s 到 %s 之间。",
	"field.err.heads":       "注意力头数必须能整除通道数。",
	"field.err.warmup":      "预热步数比整个训练还长。",
	"config.err":            "这些设置无法运行：",

	"params.count":   "%s 个参数",
	"params.unknown": "参数个数：请先选择可用的文本",

	"device.pick":       "运行于",
	"device.auto":       "这里最好的设备（有真实显卡时用网页图形处理，否则用处理器）",
	"device.cpu":        "处理器（在任何地方都能精确复现）",
	"device.webgpu":     "网页图形处理，即使是软件适配器",
	"device.waiting":    "启动中……",
	"device.fallback":   "没有使用网页图形处理：",
	"fallback.software": "这个浏览器的网页图形处理在处理器上模拟（没有显卡），会比处理器设备更慢，所以这次运行使用处理器设备。",
	"fallback.none":     "这个浏览器没有可用的网页图形处理，所以这次运行使用处理器设备。",
	"fallback.other":    "网页图形处理出错，所以这次运行使用处理器设备。",

	"live.title":  "训练",
	"live.step":   "第 %d 步，共 %d 步",
	"live.tokens": "每秒 %s 个词元",
	"btn.start":   "开始",
	"btn.pause":   "暂停",
	"btn.resume":  "继续",
	"btn.stop":    "停止",

	"run.name":              "运行 %s",
	"status.idle":           "还没有运行：选好设置后点“开始”。",
	"status.starting":       "启动中",
	"status.running":        "训练中",
	"status.paused":         "已暂停",
	"status.done":           "已完成",
	"status.stopped":        "已停止",
	"status.failed":         "失败",
	"status.failed_because": "失败原因：",

	"chart.title": "训练中的损失",
	"chart.x":     "步数（优化器更新次数）",
	"chart.y":     "损失（每字符奈特）",
	"chart.empty": "第一次评估后会出现曲线。",
	"chart.train": "%s 训练",
	"chart.val":   "%s 留出",

	"result.loss":   "留出损失 %.4f",
	"result.params": "%s 个参数",

	"match.matches":       "与链接一致：这次运行逐位复现。",
	"match.differs":       "与链接的指纹不同，而设备类型相同：有东西变了。",
	"match.other_device":  "这个链接是在另一类设备上生成的，那里的结果只在容差范围内一致：",
	"match.reproduce_cpu": "在处理器上精确复现",
	"match.cpu_exact":     "这次运行在处理器上，任何地方都能逐位复现：分享它的链接，作为精确的参照。",
	"match.max_diff":      "与运行 %[3]s 相比的最大损失差：%[1]s，共比较 %[2]d 次评估。",
	"btn.share":           "复制分享链接",
	"share.copied":        "分享链接（浏览器允许时已复制）：",
	"share.before_result": "运行结束前，链接只带设置，不带指纹。",
	"share.from_base":     "从载入的模型开始的运行无法分享：链接不携带模型。",
	"link.title":          "这个链接带有一次运行",
	"link.no_fingerprint": "无（链接在运行结束前分享）",
	"link.refused":        "无法打开这个链接。",
	"link.corpus_changed": "自从生成这个链接以来，示例文本已经改变，所以这次运行不会精确复现。",
	"link.run_anyway":     "用当前文本运行",
	"link.err.malformed":  "链接已损坏或不完整：请重新复制整个链接。",
	"link.err.newer":      "链接由更新版本的程序生成：请刷新页面以更新。",
	"link.err.comparison": "这个链接包含微调方法的比较，操场暂时还不能显示：请用命令行运行这个链接。",
	"link.err.too_large":  "链接太大，无法打开。",
	"link.err.invalid":    "链接中的设置超出范围。",

	"resume.offer":   "页面关闭时，运行 %s 停在第 %d 步（共 %d 步）；它的状态保存在这个浏览器里。",
	"resume.yes":     "继续这次运行",
	"resume.no":      "丢弃",
	"resume.resumed": "从第 %d 步继续",
	"resume.kept":    "已在第 %d 步保存状态",

	"samples.title": "模型写出的文字",
	"samples.step":  "训练 %d 步后",
	"prompt.label":  "样本的开头",
	"prompt.auto":   "留出文本的开头",

	"runs.title":         "本次的运行",
	"runs.name":          "运行",
	"runs.status":        "状态",
	"runs.loss":          "留出损失",
	"runs.changes":       "与上一次相比的改动",
	"runs.overlay":       "显示在图上",
	"runs.overlay_label": "在图上显示运行 %s",
	"runs.first":         "第一次运行",
	"runs.same":          "设置相同",
	"runs.from_base":     "从载入的模型开始",

	"model.file":              "保存或载入模型",
	"btn.save":                "保存模型",
	"btn.save_safetensors":    "导出为安全张量格式",
	"model.save_when":         "运行完成或暂停时才能保存。",
	"model.load":              "从保存的模型继续训练（本程序格式或安全张量格式文件）",
	"model.loaded":            "已载入：%d 层 × %d 通道，%d 个头，上下文 %d，%s 个参数；下一次运行会继续训练它。",
	"model.forget":            "改为从新模型开始",
	"model.shape":             "%d 层 × %d 通道，%d 个头，上下文 %d",
	"model.training":          "%d 步，批大小 %d，学习率 %g，种子 %d",
	"ckpt.err.not_checkpoint": "这个文件不是保存的模型。",
	"ckpt.err.newer":          "这个模型由更新版本的程序保存。",
	"ckpt.err.truncated":      "这个文件不完整：保存或复制时被截断了。",
	"ckpt.err.corrupt":        "这个文件已损坏：校验和不一致。",
	"ckpt.err.too_large":      "这个模型太大，浏览器装不下。",
	"ckpt.err.invalid":        "这个文件里的模型描述无法使用。",
	"ckpt.err.bad_weights":    "这个模型的权重不是有限的数。",

	"bench.title":   "测速",
	"bench.start":   "开始测量",
	"bench.idle":    "点“开始测量”：需要几秒钟。",
	"bench.running": "测量中……",
	"bench.done":    "完成。",
	"bench.what":    "项目",
	"bench.value":   "速度",
	"bench.unit":    "单位",

	"presets.title":  "内置运行",
	"presets.name":   "名称",
	"presets.params": "参数个数",
	"presets.code":   "分享代码",
	"presets.read":   "读取分享链接",
	"presets.paste":  "粘贴链接或代码，查看它带的运行：",
	"presets.none":   "还没有读取链接。",
	"presets.cli":    "不用浏览器运行一个代码：",

	"animal.otter":  "水獭",
	"animal.heron":  "苍鹭",
	"animal.lynx":   "猞猁",
	"animal.finch":  "雀鸟",
	"animal.badger": "獾",
	"animal.marten": "貂",
	"animal.ibis":   "朱鹮",
	"animal.gecko":  "壁虎",
	"animal.puffin": "海鹦",
	"animal.tapir":  "貘",
}
