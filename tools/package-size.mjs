#!/usr/bin/env node
// Measures what a page downloads from the npm package (dist/, as built by
// tools/build-wasm.sh), raw and gzip -9, and rewrites the table between the
// package-size markers in docs/benchmarks.md. `--print` only prints it.
//
//   tools/build-wasm.sh && node tools/package-size.mjs

import { readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './cli-flags.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The budget for the .wasm and the JS shipped with it, gzip. */
export const BUDGET = 150 * 1024;
const FILES = [
  ['meshmeet-core.wasm', '`meshmeet-core.wasm`'],
  ['meshmeet-core.mjs', '`meshmeet-core.mjs` (Emscripten loader + Embind)'],
  ['meshmeet.js', '`meshmeet.js` (the package entry)'],
  ['meeting-api.js', '`meeting-api.js` (joinMeeting and Meeting)'],
  ['browser-objects.js', '`browser-objects.js` (the core\'s outputs on WebRTC objects)'],
  ['server-http.js', '`server-http.js` (createMeeting, getMeeting, lookups)'],
  ['core-loader.js', '`core-loader.js` (loads the core)'],
  ['errors.js', '`errors.js` (MeshmeetError and its codes)'],
  ['app-data.js', '`app-data.js` (app data framing)'],
  ['video-views.js', '`video-views.js` (how large each peer\'s video is drawn)'],
];

/** Each shipped file's size raw and gzip -9, from `dist` (default: the checkout's dist/). */
export function measure(dist = join(ROOT, 'dist')) {
  const files = FILES.map(([file, label]) => {
    const bytes = readFileSync(join(dist, file));
    return { file, label, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const sum = (key) => files.reduce((a, f) => a + f[key], 0);
  return { files, raw: sum('raw'), gzip: sum('gzip') };
}

function main() {
  const n = (x) => x.toLocaleString('en-US');
  const { files, raw, gzip: gz } = measure();
  const rows = files.map((f) => `| ${f.label} | ${n(f.raw)} B | ${n(f.gzip)} B |`);
  const commit = (() => {
    try {
      return execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const table = [
    `What a page downloads, measured by \`tools/package-size.mjs\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `(commit ${commit}; \`tools/build-wasm.sh\`, Emscripten, MinSizeRel; gzip -9):`,
    '',
    '| file | raw | gzip |',
    '|---|---|---|',
    ...rows,
    `| **total** | ${n(raw)} B | **${n(gz)} B** (budget ≤ ${n(BUDGET)} B: ${gz <= BUDGET ? 'pass' : '**FAIL**'}) |`,
  ].join('\n');

  if (process.argv.includes('--print')) {
    console.log(table);
  } else {
    const doc = join(ROOT, 'docs', 'benchmarks.md');
    const text = readFileSync(doc, 'utf8');
    const begin = '<!-- package-size:begin (tools/package-size.mjs writes this section) -->';
    const end = '<!-- package-size:end -->';
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < a) throw new Error(`docs/benchmarks.md lacks the ${begin} … ${end} markers`);
    writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${table}\n${text.slice(b)}`);
    console.log(table);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  parseFlags(process.argv.slice(2), { switches: ['print'] }, 'usage: node tools/package-size.mjs [--print]');
  main();
}
