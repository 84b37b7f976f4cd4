// Node 20 has a global fetch, so the loader would fetch the .wasm by file URL
// and fail: read it from beside the module instead, in Node only.
if (typeof process === 'object' && process.versions && process.versions.node && !Module['wasmBinary']) {
  Module['wasmBinary'] = require('fs').readFileSync(require('path').join(__dirname, 'meshmeet-core.wasm'));
}
