// Emscripten 3.1.6's ES-module output still uses require() and __dirname on
// its Node path; give it both, in Node only. (Prepended outside the module.)
var require, __filename, __dirname;
if (typeof process === 'object' && process.versions && process.versions.node) {
  const { createRequire } = await import('node:module');
  const { fileURLToPath } = await import('node:url');
  const { dirname } = await import('node:path');
  require = createRequire(import.meta.url);
  __filename = fileURLToPath(import.meta.url);
  __dirname = dirname(__filename);
}
