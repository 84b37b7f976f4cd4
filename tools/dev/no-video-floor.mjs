// Dev tool: what a settled call costs with no video at all, on the meeting
// page and on the plain page (tools/baseline), alternately, as the bench runs
// them (tools/mesh-bench.mjs: same Chromium flags, fake camera, N pages).
// Each run joins, waits for all video and 20 s more, measures the steady call
// for 10 s, then stops every page's camera track (capture, encoders, decoders
// and drawing of video all end; audio, the connections and the pages go on),
// waits 10 s and measures 10 s again. The second figure is a floor under any
// sending policy: issue 14 asks six pages' steady CPU ≤ 0.7× the plain page's,
// and no way of sending video goes below what sending none costs.
//   PAGES=6 RUNS=3 node tools/dev/no-video-floor.mjs
// It starts its own servers and Chromium, and stops them at the end.
import { join } from 'node:path';
import {
  ROOT, cleanup, startServer, launchChromium, newChromiumParticipant, createMeetingApi, joinTogetherFromLobby,
  framesDecoded, cpuSnapshot, cpuBetween, sleep,
} from '../../tests/browser/harness.mjs';
import { chromiumTypes, chromiumThreads, threadCores, cpuByType } from '../chromium-cpu.mjs';

const NAMES = ['Ada', 'Ben', 'Cai', 'Dee', 'Eli', 'Fay'];
const PAGES = Number(process.env.PAGES ?? 6);
const RUNS = Number(process.env.RUNS ?? 3);
if (!(Number.isInteger(PAGES) && PAGES >= 2 && PAGES <= NAMES.length) || !(Number.isInteger(RUNS) && RUNS >= 1)) {
  console.error('usage: PAGES=2..6 RUNS=N node tools/dev/no-video-floor.mjs');
  process.exit(2);
}
const GIVE_UP_MS = 60000;
const SETTLE_MS = 20000;  // as the bench: the CPU steps take that long
const MEASURE_MS = 10000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x) => Math.round(x * 100) / 100;

// Cores busy over `ms`: in all, by Chromium process type, and by thread
// across every Chromium process (top 12).
async function coresOver(ms) {
  const a = cpuSnapshot();
  const types = chromiumTypes(a);
  const threads0 = chromiumThreads(types, null);
  const t0 = performance.now();
  await sleep(ms);
  const b = cpuSnapshot();
  const threads1 = chromiumThreads(types, null);
  const seconds = (performance.now() - t0) / 1000;
  return {
    cores: round(cpuBetween(a, b).total / seconds),
    byType: Object.fromEntries(Object.entries(cpuByType(a, b, types)).map(([k, v]) => [k, round(v / seconds)])),
    threads: threadCores(threads0, threads1, seconds),
  };
}

// Stops the page's own camera tracks: those its connections send and its
// self-view and preview show (one capture; stopping every user of it ends it).
const STOP_CAMERA = `(() => {
  const tracks = new Set();
  for (const v of document.querySelectorAll('#self-video, #preview')) v.srcObject?.getVideoTracks?.().forEach((t) => tracks.add(t));
  for (const t of tracks) t.stop();
  return tracks.size;
})()`;

async function oneRun(srv, browser, variant, run) {
  const { id } = await createMeetingApi(srv, `floor ${run}`);
  const people = [];
  for (let i = 0; i < PAGES; i++) people.push(await newChromiumParticipant(browser, NAMES[i]));
  try {
    await joinTogetherFromLobby(people, `${srv.url}/m/${id}`);
    const t0 = performance.now();
    for (;;) {
      const seen = await Promise.all(people.map(framesDecoded));
      if (seen.every((tiles) => Object.keys(tiles).length === PAGES - 1 && Object.values(tiles).every((n) => n > 0))) break;
      if (performance.now() - t0 > GIVE_UP_MS) return { variant, run, complete: false };
      await sleep(100);
    }
    await sleep(SETTLE_MS);
    const withVideo = await coresOver(MEASURE_MS);
    const stopped = await Promise.all(people.map((p) => p.page.evaluate(STOP_CAMERA)));
    if (!stopped.every((n) => n >= 1)) throw new Error(`${variant}: a page had no camera track to stop (${stopped})`);
    await sleep(MEASURE_MS);
    const noVideo = await coresOver(MEASURE_MS);
    return { variant, run, complete: true, withVideo, noVideo };
  } finally {
    for (const p of people) await p.close().catch(() => {});
    await sleep(1500);
  }
}

const runs = [];
try {
  const app = await startServer([]);
  const baseline = await startServer(['--static', join(ROOT, 'tools', 'baseline')]);
  const browser = await launchChromium([], { fakeCameraFps: null, evenPriority: true });
  for (let run = 1; run <= RUNS; run++) {
    for (const variant of run % 2 ? ['app', 'baseline'] : ['baseline', 'app']) {
      const r = await oneRun(variant === 'app' ? app : baseline, browser, variant, run);
      runs.push(r);
      console.error(JSON.stringify(r));
    }
  }
} finally {
  await cleanup();
}
const of = (variant, key) => runs.filter((r) => r.variant === variant && r.complete).map((r) => r[key]);
const summary = {};
for (const variant of ['app', 'baseline']) {
  const w = of(variant, 'withVideo').map((x) => x.cores);
  summary[variant] = w.length ? { withVideo: median(w), noVideo: median(of(variant, 'noVideo').map((x) => x.cores)), runs: w.length } : null;
}
console.log(JSON.stringify({ pages: PAGES, runs: RUNS, summary, all: runs }, null, 2));
