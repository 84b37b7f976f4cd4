// What the network lab's tests run in it: the real server and coturn on the
// lab's "internet", and one headless Chromium (or Firefox ESR) per home, each
// inside its home's namespace, driving the real web app.
//
//   const lab = buildLab([{ nat: 'cone' }, { nat: 'symmetric' }]);
//   const srv = await startLabServer(lab, { turn: await startCoturn(lab) });
//   const alice = await homeParticipant(lab.homes[0], 'Alice');
//   const id = await createMeeting(alice, srv);
//   await joinViaUi(alice, srv.meetingUrl(id), 'Alice');
//   const pairs = await selectedPairs(alice);   // per connected peer connection
//   await closeLab();                           // browsers, coturn, server, namespaces

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { ROOT, SERVER_BIN, withTimeout, waitFor, sleep } from '../support/wait.mjs';
import { startServer, tempDir, track } from '../support/server.mjs';
import { TEST_CAMERA_FPS, CHROMIUM, FIREFOX, CHROMIUM_ARGS, attachLogs, recordConsole, descendantPids } from '../browser/harness.mjs';
import { SERVER_IP } from './lab.mjs';

export const SERVER_PORT = 8080;  // the lab's own namespace: no other server can hold it
export const TURN_PORT = 3478;
export const ORIGIN = `http://${SERVER_IP}:${SERVER_PORT}`;

const IN_NETNS = join(ROOT, 'tests', 'network', 'in-netns.sh');
const CHROMIUM_IN_NETNS = join(ROOT, 'tests', 'network', 'chromium-in-netns.sh');
const FIREFOX_DRIVER = join(ROOT, 'tests', 'network', 'firefox-driver.mjs');
const TURN_CONFIG_SCRIPT = join(ROOT, 'deploy', 'turnserver-conf.sh');

const open = new Set();  // browsers and processes to close in closeLab()

/**
 * coturn in the server's namespace, from the config the project ships
 * (deploy/turnserver.conf), filled in by deploy/turnserver-conf.sh as the
 * README tells operators to. Resolves once it relays.
 */
export async function startCoturn(lab) {
  const dir = tempDir('meshmeet-coturn-');
  const secret = randomBytes(24).toString('hex');
  const secretFile = join(dir, 'turn-secret');
  writeFileSync(secretFile, secret + '\n', { mode: 0o600 });
  // As the README tells operators to: the shipped config, filled in by the shipped script.
  const render = spawnSync(TURN_CONFIG_SCRIPT, [SERVER_IP, SERVER_IP, 'lab.meshmeet.test', secretFile], { encoding: 'utf8' });
  if (render.status !== 0) throw new Error(`deploy/turnserver-conf.sh failed: ${render.stderr}`);
  const config = render.stdout;
  const configFile = join(dir, 'turnserver.conf');
  writeFileSync(configFile, config);
  const proc = track(spawn('ip', ['netns', 'exec', lab.server.ns, 'turnserver', '-c', configFile, '--log-file=stdout',
    '--pidfile', join(dir, 'turnserver.pid')], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const lines = [];
  const ready = new Promise((resolve, reject) => {
    for (const stream of [proc.stdout, proc.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        if (line.includes('Relay ports initialization done')) resolve();
      });
    }
    proc.once('exit', (code) => reject(new Error(`coturn exited (${code}) before it was ready:\n${lines.slice(-20).join('\n')}`)));
  });
  await withTimeout(ready, 10000, 'coturn to start');
  const turn = {
    proc, secretFile, lines,
    urls: [`turn:${SERVER_IP}:${TURN_PORT}?transport=udp`, `turn:${SERVER_IP}:${TURN_PORT}?transport=tcp`],
    close: () => new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode) return resolve();
      proc.once('exit', resolve);
      proc.kill('SIGKILL');
    }),
  };
  open.add(turn);
  return turn;
}

/**
 * meshmeet-server on the lab's internet: HTTP, WebSocket and the built-in
 * STUN on SERVER_PORT; with `turn` (startCoturn), TURN credentials for it.
 */
export async function startLabServer(lab, { turn = null, args = [] } = {}) {
  const turnArgs = turn ? [...turn.urls.flatMap((u) => ['--turn-url', u]), '--turn-secret-file', turn.secretFile] : [];
  const srv = await startServer({
    bin: IN_NETNS,
    env: { LAB_NETNS: lab.server.ns, LAB_EXEC: SERVER_BIN },
    host: SERVER_IP,
    port: SERVER_PORT,
    args: [...turnArgs, ...args],
  });
  srv.origin = ORIGIN;
  srv.meetingUrl = (id) => `${ORIGIN}/m/${id}?debug`;
  open.add({ close: () => srv.stop().catch(() => srv.kill9()) });
  return srv;
}

