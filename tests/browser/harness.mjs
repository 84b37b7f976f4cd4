// Browser test harness for the meshmeet web app.
//
// Drives the real server binary (build-server/bin/meshmeet-server, or
// $MESHMEET_SERVER_BIN), which serves the app and the npm package under /lib/,
// and real browsers: Debian Chromium through playwright-core, Firefox ESR
// through puppeteer-core over WebDriver BiDi. No browser is ever downloaded.
//
//   const srv = await startServer();
//   const browser = await launchChromium();
//   const alice = await newChromiumParticipant(browser, 'Alice');
//   await joinViaUi(alice, `${srv.url}/m/${id}?debug`, 'Alice');
//   await waitForDecoding([alice, bob], 1);
//   ...
//   await cleanup();   // from an `after` hook: browsers, then servers, then strays
//
// Every wait is bounded. A "participant" is { name, kind, page, logs, errors };
// helpers that take a page also accept a participant.

import { readFileSync, readdirSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { ROOT, SERVER_BIN, sleep, withTimeout, waitFor } from '../support/wait.mjs';
import * as server from '../support/server.mjs';
import { tempDir } from '../support/server.mjs';
import { FIREFOX_FAKE_MEDIA_PREFS } from '../support/firefox.mjs';
import { buildWeb } from '../../tools/build-web.mjs';

export { ROOT, sleep, withTimeout, waitFor, tempDir };
export const BIN = SERVER_BIN;
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
export const CHROMIUM = process.env.MESHMEET_CHROMIUM || '/usr/bin/chromium';
export const FIREFOX = process.env.MESHMEET_FIREFOX || '/usr/bin/firefox-esr';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--auto-select-desktop-capture-source=Entire screen',
];

/**
 * The fake camera's frame rate in the tests. Chromium's default (20) makes
 * five pages in one mesh (twenty encoders, twenty decoders) more than two
 * shared cores can carry: pages then took seconds to apply a description.
 * The benchmark keeps the default (launchChromium({ fakeCameraFps: null })).
 */
export const TEST_CAMERA_FPS = 10;

export const VIEWPORT = { width: 1280, height: 800 };
/** Pages nobody photographs get a smaller window: less to composite on 2 cores. */
export const SMALL_VIEWPORT = { width: 800, height: 600 };

/** A meeting id of the right shape that no server has created. */
export function unknownMeetingId() {
  return randomBytes(24).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x').slice(0, 32);
}

// ---------------------------------------------------------------------------
// Processes we started: killed in cleanup() and, as a last resort, at exit
// (servers and temp dirs by ../support/server.mjs; this runs before it, so
// browsers are gone before their profiles are removed).

const browsers = new Set();

