#!/usr/bin/env node
// Issue 14's bench: the meeting page against a plain WebRTC page of our own
// (tools/baseline: getUserMedia, one RTCPeerConnection per peer, the newcomer
// offers, tiles of the app's size and layout), both served by the real
// server, run alternately in one run with the same Chromium flags, for 2, 4
// and 6 pages in one meeting. Per run:
//   join → video   time from the last click on "Join" until every page
//                  decodes video from every other page (polled every 100 ms)
//   first "Join" → video  the same from the first click: the pages click one
//                  after another, and a page busy with its meeting view takes
//                  its click later, so the others start ahead of the clock
//   CPU to video   user+system CPU seconds of every browser process and the
//                  server over exactly that interval
//                  (also split by process type, and the renderers by thread)
//   steady         cores busy over 10 s of the settled call (20 s after all
//                  video: the CPU steps take that long), also split by
//                  Chromium process type (renderer, gpu, utility, browser)
//                  and, within the renderers, by thread name (encoders,
//                  decoders, compositor, main thread, …): where the CPU goes
//   fps            frames decoded per second per tile over those 10 s
//   codec work     over those 10 s, from every connection's getStats: frames
//                  encoded per second, encoder and decoder busy time
//                  (totalEncodeTime, totalDecodeTime) and the share of the
//                  senders' time that Chromium limited for the CPU
//                  (qualityLimitationDurations.cpu)
//   received/drawn the height each tile receives against the height it draws
//                  its picture at (object-fit cover), median and max over tiles
//   rebuilt        connections the pages made beyond one per pair, counted at
//                  the end of the run: a pair rebuilt or opened twice
//
//   node tools/mesh-bench.mjs [--pages 2,4,6] [--runs 3] [--camera-fps N] [--app-static DIR] [--no-write]
//   (--camera-fps: the fake camera's frame rate, as a laptop's 30; Chromium's own is 20;
//   --app-static: serve the app from DIR, an edited copy of build/web, to measure an idea)
//   node tools/mesh-bench.mjs --from result.json   # the section from a saved run, nothing run
//
// Prints one JSON object and replaces the "Meeting page against plain
// WebRTC" section of docs/benchmarks.md (ratios app/baseline of medians).

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg, cpus } from 'node:os';
import {
  ROOT, startServer, launchChromium, newChromiumParticipant, createMeetingApi, joinTogetherFromLobby,
  cpuSnapshot, cpuBetween, sleep, cleanup,
} from '../tests/browser/harness.mjs';
import { parseFlags, usageError } from './cli-flags.mjs';
import { chromiumTypes, chromiumThreads, threadCores, cpuByType } from './chromium-cpu.mjs';

const USAGE = 'usage: node tools/mesh-bench.mjs [--pages 2,4,6] [--runs N] [--camera-fps N] [--app-static DIR] [--no-write] | --from RESULT.json';
const NAMES = ['Ada', 'Ben', 'Cai', 'Dee', 'Eli', 'Fay'];
const flags = parseFlags(process.argv.slice(2), { values: { pages: '2,4,6', runs: '3', 'camera-fps': null, 'app-static': null, from: null }, switches: ['no-write'] }, USAGE);
const SIZES = flags.pages.split(',').map(Number);
const RUNS = Number(flags.runs);
const WRITE = !flags['no-write'];
const CAMERA_FPS = flags['camera-fps'] === null ? null : Number(flags['camera-fps']);  // null: Chromium's own
// A changed build of the app (a copy of build/web, edited) in place of the
// built one: an idea measured against the same plain page before it is made.
const APP_STATIC = flags['app-static'];
if (APP_STATIC !== null && !existsSync(join(APP_STATIC, 'index.html'))) usageError(USAGE, `${APP_STATIC}: no index.html`);
if (!SIZES.every((n) => Number.isInteger(n) && n >= 2 && n <= NAMES.length) || !(Number.isInteger(RUNS) && RUNS >= 1)
  || !(CAMERA_FPS === null || (Number.isInteger(CAMERA_FPS) && CAMERA_FPS >= 1 && CAMERA_FPS <= 60))) {
  usageError(USAGE);
}
const RUN_TIMEOUT = 60000;
const STEADY_MS = 10000;
// Before "steady": the views and budgets apply within 3 s, but a saturated
// device steps its copies down one CPU step per two stats rounds (6 s), and
// the call is not settled until that is over.
const SETTLE_MS = 20000;

const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const round = (x, d = 2) => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

