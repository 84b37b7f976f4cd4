#!/usr/bin/env node
// Builds what the server serves as the web app: web/app/ and the npm
// package's dist/ become <out>/index.html and <out>/assets/, so that a repeat
// visit downloads nothing but the page itself (and often not even that).
//
//   node tools/build-web.mjs [web/app] [dist] [build/web]
//
// Every file but index.html gets a content-hashed name (app.3f9c0a12be.js),
// and the server marks such names immutable: a browser keeps them for a year
// without asking. A file's hash covers the hashed names of what it imports,
// so a change anywhere renames exactly the files that lead to it. index.html
// keeps its name (it is what a meeting link opens) and is revalidated with an
// ETag instead. Each compressible file is also written gzip'd (.gz, level 9)
// and brotli'd (.br, quality 11) beside itself: the server sends the smallest
// the browser accepts, and compresses nothing at request time.
//
// The page also preloads every module it leads to (<link rel=modulepreload>),
// so a first visit fetches them in one round instead of one per level of
// imports.
//
// References rewritten: in HTML, src="/x" and href="/x"; in JS, static and
// dynamic import specifiers and new URL("x", import.meta.url) (how the
// Emscripten loader finds its .wasm). An app file names another app file
// absolutely ('/i18n.js') and the package as '/lib/meshmeet.js'; the
// package's files name each other relatively.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const HASH_CHARS = 10;
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.svg', '.wasm', '.json']);
const SERVED = new Set([...COMPRESSIBLE, '.png', '.ico']);  // what the page may load (not index.d.ts)

/** Wrong folders given: the command line's fault (exit 2), not the build's. */
class UsageError extends Error {}

/**
 * Builds `out` from `appDir` and `distDir`. Returns { assets: Map(source
 * path → served path), index } for tests and tools.
 */
export function buildWeb(appDir, distDir, out) {
  for (const dir of [appDir, distDir]) if (!existsSync(dir)) throw new UsageError(`no such folder: ${dir}`);
  if (!existsSync(join(appDir, 'index.html'))) throw new UsageError(`${appDir} has no index.html`);
  // Where a URL path of the app points in the source tree.
  const source = (url) => (url.startsWith('/lib/') ? join(distDir, url.slice(5)) : join(appDir, url.slice(1)));
  const served = new Map();  // absolute source path → '/assets/<hashed name>'
  const visiting = new Set();

  // The file's text with every reference it makes replaced by the served
  // (hashed) name of what it names, those being built first.
  function rewritten(path) {
    const text = readFileSync(path, 'utf8');
    // Only paths are ours: a bare specifier ('module', in the Emscripten
    // loader's Node branch) or a URL of another origin stays as it is.
    const point = (specifier) => {
      if (!/^\.{0,2}\//.test(specifier) || specifier.startsWith('//')) return specifier;
      const target = specifier.startsWith('/') ? source(specifier) : resolve(dirname(path), specifier);
      return asset(target);
    };
    const ext = extname(path);
    if (ext === '.html')
      return text.replace(/\b(src|href)="(\/[^"#?]*)"/g, (all, attr, url) => (url === '/' ? all : `${attr}="${point(url)}"`));
    if (ext === '.js' || ext === '.mjs')
      return text
        .replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])([^'"\n]+)\2/g, (all, lead, q, spec) => `${lead}${q}${point(spec)}${q}`)
        .replace(/new URL\((['"])([^'"\n]+)\1,\s*import\.meta\.url\)/g, (all, q, spec) => `new URL(${q}${basename(point(`./${spec}`))}${q},import.meta.url)`);
    return text;
  }

  function asset(path) {
    path = resolve(path);
    if (served.has(path)) return served.get(path);
    if (!existsSync(path))
      throw new Error(`${path} is referenced but does not exist${path.startsWith(distDir) ? ' (build the package first: tools/build-wasm.sh)' : ''}`);
    if (visiting.has(path)) throw new Error(`an import cycle through ${path}: hashed names cannot be given`);
    visiting.add(path);
    const ext = extname(path);
    const bytes = ['.html', '.js', '.mjs', '.css'].includes(ext) ? Buffer.from(rewritten(path)) : readFileSync(path);
    visiting.delete(path);
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, HASH_CHARS);
    const name = `${basename(path, ext)}.${hash}${ext}`;
    write(join(out, 'assets', name), bytes);
    served.set(path, `/assets/${name}`);
    return `/assets/${name}`;
  }

  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'assets'), { recursive: true });
  // Every module the page leads to, preloaded from the page: the browser
  // fetches them all at once instead of one level of imports at a time.
  const page = rewritten(join(appDir, 'index.html'));
  const modules = [...served.values()].filter((url) => /\.m?js$/.test(url));
  const preloads = modules.map((url) => `  <link rel="modulepreload" href="${url}">\n`).join('');
  if (!page.includes('</head>')) throw new Error('index.html has no </head> for the module preloads');
  const index = Buffer.from(page.replace('</head>', `${preloads}</head>`));
  write(join(out, 'index.html'), index);
  // Files nothing references yet (a favicon asked by the browser alone)
  // are served under their own names too.
  for (const file of readdirSync(appDir))
    if (file !== 'index.html' && SERVED.has(extname(file)) && !served.has(resolve(appDir, file)))
      write(join(out, file), readFileSync(join(appDir, file)));
  return { assets: served, index };
}

function write(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  if (!COMPRESSIBLE.has(extname(path))) return;
  writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  writeFileSync(`${path}.br`, brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [appDir = join(ROOT, 'web', 'app'), distDir = join(ROOT, 'dist'), out = join(ROOT, 'build', 'web'), ...extra] = process.argv.slice(2);
  try {
    if (extra.length) throw new UsageError(`unexpected ${extra.join(' ')}`);
    const { assets } = buildWeb(resolve(appDir), resolve(distDir), resolve(out));
    process.stdout.write(`build-web: ${resolve(out)}: index.html and ${assets.size} hashed assets\n`);
  } catch (e) {
    process.stderr.write(`build-web: ${e.message}\n`);
    if (e instanceof UsageError) process.stderr.write('usage: node tools/build-web.mjs [APP_DIR] [DIST_DIR] [OUT_DIR]\n');
    process.exit(e instanceof UsageError ? 2 : 1);
  }
}
