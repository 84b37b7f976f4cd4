#!/usr/bin/env node
// Network benchmark (a script, not a test), in the network lab of
// tests/network (namespaces, NAT routers, coturn, Chromium in every home).
// Needs root and the built server (build/bin/meshmeet-server, build/web).
//
//   flock /tmp/meshmeet-heavy.lock node tools/network-bench/bench.mjs \
//     [--runs 3] [--join-runs 3] [--only cap|join] [--settle 10] [--window 20]
//     [--rate 1mbit] [--budget 1000] [--plain-runs 1] [--max-minutes 19] [--no-write] [--from result.json]
//
// 1. Uplink cap. Four homes behind cone NATs (built-in STUN, coturn running),
//    one home's uplink capped with tbf (lab.rateLimit, before anyone joins).
//    After every page decodes every other and `--settle` s more, over a
//    `--window` s window: at each of the three other pages, the inbound-rtp
//    stats of the capped participant's video (the one whose trackIdentifier
//    is the track on that participant's tile): frames decoded per second,
//    freezeCount and totalFreezesDuration (deltas over the window), and the
//    frame size received (sampled once a second). Two variants, alternated
//    in one run: "budget" (the capped page joins with `?uplinkKbps=<budget>`,
//    i.e. joinMeeting's uplinkKbps matched to the link) and "default" (the
//    package's default budget, 2500 kbit/s). The capped participant's camera
//    is a textured, noisy Y4M file made here (noisyCameraFile: Chromium's
//    built-in fake camera never needs the 1 Mbit/s); `--plain-runs` more
//    pairs of runs use the built-in one.
// 2. Join to video. The lab's scenarios 1–3 (two cone NATs, STUN only; a
//    symmetric NAT and a UDP-blocked home with coturn; a relay-only meeting
//    of three): every page waits in the lobby with its name typed, all but
//    the last join; the time runs from the last page's click on "Join" until
//    every page has decoded a frame on every remote tile (polled every
//    100 ms). The selected candidate pairs say whether it went direct.
//
// Prints one JSON object and replaces the "Network lab" section of
// docs/benchmarks.md between its markers (other sections are left alone).
// Everything is torn down after every run, also after a failure.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg, cpus, totalmem } from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { buildLab, labUnavailable } from '../../tests/network/lab.mjs';
import {
  startLabServer, startCoturn, homeParticipant, createMeeting, selectedPairs, closeLab, sleep, waitFor, withTimeout,
} from '../../tests/network/harness.mjs';
import {
  ROOT, CHROMIUM, fillLabelled, clickButton, buttonVisible, remoteTiles, waitForDecoding, cpuSnapshot, cpuBetween,
  TEST_CAMERA_FPS,
} from '../../tests/browser/harness.mjs';
import { parseFlags, usageError } from '../cli-flags.mjs';

const USAGE = `usage: node tools/network-bench/bench.mjs [--runs 3] [--join-runs 3] [--only cap|join] [--settle 10]
  [--window 20] [--rate 1mbit] [--budget 1000] [--plain-runs 1] [--max-minutes 19] [--no-write] [--from result.json]`;
const flags = parseFlags(process.argv.slice(2), {
  values: {
    runs: '3', 'join-runs': '3', only: null, settle: '10', window: '20', rate: '1mbit', budget: '1000',
    'plain-runs': '1', 'max-minutes': '19', from: null,
  },
  switches: ['no-write'],
}, USAGE);
const RUNS = Number(flags.runs);
const JOIN_RUNS = Number(flags['join-runs']);
const ONLY = flags.only;
const SETTLE_S = Number(flags.settle);
const WINDOW_S = Number(flags.window);
const RATE = flags.rate;
const BUDGET = Number(flags.budget);
const MAX_MS = Number(flags['max-minutes']) * 60000;
const WRITE = !flags['no-write'];
const FROM = flags.from;  // rewrite the doc section from a saved JSON result, without running anything
const RATE_LABEL = RATE.replace(/^(\d+(?:\.\d+)?)mbit$/, '$1 Mbit/s').replace(/^(\d+(?:\.\d+)?)kbit$/, '$1 kbit/s');
const PLAIN_RUNS = Number(flags['plain-runs']);
if (![RUNS, JOIN_RUNS, SETTLE_S, WINDOW_S, BUDGET, MAX_MS, PLAIN_RUNS].every((n) => Number.isFinite(n) && n >= 0) ||
    ![null, 'cap', 'join'].includes(ONLY) || !/^\d+(\.\d+)?[mk]bit$/.test(RATE)) {
  usageError(USAGE);
}
const RUN_TIMEOUT = 150000;