process.prependListener('exit', () => {
  for (const pid of descendantPids(process.pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

// ---------------------------------------------------------------------------
// /proc: our descendants and their CPU time

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after the command: state(3) ppid(4) ... utime(14) stime(15)
    return { pid, comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')), ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
  } catch {
    return null;
  }
}

function allStats() {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st) out.push(st);
  }
  return out;
}

/** Pids of every process below `root` (children, grandchildren, …). */
export function descendantPids(root = process.pid) {
  let stats;
  try {
    stats = allStats();
  } catch {
    return [];
  }
  const children = new Map();
  for (const st of stats) {
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(st.pid);
  }
  const out = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift();
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

const CLK_TCK = 100;  // USER_HZ on Linux

/**
 * CPU seconds (user+system) used so far by each process below `root`, by pid,
 * with its command name. Diff two snapshots to get the CPU of an interval.
 */
export function cpuSnapshot(root = process.pid) {
  const snap = new Map();
  for (const pid of descendantPids(root)) {
    const st = procStat(pid);
    if (st) snap.set(pid, { comm: st.comm, cpu: (st.utime + st.stime) / CLK_TCK });
  }
  return snap;
}

/** CPU seconds between two snapshots, summed and grouped by command name. */
export function cpuBetween(before, after) {
  let total = 0;
  const byComm = {};
  for (const [pid, a] of after) {
    const d = a.cpu - (before.get(pid)?.cpu ?? 0);
    total += d;
    byComm[a.comm] = (byComm[a.comm] ?? 0) + d;
  }
  for (const k of Object.keys(byComm)) byComm[k] = Math.round(byComm[k] * 100) / 100;
  return { total: Math.round(total * 100) / 100, byComm };
}

// ---------------------------------------------------------------------------
// The server

/**
 * Starts the server on 127.0.0.1 with a fresh database (unless opts.db). Extra
 * flags in `args` (e.g. ['--room-cap', '2']). Returns a handle with url,
 * port, stop(), kill9(), restart() (same port, same database).
 */
export async function startServer(args = [], opts = {}) {
  checkServedAppIsCurrent();
  return server.startServer({ args, port: opts.port, db: opts.db });
}

/**
 * The server serves <binary dir>/../web, built from web/app and dist/ by
 * the web_app target (tools/build-web.mjs). Testing a stale build would test
 * the wrong page: fail early and say how to refresh it (set
 * MESHMEET_ALLOW_STALE_WEB=1 to skip the check). The served index.html names
 * every file by a hash of its content and of what it imports, so building
 * again into a scratch folder and comparing index.html compares everything.
 */
let servedAppChecked = false;
function checkServedAppIsCurrent() {
  if (process.env.MESHMEET_ALLOW_STALE_WEB || servedAppChecked) return;
  const served = join(dirname(BIN), '..', 'web');
  const source = join(ROOT, 'web', 'app');
  if (!existsSync(served) || !existsSync(source)) return;
  const scratch = tempDir('meshmeet-web-');
  let current = false;
  try {
    buildWeb(source, join(ROOT, 'dist'), scratch);
    current = readFileSync(join(scratch, 'index.html')).equals(readFileSync(join(served, 'index.html')));
  } catch {
    current = false;
  }
  servedAppChecked = current;
  if (!current)
    throw new Error(`the server would serve an old build of the app (web/app/ or dist/ changed since): ` +
      `run \`cmake --build ${join(dirname(BIN), '..')} --target web_app\` first`);
}

/** Creates a meeting through the HTTP API (tests that are not about the home page). */
export async function createMeetingApi(srv, name = '') {
  const res = await withTimeout(fetch(`${srv.url}/api/meetings`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name }),
  }), 5000, 'POST /api/meetings');
  if (!res.ok) throw new Error(`POST /api/meetings: HTTP ${res.status}`);
  return res.json();
}

// ---------------------------------------------------------------------------
// Browsers and participants

/** Runs Chromium with every thread at the same priority (see the script). */
const EVEN_PRIORITY_LAUNCHER = join(ROOT, 'tests', 'browser', 'chromium-even-priority.sh');

/**
 * Launches headless Debian Chromium with the fake camera, microphone and
 * screen; the camera runs at `fakeCameraFps` (null: Chromium's default);
 * `fakeCameras` fake cameras (fake_device_0: I420; _1: Y16 depth frames,
 * which no encoder takes; _2: MJPEG). Chromium always has two fake microphones.
 * `evenPriority`: through chromium-even-priority.sh (false: Chromium free
 * to raise its media threads above other pages' main threads).
 */
export async function launchChromium(extraArgs = [], { fakeCameraFps = TEST_CAMERA_FPS, fakeCameras = 1, evenPriority = true } = {}) {
  const options = [fakeCameraFps ? `fps=${fakeCameraFps}` : '', fakeCameras > 1 ? `device-count=${fakeCameras}` : ''].filter(Boolean);
  const fakeDevice = '--use-fake-device-for-media-stream' + (options.length ? `=${options.join(',')}` : '');
  const browser = await withTimeout(chromium.launch({
    executablePath: evenPriority ? EVEN_PRIORITY_LAUNCHER : CHROMIUM,
    env: { ...process.env, MESHMEET_CHROMIUM_BIN: CHROMIUM },
    headless: true,
    args: [...CHROMIUM_ARGS, fakeDevice, ...extraArgs],
    timeout: 20000,
  }), 25000, 'Chromium launch');
  const handle = { kind: 'chromium', browser, close: () => browser.close() };
  browsers.add(handle);
  return browser;
}

/** Launches headless Firefox ESR (fake media) through puppeteer-core over WebDriver BiDi. */
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const profile = tempDir('meshmeet-firefox-');
  const browser = await withTimeout(puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    userDataDir: profile,
    extraPrefsFirefox: FIREFOX_FAKE_MEDIA_PREFS,
    timeout: 30000,
  }), 35000, 'Firefox launch');
  browsers.add({ kind: 'firefox', browser, close: () => browser.close(), process: browser.process?.() });
  return browser;
}

