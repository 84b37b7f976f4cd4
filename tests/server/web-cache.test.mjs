// The web app as tools/build-web.mjs builds it and the real server sends it:
// content-hashed names that a browser keeps without asking, a page
// revalidated with its ETag, brotli or gzip made at build time. A first visit
// fetches the page and every file it leads to; a repeat visit asks for the
// page alone and gets 304.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { T, startServer, finishAll, tempDir, fakeId } from './harness.mjs';
import { ROOT } from '../support/wait.mjs';
import { buildWeb, HASH_CHARS } from '../../tools/build-web.mjs';

const DIST = join(ROOT, 'dist');
let web;
let srv;

before(async () => {
  web = tempDir('meshmeet-web-');
  buildWeb(join(ROOT, 'web', 'app'), DIST, web);
  srv = await startServer(['--static', web]);
});
after(async () => { await finishAll(); }, T);

/** The URL paths a page or script names: src/href in HTML, import specifiers and new URL() in JS. */
function referencesIn(path, text) {
  if (path.endsWith('.html')) return [...text.matchAll(/\b(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]).filter((u) => u !== '/');
  if (/\.m?js$/.test(path)) {
    const imports = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\/[^'"\n]+)\1/g)].map((m) => m[2]);
    const urls = [...text.matchAll(/new URL\((['"])([^'"\n]+)\1,\s*import\.meta\.url\)/g)].map((m) => `/assets/${m[2]}`);
    return [...imports, ...urls];
  }
  return [];
}

/** GET with a browser's Accept-Encoding; `etag` asks If-None-Match. */
async function fetchAs(path, { etag, encoding = 'gzip, deflate, br, zstd' } = {}) {
  const res = await fetch(`${srv.url}${path}`, { headers: { 'accept-encoding': encoding, ...(etag ? { 'if-none-match': etag } : {}) } });
  const body = Buffer.from(await res.arrayBuffer());  // undici decodes br and gzip for us
  return { res, body };
}

test('the build names every file by its content, and every name the page leads to exists', T, () => {
  const index = readFileSync(join(web, 'index.html'), 'utf8');
  const seen = new Set();
  const queue = referencesIn('index.html', index);
  assert.ok(queue.some((u) => /^\/assets\/app\.[0-9a-f]+\.js$/.test(u)), `index.html loads the hashed app (${queue})`);
  while (queue.length) {
    const url = queue.shift();
    if (seen.has(url)) continue;
    seen.add(url);
    assert.match(url, new RegExp(`^/assets/[a-z0-9-]+\\.[0-9a-f]{${HASH_CHARS}}\\.[a-z]+$`), `${url} is a hashed asset`);
    const file = join(web, url);
    assert.ok(existsSync(file), `${url} exists`);
    const bytes = readFileSync(file);
    const hash = url.split('.').at(-2);
    assert.equal(createHash('sha256').update(bytes).digest('hex').slice(0, HASH_CHARS), hash, `${url}'s name is its content's hash`);
    queue.push(...referencesIn(url, bytes.toString('utf8')));
  }
  // The app's modules, the package, its loader and its .wasm: nothing is left out.
  for (const name of ['app', 'i18n', 'meeting', 'meshmeet', 'app-data', 'meshmeet-core'])
    assert.ok([...seen].some((u) => u.startsWith(`/assets/${name}.`)), `${name} is reached from the page`);
  assert.ok([...seen].some((u) => u.endsWith('.wasm')), 'the core\'s .wasm is reached');
  // The precompressed copies are the same bytes.
  for (const file of readdirSync(join(web, 'assets')).filter((f) => /\.(js|mjs|css|svg|wasm)$/.test(f))) {
    const bytes = readFileSync(join(web, 'assets', file));
    assert.ok(gunzipSync(readFileSync(join(web, 'assets', `${file}.gz`))).equals(bytes), `${file}.gz`);
    assert.ok(brotliDecompressSync(readFileSync(join(web, 'assets', `${file}.br`))).equals(bytes), `${file}.br`);
  }
});

test('a change to one module renames it and what leads to it, and nothing else', T, () => {
  const app = tempDir('meshmeet-app-');
  cpSync(join(ROOT, 'web', 'app'), app, { recursive: true });
  const names = (assets) => new Map([...assets].map(([source, url]) => [basename(source), url]));
  const before = names(buildWeb(app, DIST, tempDir('meshmeet-web-a-')).assets);
  // The same sources built again: the same names (the build is reproducible).
  assert.deepEqual([...names(buildWeb(app, DIST, tempDir('meshmeet-web-b-')).assets)], [...before]);
  appendFileSync(join(app, 'chat.js'), '\n// changed\n');
  const after = names(buildWeb(app, DIST, tempDir('meshmeet-web-c-')).assets);
  const renamed = [...before.keys()].filter((file) => before.get(file) !== after.get(file)).sort();
  // chat.js; meeting.js and panels.js import it; app.js imports meeting.js;
  // index.html names app.js.
  assert.deepEqual(renamed, ['app.js', 'chat.js', 'meeting.js', 'panels.js']);
});

test('first visit: the page and every file, compressed; hashed files immutable, the page revalidated', T, async () => {
  const page = await fetchAs(`/m/${fakeId(26)}`);
  assert.equal(page.res.status, 200);
  assert.equal(page.res.headers.get('content-encoding'), 'br');
  assert.equal(page.res.headers.get('cache-control'), 'no-cache');
  assert.equal(page.res.headers.get('vary'), 'Accept-Encoding');
  assert.ok(page.res.headers.get('etag'), 'the page has an ETag');
  assert.ok(page.body.equals(readFileSync(join(web, 'index.html'))), 'the page as built');

  const urls = referencesIn('index.html', page.body.toString());
  const fetched = new Set();
  while (urls.length) {
    const url = urls.shift();
    if (fetched.has(url)) continue;
    fetched.add(url);
    const { res, body } = await fetchAs(url);
    assert.equal(res.status, 200, url);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', url);
    assert.equal(res.headers.get('content-encoding'), 'br', url);
    assert.ok(body.equals(readFileSync(join(web, url))), `${url} arrives as built`);
    urls.push(...referencesIn(url, body.toString('utf8')));
  }
  const wasm = [...fetched].find((u) => u.endsWith('.wasm'));
  assert.equal((await fetchAs(wasm)).res.headers.get('content-type'), 'application/wasm');
  // A client that takes gzip only, or nothing, gets that.
  assert.equal((await fetchAs(wasm, { encoding: 'gzip' })).res.headers.get('content-encoding'), 'gzip');
  const identity = await fetchAs(wasm, { encoding: 'identity' });
  assert.equal(identity.res.headers.get('content-encoding'), null);
  assert.ok(identity.body.equals(readFileSync(join(web, wasm))));
});

test('repeat visit: the page is 304 Not Modified for the ETag it was sent with; a new build is 200', T, async () => {
  const first = await fetchAs('/');
  const etag = first.res.headers.get('etag');
  const repeat = await fetchAs('/', { etag });
  assert.equal(repeat.res.status, 304);
  assert.equal(repeat.body.length, 0);
  assert.equal(repeat.res.headers.get('etag'), etag);
  // The ETag of one encoding does not validate another's bytes.
  assert.equal((await fetchAs('/', { etag, encoding: 'gzip' })).res.status, 200);
  assert.equal((await fetchAs('/', { etag: '"not-it"' })).res.status, 200);
});
