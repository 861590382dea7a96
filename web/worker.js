// pretune's trainer worker: loads Go's wasm runtime shim and web/trainer.wasm, then hands every
// message from the page to the Go side (which answers with postMessage). Messages that arrive
// while the wasm is still loading are queued.
importScripts('wasm_exec.js');

const pending = [];
self.onmessage = (e) => {
  const text = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
  if (self.pretuneRequest) {
    self.pretuneRequest(text);
  } else {
    pending.push(text);
  }
};

const go = new Go();
WebAssembly.instantiateStreaming(fetch('trainer.wasm'), go.importObject)
  .then((result) => {
    go.run(result.instance); // runs main until it waits; pretuneRequest is set by then
    for (const text of pending.splice(0)) self.pretuneRequest(text);
  })
  .catch((err) => {
    postMessage(JSON.stringify({ id: 0, kind: 'error', error: 'the trainer could not start: ' + err }));
  });