/** One console line of a participant's page: the core's `?debug` log entries into p.logs, the rest into p.console. */
export function recordConsole(p, text) {
  if (text.startsWith('meshmeet ')) {
    try {
      p.logs.push({ at: Date.now(), ...JSON.parse(text.slice('meshmeet '.length)) });
    } catch {
      p.logs.push({ at: Date.now(), raw: text });
    }
  } else {
    p.console.push(text);
  }
}

/** Keeps a participant's console (recordConsole) and page errors. */
export function attachLogs(p) {
  p.page.on('console', (msg) => recordConsole(p, typeof msg.text === 'function' ? msg.text() : String(msg)));
  p.page.on('pageerror', (e) => p.errors.push(String(e?.message ?? e)));
}

/**
 * One participant in Chromium: its own browser context, i.e. a fresh profile.
 * `context` takes more Playwright context options (locale, isMobile, …).
 */
export async function newChromiumParticipant(browser, name, { viewport = SMALL_VIEWPORT, context: options = {} } = {}) {
  const context = await browser.newContext({ viewport, locale: 'en-US', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const p = { name, kind: 'chromium', context, page, logs: [], console: [], errors: [], close: () => context.close() };
  attachLogs(p);
  return p;
}

/** One participant in Firefox (puppeteer page). */
export async function newFirefoxParticipant(browser, name, { viewport = SMALL_VIEWPORT } = {}) {
  const page = await browser.newPage();
  await page.setViewport(viewport).catch(() => {});
  page.setDefaultTimeout(15000);
  const p = { name, kind: 'firefox', page, logs: [], console: [], errors: [], close: () => page.close() };
  attachLogs(p);
  return p;
}

const pageOf = (x) => x.page ?? x;
const isPuppeteer = (page) => typeof page.getByRole !== 'function';

/** Opens the people panel unless it is open (English names). */
export async function openPeoplePanel(x) {
  const button = pageOf(x).getByRole('button', { name: 'People', exact: true });
  if (await button.getAttribute('aria-expanded') !== 'true') await clickButton(x, 'People');
}

/**
 * The people panel as a page shows it: [{ name, state, marks }] in order.
 * The panel must be open (a closed one keeps no list): throws otherwise.
 */
export async function peopleShown(x) {
  const shown = await pageOf(x).evaluate(() => document.getElementById('people-panel').hidden ? null :
    [...document.querySelectorAll('#people-list .person')].map((li) => ({
      name: li.querySelector('.name').textContent,
      state: li.querySelector('.state').textContent,
      marks: [...li.querySelectorAll('.mark')].map((m) => m.textContent),
    })));
  if (!shown) throw new Error(`${x.name ?? 'the page'}: the people panel is closed`);
  return shown;
}

/** Clicks the button whose accessible name is `name` (exactly). */
export async function clickButton(x, name, timeout = 10000) {
  const page = pageOf(x);
  if (!isPuppeteer(page)) return page.getByRole('button', { name, exact: true }).click({ timeout });
  return page.locator(`::-p-aria([name="${name}"][role="button"])`).setTimeout(timeout).click();
}

/**
 * The verification code a page shows on the tile of `name`, clicking
 * "Verify <name>" first when it is hidden (the button toggles it); null if
 * none is visible.
 */
export async function shownVerificationCode(x, name) {
  const page = pageOf(x);
  const read = () => page.evaluate((who) => {
    const tile = [...document.querySelectorAll('[data-tile]')].find((t) => t.querySelector('.name')?.textContent === who);
    const code = tile?.querySelector('.code');
    return code && code.checkVisibility() ? code.textContent : null;
  }, name);
  if ((await read()) === null) await clickButton(x, `Verify ${name}`);
  return read();
}

/** Fills the text field labelled `label`. */
export async function fillLabelled(x, label, text, timeout = 10000) {
  const page = pageOf(x);
  if (!isPuppeteer(page)) return page.getByLabel(label, { exact: true }).fill(text, { timeout });
  return page.locator(`::-p-aria([name="${label}"][role="textbox"])`).setTimeout(timeout).fill(text);
}

/** Whether a button with that accessible name is visible now. */
export async function buttonVisible(x, name) {
  const page = pageOf(x);
  if (!isPuppeteer(page)) return page.getByRole('button', { name, exact: true }).isVisible();
  return page.evaluate((n) => [...document.querySelectorAll('button')].some((b) => b.getAttribute('aria-label') === n && b.checkVisibility()), name);
}

/** Waits until `text` is visible on the page (a substring of a visible element's text). */
export async function waitForVisibleText(x, text, timeout = 10000) {
  const page = pageOf(x);
  return waitFor(
    () => page.evaluate((t) => {
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.textContent.includes(t) && n.parentElement?.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return true;
      }
      return false;
    }, text),
    timeout,
    `visible text "${text}"`,
    100,
  );
}

/**
 * Opens `url` (a meeting page), types the name into "Your name" and clicks
 * "Join"; resolves once the meeting controls ("Leave") are visible.
 */
export async function joinViaUi(x, url, name, { timeout = 20000, words = ENGLISH } = {}) {
  const page = pageOf(x);
  if (url) await page.goto(url, { timeout });
  await fillLabelled(page, words.yourName, name, timeout);
  await clickButton(page, words.join, timeout);
  await waitFor(() => buttonVisible(page, words.leave), timeout, `${name}: the meeting controls after Join`, 100);
}

// The accessible names joinViaUi needs, in the page's language (they follow it).
export const ENGLISH = { yourName: 'Your name', join: 'Join', leave: 'Leave' };
export const CHINESE = { yourName: '你的名字', join: '加入', leave: '离开' };

/**
 * The benches' start (tests/browser/bench.mjs, tools/mesh-bench.mjs): every
 * page waits in the lobby at `url` with its camera preview playing and its
 * name typed, then all click "Join" one after another. Resolves after the
 * last click, the moment the benches time from, with `firstClick`: the
 * performance.now() at which the first click began (a busy page takes its
 * click late, so the clicks of a heavier page spread wider), and `clickMs`:
 * how long each click took, from its start to the page having handled it.
 */
export async function joinTogetherFromLobby(people, url) {
  for (const p of people) {
    await p.page.goto(url);
    await waitFor(() => buttonVisible(p, 'Join'), 15000, `${p.name}: the lobby`);
    await fillLabelled(p, 'Your name', p.name);
    await waitFor(() => p.page.evaluate(() => document.getElementById('preview').readyState >= 2), 15000, `${p.name}: the camera preview`);
  }
  await sleep(1000);
  const firstClick = performance.now();
  const clickMs = [];
  for (const p of people) {
    const start = performance.now();
    await clickButton(p, 'Join');
    clickMs.push(Math.round(performance.now() - start));
  }
  return { firstClick, clickMs };
}

/**
 * Frames decoded so far by each remote tile's video, by peer id:
 * getVideoPlaybackQuality().totalVideoFrames (Chromium); Firefox leaves that
 * at 0 for MediaStream sources, so there its frames painted (mozPaintedFrames)
 * stand in: a visible tile paints every decoded frame.
 */
export async function framesDecoded(x) {
  return pageOf(x).evaluate(() => {
    const out = {};
    // Firefox leaves totalVideoFrames (and mozDecodedFrames) at 0 for
    // MediaStream sources: the frames it painted stand in there.
    const frames = (v) => v.getVideoPlaybackQuality?.().totalVideoFrames || v.mozDecodedFrames || v.mozPaintedFrames || 0;
    for (const v of document.querySelectorAll('video[data-peer]')) out[v.dataset.peer] = frames(v);
    return out;
  });
}

/**
 * Each remote tile: peer id, shown name, frames, video size, whether the
 * avatar is up, and how the picture sits in it: `fit` (its object-fit) and
 * `cut`, the part of the picture that is off the tile (0: all of it shows;
 * null for an object-fit other than cover, contain or fill).
 */
export async function remoteTiles(x) {
  return videoTiles(x, 'video[data-peer]');
}

/** The own tile, as remoteTiles() tells (no peer id). */
export async function selfTile(x) {
  return (await videoTiles(x, '#self-video'))[0] ?? null;
}

async function videoTiles(x, selector) {
  return pageOf(x).evaluate((sel) => [...document.querySelectorAll(sel)].map((v) => {
    const tile = v.closest('.tile');
    const fit = getComputedStyle(v).objectFit;
    // object-fit scales the picture to cover the element (cut at two edges) or to fit in it (nothing cut).
    const scale = { cover: Math.max, contain: Math.min }[fit]?.(v.clientWidth / v.videoWidth, v.clientHeight / v.videoHeight) ?? null;
    const shown = (side, picture) => Math.min(1, side / (picture * scale));
    const cut = !v.videoWidth || fit === 'fill' ? 0 : scale ? 1 - shown(v.clientWidth, v.videoWidth) * shown(v.clientHeight, v.videoHeight) : null;
    const frames = v.getVideoPlaybackQuality?.().totalVideoFrames || v.mozDecodedFrames || v.mozPaintedFrames || 0;  // see framesDecoded
    return {
      peer: v.dataset.peer,
      name: tile?.querySelector('.name')?.textContent ?? '',
      frames,
      width: v.videoWidth,
      height: v.videoHeight,
      micOffShown: !!tile?.querySelector('.mic-off')?.checkVisibility(),
      avatarShown: !!tile?.querySelector('.avatar')?.checkVisibility(),
      videoShown: v.checkVisibility({ opacityProperty: true }),
      fit,
      cut: cut === null ? null : Math.round(cut * 1000) / 1000,
    };
  }), selector);
}

/** How many `<video data-peer>` tiles the page shows. */
export async function remoteTileCount(x) {
  return pageOf(x).evaluate(() => document.querySelectorAll('video[data-peer]').length);
}

/**
 * Waits until every page shows exactly `expected` remote tiles and every
 * tile's decoded-frame count has grown over `rounds` consecutive sampling
 * intervals (so video is decoding now, not just once). Resolves to
 * { ms, tiles } (the last sample per participant); on timeout the error names
 * who is not decoding whom. `timeout` bounds when decoding must have begun:
 * the samples that confirm it (rounds × interval) may come after it.
 */
export async function waitForDecoding(participants, expected, { timeout = 30000, interval = 700, rounds = 2 } = {}) {
  const start = Date.now();
  const streak = new Map();  // participant index → consecutive good intervals
  let prev = null;
  let last = null;
  for (;;) {
    const now = await Promise.all(participants.map((x) => remoteTiles(x).catch((e) => ({ error: e.message }))));
    let allGood = true;
    now.forEach((tiles, i) => {
      const ok = Array.isArray(tiles) && tiles.length === expected && prev && Array.isArray(prev[i]) &&
        tiles.every((t) => {
          const before = prev[i].find((b) => b.peer === t.peer);
          return before && t.frames > before.frames;
        });
      streak.set(i, ok ? (streak.get(i) ?? 0) + 1 : 0);
      if (streak.get(i) < rounds) allGood = false;
    });
    last = now;
    if (allGood) return { ms: Date.now() - start, tiles: describe(participants, now) };
    if (Date.now() - start > timeout + rounds * interval) {
      const stuckPairs = [];
      const problems = participants.map((x, i) => {
        const tiles = now[i];
        if (!Array.isArray(tiles)) return `${x.name ?? i}: ${tiles.error}`;
        const stuck = tiles.filter((t) => {
          const before = prev?.[i]?.find?.((b) => b.peer === t.peer);
          return !before || t.frames <= before.frames;
        });
        const count = tiles.length === expected ? '' : ` shows ${tiles.length} remote tiles, expected ${expected};`;
        for (const t of stuck) stuckPairs.push({ at: x.name ?? String(i), from: t.name, peer: t.peer });
        return count || stuck.length
          ? `${x.name ?? i}:${count} not decoding from ${stuck.map((t) => `${t.name || t.peer} (frames ${t.frames}, ${t.width}x${t.height})`).join(', ') || '-'}`
          : null;
      }).filter(Boolean);
      const err = new Error(`timeout after ${timeout} ms waiting for video to decode on every page:\n  ${problems.join('\n  ')}`);
      err.tiles = describe(participants, now);
      err.stuck = stuckPairs;
      throw err;
    }
    prev = now;
    await sleep(interval);
  }
  function describe(ps, now) {
    return Object.fromEntries(ps.map((x, i) => [x.name ?? String(i), now[i]]));
  }
}

/**
 * A coarse picture of what one remote tile's video shows: the frame scaled to
 * 8×6 and grey-levelled, plus its size. For telling camera from screen apart.
 */
export async function videoFingerprint(x, selector) {
  return pageOf(x).evaluate((sel) => {
    const v = document.querySelector(sel);
    if (!v || !v.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = 8;
    c.height = 6;
    const g = c.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, 8, 6);
    const d = g.getImageData(0, 0, 8, 6).data;
    const grey = [];
    for (let i = 0; i < d.length; i += 4) grey.push(Math.round((d[i] + d[i + 1] + d[i + 2]) / 3));
    return { width: v.videoWidth, height: v.videoHeight, grey };
  }, selector);
}

/** Mean absolute difference of two fingerprints' grey levels (0 = same picture). */
export function fingerprintDistance(a, b) {
  if (!a || !b) return Infinity;
  let sum = 0;
  for (let i = 0; i < a.grey.length; i++) sum += Math.abs(a.grey[i] - b.grey[i]);
  return sum / a.grey.length;
}

/** The peer id another participant's page uses for `who` (found by tile name). */
export async function peerIdOf(x, name) {
  const tiles = await remoteTiles(x);
  return tiles.find((t) => t.name === name)?.peer ?? null;
}

/** Writes a screenshot of the page's viewport to docs/screenshots/<file>. */
export async function screenshot(x, file) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, file);
  await pageOf(x).screenshot({ path });
  return path;
}