// The camera of the capped participant. Chromium's built-in fake camera (a
// flat background with a small moving shape) compresses so well that at
// 10 fps it never needs the 1 Mbit/s link, budget or not (`plain`). A real
// camera has sensor noise and texture: `noisy` is a 640×480, 10 fps Y4M
// file of panning smooth shapes with ±6 levels of per-pixel noise (made
// here, deterministic), played by Chromium's file-backed fake camera.
const CAMERA_W = 640;
const CAMERA_H = 480;
const CAMERA_FRAMES = 100;
function noisyCameraFile() {
  const file = join(tmpdir(), `meshmeet-bench-camera-${CAMERA_W}x${CAMERA_H}-${TEST_CAMERA_FPS}fps-v1.y4m`);
  if (existsSync(file)) return file;
  const header = Buffer.from(`YUV4MPEG2 W${CAMERA_W} H${CAMERA_H} F${TEST_CAMERA_FPS}:1 Ip A1:1 C420jpeg\n`);
  const frameHeader = Buffer.from('FRAME\n');
  const ySize = CAMERA_W * CAMERA_H;
  const cSize = ySize / 4;
  const parts = [header];
  let seed = 0x2545f491;
  const rand = () => {  // xorshift32, so every run plays the same frames
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const clamp = (v) => (v < 16 ? 16 : v > 235 ? 235 : v | 0);
  for (let f = 0; f < CAMERA_FRAMES; f++) {
    const frame = Buffer.alloc(ySize + 2 * cSize);
    const dx = f * 3;  // a slow pan
    for (let y = 0; y < CAMERA_H; y++) {
      for (let x = 0; x < CAMERA_W; x++) {
        const u = x + dx;
        const base = 120 + 50 * Math.sin(u / 37) * Math.cos(y / 29) + 30 * Math.sin((u + 2 * y) / 11);
        frame[y * CAMERA_W + x] = clamp(base + (rand() - 0.5) * 12);
      }
    }
    for (let y = 0; y < CAMERA_H / 2; y++) {
      for (let x = 0; x < CAMERA_W / 2; x++) {
        const u = 2 * x + dx;
        frame[ySize + y * (CAMERA_W / 2) + x] = clamp(128 + 20 * Math.sin(u / 53) + (rand() - 0.5) * 6);
        frame[ySize + cSize + y * (CAMERA_W / 2) + x] = clamp(128 + 20 * Math.cos((2 * y) / 41) + (rand() - 0.5) * 6);
      }
    }
    parts.push(frameHeader, frame);
  }
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

const started = Date.now();
const timeLeft = () => MAX_MS - (Date.now() - started);

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const round = (x, d = 2) => (x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d);
const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
const log = (...a) => console.error(`[network-bench +${((Date.now() - started) / 1000).toFixed(0)}s]`, ...a);

/** Frames seen on every remote tile of every page: resolves once all have > 0, or null after ms. */
async function waitFirstFrames(ps, ms) {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const all = await Promise.all(ps.map((p) => remoteTiles(p).catch(() => [])));
    if (all.every((tiles) => tiles.length === ps.length - 1 && tiles.every((t) => t.frames > 0))) return performance.now() - t0;
    await sleep(100);
  }
  return null;
}

/** Lobby with the preview running and the name typed. */
async function toLobby(p, url) {
  await p.page.goto(url);
  await waitFor(() => buttonVisible(p, 'Join'), 15000, `${p.name}: the lobby`);
  await fillLabelled(p, 'Your name', p.name);
  await waitFor(() => p.page.evaluate(() => document.getElementById('preview')?.readyState >= 2), 15000, `${p.name}: the camera preview`);
}

async function join_(p) {
  await clickButton(p, 'Join');
  await waitFor(() => buttonVisible(p, 'Leave'), 20000, `${p.name}: the meeting controls after Join`, 100);
}

async function inLab(homes, fn) {
  const lab = buildLab(homes);
  try {
    return await withTimeout(fn(lab), RUN_TIMEOUT, 'one benchmark run');
  } finally {
    await closeLab();
    lab.teardown();
  }
}

// ---------------------------------------------------------------------------
// 1. Uplink cap

/**
 * On a receiving page: inbound video stats of every live connection, marked
 * `capped` when it carries the track shown on `cappedName`'s tile; and, on
 * any page, its outbound video per connection (with the remote-inbound RTT).
 */
function pageStats(cappedName) {
  return (async () => {
    const tile = [...document.querySelectorAll('video[data-peer]')]
      .find((v) => v.closest('.tile')?.querySelector('.name')?.textContent === cappedName);
    const trackId = tile?.srcObject?.getVideoTracks?.()[0]?.id ?? null;
    const inbound = [];
    const outbound = [];
    for (const pc of window.__lab.pcs) {
      if (pc.connectionState === 'closed') continue;
      let stats;
      try { stats = await pc.getStats(); } catch { continue; }
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      let pair = null;
      stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId); });
      const remote = pair ? byId.get(pair.remoteCandidateId) : null;
      const local = pair ? byId.get(pair.localCandidateId) : null;
      const path = { remoteAddress: remote?.address ?? null, remoteType: remote?.candidateType ?? null, localType: local?.candidateType ?? null };
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          inbound.push({
            ...path, track: s.trackIdentifier, capped: !!trackId && s.trackIdentifier === trackId, t: s.timestamp,
            framesDecoded: s.framesDecoded ?? 0, framesReceived: s.framesReceived ?? 0, framesDropped: s.framesDropped ?? 0,
            freezeCount: s.freezeCount ?? 0, totalFreezesDuration: s.totalFreezesDuration ?? 0,
            pauseCount: s.pauseCount ?? 0, totalPausesDuration: s.totalPausesDuration ?? 0,
            frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0,
            packetsLost: s.packetsLost ?? 0, packetsReceived: s.packetsReceived ?? 0, bytesReceived: s.bytesReceived ?? 0,
            nackCount: s.nackCount ?? 0, pliCount: s.pliCount ?? 0,
          });
        }
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          const ri = [...byId.values()].find((x) => x.type === 'remote-inbound-rtp' && x.localId === s.id);
          outbound.push({
            ...path, t: s.timestamp, bytesSent: s.bytesSent ?? 0, framesEncoded: s.framesEncoded ?? 0,
            frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0, targetBitrate: s.targetBitrate ?? null,
            qualityLimitationReason: s.qualityLimitationReason ?? null,
            qualityLimitationDurations: s.qualityLimitationDurations ?? null,
            rttTotal: ri?.totalRoundTripTime ?? null, rttCount: ri?.roundTripTimeMeasurements ?? null,
          });
        }
      });
    }
    return { trackId, inbound, outbound };
  })();
}