// Each remote tile: frames decoded, the height received and the height its picture is drawn at.
function tiles(p) {
  return p.page.evaluate(() => [...document.querySelectorAll('video[data-peer]')].map((v) => {
    const box = v.getBoundingClientRect();
    const aspect = v.videoWidth && v.videoHeight ? v.videoWidth / v.videoHeight : 4 / 3;
    const drawn = Math.max(box.height, box.width / aspect) * devicePixelRatio;  // object-fit: cover
    return { peer: v.dataset.peer, frames: v.getVideoPlaybackQuality().totalVideoFrames, received: v.videoHeight, drawn };
  }));
}

// Registers every RTCPeerConnection a page makes (both pages alike), so the
// bench can read their stats; nothing else changes.
const REGISTER_PCS = `(() => {
  const Native = window.RTCPeerConnection;
  window.__benchPcs = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Native(...args);
    window.__benchPcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();`;

// Totals over a page's open connections: encoder and decoder seconds, frames
// encoded, seconds the video senders were limited for the CPU and in all.
function codecTotals(p) {
  return p.page.evaluate(async () => {
    const t = { encodeS: 0, decodeS: 0, framesEncoded: 0, sourceFrames: 0, cpuLimitedS: 0, senderS: 0 };
    for (const pc of window.__benchPcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s) => {
        if (s.kind !== 'video') return;
        if (s.type === 'media-source') t.sourceFrames += s.frames ?? 0;
        if (s.type === 'outbound-rtp') {
          t.encodeS += s.totalEncodeTime ?? 0;
          t.framesEncoded += s.framesEncoded ?? 0;
          const d = s.qualityLimitationDurations ?? {};
          t.cpuLimitedS += d.cpu ?? 0;
          t.senderS += Object.values(d).reduce((a, b) => a + b, 0);
        } else if (s.type === 'inbound-rtp') {
          t.decodeS += s.totalDecodeTime ?? 0;
        }
      });
    }
    return t;
  });
}
// Connections made beyond one per pair by all the pages so far (each page
// should make one per peer): pairs rebuilt, or opened twice in a glare.
async function extraConnections(people) {
  const made = await Promise.all(people.map((p) => p.page.evaluate(() => window.__benchPcs?.length ?? 0)));
  return made.reduce((a, b) => a + b, 0) - people.length * (people.length - 1);
}

async function codecWork(people, before, seconds) {
  const after = await Promise.all(people.map(codecTotals));
  const sum = (key) => after.reduce((a, x, i) => a + x[key] - before[i][key], 0);
  const senderS = sum('senderS');
  return {
    encodedFps: round(sum('framesEncoded') / seconds, 1),
    encodedOverSource: sum('sourceFrames') > 0 ? round(sum('framesEncoded') / sum('sourceFrames')) : null,
    encoderCores: round(sum('encodeS') / seconds),
    decoderCores: round(sum('decodeS') / seconds),
    cpuLimitedShare: senderS > 0 ? round(sum('cpuLimitedS') / senderS) : null,
  };
}

async function oneRun(srv, browser, variant, pages, run) {
  const { id } = await createMeetingApi(srv, `bench ${run}`);
  const url = `${srv.url}/m/${id}`;
  const people = [];
  for (let i = 0; i < pages; i++) {
    const p = await newChromiumParticipant(browser, NAMES[i]);
    await p.context.addInitScript(REGISTER_PCS);
    people.push(p);
  }
  try {
    const { firstClick, clickMs } = await joinTogetherFromLobby(people, url);
    const cpu0 = cpuSnapshot();
    const joinTypes = chromiumTypes(cpu0);
    const joinThreads0 = chromiumThreads(joinTypes);
    const t0 = performance.now();
    let complete = false;
    while (performance.now() - t0 < RUN_TIMEOUT) {
      const seen = await Promise.all(people.map(tiles));
      if (seen.every((ts) => ts.length === pages - 1 && ts.every((x) => x.frames > 0))) {
        complete = true;
        break;
      }
      await sleep(100);
    }
    const ms = performance.now() - t0;
    const fromFirstClickMs = Math.round(performance.now() - firstClick);
    const cpu1 = cpuSnapshot();
    const toVideo = cpuBetween(cpu0, cpu1);
    // Where the join's CPU went: seconds by process type, and the renderers' by thread.
    const joinByType = Object.fromEntries(Object.entries(cpuByType(cpu0, cpu1, joinTypes)).map(([k, v]) => [k, round(v)]));
    const joinRendererThreads = threadCores(joinThreads0, chromiumThreads(joinTypes), 1);
    if (!complete) return { variant, pages, run, complete, ms: Math.round(ms), fromFirstClickMs, clickMs, rebuilt: await extraConnections(people) };
    // Settled, then 10 s measured.
    await sleep(SETTLE_MS);
    const before = await Promise.all(people.map(tiles));
    const codec0 = await Promise.all(people.map(codecTotals));
    const s0 = cpuSnapshot();
    const types = chromiumTypes(s0);
    const threads0 = chromiumThreads(types);
    const st0 = performance.now();
    await sleep(STEADY_MS);
    const s1 = cpuSnapshot();
    const threads1 = chromiumThreads(types);
    const seconds = (performance.now() - st0) / 1000;
    const after = await Promise.all(people.map(tiles));
    const codec = await codecWork(people, codec0, seconds);
    const rebuilt = await extraConnections(people);
    const fps = [];
    const ratios = [];
    after.forEach((ts, i) => ts.forEach((x) => {
      const was = before[i].find((y) => y.peer === x.peer);
      if (was) fps.push((x.frames - was.frames) / seconds);
      if (x.received > 0 && x.drawn > 0) ratios.push(x.received / x.drawn);
    }));
    const byType = Object.fromEntries(Object.entries(cpuByType(s0, s1, types)).map(([k, v]) => [k, round(v / seconds)]));
    return {
      variant, pages, run, complete, ms: Math.round(ms), fromFirstClickMs, clickMs, cpuToVideo: toVideo.total, joinByType, joinRendererThreads,
      steadyCores: round(cpuBetween(s0, s1).total / seconds), steadyByType: byType,
      steadyRendererThreads: threadCores(threads0, threads1, seconds), codec,
      fpsMedian: round(median(fps), 1), fpsMin: round(Math.min(...fps), 1),
      receivedOverDrawnMedian: round(median(ratios)), receivedOverDrawnMax: round(Math.max(...ratios)),
      rebuilt,
    };
  } finally {
    for (const p of people) await p.close().catch(() => {});
    await sleep(1500);
  }
}