/**
 * The debug log lines of a participant (from `?debug`) that mention any of
 * `needles` (e.g. a peer id), last `max` of them, one JSON per line.
 */
export function logExcerpt(p, needles = [], max = 40) {
  const lines = p.logs
    .filter((e) => needles.length === 0 || needles.some((n) => JSON.stringify(e).includes(n)))
    .map((e) => JSON.stringify(e));
  return lines.slice(-max).join('\n');
}

/** Formats one debug log entry compactly: +ms machine from->to detail. */
function formatEntry(e, t0) {
  const move = e.from || e.to ? ` ${e.from || '∅'}->${e.to || '∅'}` : '';
  return `+${e.at - t0}ms ${e.level ?? ''} ${e.machine ?? ''} ${e.subject ?? ''}${move} ${e.detail ?? e.raw ?? ''}`.replace(/\s+/g, ' ');
}

/** Formatted entries, runs of the same detail collapsed into one line with a count. */
function collapse(entries, t0) {
  const out = [];
  let last = null;
  for (const e of entries) {
    const key = `${e.machine}|${e.from}|${e.to}|${e.detail}`;
    if (last && last.key === key) {
      last.count += 1;
      out[out.length - 1] = `${last.line} (×${last.count})`;
      continue;
    }
    last = { key, count: 1, line: formatEntry(e, t0) };
    out.push(last.line);
  }
  return out;
}