function tbfDrops(home) {
  const r = spawnSync('ip', ['netns', 'exec', home.router, 'tc', '-s', 'qdisc', 'show', 'dev', 'wan'], { encoding: 'utf8' });
  const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+)/.exec(r.stdout ?? '');
  return m ? { bytes: Number(m[1]), packets: Number(m[2]), dropped: Number(m[3]) } : null;
}

async function capRun(camera, variant, run) {
  return inLab([{ nat: 'cone' }, { nat: 'cone' }, { nat: 'cone' }, { nat: 'cone' }], async (lab) => {
    const turn = await startCoturn(lab);  // available, as in a deployment; with cone NATs it should stay unused
    const srv = await startLabServer(lab, { turn });
    const names = ['Cap', 'Ann', 'Ben', 'Cat'];
    const ps = [];
    for (const [i, name] of names.entries()) {
      const extraArgs = i === 0 && camera === 'noisy' ? [`--use-file-for-fake-video-capture=${noisyCameraFile()}`] : [];
      ps.push(await homeParticipant(lab.homes[i], name, { extraArgs }));
    }
    const [capped, ...receivers] = ps;
    lab.rateLimit(capped.home, RATE);
    const id = await createMeeting(receivers[0]);
    for (const p of ps) {
      const url = srv.meetingUrl(id) + (p === capped && variant === 'budget' ? `&uplinkKbps=${BUDGET}` : '');
      await toLobby(p, url);
      await join_(p);
    }
    await waitForDecoding(ps, 3, { timeout: 45000 });
    await sleep(SETTLE_S * 1000);

    const snap = () => Promise.all(ps.map((p) => p.page.evaluate(pageStats, capped.name)));
    const drops0 = tbfDrops(capped.home);
    const cpu0 = cpuSnapshot();
    const t0 = performance.now();
    const first = await snap();
    const samples = [];  // per receiver: frame heights of the capped tile, once a second
    while (performance.now() - t0 < WINDOW_S * 1000) {
      await sleep(1000);
      samples.push(await snap());
    }
    const last = samples.at(-1);
    const wallS = (performance.now() - t0) / 1000;
    const cpu = cpuBetween(cpu0, cpuSnapshot());
    const drops1 = tbfDrops(capped.home);

    const tiles = receivers.map((r, ri) => {
      const i = ri + 1;
      const a = first[i].inbound.find((x) => x.capped);
      const b = last[i].inbound.find((x) => x.capped && x.track === a?.track);
      if (!a || !b) return { receiver: r.name, error: 'the capped participant\'s track was not found (or changed) in the window' };
      const dt = (b.t - a.t) / 1000;
      const heights = samples.map((s) => s[i].inbound.find((x) => x.track === a.track)?.frameHeight ?? 0);
      const widths = samples.map((s) => s[i].inbound.find((x) => x.track === a.track)?.frameWidth ?? 0);
      // Control: the same page's tiles of the uncapped participants.
      const others = last[i].inbound.filter((x) => !x.capped).map((x) => {
        const x0 = first[i].inbound.find((y) => y.track === x.track);
        return x0 ? (x.framesDecoded - x0.framesDecoded) / ((x.t - x0.t) / 1000) : null;
      });
      return {
        receiver: r.name,
        path: `${b.localType}→${b.remoteType}`,
        fromCappedWan: b.remoteAddress === capped.home.wan,
        fps: (b.framesDecoded - a.framesDecoded) / dt,
        freezes: b.freezeCount - a.freezeCount,
        freezeS: b.totalFreezesDuration - a.totalFreezesDuration,
        pauses: b.pauseCount - a.pauseCount,
        kbps: ((b.bytesReceived - a.bytesReceived) * 8) / 1000 / dt,
        lossPct: (() => {
          const lost = b.packetsLost - a.packetsLost;
          const got = b.packetsReceived - a.packetsReceived;
          return lost + got > 0 ? (100 * lost) / (lost + got) : 0;
        })(),
        plis: b.pliCount - a.pliCount,
        heightMedian: median(heights),
        widthMedian: median(widths),
        heightMin: Math.min(...heights),
        heightMax: Math.max(...heights),
        size: `${b.frameWidth}x${b.frameHeight}`,
        othersFps: median(others),
      };
    });
    // The capped page's own view of its three video senders.
    const out0 = first[0].outbound;
    const out1 = last[0].outbound;
    const senders = out1.map((b) => {
      const a = out0.find((x) => x.remoteAddress === b.remoteAddress);
      if (!a) return null;
      const dt = (b.t - a.t) / 1000;
      const limited = (reason) => ((b.qualityLimitationDurations?.[reason] ?? 0) - (a.qualityLimitationDurations?.[reason] ?? 0)) / dt;
      const rtt = b.rttCount > a.rttCount ? (b.rttTotal - a.rttTotal) / (b.rttCount - a.rttCount) : null;
      return {
        to: b.remoteAddress,
        kbps: ((b.bytesSent - a.bytesSent) * 8) / 1000 / dt,
        encodedFps: (b.framesEncoded - a.framesEncoded) / dt,
        size: `${b.frameWidth}x${b.frameHeight}`,
        targetKbps: b.targetBitrate ? b.targetBitrate / 1000 : null,
        limitedBandwidth: limited('bandwidth'),
        limitedCpu: limited('cpu'),
        rttMs: rtt === null ? null : rtt * 1000,
      };
    }).filter(Boolean);
    const tbf = drops0 && drops1 ? {
      sentKbps: ((drops1.bytes - drops0.bytes) * 8) / 1000 / wallS,
      dropped: drops1.dropped - drops0.dropped,
      packets: drops1.packets - drops0.packets,
    } : null;
    return { camera, variant, run, tiles, senders, tbf, coresBusy: cpu.total / wallS, windowS: wallS };
  });
}