// Injected into every lab page before the app: keeps every peer connection,
// and every candidate of another page this page was ever given (trickled or
// inside a remote description), so tests can tell how pairs connected and
// what each page learned about the others.
function recordPeerConnections() {
  const lab = { pcs: [], remoteCandidates: [], signaling: [] };
  window.__lab = lab;
  // Every message the signaling server sends this page, as received.
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => { if (typeof e.data === 'string') lab.signaling.push(e.data); });
    }
  };
  const Native = window.RTCPeerConnection;
  const fromSdp = (sdp) => (sdp ?? '').split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      lab.pcs.push(this);
    }
    addIceCandidate(candidate, ...rest) {
      if (candidate?.candidate) lab.remoteCandidates.push(candidate.candidate);
      return super.addIceCandidate(candidate, ...rest);
    }
    setRemoteDescription(description, ...rest) {
      lab.remoteCandidates.push(...fromSdp(description?.sdp));
      return super.setRemoteDescription(description, ...rest);
    }
  };
}

/** Headless Chromium inside `home`'s namespace, one participant page in it. */
export async function homeParticipant(home, name, { extraArgs = [], fakeCameraFps = TEST_CAMERA_FPS } = {}) {
  const browser = await withTimeout(chromium.launch({
    executablePath: CHROMIUM_IN_NETNS,
    env: { ...process.env, MESHMEET_NETNS: home.ns, MESHMEET_CHROMIUM_BIN: CHROMIUM },
    headless: true,
    args: [
      ...CHROMIUM_ARGS.filter((a) => a !== '--allow-loopback-in-peer-connection'),
      '--use-fake-device-for-media-stream' + (fakeCameraFps ? `=fps=${fakeCameraFps}` : ''),
      `--unsafely-treat-insecure-origin-as-secure=${ORIGIN}`,
      ...extraArgs,
    ],
    timeout: 20000,
  }), 25000, `Chromium in home ${home.n}`);
  open.add({ close: () => browser.close() });
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en-US' });
  await context.addInitScript(recordPeerConnections);
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const p = { name, kind: 'chromium', home, browser, page, logs: [], console: [], errors: [] };
  attachLogs(p);
  return p;
}

/**
 * Firefox ESR inside `home`'s namespace. Firefox is driven over a loopback
 * port, and the home's loopback is not ours: so a driver process runs in the
 * home beside it (firefox-driver.mjs) and we talk to it over its stdin and
 * stdout. The participant's `page.evaluate(fn, arg)` works as Playwright's
 * does (fn is sent as source), and `join(url)` joins through the UI.
 */
export async function homeFirefoxParticipant(home, name) {
  const proc = track(spawn('ip', ['netns', 'exec', home.ns, process.execPath, FIREFOX_DRIVER], {
    cwd: ROOT,
    env: { ...process.env, FIREFOX_BIN: FIREFOX, LAB_ORIGIN_HOST: SERVER_IP, LAB_INIT_SCRIPT: `(${recordPeerConnections})()` },
    stdio: ['pipe', 'pipe', 'pipe'],
  }));
  const pending = new Map();
  let nextId = 1;
  const p = { name, kind: 'firefox', home, logs: [], console: [], errors: [] };
  const stderr = [];
  createInterface({ input: proc.stderr }).on('line', (line) => stderr.push(line));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let m;
      try { m = JSON.parse(line); } catch { return; }
      if (m.ready) resolve();
      else if (m.console !== undefined) recordConsole(p, m.console);
      else if (pending.has(m.id)) {
        const { resolve: ok, reject: fail } = pending.get(m.id);
        pending.delete(m.id);
        if (m.ok) ok(m.value); else fail(new Error(`Firefox (${name}): ${m.error}`));
      }
    });
    proc.once('exit', (code) => {
      const err = new Error(`the Firefox driver of ${name} exited (${code}): ${stderr.slice(-10).join('\n')}`);
      reject(err);
      for (const { reject: fail } of pending.values()) fail(err);
      pending.clear();
    });
  });
  await withTimeout(ready, 40000, `Firefox in home ${home.n}`);
  const call = (op, args = {}, ms = 30000) => {
    const id = nextId++;
    const done = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    proc.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
    return withTimeout(done, ms, `Firefox (${name}) ${op}`);
  };
  p.page = {
    evaluate: (fn, arg) => call('evaluate', { expression: `(${fn})(${arg === undefined ? '' : JSON.stringify(arg)})` }),
    goto: (url) => call('goto', { url }),
  };
  p.join = (url) => call('join', { url, name });
  open.add({
    close: async () => {
      await call('close', {}, 10000).catch(() => {});
      if (proc.exitCode === null && !proc.signalCode) proc.kill('SIGKILL');
    },
  });
  return p;
}

