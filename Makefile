# pretune: `make run` builds and serves the playground; `make test` runs every test.
GO        ?= go
GOROOT    := $(shell $(GO) env GOROOT)
# Go's own go_js_wasm_exec runs node on wasm_exec_node.js; the preload hands the CPU device Go's
# memory so that its WebAssembly SIMD matmul runs under Node as it does in the browser's worker.
WASM_EXEC := node --stack-size=8192 --require=$(CURDIR)/wasm/node_memory.js $(GOROOT)/lib/wasm/wasm_exec_node.js
ADDR      ?= 127.0.0.1:8080
FUZZTIME  ?= 60s
export XDG_RUNTIME_DIR ?= /tmp/pretune-xdg

.PHONY: npm-deps base screenshots lesson peft-lesson feedback-lesson device-bench-build run build test test-native test-wasm test-golden-v3 vet bench bench-wasm fuzz clean

## run: build the browser app and serve it at http://$(ADDR)
run: build
	$(GO) run . -addr $(ADDR)

## build: the UI (web/app.wasm), the trainer worker (web/trainer.wasm) and Go's wasm shim, into web/
build:
	GOOS=js GOARCH=wasm $(GO) build -o web/app.wasm .
	GOOS=js GOARCH=wasm $(GO) build -o web/trainer.wasm ./wasm
	cp $(GOROOT)/lib/wasm/wasm_exec.js web/wasm_exec.js

## precompress: brotli siblings of web/*.wasm (a minute or two), which `go run .` then sends to
## browsers that accept brotli (app.wasm about 30% smaller than gzipped); make static writes its own
.PHONY: precompress
precompress: build
	$(GO) run . -precompress web

## static: a complete static site in $(STATIC_DIR) for any static host (PREFIX: its sub-path)
STATIC_DIR ?= static
PREFIX     ?= /
.PHONY: static
static:
	$(GO) run . -static $(STATIC_DIR) -prefix $(PREFIX)

## test: vet, every test natively, the core again as wasm under Node, the golden run with GOAMD64=v3
test: vet npm-deps test-native test-wasm test-golden-v3

## npm-deps: the test- and bench-only JavaScript pinned in .npm/package-lock.json (axe-core for the
## accessibility checks, TensorFlow.js's wasm backend as the browser benchmark's peer); never shipped
npm-deps: .npm/node_modules/.package-lock.json
.npm/node_modules/.package-lock.json: .npm/package-lock.json .npm/package.json
	cd .npm && npm ci --no-audit --no-fund

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./core/... ./webgpu/... ./app/... ./wasm/... .

# The browser and WebGPU tests fail here (with the install hint) when Chromium or a Vulkan adapter
# is missing; a plain go test skips them saying so (core/testenv).
test-native:
	@mkdir -p $(XDG_RUNTIME_DIR)
	PRETUNE_REQUIRE=browser,vulkan $(GO) test -count=1 -timeout 30m ./...

# Slow learning tests skip under -short; the golden runs and every op check still run.
test-wasm:
	PRETUNE_REQUIRE=wasm-simd GOOS=js GOARCH=wasm $(GO) test -count=1 -short -exec="$(WASM_EXEC)" ./core/...

# The golden runs (plain pretraining and every method) and the matmul checks, with FMA and AVX2
# available to the compiler: the CPU device must not use them.
test-golden-v3:
	GOAMD64=v3 $(GO) test -count=1 -run 'TestGoldenRun|TestGoldenMethods|TestMatMul' ./core/ ./core/ops/
	# PiSSA's SVD (#17): its bits pinned where the compiler may fuse multiply-adds (the PiSSA golden
	# run alone rounds small differences away into float32).
	GOAMD64=v3 $(GO) test -count=1 -run 'TestSVDBitsAreFixed' ./core/