function summariseCap(runs) {
  const out = {};
  for (const variant of ['budget', 'default']) {
    const ok = runs.filter((r) => r.variant === variant && !r.error);
    const tiles = ok.flatMap((r) => r.tiles.filter((t) => !t.error));
    const senders = ok.flatMap((r) => r.senders);
    out[variant] = {
      runs: ok.length,
      failed: runs.filter((r) => r.variant === variant && r.error).length,
      tiles: tiles.length,
      fps: median(tiles.map((t) => t.fps)),
      fpsMin: tiles.length ? Math.min(...tiles.map((t) => t.fps)) : null,
      freezes: median(tiles.map((t) => t.freezes)),
      freezesTotal: tiles.reduce((s, t) => s + t.freezes, 0),
      freezeS: median(tiles.map((t) => t.freezeS)),
      freezeSTotal: tiles.reduce((s, t) => s + t.freezeS, 0),
      height: median(tiles.map((t) => t.heightMedian)),
      width: median(tiles.map((t) => t.widthMedian)),
      kbps: median(tiles.map((t) => t.kbps)),
      kbpsMin: tiles.length ? Math.min(...tiles.map((t) => t.kbps)) : null,
      kbpsMax: tiles.length ? Math.max(...tiles.map((t) => t.kbps)) : null,
      lossPct: median(tiles.map((t) => t.lossPct)),
      othersFps: median(tiles.map((t) => t.othersFps)),
      sentKbps: median(ok.map((r) => r.tbf?.sentKbps)),
      tbfDropped: median(ok.map((r) => r.tbf?.dropped)),
      rttMs: median(senders.map((s) => s.rttMs)),
      limitedBandwidth: median(senders.map((s) => s.limitedBandwidth)),
      limitedCpu: median(senders.map((s) => s.limitedCpu)),
      targetKbps: median(senders.map((s) => s.targetKbps)),
      coresBusy: median(ok.map((r) => r.coresBusy)),
      paths: [...new Set(tiles.map((t) => t.path))],
    };
  }
  return out;
}

// ---------------------------------------------------------------------------
// 2. Join to video, scenarios 1–3

const SCENARIOS = [
  { key: 's1', title: '1. two homes behind cone NATs, built-in STUN only', homes: [{ nat: 'cone' }, { nat: 'cone' }], turn: false, relayOnly: false, names: ['Alice', 'Bob'] },
  { key: 's2', title: '2. a symmetric NAT and a UDP-blocked home (+ a cone NAT), coturn', homes: [{ nat: 'cone' }, { nat: 'symmetric' }, { nat: 'cone', udp: 'blocked' }], turn: true, relayOnly: false, names: ['Cone', 'Symmetric', 'NoUdp'] },
  // Not one of the lab's scenarios: scenario 3 without relay-only, so direct and relayed are compared with the same three pages.
  { key: 's3d', title: '3 without relay-only: three homes (cone NATs), coturn available', homes: [{ nat: 'cone' }, { nat: 'cone' }, { nat: 'cone' }], turn: true, relayOnly: false, names: ['Ann', 'Ben', 'Cat'] },
  { key: 's3', title: '3. relay-only meeting of three homes (cone NATs), coturn', homes: [{ nat: 'cone' }, { nat: 'cone' }, { nat: 'cone' }], turn: true, relayOnly: true, names: ['Ann', 'Ben', 'Cat'] },
];

