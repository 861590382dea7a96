package app

// The guided path's words ("How a language model is made", path.go), in both languages. They
// live beside the path rather than in i18n.go's tables so that the branches editing those
// tables at the same time do not collide; init adds them to the same tables, so T, the
// tables' completeness test and the no-English check see them like any others.
func init() {
	for k, v := range pathEN {
		en[k] = v
	}
	for k, v := range pathZH {
		zh[k] = v
	}
}

var pathEN = map[string]string{
	"nav.path":            "How a model is made",
	"path.title":          "How a language model is made",
	"path.intro":          "Four steps, each one run of a few minutes on this device: the model you make in one step is the one the next step starts from. Press a step's button, watch the outlined part of the page while it runs, then come back for the question.",
	"path.steps_label":    "Steps of the path",
	"path.step_of":        "Step %d of %d:",
	"path.watch":          "While it runs, look at",
	"path.watching":       "Look at the outlined parts:",
	"path.question":       "A question for the class",
	"path.show_answer":    "Show the answer",
	"path.prev":           "Previous step",
	"path.next":           "Next step",
	"path.end":            "That was the last step: the views above let you change any setting and run it again.",
	"path.status.done":    "Done.",
	"path.status.started": "Running in the view “%s”.",
	"path.guide_label":    "The guided path",
	"path.back":           "Back to the path: the question and the next step",

	"path.pretrain.short": "1 Pretraining",
	"path.pretrain.title": "Pretraining: guess the next character",
	"path.pretrain.text":  "A language model starts knowing nothing. Pretraining shows it a text and asks, at every position, which character comes next. The loss, in nats per character, says how surprised it was; it falls as the model learns letters, then words, then the facts of the stories' world.",
	"path.pretrain.text2": "This model is causal: it reads left to right only, so it can write. A masked model (the objective menu in the pretraining view) instead hides characters and guesses them from both sides. The fill-in-the-blank probe at the end of the run hides characters of unseen text and counts how many the model puts back, so both kinds answer the same question.",
	"path.pretrain.go":    "Pretrain the small model (%d steps)",
	"path.pretrain.try":   "Then try it masked, and compare the fill-in-the-blank figure",
	"path.pretrain.watch": "the loss chart, where the training and held-out losses fall together, the samples under it, which turn from noise into words, and at the end the fill-in-the-blank figure.",
	"path.pretrain.q":     "A masked model puts back more of the hidden characters than a causal one. Why can it not write a story?",
	"path.pretrain.a":     "It learned to fill a gap from the characters on both sides. Writing means guessing the next character with nothing to its right, which only the causal model was trained to do.",

	"path.sft.short": "2 Fine-tuning",
	"path.sft.title": "Supervised fine-tuning: teach it to answer",
	"path.sft.text":  "The pretrained model continues text; it does not answer questions. Fine-tuning trains it further on examples in a chat format: a question line, then an answer line. Only the marked characters below count in the loss: the answer and the line break that ends it.",
	"path.sft.text2": "Fine-tuning can also give the model a new output layer: for true-or-false statements, a classification head replaces the layer that guesses characters with one that picks a label (the compare view offers it with the true-or-false task).",
	"path.sft.go":    "Fine-tune every weight on the questions (%d steps)",
	"path.sft.try":   "Also try a classification head on the true-or-false statements",
	"path.sft.watch": "the task loss on the chart, and the answers table: before fine-tuning the base does not answer in the format; after, it does.",
	"path.sft.q":     "Why does the loss count only the answer, not the question?",
	"path.sft.a":     "The question is given when the model is used. Learning to predict questions would spend the model on writing them; counting the answer alone teaches exactly the job: given a question, produce its answer.",

	"path.peft.short": "3 LoRA and others",
	"path.peft.title": "Full fine-tuning or a small add-on: LoRA, adapters, prefix",
	"path.peft.text":  "Full fine-tuning changes every weight: a whole copy of the model for each task, and optimizer memory for every weight. The parameter-efficient methods freeze the model and train a little beside it: LoRA a low-rank change to chosen weight matrices, an adapter a small bottleneck layer in each block, prefix tuning a few key and value rows in front of every layer.",
	"path.peft.text2": "They train a few percent of the parameters and need that much optimizer memory. Each also forgets a different amount of its pretraining: the table measures it on the pretraining text.",
	"path.peft.go":    "Compare full fine-tuning, LoRA, adapter and prefix tuning (%d steps each)",
	"path.peft.watch": "the results table: task accuracy, forgetting, trainable parameters and optimizer memory, method by method.",
	"path.peft.q":     "You serve ten tasks from one model. What do you store with LoRA, and what with full fine-tuning?",
	"path.peft.a":     "With LoRA: one base model and ten small adapters, a few percent of it each. With full fine-tuning: ten whole models. The price of LoRA is often a little accuracy, which the table shows.",

	"path.feedback.short": "4 Feedback",
	"path.feedback.title": "Learning from feedback: picks, a reward model, PPO and DPO",
	"path.feedback.text":  "People say which of two answers is better. A reward model learns those picks and scores any answer. PPO then tunes the model towards higher scores on a leash, a KL penalty, to the model it started from; DPO learns from the picks directly, with no reward model.",
	"path.feedback.text2": "Here the built-in taste makes 50 picks for you (the feedback view lets the class make its own), then the reward model trains, then PPO, DPO and GRPO side by side.",
	"path.feedback.go":    "Let the taste pick, train the reward model, then PPO, DPO and GRPO",
	"path.feedback.watch": "the reward model's loss, then the two charts: the reward rising and the KL to the reference, the leash, staying small.",
	"path.feedback.q":     "What happens to PPO with no leash (kl_coef 0)?",
	"path.feedback.a":     "The reward climbs, the KL to the reference runs away, and the answers turn into whatever the reward model happens to score high (reward hacking). The leash keeps the tuned model close to the one it started from.",

	"path.model.own":   "This step fine-tunes the model you pretrained (held-out loss %.2f).",
	"path.model.kept":  "This step fine-tunes the kept base: the same model pretrained for %d steps (held-out loss %.2f).",
	"path.why.none":    "Pretrain a model in step 1 and a good enough one is used instead.",
	"path.why.masked":  "Your model is a masked one, which cannot write answers.",
	"path.why.corpus":  "Your model read another text, so it never learned the world the questions ask about.",
	"path.why.loss":    "Yours has a held-out loss of %.2f; fine-tuning finds the facts only in a model at %.2f or lower, and a model trained that far takes longer than a step of the path.",
	"path.model.tuned": "This step starts from the full fine-tuning of your own model in step 3.",
	"path.model.sft":   "This step starts from the kept fine-tuned model: the kept base fine-tuned fully on the questions, as step 3 does.",
}