## bench: matmul GFLOP/s (against gonum) and training-step tokens/s: CPU, WebGPU (Vulkan), wasm under Node, and in
## Chromium beside TensorFlow.js's wasm backend training the same model (the ratio from one run);
## the class server's latency under load; then the whole feedback stage timed in Chromium (about 5 minutes)
## and each step of the guided path with its real settings (about 10 minutes)
bench: npm-deps
	$(GO) test -run XXX -bench 'MatMul|TrainStep' -benchtime=2s ./core/ ./core/ops/
	@mkdir -p $(XDG_RUNTIME_DIR)
	$(GO) test -run XXX -bench 'MatMul|TrainStep' -benchtime=10x ./webgpu/
	$(MAKE) bench-wasm
	PRETUNE_BENCH_ROUNDS=5 $(GO) test -count=1 -run TestBrowserBench -v .
	$(GO) test -run XXX -bench ClassPicks -benchtime 2000x .
	PRETUNE_BENCH_FEEDBACK=1 $(GO) test -count=1 -run TestBrowserFeedbackBench -v .
	$(GO) test -run XXX -bench Shards -benchtime=30x ./core/
	PRETUNE_BENCH_SHARDS=1 $(GO) test -count=1 -run TestBrowserShardsBench -v .
	PRETUNE_BENCH_PATH=1 $(GO) test -count=1 -run TestBrowserPathBench -v .

bench-wasm:
	GOOS=js GOARCH=wasm $(GO) test -run XXX -bench 'MatMul/(plain|tiled1|device)/|TrainStep' -benchtime=2s -exec="$(WASM_EXEC)" ./core/ ./core/ops/

## device-bench-build: the WebGPU test binary that .ci/device-bench runs on a lent GPU machine
device-bench-build:
	$(GO) test -c -o .devbin/webgpu.test ./webgpu

## screenshots: rewrite web/screenshots (the README's pictures) from the playground's end-to-end test
screenshots:
	$(GO) test -count=1 -run 'TestPlayground$$|TestCompareView$$|TestFeedbackView$$|TestClassMode$$|TestLayout$$|TestAccessibility$$|TestPath$$' . -screenshots
	$(GO) test -count=1 -run 'TestTeacherLink$$' . -screenshots

## lesson: the default fine-tuning lesson's table, from the kept base web/base/en-base.ckpt (about a minute)
lesson:
	$(GO) run . -run en-lesson

## peft-lesson: #17's methods side by side (LoRA, DoRA, IA3, BitFit, LayerNorm tuning, LoRA+, PiSSA, prompt
## tuning) on the default lesson from the kept base web/base/en-base.ckpt (a few minutes)
PEFT_LESSON := 6hJDRjps8EIXf5Vx7f9kh5Kd-lapCgz2AtWAj25BGEe9emXRbVnvRu5kzc-wz3xMb9E3AhLisCfoJZ6HB_u0e4mQhMFIaoVGp_zvVcF_Xqruayw17MfneDcW0BUMdtDy0zD8z9O0qMNGDY4K-CIxMNkFfBaybX1MbwxLWfNg6ymaEbgRS5qVYpJRSYIrQ8j8pK4HZ-fajLf2d4rwu0JUUuLMbxtxaNvQoG0qg40yq1N9e9eWoa4HjecVvjcAQybZmcgu0EuCNppY3jg9oVT4_hCMZv6InZgutdgHLmzMMDVpzQLnUDwc3CGRK72eSPZmc_pLsqsoaST2ZXpmms4Vk7zzn1XOx_QZQlwQfN17k53i13AVmzmMoUL8_8e58-W0KkSAQj7Q0LSNBN7v4M7f_mDuqcGo7l3uXz8rk27x654dPYoi0TGv68rJApOwCtLqd1heX0pcU1_NCDPOSC1X2Jd-P_VcAAAD__w
peft-lesson:
	$(GO) run . -run $(PEFT_LESSON)

## feedback-lesson: the default feedback lesson's table (reward model, PPO, DPO, GRPO, and PPO
## without its leash) from the kept SFT model web/base/en-sft.ckpt, then the Chinese one (about four minutes)
feedback-lesson:
	$(GO) run . -run en-feedback -no-leash
	$(GO) run . -run zh-feedback

## base: pretrain the kept base checkpoints again into web/base (16 to 20 minutes on 2 cores, see the
## README), then fine-tune the feedback presets' SFT models from them (en-sft, zh-sft: under a minute each),
## and fail unless every byte equals the committed files (make test checks zh-base and zh-sft alone)
base:
	$(GO) run . -bases web/base
	@git diff --quiet -- web/base || { echo "make base: web/base changed (git diff --stat -- web/base): commit it if the change is intended"; exit 1; }

## fuzz: each fuzz target for FUZZTIME (make test runs their seed corpora only)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s -parallel 1 $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -f web/app.wasm web/trainer.wasm web/wasm_exec.js