async function joinRun(sc, run) {
  return inLab(sc.homes, async (lab) => {
    const turn = sc.turn ? await startCoturn(lab) : null;
    const srv = await startLabServer(lab, { turn });
    const ps = [];
    for (const [i, name] of sc.names.entries()) ps.push(await homeParticipant(lab.homes[i], name));
    const id = await createMeeting(ps[0], { relayOnly: sc.relayOnly });
    for (const p of ps) await toLobby(p, srv.meetingUrl(id));
    await sleep(1000);
    for (const p of ps.slice(0, -1)) await join_(p);
    const cpu0 = cpuSnapshot();
    const t0 = performance.now();
    await clickButton(ps.at(-1), 'Join');
    const ms = await waitFirstFrames(ps, 60000);
    const cpu = cpuBetween(cpu0, cpuSnapshot());
    if (ms === null) throw new Error('not every tile decoded video within 60 s of the last click on Join');
    const pairs = [];
    for (const p of ps) pairs.push(...(await selectedPairs(p)));
    const relayed = pairs.filter((x) => x.local?.type === 'relay' || x.remote?.type === 'relay').length;
    return { scenario: sc.key, run, ms, cpuS: cpu.total, pairs: pairs.length, relayed, types: [...new Set(pairs.map((x) => `${x.local?.type}→${x.remote?.type}`))] };
  });
}

// ---------------------------------------------------------------------------

function git(args) {
  try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return ''; }
}

function chromiumVersion() {
  try { return execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim(); } catch { return CHROMIUM; }
}

function fmt(x, d = 1) {
  return x === null || x === undefined ? '–' : Number(x).toFixed(d);
}