/** Creates a meeting from `p`'s page (through its NAT, as a person would). */
export async function createMeeting(p, { relayOnly = false } = {}) {
  await p.page.goto(`${ORIGIN}/`);
  const res = await p.page.evaluate(async (body) => {
    const r = await fetch('/api/meetings', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  }, relayOnly ? { name: 'lab', relayOnly: true } : { name: 'lab' });
  if (res.status !== 201) throw new Error(`create meeting: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/**
 * How each of the page's connected peer connections is connected: the
 * selected candidate pair from getStats(), local and remote candidate
 * ({ type, address, port, protocol, relayProtocol }).
 */
export async function selectedPairs(p) {
  return p.page.evaluate(async () => {
    const out = [];
    for (const pc of window.__lab.pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      let pair = null;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
      });
      // Firefox has no transport stats: its selected pair says so itself.
      if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.selected) pair = s; });
      const candidate = (id) => {
        const c = byId.get(id);
        return c && { type: c.candidateType, address: c.address ?? c.ip, port: c.port, protocol: c.protocol, relayProtocol: c.relayProtocol };
      };
      out.push(pair ? { local: candidate(pair.localCandidateId), remote: candidate(pair.remoteCandidateId) } : { local: null, remote: null });
    }
    return out;
  });
}

/**
 * Where video stops, for failure messages: per connected peer connection of
 * the page, its inbound and outbound video RTP counters and the outgoing
 * bandwidth estimate (frames received vs decoded, key frames, PLIs, the
 * encoder's limitation), as one line each.
 */
export async function videoFlow(p) {
  return p.page.evaluate(async () => {
    const lines = [];
    for (const [i, pc] of window.__lab.pcs.entries()) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      const parts = [`pc${i} ${pc.connectionState}/${pc.signalingState}`];
      stats.forEach((s) => {
        if (s.kind !== 'video') return;
        if (s.type === 'inbound-rtp')
          parts.push(`in: recv ${s.framesReceived} dec ${s.framesDecoded} key ${s.keyFramesDecoded} pli ${s.pliCount} nack ${s.nackCount} lost ${s.packetsLost} bytes ${s.bytesReceived} freezes ${s.freezeCount}`);
        if (s.type === 'outbound-rtp')
          parts.push(`out: enc ${s.framesEncoded} sent ${s.framesSent} key ${s.keyFramesEncoded} pli ${s.pliCount} bytes ${s.bytesSent} ${s.frameWidth}x${s.frameHeight} limit ${s.qualityLimitationReason} target ${s.targetBitrate} active ${s.active}`);
      });
      stats.forEach((s) => {
        if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded')
          parts.push(`bwe ${s.availableOutgoingBitrate}`);
      });
      for (const r of pc.getReceivers()) if (r.track?.kind === 'video') parts.push(`receiver track ${r.track.id.slice(0, 8)} ${r.track.readyState}${r.track.muted ? ' muted' : ''}`);
      lines.push(parts.join(' | '));
    }
    for (const v of document.querySelectorAll('video[data-peer]')) {
      const t = v.srcObject?.getVideoTracks?.()[0];
      lines.push(`tile ${v.closest('.tile')?.querySelector('.name')?.textContent}: ${t ? `track ${t.id.slice(0, 8)} ${t.readyState}${t.muted ? ' muted' : ''}` : 'no video track'} paused ${v.paused} frames ${v.getVideoPlaybackQuality?.().totalVideoFrames}`);
    }
    return lines;
  });
}

/** Every candidate of another page this page was given (candidate-attribute text). */
export async function remoteCandidates(p) {
  return p.page.evaluate(() => window.__lab.remoteCandidates);
}

/** Every message the signaling server sent the page, as text. */
export async function signalingReceived(p) {
  return p.page.evaluate(() => window.__lab.signaling);
}

/** Candidate type (`typ X`) of a candidate-attribute line. */
export const candidateType = (line) => / typ (\w+)/.exec(line)?.[1] ?? null;

/**
 * Waits until every page has `expected` connected peer connections whose
 * selected pair is known, and returns them per participant name.
 */
export async function waitForSelectedPairs(participants, expected, timeout = 20000) {
  let last = {};
  await waitFor(async () => {
    last = {};
    for (const p of participants) last[p.name] = await selectedPairs(p);
    return participants.every((p) => last[p.name].length === expected && last[p.name].every((x) => x.local && x.remote));
  }, timeout, `every page to have ${expected} connected pairs`, { every: 500, describe: () => JSON.stringify(last) });
  return last;
}

/**
 * Closes every browser, coturn and server the lab tests started (the
 * namespaces go with lab.teardown()), then waits until every process they
 * started has exited, and kills what is still there after 10 s: the next
 * scenario must not share the two cores with the last one's leftovers (a
 * browser still shutting down costs the six pages of the starved-CPU
 * scenario their margin).
 */
export async function closeLab() {
  const all = [...open].reverse();
  open.clear();
  for (const x of all) await withTimeout(Promise.resolve().then(() => x.close()), 10000, 'closing a lab process').catch(() => {});
  const deadline = Date.now() + 10000;
  let left = descendantPids();
  while (left.length && Date.now() < deadline) {
    await sleep(100);
    left = descendantPids();
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
  }
  if (left.length) console.error(`closeLab: killed ${left.length} process(es) still running 10 s after the lab was closed`);
}

export { sleep, waitFor, withTimeout };
