// A web developer's own site for the browser tests: the npm package as `npm
// pack` makes it, installed into an empty folder and served as plain static
// files from another origin than the meshmeet server, its bare specifier
// 'meshmeet' mapped to node_modules with an import map (no bundler).
//
// `npm pack --ignore-scripts`: `prepack` would rebuild the WASM; this tests
// what dist/ holds (as tests/node/package.test.mjs).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { ROOT, tempDir } from './harness.mjs';

export function run(cmd, args, { cwd = ROOT, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr }));
  });
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

/** A plain static file server for `dir` on 127.0.0.1 (what any web host does). */
async function serveStatic(dir) {
  const server = createServer(async (req, res) => {
    let path = normalize(join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(dir + sep)) return res.writeHead(403).end();
    if (path.endsWith(sep)) path = join(path, 'index.html');
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Packs and installs the package into a new folder, writes `files` (name →
 * text) next to it, and serves the folder: { dir, url, close }.
 */
export async function packageSite(files) {
  const dest = tempDir('meshmeet-pack-');
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest]);
  assert.equal(packed.code, 0, `npm pack failed:\n${packed.stderr}`);
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  const dir = tempDir('meshmeet-site-');
  const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dest, filename)], { cwd: dir });
  assert.equal(installed.code, 0, `npm install failed:\n${installed.stderr}`);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const served = await serveStatic(dir);
  return { dir, ...served };
}

/** The import map line that lets a page `import … from 'meshmeet'`. */
export const IMPORT_MAP = '<script type="importmap">{ "imports": { "meshmeet": "./node_modules/meshmeet/dist/meshmeet.js" } }</script>';