function markdown(r) {
  const { cap, join: joins, meta } = r;
  const L = [];
  L.push('## Network lab: a capped uplink, and join to video across NATs');
  L.push('');
  L.push(`Measured by \`tools/network-bench/bench.mjs\` on ${meta.date} (commit ${meta.commit}${meta.dirty ? ', with uncommitted changes elsewhere in the tree' : ''}), in the network lab of`);
  L.push('`tests/network` (network namespaces, nftables NAT routers, the built-in STUN, coturn from `deploy/`, one headless');
  L.push(`Chromium per home started as the lab tests start it: ${meta.chromium}, fake camera at ${meta.cameraFps} fps, \`?debug\` pages).`);
  L.push(`Machine: ${meta.cpus} cores, ${meta.memGiB} GiB RAM, shared with other engineers. Load average ${meta.loadBefore} when the run started, ${meta.loadAfter} when it ended`);
  L.push(`(${meta.minutes} min in all): compare the variants measured side by side, not the absolute numbers.`);
  L.push('');
  if (cap) {
    L.push(`### A ${RATE_LABEL} uplink in a 4-party call`);
    L.push('');
    L.push(`Four homes behind cone NATs (built-in STUN; coturn running but unused: every pair went direct, see "path"); one home's uplink (its router's WAN egress)`);
    L.push(`is capped at ${RATE_LABEL} with \`tbf\` (burst 32 kbit, latency 400 ms) before anyone joins, and that participant sends its camera to the three others. After every`);
    L.push(`page decodes every other and ${SETTLE_S} s more, over a ${WINDOW_S} s window, each of the three other pages reads the inbound-rtp stats of the capped participant's`);
    L.push('video (the one whose `trackIdentifier` is the track on that participant\'s tile): frames decoded per second, `freezeCount` and `totalFreezesDuration`');
    L.push('(their increase over the window), and the frame size received (sampled once a second; median). Two budgets, alternated run by run:');
    L.push(`**matched**: the capped page joins with \`uplinkKbps: ${BUDGET}\` (the app's \`?uplinkKbps=${BUDGET}\`), the budget set to the link; **default**: the package's default`);
    L.push('budget, 2500 kbit/s (split over 3 video senders after 40 kbit/s of audio each: 793 kbit/s and ½ resolution per sender, against 293 kbit/s and ⅓ resolution when matched).');
    L.push('');
    L.push('The capped participant\'s camera: Chromium\'s built-in fake camera (a flat background and a small moving shape) never needs 1 Mbit/s at 10 fps, with either');
    L.push('budget, so the link is not the limit and the comparison says little ("plain camera" below). The main result uses a camera with what a real one has and the');
    L.push('fake one lacks, texture and sensor noise: a 640×480, 10 fps Y4M file made by the benchmark (panning smooth shapes plus ±6 levels of per-pixel noise),');
    L.push('played by Chromium\'s file-backed fake camera (`--use-file-for-fake-video-capture`). The other three pages keep the lab\'s fake camera.');
    L.push('');
    for (const [camera, title] of [['noisy', 'Textured, noisy camera (main result)'], ['plain', 'Plain fake camera (Chromium\'s built-in one)']]) {
      const c = cap.byCamera[camera];
      if (!c) continue;
      const a = c.summary.budget;
      const b = c.summary.default;
      L.push(`**${title}.** Medians over ${a.tiles} receiving tiles (${a.runs} run${a.runs === 1 ? '' : 's'}) matched and ${b.tiles} tiles (${b.runs} run${b.runs === 1 ? '' : 's'}) default${a.failed || b.failed ? `; failed runs: matched ${a.failed}, default ${b.failed}` : ''}.`);
      L.push('');
      L.push(`| per receiving tile of the capped participant | matched budget (${BUDGET} kbit/s) | default budget (2500 kbit/s) |`);
      L.push('|---|---|---|');
      L.push(`| frames decoded per second, median (lowest tile) | ${fmt(a.fps)} (${fmt(a.fpsMin)}) | ${fmt(b.fps)} (${fmt(b.fpsMin)}) |`);
      L.push(`| freezes in ${WINDOW_S} s, median per tile (all tiles together) | ${fmt(a.freezes, 0)} (${fmt(a.freezesTotal, 0)}) | ${fmt(b.freezes, 0)} (${fmt(b.freezesTotal, 0)}) |`);
      L.push(`| time frozen in ${WINDOW_S} s, median per tile (all tiles together) | ${fmt(a.freezeS, 2)} s (${fmt(a.freezeSTotal, 2)} s) | ${fmt(b.freezeS, 2)} s (${fmt(b.freezeSTotal, 2)} s) |`);
      L.push(`| frame size received, median | ${fmt(a.width, 0)}×${fmt(a.height, 0)} | ${fmt(b.width, 0)}×${fmt(b.height, 0)} |`);
      L.push(`| video received, kbit/s per tile, median (lowest–highest tile) | ${fmt(a.kbps, 0)} (${fmt(a.kbpsMin, 0)}–${fmt(a.kbpsMax, 0)}) | ${fmt(b.kbps, 0)} (${fmt(b.kbpsMin, 0)}–${fmt(b.kbpsMax, 0)}) |`);
      L.push(`| packets lost, % per tile | ${fmt(a.lossPct, 2)} | ${fmt(b.lossPct, 2)} |`);
      L.push(`| capped uplink: kbit/s through the tbf (all traffic) / packets the tbf dropped in the window | ${fmt(a.sentKbps, 0)} / ${fmt(a.tbfDropped, 0)} | ${fmt(b.sentKbps, 0)} / ${fmt(b.tbfDropped, 0)} |`);
      L.push(`| capped sender, per peer: encoder target kbit/s; round-trip time (remote-inbound-rtp) | ${fmt(a.targetKbps, 0)}; ${fmt(a.rttMs, 0)} ms | ${fmt(b.targetKbps, 0)}; ${fmt(b.rttMs, 0)} ms |`);
      L.push(`| capped sender: share of the window its encoder was limited by bandwidth / by CPU | ${fmt(a.limitedBandwidth * 100, 0)} % / ${fmt(a.limitedCpu * 100, 0)} % | ${fmt(b.limitedBandwidth * 100, 0)} % / ${fmt(b.limitedCpu * 100, 0)} % |`);
      L.push(`| control: the same pages' tiles of the uncapped participants, frames/s | ${fmt(a.othersFps)} | ${fmt(b.othersFps)} |`);
      L.push(`| CPU of all lab processes during the window, cores busy (of ${meta.cpus}) | ${fmt(a.coresBusy, 2)} | ${fmt(b.coresBusy, 2)} |`);
      L.push('');
      L.push(...c.verdict);
      L.push('');
    }
    L.push('Every run, per receiving tile (frames/s; freezes / s frozen; median frame size):');
    L.push('');
    L.push('| run | camera | budget | path | ' + cap.receivers.join(' | ') + ' |');
    L.push('|---|---|---|---|' + cap.receivers.map(() => '---').join('|') + '|');
    for (const r of cap.runs) {
      const budget = r.variant === 'budget' ? 'matched' : 'default';
      if (r.error) {
        L.push(`| ${r.run} | ${r.camera} | ${budget} | – | ${cap.receivers.map(() => 'failed').join(' | ')} |`);
        continue;
      }
      const cells = r.tiles.map((t) => (t.error ? 'not found' : `${fmt(t.fps)}; ${t.freezes} / ${fmt(t.freezeS, 2)} s; ${fmt(t.widthMedian, 0)}×${fmt(t.heightMedian, 0)}`));
      L.push(`| ${r.run} | ${r.camera} | ${budget} | ${[...new Set(r.tiles.map((t) => t.path))].join(', ')} | ${cells.join(' | ')} |`);
    }
    const failures = cap.runs.filter((r) => r.error);
    if (failures.length) {
      L.push('');
      for (const f of failures) L.push(`- run ${f.run} (${f.camera}, ${f.variant}) failed: ${f.error.split('\n')[0]}`);
    }
    L.push('');
  }
  if (joins) {
    L.push('### Join to video, direct and relayed');
    L.push('');
    L.push('The lab\'s scenarios 1–3. Every page waits in the lobby with its camera preview running and its name typed; all but the last join one after the');
    L.push('other; the time runs from the last page\'s click on "Join" until every page has decoded a frame on every remote tile (`totalVideoFrames > 0`,');
    L.push('polled every 100 ms). "Path" is what the selected candidate pairs (getStats) were afterwards. CPU: all lab processes over that interval.');
    L.push('');
    L.push('| scenario | path | runs | median s to all video | each run, s | median CPU s |');
    L.push('|---|---|---|---|---|---|');
    for (const s of joins.summary) {
      L.push(`| ${s.title} | ${s.path} | ${s.ok}/${s.runs} | **${fmt(s.median, 2)}** | ${s.each.map((x) => (x === null ? 'failed' : fmt(x, 2))).join(', ')} | ${fmt(s.cpuS, 2)} |`);
    }
    const failures = joins.runs.filter((r) => r.error);
    if (failures.length) {
      L.push('');
      for (const f of failures) L.push(`- scenario ${f.scenario} run ${f.run} failed: ${f.error.split('\n')[0]}`);
    }
    L.push('');
    L.push(...joins.verdict);
    L.push('');
  }
  if (meta.notes.length) {
    L.push(...meta.notes);
    L.push('');
  }
  L.push('Reproduce (as root, with the server built): `flock /tmp/meshmeet-heavy.lock node tools/network-bench/bench.mjs` (about 10 minutes; `--only cap` or `--only join`,');
  L.push('`--runs N`, `--plain-runs N`, `--join-runs N`, `--no-write` to print the JSON only, `--from FILE` to rewrite this section from that JSON).');
  return L.join('\n');
}