function summary(runs) {
  const out = {};
  for (const pages of SIZES) {
    const of = (variant) => runs.filter((r) => r.pages === pages && r.variant === variant && r.complete);
    const m = (variant, key) => median(of(variant).map((r) => r[key]));
    const row = { pages };
    for (const key of ['ms', 'fromFirstClickMs', 'cpuToVideo', 'steadyCores', 'fpsMedian', 'receivedOverDrawnMedian', 'receivedOverDrawnMax']) {
      row[key] = { app: round(m('app', key)), baseline: round(m('baseline', key)) };
      row[key].ratio = row[key].app !== null && row[key].baseline ? round(row[key].app / row[key].baseline) : null;
    }
    row.complete = { app: of('app').length, baseline: of('baseline').length, runs: RUNS };
    // Over every run of the size, complete or not (older results: null).
    const rebuilt = (variant) => {
      const all = runs.filter((r) => r.pages === pages && r.variant === variant);
      return all.every((r) => Number.isInteger(r.rebuilt)) ? all.reduce((a, r) => a + r.rebuilt, 0) : null;
    };
    row.rebuilt = { app: rebuilt('app'), baseline: rebuilt('baseline') };
    out[pages] = row;
  }
  return out;
}

function writeSection(result) {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const BEGIN = '<!-- mesh-bench:begin (tools/mesh-bench.mjs writes this section) -->';
  const END = '<!-- mesh-bench:end -->';
  const rows = Object.values(result.summary).map((r) =>
    `| ${r.pages} | ${r.ms.app ?? '–'} / ${r.ms.baseline ?? '–'} ms (**${r.ms.ratio ?? '–'}×**) | ${r.fromFirstClickMs?.app ?? '–'} / ${r.fromFirstClickMs?.baseline ?? '–'} ms (${r.fromFirstClickMs?.ratio ?? '–'}×) | ${r.cpuToVideo.app ?? '–'} / ${r.cpuToVideo.baseline ?? '–'} s (**${r.cpuToVideo.ratio ?? '–'}×**) | ` +
    `${r.steadyCores.app ?? '–'} / ${r.steadyCores.baseline ?? '–'} (**${r.steadyCores.ratio ?? '–'}×**) | ${r.fpsMedian.app ?? '–'} / ${r.fpsMedian.baseline ?? '–'} | ` +
    `${r.receivedOverDrawnMedian.app ?? '–'} / ${r.receivedOverDrawnMedian.baseline ?? '–'} (max ${r.receivedOverDrawnMax.app ?? '–'} / ${r.receivedOverDrawnMax.baseline ?? '–'}) | ${r.complete.app}/${r.complete.baseline} of ${r.complete.runs} | ${r.rebuilt?.app ?? '–'} / ${r.rebuilt?.baseline ?? '–'} |`);
  const runRows = result.runs.map((r) => `| ${r.pages} | ${r.run} | ${r.variant} | ${r.complete ? r.ms : `incomplete after ${r.ms}`} | ${r.fromFirstClickMs ?? '–'} | ${r.cpuToVideo ?? '–'} | ${r.steadyCores ?? '–'} | ${r.steadyByType ? Object.entries(r.steadyByType).map(([k, v]) => `${k} ${v}`).join(', ') : '–'} | ${r.fpsMedian ?? '–'} (min ${r.fpsMin ?? '–'}) | ${r.receivedOverDrawnMedian ?? '–'} | ${r.codec ? `${r.codec.encodedFps} fps (${r.codec.encodedOverSource ?? '–'} of the camera's), enc ${r.codec.encoderCores}, dec ${r.codec.decoderCores}, cpu-limited ${r.codec.cpuLimitedShare ?? '–'}` : '–'} |`);
  const threadRows = result.runs.filter((r) => r.steadyRendererThreads).map((r) =>
    `| ${r.pages} | ${r.run} | ${r.variant} | ${Object.entries(r.steadyRendererThreads).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  const joinRows = result.runs.filter((r) => r.joinRendererThreads).map((r) =>
    `| ${r.pages} | ${r.run} | ${r.variant} | ${Object.entries(r.joinByType).map(([k, v]) => `${k} ${v}`).join(', ')} | ${Object.entries(r.joinRendererThreads).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  const section = `${BEGIN}
## Meeting page against plain WebRTC

\`node tools/mesh-bench.mjs\` (${result.when}; ${result.machine.cores} cores, load average
${result.machine.loadavgAtStart.join(', ')} at the start; the machine is shared, so only the
side-by-side ratios count). The meeting page and tools/baseline (plain WebRTC: one
connection per peer, the newcomer offers, tiles of the app's size and layout), served by
the same server binary, run alternately (${Math.max(...result.runs.map((r) => r.run))} runs each per size), same Chromium flags,
fake camera at 640×480 and ${result.cameraFps ? `${result.cameraFps} frames/s` : 'its own 20 frames/s'}, each page its own 800×600 browser
context. The pages click "Join" one after another; "join → all video" is timed from the
last click (the issue's measure), "first Join" from the first (a busy page takes its click
later, and the pages before it start ahead of the clock). Medians, app / baseline (ratio):

| pages | join → all video | first "Join" → all video | CPU to all video | steady, cores busy | fps per tile | received / drawn height | complete | connections beyond one per pair, all runs |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Every run (steady CPU split by Chromium process type, cores busy):

| pages | run | page | join → video ms | first "Join" → video ms | CPU to video s | steady cores | by process | fps per tile | received / drawn | video codecs, steady (frames encoded/s, and their share of the frames the camera gave; encoder, decoder cores; share of sender time CPU-limited) |
|---|---|---|---|---|---|---|---|---|---|---|
${runRows.join('\n')}

Steady CPU of the renderer processes by thread (cores busy; threads of one name summed, top 8):

| pages | run | page | threads |
|---|---|---|---|
${threadRows.join('\n')}

CPU from the last "Join" to all video (CPU seconds; by process type, and the renderer processes by thread, top 8):

| pages | run | page | by process | renderer threads |
|---|---|---|---|---|
${joinRows.join('\n')}
${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + section + text.slice(b + END.length);
  else text = `${text.replace(/\s*$/, '')}\n\n${section}\n`;
  writeFileSync(file, text);
  return file;
}

if (flags.from) {
  // A saved run's JSON (this script's output): only the section is written.
  const saved = JSON.parse(readFileSync(flags.from, 'utf8'));
  if (!Array.isArray(saved.runs) || !saved.summary) usageError(USAGE, `${flags.from}: not a mesh-bench result`);
  console.log(writeSection(saved));
  process.exit(0);
}

const result = {
  benchmark: 'meeting page against plain WebRTC',
  when: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  machine: { cores: cpus().length, loadavgAtStart: loadavg().map((x) => round(x)) },
  cameraFps: CAMERA_FPS,
  appStatic: APP_STATIC,  // null: build/web
  runs: [],
};
try {
  const app = await startServer(APP_STATIC === null ? [] : ['--static', APP_STATIC]);
  const baseline = await startServer(['--static', join(ROOT, 'tools', 'baseline')]);
  const browser = await launchChromium([], { fakeCameraFps: CAMERA_FPS, evenPriority: true });
  for (let run = 1; run <= RUNS; run++)
    for (const pages of SIZES) {
      // Alternate which goes first, so neither always gets the fresher machine.
      const order = run % 2 ? ['app', 'baseline'] : ['baseline', 'app'];
      for (const variant of order) {
        const r = await oneRun(variant === 'app' ? app : baseline, browser, variant, pages, run);
        result.runs.push(r);
        process.stderr.write(`${JSON.stringify(r)}\n`);
      }
    }
} finally {
  await cleanup();
}
result.summary = summary(result.runs);
if (WRITE) result.wrote = writeSection(result);
console.log(JSON.stringify(result, null, 2));