/**
 * For a waitForDecoding() failure: each pair that did not decode, with both
 * sides' debug log lines about the other (from `?debug`). Times are relative
 * to the first log line of any participant.
 */
export async function decodingDiagnostics(participants, err, { maxLines = 30 } = {}) {
  if (!err?.stuck?.length) return '';
  const t0 = Math.min(...participants.flatMap((p) => p.logs.map((e) => e.at)));
  const out = [];
  const seen = new Set();
  for (const { at, from, peer } of err.stuck) {
    const x = participants.find((p) => p.name === at);
    const y = participants.find((p) => p.name === from);
    const key = [at, from].sort().join('|');
    if (!x || seen.has(key)) continue;
    seen.add(key);
    const xIdOnY = y ? await peerIdOf(y, at).catch(() => null) : null;
    out.push(`--- ${at} does not see video from ${from ?? peer} (${at}'s id ${xIdOnY ?? '?'}, ${from}'s id ${peer})`);
    out.push(`  ${at}'s log about ${from}:`);
    out.push(...collapse(x.logs.filter((e) => e.subject === peer), t0).slice(-maxLines).map((l) => '    ' + l));
    if (y && xIdOnY) {
      out.push(`  ${from}'s log about ${at}:`);
      out.push(...collapse(y.logs.filter((e) => e.subject === xIdOnY), t0).slice(-maxLines).map((l) => '    ' + l));
    }
  }
  return out.join('\n');
}

/** Directory where full debug logs of a failed test are written. */
export const LOG_DIR = process.env.MESHMEET_BROWSER_LOGS || join(tmpdir(), 'meshmeet-browser-logs');

/** Writes every participant's debug log (one JSON per line) to LOG_DIR/<label>-<name>.jsonl. */
export function saveLogs(participants, label) {
  mkdirSync(LOG_DIR, { recursive: true });
  const files = [];
  for (const p of participants) {
    const file = join(LOG_DIR, `${label}-${p.name}.jsonl`);
    writeFileSync(file, p.logs.map((e) => JSON.stringify(e)).join('\n') + '\n');
    files.push(file);
  }
  return files;
}

/** Closes every browser and server we started; SIGKILLs whatever is left below us. */
export async function cleanup() {
  for (const b of [...browsers]) {
    browsers.delete(b);
    try {
      await withTimeout(b.close(), 10000, `${b.kind} close`);
    } catch {
      try { b.process?.kill('SIGKILL'); } catch { /* gone */ }
    }
  }
  await server.stopServers(3000);
  for (const pid of descendantPids(process.pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
