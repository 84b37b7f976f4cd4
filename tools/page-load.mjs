#!/usr/bin/env node
// What a meeting page costs to load, first and repeat visit, in Debian
// Chromium against the real server and the built web app (build/web): the
// requests that went to the network and the bytes they carried (headers
// included, as Chromium counts them: encodedDataLength). A visit ends when
// the lobby is up and the client core (.wasm) has been loaded (the lobby
// preloads it). Then, in the same browser profile, the same link again (a
// rejoin, the next day) and another meeting's link.
//
//   node tools/page-load.mjs            # prints the table
//   node tools/page-load.mjs --write    # and puts it in docs/benchmarks.md
//
// Beside it, for comparison in the same run: the same files laid out as
// before tools/build-web.mjs (web/app and the package copied as they are),
// served by today's server: uncompressed, every file revalidated by ETag.
// (The server before this build also sent no ETag: every visit was a first.)

import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, SERVER_BIN } from '../tests/support/wait.mjs';
import * as server from '../tests/support/server.mjs';

const args = process.argv.slice(2);
if (args.some((a) => a !== '--write')) {
  process.stderr.write('usage: node tools/page-load.mjs [--write]\n');
  process.exit(2);
}

const newMeeting = async (base) =>
  (await (await fetch(`${base}/api/meetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()).id;

// One visit of a meeting's page in `context`: what went to the network.
async function visit(context, base, id) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const requests = new Map();  // requestId → { url, status, cached, bytes }
  cdp.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, cached: false, bytes: 0 }));
  cdp.on('Network.requestServedFromCache', (e) => { if (requests.has(e.requestId)) requests.get(e.requestId).cached = true; });
  cdp.on('Network.responseReceived', (e) => {
    const r = requests.get(e.requestId);
    if (!r) return;
    r.status = e.response.status;
    if (e.response.fromDiskCache || e.response.fromMemoryCache || e.response.fromPrefetchCache) r.cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => { if (requests.has(e.requestId)) requests.get(e.requestId).bytes = e.encodedDataLength; });
  const wasm = page.waitForResponse((res) => res.url().endsWith('.wasm'), { timeout: 20000 }).catch(() => null);
  await page.goto(`${base}/m/${id}`, { waitUntil: 'load' });
  await page.getByRole('button', { name: 'Join', exact: true }).waitFor({ timeout: 20000 });
  await wasm;
  await page.waitForTimeout(500);  // the last loadingFinished events
  await page.close();
  const all = [...requests.values()].filter((r) => r.url.startsWith(base) && !r.url.includes('/api/'));
  const network = all.filter((r) => !r.cached);
  return {
    requests: all.length,
    network: network.length,
    bytes: network.reduce((sum, r) => sum + r.bytes, 0),
  };
}

async function measure(staticDir) {
  const srv = await server.startServer({ args: ['--static', staticDir] });
  const browser = await chromium.launch({ executablePath: process.env.MESHMEET_CHROMIUM || '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
  try {
    const context = await browser.newContext();  // one profile: its HTTP cache carries over
    const id = await newMeeting(srv.url);
    return [
      ['first visit', await visit(context, srv.url, id)],
      ['the same link again', await visit(context, srv.url, id)],
      ['another meeting\'s link', await visit(context, srv.url, await newMeeting(srv.url))],
    ];
  } finally {
    await browser.close();
    await srv.stop();
  }
}

// The layout before tools/build-web.mjs: web/app as it is, the package under lib/.
function plainCopy() {
  const dir = server.tempDir('meshmeet-plain-web-');
  cpSync(join(ROOT, 'web', 'app'), dir, { recursive: true });
  mkdirSync(join(dir, 'lib'), { recursive: true });
  cpSync(join(ROOT, 'dist'), join(dir, 'lib'), { recursive: true });
  return dir;
}

const built = join(SERVER_BIN, '..', '..', 'web');
const browserVersion = execFileSync(process.env.MESHMEET_CHROMIUM || '/usr/bin/chromium', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  .trim().replace(/^Chromium /, '').replace(/ built on.*/, '');
const rows = [];
const n = (x) => x.toLocaleString('en-US');
for (const [label, dir] of [['built: hashed, immutable, brotli', built], ['plain copy, revalidated, uncompressed', plainCopy()]]) {
  for (const [visitName, v] of await measure(dir))
    rows.push(`| ${label} | ${visitName} | ${v.requests} | ${v.network} | ${n(v.bytes)} B |`);
}
const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const table = [
  `Measured ${new Date().toISOString().slice(0, 10)} at commit ${commit} with \`node tools/page-load.mjs\` (Chromium ${browserVersion}, loopback):`,
  '',
  '| web app | visit | requests | to the network | bytes over the network |',
  '|---|---|---|---|---|',
  ...rows,
].join('\n');
process.stdout.write(`${table}\n`);
if (args.includes('--write')) {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const doc = readFileSync(file, 'utf8');
  const start = '<!-- page-load:start -->';
  const end = '<!-- page-load:end -->';
  if (!doc.includes(start)) throw new Error(`docs/benchmarks.md has no ${start} marker`);
  writeFileSync(file, doc.slice(0, doc.indexOf(start) + start.length) + `\n${table}\n` + doc.slice(doc.indexOf(end)));
}
process.exit(0);
