// pretune's trainer worker: loads Go's wasm runtime shim and web/trainer.wasm, then hands every
// message from the page to the Go side (which answers with postMessage). Messages that arrive
// while the wasm is still loading are queued.
//
// The same script runs a sharded pretraining's helper workers (started by the leader worker,
// wasm/helpers.go): their requests are ArrayBuffers, handed to pretuneShard.
importScripts('wasm_exec.js');

const pending = [];
const deliver = (data) => {
  if (data instanceof ArrayBuffer) {
    self.pretuneShard(data);
  } else {
    self.pretuneRequest(typeof data === 'string' ? data : JSON.stringify(data));
  }
};
self.onmessage = (e) => {
  if (self.pretuneRequest) {
    deliver(e.data);
  } else {
    pending.push(e.data);
  }
};

const go = new Go();
WebAssembly.instantiateStreaming(fetch('trainer.wasm'), go.importObject)
  .then((result) => {
    // Go's memory, for the CPU device's WebAssembly SIMD kernels (core/ops/simd_js.go),
    // which read and write Go's float slices in place.
    self.pretuneGoMemory = result.instance.exports.mem;
    go.run(result.instance); // runs main until it waits; pretuneRequest is set by then
    for (const data of pending.splice(0)) deliver(data);
  })
  .catch((err) => {
    postMessage(JSON.stringify({ id: 0, kind: 'error', error: 'the trainer could not start: ' + err }));
  });
