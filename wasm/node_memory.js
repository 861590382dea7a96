// Preloaded into Node (node --require=wasm/node_memory.js) when Go's tests and benchmarks run as
// wasm (make test-wasm, make bench-wasm): it hands the CPU device Go's own memory, as
// web/worker.js does in the browser, so the device's WebAssembly SIMD matmul (core/ops/wasmsimd)
// runs under Node too. Go's wasm_exec_node.js instantiates the test binary with
// WebAssembly.instantiate; this wraps that call to keep the instance's memory.
'use strict';
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (...args) {
  const result = await instantiate.apply(this, args);
  const instance = result.instance || result;
  if (instance.exports && instance.exports.mem instanceof WebAssembly.Memory) {
    globalThis.pretuneGoMemory = instance.exports.mem;
  }
  return result;
};