var pathZH = map[string]string{
	"nav.path":            "模型是怎样炼成的",
	"path.title":          "语言模型是怎样炼成的",
	"path.intro":          "共四步，每一步都是在这台设备上几分钟的一次运行：上一步做出的模型就是下一步的起点。按下这一步的按钮，运行时看页面上被框出的部分，然后回来回答问题。",
	"path.steps_label":    "学习路径的步骤",
	"path.step_of":        "第 %d 步，共 %d 步：",
	"path.watch":          "运行时请看",
	"path.watching":       "请看被框出的部分：",
	"path.question":       "给全班的问题",
	"path.show_answer":    "显示答案",
	"path.prev":           "上一步",
	"path.next":           "下一步",
	"path.end":            "这是最后一步：上面的各个视图可以改动任何设置再运行一次。",
	"path.status.done":    "已完成。",
	"path.status.started": "正在“%s”视图中运行。",
	"path.guide_label":    "学习路径",
	"path.back":           "回到学习路径：问题和下一步",

	"path.pretrain.short": "1 预训练",
	"path.pretrain.title": "预训练：猜下一个字",
	"path.pretrain.text":  "语言模型一开始什么都不知道。预训练给它看一段文字，在每个位置问它下一个字是什么。损失（单位是每字奈特）表示它有多意外；随着模型学会字、词，再学会故事里那个世界的事实，损失不断下降。",
	"path.pretrain.text2": "这个模型是因果的：只从左往右读，所以能写。掩码模型（预训练视图里的目标菜单）则把一些字遮住，从两边去猜。运行结束时的填空测验会遮住没见过的文字里的一些字，数一数模型能填回多少，这样两种模型回答的是同一个问题。",
	"path.pretrain.go":    "预训练小型模型（%d 步）",
	"path.pretrain.try":   "再试试掩码模型，比较填空测验的结果",
	"path.pretrain.watch": "损失图：训练损失和留出损失一起下降；图下面的样本：从乱码慢慢变成词语；最后是填空测验的结果。",
	"path.pretrain.q":     "掩码模型填回的字比因果模型多。为什么它却写不出故事？",
	"path.pretrain.a":     "它学的是根据两边的字来填空。写作是在右边什么都没有的时候猜下一个字，只有因果模型受过这样的训练。",

	"path.sft.short": "2 微调",
	"path.sft.title": "监督微调：教它回答问题",
	"path.sft.text":  "预训练过的模型只会接着往下写，不会回答问题。微调用对话格式的例子继续训练它：一行问题，一行答案。下面标出的字才计入损失：答案和结束答案的换行。",
	"path.sft.text2": "微调也可以给模型换一个新的输出层：对于判断对错的句子，分类头把猜字的那一层换成挑选标签的一层（比较视图里选判断对错的任务就能用它）。",
	"path.sft.go":    "在问答上微调全部权重（%d 步）",
	"path.sft.try":   "再试试在判断对错的句子上用分类头",
	"path.sft.watch": "图上的任务损失，以及回答表：微调之前基础模型不按格式回答，微调之后就会了。",
	"path.sft.q":     "为什么损失只计算答案，不计算问题？",
	"path.sft.a":     "使用模型的时候问题是给定的。学着预测问题只会让模型把力气花在写问题上；只计算答案，教的正是它要做的事：给出问题，说出答案。",

	"path.peft.short": "3 低秩适配等",
	"path.peft.title": "全量微调，还是一个小插件：低秩适配、适配器、前缀微调",
	"path.peft.text":  "全量微调改动每一个权重：每个任务都要一整份模型，每个权重都要优化器内存。参数高效的方法冻结模型，只在旁边训练一小部分：低秩适配训练选定权重矩阵的低秩改变，适配器在每个块里加一个小的瓶颈层，前缀微调在每一层前面放几行键和值。",
	"path.peft.text2": "它们只训练百分之几的参数，也只需要这么多的优化器内存。它们遗忘预训练知识的程度也各不相同：表格在预训练的文字上测量遗忘。",
	"path.peft.go":    "比较全量微调、低秩适配、适配器和前缀微调（每种 %d 步）",
	"path.peft.watch": "结果表：逐个方法看任务准确率、遗忘、可训练参数和优化器内存。",
	"path.peft.q":     "一个模型要服务十个任务。用低秩适配要存什么？用全量微调又要存什么？",
	"path.peft.a":     "用低秩适配：一个基础模型加十个小适配，每个只有它的百分之几。用全量微调：十个完整的模型。低秩适配的代价往往是一点准确率，表格里看得到。",

	"path.feedback.short": "4 反馈",
	"path.feedback.title": "从反馈中学习：挑选、奖励模型、近端策略优化和直接偏好优化",
	"path.feedback.text":  "人们说出两个回答里哪个更好。奖励模型学习这些挑选，给任何回答打分。近端策略优化接着把模型往高分的方向调，但用一根绳子（相对熵惩罚）拴在出发时的模型上；直接偏好优化不要奖励模型，直接从挑选结果学习。",
	"path.feedback.text2": "这里由内置的口味替你挑 50 次（在反馈视图里全班可以自己挑），然后训练奖励模型，再让近端策略优化、直接偏好优化和组相对策略优化 并排运行。",
	"path.feedback.go":    "让口味来挑，训练奖励模型，再运行近端策略优化、直接偏好优化和组相对策略优化",
	"path.feedback.watch": "奖励模型的损失，然后是两张图：奖励上升，而与参考模型的相对熵（那根绳子）保持很小。",
	"path.feedback.q":     "不拴绳的近端策略优化（相对熵系数为 0）会怎样？",
	"path.feedback.a":     "奖励一路上升，与参考模型的相对熵失控地变大，回答退化成奖励模型碰巧打高分的样子（奖励投机）。绳子让调过的模型靠近它出发时的模型。",

	"path.model.own":   "这一步微调你预训练的模型（留出损失 %.2f）。",
	"path.model.kept":  "这一步微调保存的基础模型：同样的模型预训练了 %d 步（留出损失 %.2f）。",
	"path.why.none":    "在第 1 步预训练一个模型，足够好的话就会改用它。",
	"path.why.masked":  "你的模型是掩码模型，写不出答案。",
	"path.why.corpus":  "你的模型读的是别的文字，没有学过问题所问的那个世界。",
	"path.why.loss":    "你的模型留出损失为 %.2f；只有在 %.2f 或更低的模型里，微调才找得到事实，而训练到那么低所花的时间比路径的一步更长。",
	"path.model.tuned": "这一步从第 3 步里你自己模型的全量微调出发。",
	"path.model.sft":   "这一步从保存的微调模型出发：保存的基础模型在问答上做了全量微调，和第 3 步做的一样。",
}