function writeDoc(section) {
  const file = join(ROOT, 'docs', 'benchmarks.md');
  const BEGIN = '<!-- network-lab:begin (tools/network-bench/bench.mjs writes this section) -->';
  const END = '<!-- network-lab:end -->';
  const text = readFileSync(file, 'utf8');
  const block = `${BEGIN}\n${section}\n${END}`;
  let next;
  const b = text.indexOf(BEGIN);
  const e = text.indexOf(END);
  if (b >= 0 && e > b) next = text.slice(0, b) + block + text.slice(e + END.length);
  else {
    const anchor = text.indexOf('\n## Client core');
    next = anchor >= 0 ? `${text.slice(0, anchor + 1)}${block}\n\n${text.slice(anchor + 1)}` : `${text.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(file, next);
  return file;
}

function capVerdict(s) {
  const a = s.budget;
  const b = s.default;
  if (!a.tiles || !b.tiles) return ['Not enough complete runs of both variants to compare them.'];
  const lines = [];
  const dFps = a.fps - b.fps;
  const dFrz = a.freezeSTotal - b.freezeSTotal;
  lines.push(`Difference (matched − default): ${dFps >= 0 ? '+' : ''}${fmt(dFps)} frames/s per tile (median), ` +
    `${a.freezesTotal - b.freezesTotal >= 0 ? '+' : ''}${a.freezesTotal - b.freezesTotal} freezes and ${dFrz >= 0 ? '+' : ''}${fmt(dFrz, 2)} s frozen over all tiles, ` +
    `frame height ${fmt(a.height, 0)} vs ${fmt(b.height, 0)} px.`);
  return lines;
}

function joinSummary(runs) {
  return SCENARIOS.filter((sc) => runs.some((r) => r.scenario === sc.key)).map((sc) => {
    const mine = runs.filter((r) => r.scenario === sc.key);
    const ok = mine.filter((r) => !r.error);
    const relayedAll = ok.length && ok.every((r) => r.relayed === r.pairs);
    const directAll = ok.length && ok.every((r) => r.relayed === 0);
    return {
      key: sc.key, title: sc.title, runs: mine.length, ok: ok.length,
      path: directAll ? 'direct (no relay in any pair)' : relayedAll ? 'relayed (TURN in every pair)' : `mixed (${ok.map((r) => `${r.relayed}/${r.pairs} relayed`).join(', ')})`,
      median: median(ok.map((r) => r.ms / 1000)),
      each: mine.map((r) => (r.error ? null : r.ms / 1000)),
      cpuS: median(ok.map((r) => r.cpuS)),
      types: [...new Set(ok.flatMap((r) => r.types))],
    };
  });
}

function joinVerdict(summary) {
  const s1 = summary.find((s) => s.key === 's1');
  const label = { s2: 'scenario 2', s3: 'scenario 3' };
  const relayedMedians = summary.filter((s) => label[s.key] && s.median !== null);
  const verdict = [];
  if (s1?.median && relayedMedians.length) {
    verdict.push(`Direct (scenario 1, two pages) took a median ${fmt(s1.median, 2)} s; relayed: ${relayedMedians.map((s) => `${label[s.key]} ${fmt(s.median, 2)} s`).join(', ')} (three pages each, so each has more pairs to bring up than scenario 1).`);
  }
  const s3 = summary.find((s) => s.key === 's3');
  const s3d = summary.find((s) => s.key === 's3d');
  if (s3?.median && s3d?.median) {
    verdict.push(`Same three pages, relayed (scenario 3) vs direct: ${fmt(s3.median, 2)} s vs ${fmt(s3d.median, 2)} s (${fmt(s3.median / s3d.median, 2)}×). ` +
      'The lab has no delay emulation (no `netem` in this kernel) and coturn runs next to the server, so a relayed path costs no extra latency here: ' +
      'this measures the extra ICE and TURN work (allocations, permissions), not the longer route a real relay adds.');
  }
  return verdict;
}

async function main() {
  if (FROM) {
    const result = JSON.parse(readFileSync(FROM, 'utf8'));
    for (const c of Object.values(result.cap?.byCamera ?? {})) {
      const mine = result.cap.runs.filter((r) => r.camera === (c === result.cap.byCamera.noisy ? 'noisy' : 'plain'));
      c.summary = summariseCap(mine);
      c.verdict = capVerdict(c.summary);
    }
    if (result.join) {
      result.join.summary = joinSummary(result.join.runs);
      result.join.verdict = joinVerdict(result.join.summary);
    }
    log(`wrote ${writeDoc(markdown(result))} from ${FROM}`);
    return;
  }
  const why = labUnavailable();
  if (why) {
    console.error(`network-bench: ${why}`);
    process.exit(2);
  }
  const meta = {
    date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain', '--', 'web', 'server', 'wasm', 'tests/network', 'tools/network-bench']) !== '',
    chromium: chromiumVersion(),
    cameraFps: TEST_CAMERA_FPS,
    cpus: cpus().length,
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    loadBefore: load(),
    notes: [],
  };
  log(`load average ${meta.loadBefore}`);
  const result = { meta };

  if (ONLY !== 'join') {
    const runs = [];
    let n = 0;
    let stop = false;
    // The noisy camera first (the main result), then the plain one; the two
    // budgets alternate run by run, starting with the other one each round.
    for (const [camera, rounds] of [['noisy', RUNS], ['plain', PLAIN_RUNS]]) {
      for (let i = 0; i < rounds && !stop; i++) {
        for (const variant of i % 2 ? ['default', 'budget'] : ['budget', 'default']) {
          n++;
          if (timeLeft() < 120000) {
            meta.notes.push(`Uplink cap: run ${n} (${camera} camera, ${variant}) and later ones were skipped to keep the whole benchmark under ${MAX_MS / 60000} minutes.`);
            stop = true;
            break;
          }
          log(`uplink cap run ${n}: ${camera} camera, ${variant === "budget" ? "matched" : "default"} budget`);
          try {
            runs.push(await capRun(camera, variant, n));
            const r = runs.at(-1);
            log(`  ${r.tiles.map((t) => (t.error ? `${t.receiver}: ${t.error}` : `${t.receiver} ${fmt(t.fps)} fps, ${t.freezes} frz ${fmt(t.freezeS, 2)} s, ${t.widthMedian}x${t.heightMedian}, ${t.kbps?.toFixed(0)} kbit/s, ${t.path}`)).join(' | ')}; tbf ${fmt(r.tbf?.sentKbps, 0)} kbit/s, ${r.tbf?.dropped} dropped; ${fmt(r.coresBusy, 2)} cores`);
          } catch (err) {
            log(`  failed: ${err.message.split('\n')[0]}`);
            runs.push({ camera, variant, run: n, error: err.message });
          }
        }
      }
    }
    result.cap = { receivers: ['Ann', 'Ben', 'Cat'], runs, byCamera: {} };
    for (const camera of ['noisy', 'plain']) {
      const mine = runs.filter((r) => r.camera === camera);
      if (!mine.length) continue;
      const summary = summariseCap(mine);
      result.cap.byCamera[camera] = { summary, verdict: capVerdict(summary) };
    }
  }

  if (ONLY !== 'cap') {
    const runs = [];
    outer: for (let i = 0; i < JOIN_RUNS; i++) {
      for (const sc of SCENARIOS) {
        if (timeLeft() < 60000) {
          meta.notes.push(`Join to video: run ${i + 1} of scenario ${sc.key} and later ones were skipped to keep the whole benchmark under ${MAX_MS / 60000} minutes.`);
          break outer;
        }
        log(`join run ${i + 1}: scenario ${sc.key}`);
        try {
          runs.push(await joinRun(sc, i + 1));
          const r = runs.at(-1);
          log(`  ${fmt(r.ms / 1000, 2)} s, ${r.relayed}/${r.pairs} pairs relayed (${r.types.join(', ')})`);
        } catch (err) {
          log(`  failed: ${err.message.split('\n')[0]}`);
          runs.push({ scenario: sc.key, run: i + 1, error: err.message });
        }
      }
    }
    const summary = joinSummary(runs);
    const verdict = joinVerdict(summary);
    result.join = { runs, summary, verdict };
  }

  meta.loadAfter = load();
  meta.minutes = ((Date.now() - started) / 60000).toFixed(1);
  log(`load average ${meta.loadAfter}`);
  console.log(JSON.stringify(result, null, 1));
  if (WRITE) log(`wrote ${writeDoc(markdown(result))}`);
}

main().then(() => process.exit(0), async (err) => {
  console.error(err);
  await closeLab().catch(() => {});
  process.exit(1);
});
