// The built package (dist/meshmeet.js + the WASM core) against the real
// signaling server, with the fake RTCPeerConnection of fake-webrtc.mjs and
// `ws` as the WebSocket: the mesh scenarios of issue 3 through the real shim.
//
//   node --test --test-concurrency=1 tests/node/fake-signaling.test.mjs
//
// Every participant gets an RTCPeerConnection class labelled with its name, so
// the network can tell which fake connection belongs to whom.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { joinMeeting, liveCoreObjects } from '../../dist/meshmeet.js';
import { createFakeWebRTC, fakeLocalStream, FakeMediaStreamTrack, rng } from './fake-webrtc.mjs';
import { Recorder, newMeetingId, sendToEach, sleep, startServer, waitFor, withTimeout } from './harness.mjs';

const T = { timeout: 45000 };

// Short core timings so recovery happens in milliseconds.
const CORE = {
  iceDisconnectedGraceMs: 200,
  iceRestartBaseMs: 50,
  reconnectBaseMs: 50,
  reconnectCapMs: 300,
  connectWatchdogMs: 3000,
  statsIntervalMs: 200,
  senderParametersRetryMs: 100,
};

let srv;
const everyone = new Set(); // recorders of every test, disposed in after hooks
const networks = new Set();

before(async () => {
  // --per-ip 200: every leave() here sends `leave` and a close frame back to
  // back, and the server currently leaves such connections half-closed until
  // the client's close timeout (30 s for ws); with the default limit of 20 the
  // later tests would fail with too-many-connections. The last test of this
  // file checks that behaviour on its own.
  srv = await startServer({ args: ['--resume-grace', '1', '--per-ip', '200'] });
});

after(async () => {
  for (const r of everyone) r.meeting?.dispose();
  for (const n of networks) n.stop();
  const status = await srv?.stop();
  assert.equal(await liveCoreObjects(), 0, 'no core client outlives the suite');
  assert.deepEqual(status, { code: 0, signal: null }, 'the server exits 0 on SIGTERM (it had not crashed)');
});

function network(options = {}) {
  const n = createFakeWebRTC({ seed: 11, ...options }).network;
  networks.add(n);
  return n;
}

/** Joins one participant; its fake connections are labelled `name`. */
async function join(meeting, name, net, { coreOptions = {}, localStream, WebSocketImpl = WebSocket, seed, server = srv } = {}) {
  const rec = new Recorder(name);
  const m = await withTimeout(
    joinMeeting({
      server: server.url,
      meeting,
      name,
      localStream,
      RTCPeerConnection: net.peerConnectionClass(name),
      WebSocket: WebSocketImpl,
      coreOptions: { ...CORE, ...coreOptions },
      seed: seed ?? 1000 + everyone.size,
      logger: rec.logger,
    }),
    8000,
    `${name} to join`,
  );
  rec.attach(m);
  rec.id = m.self.id;
  everyone.add(rec);
  return rec;
}

/** n participants joining at the same instant. */
async function joinTogether(meeting, names, net, options) {
  return Promise.all(names.map((name) => join(meeting, name, net, options)));
}

function pcsOf(net, rec, { open = true } = {}) {
  return net.pcs.filter((pc) => pc.owner === rec.name && (!open || !pc._closed));
}

/** The open connection of `a` whose network partner belongs to `b` and is up. */
function linkBetween(net, a, b) {
  const found = pcsOf(net, a).filter((pc) => {
    const other = net.partnerOf(pc);
    return other && !other._closed && other.owner === b.name && pc._link.up;
  });
  return found.length === 1 ? { pc: found[0], other: net.partnerOf(found[0]), key: found[0]._link.key } : null;
}

/** Everything that keeps `recs` from being a clean full mesh (empty when it is one). */
function meshProblems(net, recs) {
  const problems = [];
  for (const a of recs) {
    const open = pcsOf(net, a);
    if (open.length !== recs.length - 1) problems.push(`${a.name} has ${open.length} open peer connections, wants ${recs.length - 1}`);
    const ids = [...a.meeting.peers.keys()].sort();
    const want = recs.filter((r) => r !== a).map((r) => r.id).sort();
    if (JSON.stringify(ids) !== JSON.stringify(want)) problems.push(`${a.name}.peers = ${ids} (want ${want})`);
    for (const b of recs) {
      if (a === b) continue;
      const st = a.peerState(b.id);
      if (st !== 'connected') problems.push(`${a.name} sees ${b.name} as ${st}`);
      const links = open.filter((pc) => net.partnerOf(pc)?.owner === b.name && pc._link.up && !net.partnerOf(pc)._closed);
      if (links.length !== 1) problems.push(`${a.name}→${b.name}: ${links.length} connected fake connections`);
    }
  }
  return problems;
}

function report(recs, extra = '') {
  return [extra, ...recs.map((r) => r.summary()), ...recs.map((r) => r.tail(25))].filter(Boolean).join('\n');
}

async function waitForMesh(net, recs, ms = 10000, what = 'a full mesh') {
  await waitFor(() => meshProblems(net, recs).length === 0, ms, what, {
    describe: () => report(recs, meshProblems(net, recs).join('\n')),
  });
}

/**
 * Timers that should not be running: the core's (the binding's
 * activeTimerCount and the purposes in its snapshot) and the shim's own map
 * of setTimeout handles must agree, and in a steady meeting only the
 * heartbeat, the server-silence watchdog and (with peers) the stats timer
 * run — no watchdog, backoff, retry or answer timer left behind.
 */
function timerProblems(recs) {
  const problems = [];
  for (const r of recs) {
    const m = r.meeting;
    if (!m._client) {
      if (m._browser._timers.size) problems.push(`${r.name}: disposed, but the shim still holds ${m._browser._timers.size} timers`);
      continue;
    }
    const core = m._client.activeTimerCount();
    const purposes = JSON.parse(m._client.snapshot()).timers.sort();
    if (core !== m._browser._timers.size) problems.push(`${r.name}: the core runs ${core} timers, the shim ${m._browser._timers.size}`);
    if (core !== purposes.length) problems.push(`${r.name}: activeTimerCount ${core}, snapshot ${purposes}`);
    const want = ['heartbeat-ping', 'server-silence', ...(m.peers.size ? ['stats'] : [])].sort();
    if (JSON.stringify(purposes) !== JSON.stringify(want)) problems.push(`${r.name}: timers ${purposes.join(', ')} (want ${want.join(', ')})`);
  }
  return problems;
}

/** A steady meeting runs no stray timer (see timerProblems). */
async function assertNoStrayTimers(recs, ms = 3000) {
  await waitFor(() => timerProblems(recs).length === 0, ms, 'only the steady-state timers', {
    describe: () => timerProblems(recs).join('\n'),
  });
}

/** Everyone leaves; then no core object, no timer and no open fake connection remains. */
async function leaveAll(net, recs) {
  await assertNoStrayTimers(recs);
  await withTimeout(Promise.all(recs.map((r) => r.meeting.leave())), 5000, 'everyone to leave');
  for (const r of recs) assert.equal(r.meeting._browser._timers.size, 0, `${r.name}: no shim timer after leave`);
  for (const r of recs) assert.equal(r.meeting.state, 'left', `${r.name} ends in state left`);
  await waitFor(() => net.openPcs().length === 0, 2000, 'every fake connection to close', {
    describe: () => net.openPcs().map((pc) => `open: ${pc.owner} #${pc.fakeId}`).join('\n'),
  });
  assert.equal(await liveCoreObjects(), 0, 'no core client is left alive');
}

/** Everyone sends "<tag> from <name>" to each of the others (meeting.send): each arrives exactly once. */
async function dataRound(recs, tag) {
  await Promise.all(recs.map((r) => sendToEach(r.meeting, `${tag} from ${r.name}`, recs.filter((o) => o !== r).map((o) => o.id))));
  const missing = () => {
    const out = [];
    for (const a of recs)
      for (const b of recs)
        if (a !== b && !a.dataFrom(b.id).includes(`${tag} from ${b.name}`)) out.push(`${a.name} lacks "${tag}" from ${b.name}`);
    return out;
  };
  await waitFor(() => missing().length === 0, 5000, `"${tag}" to reach everyone`, { describe: () => missing().join('\n') });
  for (const a of recs)
    for (const b of recs)
      if (a !== b) {
        const got = a.of('data', (e) => e.from === b.id && e.data === `${tag} from ${b.name}`);
        assert.equal(got.length, 1, `${a.name} got "${tag}" from ${b.name} exactly once`);
        assert.equal(got[0].reliable, true);
      }
}

/**
 * A `ws` WebSocket class that keeps every socket it opens (`sockets`, oldest
 * first). cut() is the network going away: every socket is terminated (TCP
 * gone, no close frame) and new ones fail in the constructor, which the shim
 * treats as a failed connect, until restore().
 */
function cuttableWebSocket() {
  const sockets = [];
  let down = false;
  class CuttableWebSocket extends WebSocket {
    constructor(...args) {
      if (down) throw new Error('network unreachable');
      super(...args);
      sockets.push(this);
    }
  }
  return {
    CuttableWebSocket,
    sockets,
    cut() {
      down = true;
      for (const ws of sockets) ws.terminate();
    },
    restore() {
      down = false;
    },
  };
}

/**
 * A `ws` WebSocket class whose incoming `signal` frames are mangled by a
 * seeded RNG: dropped (`drop`), delivered twice (`duplicate`) or delayed by
 * up to maxDelayMs so later frames overtake them (`delay`); with
 * holdDescriptionsMs, every frame carrying a description is held that long,
 * so the candidates sent after it arrive first. Other frames (welcome,
 * peer-joined, …) arrive as sent. `stats` counts what was done; stop()
 * cancels deliveries still waiting.
 */
function mangledWebSocket({ seed, drop = 0, duplicate = 0, delay = 0, maxDelayMs = 80, holdDescriptionsMs = 0 }) {
  const random = rng(seed);
  const stats = { signals: 0, dropped: 0, duplicated: 0, delayed: 0, held: 0 };
  const waiting = new Set();
  const later = (fn, ms) => {
    const t = setTimeout(() => {
      waiting.delete(t);
      fn();
    }, ms);
    waiting.add(t);
  };
  const mangle = (e, handler) => {
    let msg = null;
    try {
      msg = JSON.parse(e.data);
    } catch {
      /* not JSON: as sent */
    }
    if (msg?.type !== 'signal') return handler(e);
    stats.signals += 1;
    if (holdDescriptionsMs > 0 && msg.data?.description) {
      stats.held += 1;
      return later(() => handler(e), holdDescriptionsMs);
    }
    if (random() < drop) {
      stats.dropped += 1;
      return undefined;
    }
    const copies = random() < duplicate ? 2 : 1;
    if (copies === 2) stats.duplicated += 1;
    for (let i = 0; i < copies; i++) {
      if (random() < delay) {
        stats.delayed += 1;
        later(() => handler(e), 1 + Math.floor(random() * maxDelayMs));
      } else {
        handler(e);
      }
    }
    return undefined;
  };
  class MangledWebSocket extends WebSocket {
    get onmessage() {
      return this._mangledHandler ?? null;
    }
    set onmessage(handler) {
      this._mangledHandler = handler;
      super.onmessage = typeof handler === 'function' ? (e) => mangle(e, handler) : handler;
    }
  }
  return {
    MangledWebSocket,
    stats,
    stop() {
      for (const t of waiting) clearTimeout(t);
      waiting.clear();
    },
  };
}

function assertCodesMatch(recs) {
  for (const a of recs)
    for (const b of recs) {
      if (a === b) continue;
      const ca = a.code(b.id);
      assert.match(ca ?? '', /^\d{3} \d{3}$/, `${a.name} has a verification code for ${b.name}`);
      assert.equal(ca, b.code(a.id), `${a.name} and ${b.name} read the same code`);
    }
}

// ---------------------------------------------------------------------------

const GLARE_CASES = [
  { n: 2 },
  { n: 3 },
  { n: 4 },
  { n: 5 },
  { n: 6 },
  { n: 7 },
  { n: 8 }, // the server's default room cap
  { n: 4, implicitRollback: true, label: 'browser-style implicit rollback' },
  { n: 3, implicitSld: false, label: 'no implicit setLocalDescription (node-webrtc style)' },
];

for (const c of GLARE_CASES) {
  const label = `${c.n} peers joining at the same instant, then renegotiating at the same instant (glare)${c.label ? `, ${c.label}` : ''}: connected exactly once per pair, app data reaches everyone`;
  test(label, T, async (t) => {
    const net = network({ implicitRollback: !!c.implicitRollback, implicitSld: c.implicitSld ?? true, seed: c.n * 31 });
    const meeting = await newMeetingId(srv);
    const names = Array.from({ length: c.n }, (_, i) => `g${c.n}${c.implicitRollback ? 'r' : ''}${c.implicitSld === false ? 's' : ''}-${i}`);
    const recs = await joinTogether(meeting, names, net);
    t.after(() => recs.forEach((r) => r.meeting.dispose()));

    await waitForMesh(net, recs);
    // Let late renegotiations, if any, play out; the mesh must stay as it is.
    await sleep(400);
    assert.deepEqual(meshProblems(net, recs), [], report(recs));

    for (const a of recs) {
      assert.equal(pcsOf(net, a, { open: false }).length, c.n - 1, `${a.name} made exactly one connection per peer (no fresh ones)`);
      for (const b of recs) {
        if (a === b) continue;
        const states = a.of('peer-state', (e) => e.peer === b.id).map((e) => e.state);
        assert.equal(states.filter((s) => s === 'connected').length, 1, `${a.name} saw ${b.name} connect exactly once: ${states}`);
        assert.deepEqual(states.filter((s) => s !== 'connecting' && s !== 'connected'), [], `${a.name}→${b.name}: no restarts or failures`);
      }
      assert.deepEqual(a.of('error'), [], `${a.name} saw no error`);
      assert.deepEqual(a.of('peer-left'), [], `${a.name} saw nobody leave`);
    }
    assertCodesMatch(recs);
    const glared = () => {
      const pairs = new Set();
      for (const r of recs) for (const l of r.logs) if (/^glare:/.test(l.detail)) pairs.add([r.id, l.subject].sort().join(' '));
      return pairs;
    };
    // The impolite end of each pair opens it: joining makes no offers cross.
    assert.equal(glared().size, 0, 'no offers crossed on the join');
    // Everyone starts sending video at the same instant: now offers cross
    // (the point of this test), and the mesh stays as it is.
    for (const r of recs) r.meeting.replaceVideoTrack(new FakeMediaStreamTrack('video'));
    const videoProblems = () =>
      recs.flatMap((a) => recs.filter((b) => b !== a && !a.meeting.remoteTracks(b.id).some((tr) => tr.kind === 'video')).map((b) => `${a.name} lacks ${b.name}'s video`));
    await waitFor(() => videoProblems().length === 0, 5000, 'everyone to receive everyone\'s video', { describe: () => videoProblems().join('\n') });
    await waitForMesh(net, recs);
    for (const a of recs) assert.equal(pcsOf(net, a, { open: false }).length, c.n - 1, `${a.name} still made exactly one connection per peer`);
    t.diagnostic(`${c.n} peers: glare on ${glared().size} of ${(c.n * (c.n - 1)) / 2} pairs`);
    const warnings = recs.flatMap((r) => r.logs.filter((l) => l.level === 'warn').map((l) => `${r.name}: ${l.machine} ${l.detail}`));
    assert.deepEqual(warnings, [], 'no core warnings during a clean join and renegotiation');
    // Most pairs glare; an offer that arrives before the other end's own
    // negotiationneeded does not cross it, as JS task timing may have it.
    // (The native simulation checks every pair, deterministically.)
    assert.ok(glared().size >= Math.ceil((c.n * (c.n - 1)) / 4), `offers crossed on ${glared().size} of ${(c.n * (c.n - 1)) / 2} pairs: at least half expected`);
    await dataRound(recs, 'hello');

    // A message to one peer reaches that peer only.
    const [first, second] = recs;
    await first.meeting.send('just for you', { to: second.id });
    await waitFor(() => second.dataFrom(first.id).includes('just for you'), 3000, 'the message to one peer');
    await sleep(100);
    for (const r of recs.slice(2)) assert.equal(r.of('data', (e) => e.data === 'just for you').length, 0, `${r.name} did not get it`);

    await leaveAll(net, recs);
  });
}

test('ICE failure on both ends → ICE restart on the same connection → connected again', T, async (t) => {
  const net = network({ seed: 5 });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['f-a', 'f-b', 'f-c'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b, c] = recs;
  await waitForMesh(net, recs);

  const before = linkBetween(net, a, b);
  const pcCount = net.pcs.length;
  const cEvents = c.of('peer-state').length;
  const mark = a.events.length;
  const markB = b.events.length;
  net.fail(before.pc);
  assert.equal(before.pc.iceConnectionState, 'failed');

  await waitFor(() => {
    const now = linkBetween(net, a, b);
    return now && now.key !== before.key && meshProblems(net, recs).length === 0;
  }, 8000, 'a and b to reconnect on new ICE credentials', { describe: () => report(recs, meshProblems(net, recs).join('\n')) });

  const after = linkBetween(net, a, b);
  assert.equal(after.pc, before.pc, 'the same peer connection was restarted, not replaced');
  assert.equal(net.pcs.length, pcCount, 'no new peer connection was made');
  for (const [r, m] of [[a, mark], [b, markB]]) {
    const other = r === a ? b : a;
    const states = r.events.slice(m).filter((e) => e.type === 'peer-state' && e.peer === other.id).map((e) => e.state);
    assert.ok(states.includes('restarting'), `${r.name} restarted ICE towards ${other.name}: ${states}`);
    assert.equal(states.at(-1), 'connected');
    assert.ok(!states.includes('connecting'), `${r.name}: no fresh connection (${states})`);
  }
  assert.equal(c.of('peer-state').length, cEvents, 'the third participant saw nothing change');
  assert.deepEqual(recs.flatMap((r) => r.of('error')), []);
  await dataRound(recs, 'after the restart');
  await leaveAll(net, recs);
});

test('no pc.restartIce() (older implementations): the restart goes through createOffer({iceRestart: true}) on the same connection', T, async (t) => {
  const net = network({ seed: 16, restartIce: false });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['n-a', 'n-b'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b] = recs;
  await waitForMesh(net, recs);
  assert.equal(typeof linkBetween(net, a, b).pc.restartIce, 'undefined', 'the fake has no restartIce()');
  const before = linkBetween(net, a, b);
  const pcCount = net.pcs.length;
  net.fail(before.pc);
  await waitFor(() => {
    const now = linkBetween(net, a, b);
    return now && now.key !== before.key && meshProblems(net, recs).length === 0;
  }, 8000, 'a and b to reconnect on new ICE credentials', { describe: () => report(recs, meshProblems(net, recs).join('\n')) });
  assert.equal(net.pcs.length, pcCount, 'restarted, not replaced');
  assert.ok(net.stats.iceRestartOffers >= 1, `offers made with iceRestart: true (${net.stats.iceRestartOffers})`);
  for (const r of recs) {
    const other = r === a ? b : a;
    const states = r.of('peer-state', (e) => e.peer === other.id).map((e) => e.state);
    assert.ok(states.includes('restarting'), `${r.name} restarted ICE: ${states}`);
    assert.equal(states.filter((s) => s === 'restarting').length, 1, `${r.name}: the first restart worked (${states})`);
  }
  assert.deepEqual(recs.flatMap((r) => r.of('error')), []);
  await dataRound(recs, 'after the emulated restart');
  await leaveAll(net, recs);
});

test('ICE failure seen by one end only → its restart offer reconnects both', T, async (t) => {
  const net = network({ seed: 6 });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['o-a', 'o-b'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b] = recs;
  await waitForMesh(net, recs);
  const before = linkBetween(net, a, b);
  const pcCount = net.pcs.length;
  net.fail(before.pc, { onlyThisSide: true });
  await waitFor(() => {
    const now = linkBetween(net, a, b);
    return now && now.key !== before.key && meshProblems(net, recs).length === 0;
  }, 8000, 'the restarted link', { describe: () => report(recs, meshProblems(net, recs).join('\n')) });
  assert.equal(net.pcs.length, pcCount, 'restarted, not replaced');
  await dataRound(recs, 'one-sided');
  await leaveAll(net, recs);
});

test('disconnected past the grace → ICE restart; disconnected briefly → no restart', T, async (t) => {
  const net = network({ seed: 7 });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['d-a', 'd-b'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b] = recs;
  await waitForMesh(net, recs);

  // A blip shorter than iceDisconnectedGraceMs (200): no restart.
  let link = linkBetween(net, a, b);
  let mark = a.events.length;
  net.disconnect(link.pc, { recoverAfterMs: 50 });
  await sleep(400);
  assert.deepEqual(meshProblems(net, recs), [], report(recs));
  let states = a.events.slice(mark).filter((e) => e.type === 'peer-state').map((e) => e.state);
  assert.deepEqual(states, ['disconnected', 'connected'], 'a short disconnection recovers by itself');
  assert.equal(linkBetween(net, a, b).key, link.key, 'same ICE session');

  // Stuck disconnected: after the grace, a restart.
  link = linkBetween(net, a, b);
  mark = a.events.length;
  net.disconnect(link.pc);
  await waitFor(() => {
    const now = linkBetween(net, a, b);
    return now && now.key !== link.key && meshProblems(net, recs).length === 0;
  }, 8000, 'a restart after the disconnected grace', { describe: () => report(recs, meshProblems(net, recs).join('\n')) });
  states = a.events.slice(mark).filter((e) => e.type === 'peer-state').map((e) => e.state);
  assert.equal(states[0], 'disconnected');
  assert.ok(states.includes('restarting'), `restarted: ${states}`);
  assert.equal(states.at(-1), 'connected');
  await dataRound(recs, 'after the blips');
  await leaveAll(net, recs);
});

test('ICE restarts exhausted → a fresh peer connection → connected again', T, async (t) => {
  const net = network({ seed: 8, unreachableFailMs: 150 });
  const meeting = await newMeetingId(srv);
  const opts = { coreOptions: { iceRestartAttempts: 2, iceRestartTimeoutMs: 1000 } };
  const recs = await joinTogether(meeting, ['x-a', 'x-b', 'x-c'], net, opts);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b] = recs;
  await waitForMesh(net, recs);
  const old = linkBetween(net, a, b);
  const owners = new Set([a.name, b.name]);
  net.reachable = (x, y) => !(owners.has(x.owner) && owners.has(y.owner));
  const before = pcsOf(net, a, { open: false }).length;
  net.fail(old.pc);
  await waitFor(() => pcsOf(net, a, { open: false }).length > before, 10000, 'a fresh connection after the restarts', {
    describe: () => report(recs),
  });
  net.reachable = () => true;
  await waitForMesh(net, recs, 10000, 'the mesh with the fresh connection');
  assert.ok(old.pc._closed && old.other._closed, 'the old pair of connections is closed');
  const states = a.of('peer-state', (e) => e.peer === b.id).map((e) => e.state);
  assert.ok(states.filter((s) => s === 'restarting').length >= 2, `two restarts before giving up on the connection: ${states}`);
  assert.deepEqual(recs.flatMap((r) => r.of('error')), [], 'no peer-unreachable: the fresh connection worked');
  await dataRound(recs, 'fresh');
  await leaveAll(net, recs);
});

test('leave during negotiation: no stray peer connections, no ghost peers', T, async (t) => {
  // Slow ICE so the newcomer's connections are still negotiating when it leaves.
  const net = network({ seed: 9, connectDelayMs: 300 });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['l-a', 'l-b'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b] = recs;
  await waitForMesh(net, recs);
  const markA = a.events.length;

  // 1. A newcomer leaves right after its welcome.
  const c = await join(meeting, 'l-c', net);
  t.after(() => c.meeting.dispose());
  const cId = c.id;
  await waitFor(() => pcsOf(net, c).length === 2, 2000, "the newcomer's connections");
  assert.ok(pcsOf(net, c).every((pc) => pc.connectionState !== 'connected'), 'still negotiating');
  await c.meeting.leave();
  for (const r of [a, b]) {
    await waitFor(() => r.of('peer-left', (e) => e.peer === cId).length === 1, 3000, `${r.name} to see the newcomer leave`, { describe: () => report([r]) });
    assert.equal(r.of('peer-left', (e) => e.peer === cId)[0].reason, 'left');
  }
  await waitFor(() => meshProblems(net, [a, b]).length === 0 && pcsOf(net, c).length === 0, 3000, 'only the a–b connections left', {
    describe: () => report([a, b], meshProblems(net, [a, b]).join('\n')),
  });
  await sleep(500); // nothing may come back to life
  assert.deepEqual(meshProblems(net, [a, b]), [], report([a, b]));
  for (const r of [a, b]) {
    assert.ok(!r.meeting.peers.has(cId), `${r.name} has no ghost of the newcomer`);
    const late = r.events.filter((e) => e.t > r.of('peer-left', (x) => x.peer === cId)[0].t && e.peer === cId);
    assert.deepEqual(late, [], `${r.name} heard nothing more of the newcomer`);
  }
  assert.deepEqual(a.events.slice(markA).filter((e) => e.type === 'peer-state' && e.peer === b.id), [], 'a–b untouched');

  // 2. An old member leaves while a newcomer negotiates with it.
  const d = await join(meeting, 'l-d', net);
  t.after(() => d.meeting.dispose());
  await a.meeting.leave();
  await waitFor(() => meshProblems(net, [b, d]).length === 0 && pcsOf(net, a).length === 0, 5000, 'b–d to connect, a gone', {
    describe: () => report([b, d], meshProblems(net, [b, d]).join('\n')),
  });
  for (const r of [b, d]) assert.equal(r.of('peer-left', (e) => e.peer === a.id).at(-1)?.reason, 'left', `${r.name} saw a leave`);

  // 3. A newcomer disposed (closed without `leave`) during negotiation counts as having left.
  const e = await join(meeting, 'l-e', net);
  const eId = e.id;
  e.meeting.dispose();
  assert.equal(e.meeting.state, 'left');
  await waitFor(() => [b, d].every((r) => r.of('peer-left', (x) => x.peer === eId).length === 1), 3000, 'the disposed newcomer to leave', {
    describe: () => report([b, d]),
  });
  await waitFor(() => meshProblems(net, [b, d]).length === 0 && pcsOf(net, e).length === 0, 3000, 'b–d only');
  await leaveAll(net, [b, d]);
  assert.equal(net.openPcs().length, 0);
});

test('signaling socket dropped → resume: same identity, peer connections kept, app data during and after', T, async (t) => {
  const net = network({ seed: 10 });
  const meeting = await newMeetingId(srv);
  const names = ['r-a', 'r-b', 'r-c'];
  const links = new Map(names.map((n) => [n, cuttableWebSocket()]));
  const recs = await Promise.all(names.map((n) => join(meeting, n, net, { WebSocketImpl: links.get(n).CuttableWebSocket })));
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b, c] = recs;
  await waitForMesh(net, recs);
  const pcCount = net.pcs.length;
  const selfId = a.id;
  const mark = a.events.length;

  links.get('r-a').sockets.at(-1).terminate(); // TCP gone, no close frame
  // The reconnect can finish within one poll period on a quiet machine: wait
  // for the recorded transition, not for the state to still be showing.
  await waitFor(() => a.events.slice(mark).some((e) => e.type === 'state' && e.state === 'reconnecting'), 2000, 'a to notice');
  await sendToEach(a.meeting, 'while reconnecting', [b.id, c.id]);
  const welcomes = () => a.events.slice(mark).filter((e) => e.type === 'welcomed');
  await waitFor(() => welcomes().length === 1 && a.meeting.state === 'joined', 5000, 'a to resume', { describe: () => report([a]) });
  assert.equal(welcomes()[0].how, 'resumed');
  assert.equal(a.meeting.self.id, selfId, 'same identity');
  const states = a.events.slice(mark).filter((e) => e.type === 'state').map((e) => e.state);
  assert.deepEqual([states[0], states.at(-1)], ['reconnecting', 'joined'], `states: ${states}`);
  await waitFor(() => [b, c].every((r) => r.dataFrom(a.id).includes('while reconnecting')), 3000, 'the data sent during the outage');
  assert.deepEqual(meshProblems(net, recs), [], report(recs));
  assert.equal(net.pcs.length, pcCount, 'no peer connection was replaced');
  assert.deepEqual(recs.flatMap((r) => r.of('peer-left')), [], 'nobody saw anybody leave');
  await dataRound(recs, 'after the resume');
  await leaveAll(net, recs);
});

test('leave() while reconnecting: the others see "left" at once, not "disconnected" after the grace', T, async () => {
  const net = network({ seed: 12 });
  const meeting = await newMeetingId(srv);
  const link = cuttableWebSocket();
  // A long backoff: the leave comes while the session waits to reconnect.
  const a = await join(meeting, 'l-a', net, { WebSocketImpl: link.CuttableWebSocket, coreOptions: { reconnectBaseMs: 20000, reconnectCapMs: 20000 } });
  const b = await join(meeting, 'l-b', net);
  await waitForMesh(net, [a, b]);
  const aId = a.id;
  const mark = a.events.length;
  let leaving = null;
  a.meeting.on('state', ({ state }) => {
    if (state === 'reconnecting' && !leaving) leaving = a.meeting.leave();
  });
  link.sockets.at(-1).terminate();  // TCP gone, no close frame
  await waitFor(() => leaving !== null, 2000, 'a to notice and leave', { describe: () => report([a]) });
  await withTimeout(leaving, 5000, 'leave() to resolve');
  const states = a.events.slice(mark).filter((e) => e.type === 'state').map((e) => e.state);
  assert.deepEqual(states, ['reconnecting', 'leaving', 'left']);
  await waitFor(() => b.of('peer-left').length === 1, 3000, 'b to see a leave');
  assert.deepEqual(b.of('peer-left').map((e) => [e.peer, e.reason]), [[aId, 'left']], 'told as a leave, not found out as a disconnect');
  assert.equal(pcsOf(net, a).length, 0, "a's connections are closed");
  await leaveAll(net, [b]);
});

test('a participant dropped uncleanly: the others see peer-left "disconnected" after the grace', T, async (t) => {
  const net = network({ seed: 12 });
  const link = cuttableWebSocket();
  const meeting = await newMeetingId(srv);
  const a = await join(meeting, 'u-a', net);
  const b = await join(meeting, 'u-b', net);
  const gone = await join(meeting, 'u-gone', net, { WebSocketImpl: link.CuttableWebSocket });
  const recs = [a, b, gone];
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs);
  const t0 = Date.now();
  link.cut();
  await sleep(50);
  gone.meeting.dispose(); // its connections close; no socket is open to say goodbye
  for (const r of [a, b]) {
    await waitFor(() => r.of('peer-left', (e) => e.peer === gone.id).length === 1, 6000, `${r.name} to see the drop`, { describe: () => report([r]) });
    assert.equal(r.of('peer-left', (e) => e.peer === gone.id)[0].reason, 'disconnected');
  }
  assert.ok(Date.now() - t0 >= 900, `peer-left came after the 1 s resume grace (${Date.now() - t0} ms)`);
  await waitFor(() => meshProblems(net, [a, b]).length === 0 && pcsOf(net, gone).length === 0, 3000, 'a–b only');
  await leaveAll(net, [a, b]);
});

test('server killed and restarted: everyone resumes under the same id, every connection carries on, no stray connections', T, async (t) => {
  const net = network({ seed: 13 });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['k-a', 'k-b', 'k-c'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs);
  const pcCount = net.pcs.length;
  const marks = recs.map((r) => r.events.length);
  const ids = recs.map((r) => r.id);
  await srv.kill9();
  await waitFor(() => recs.every((r) => r.meeting.state === 'reconnecting'), 3000, 'everyone to notice');
  await sleep(300);
  await srv.restart();
  await waitFor(() => recs.every((r) => r.meeting.state === 'joined' && r.of('welcomed').length >= 1), 8000, 'everyone back', {
    describe: () => report(recs),
  });
  for (const r of recs) r.id = r.meeting.self.id;
  await waitForMesh(net, recs, 10000, 'the mesh after the restart');
  await sleep(300);
  assert.deepEqual(meshProblems(net, recs), [], report(recs));
  assert.equal(net.pcs.length, pcCount, 'no peer connection was made after the restart');
  recs.forEach((r, i) => {
    const since = r.events.slice(marks[i]);
    assert.deepEqual(since.filter((e) => e.type === 'welcomed').map((e) => e.how), ['resumed'], `${r.name}: resumed`);
    assert.equal(r.id, ids[i], `${r.name}: the same id`);
    assert.deepEqual(since.filter((e) => e.type === 'peer-left' || e.type === 'peer-joined'), [], `${r.name}: nobody seemed to leave or arrive`);
  });
  await dataRound(recs, 'after the server restart');
  await leaveAll(net, recs);
});

test('candidates before their descriptions (every description held back): queued, then added; the mesh forms', T, async (t) => {
  const net = network({ seed: 17 });
  const meeting = await newMeetingId(srv);
  const manglers = [];
  const recs = await Promise.all(['c-a', 'c-b', 'c-c'].map((name, i) => {
    const m = mangledWebSocket({ seed: 100 + i, holdDescriptionsMs: 60 });
    manglers.push(m);
    return join(meeting, name, net, { WebSocketImpl: m.MangledWebSocket });
  }));
  t.after(() => manglers.forEach((m) => m.stop()));
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs);
  const queued = (r) => r.logs.filter((l) => l.detail.startsWith('candidate queued until its description is set')).length;
  for (const r of recs) assert.ok(queued(r) >= 1, `${r.name} queued early candidates (${queued(r)})`);
  assert.ok(manglers.every((m) => m.stats.held >= 1), 'descriptions were held');
  // Renegotiation under the same conditions: everyone starts video at once.
  for (const r of recs) r.meeting.replaceVideoTrack(new FakeMediaStreamTrack('video'));
  const videoProblems = () =>
    recs.flatMap((a) => recs.filter((b) => b !== a && !a.meeting.remoteTracks(b.id).some((tr) => tr.kind === 'video')).map((b) => `${a.name} lacks ${b.name}'s video`));
  await waitFor(() => videoProblems().length === 0, 8000, "everyone's video", { describe: () => videoProblems().join('\n') });
  await waitForMesh(net, recs);
  for (const a of recs) assert.equal(pcsOf(net, a, { open: false }).length, 2, `${a.name}: one connection per peer, never replaced`);
  assert.deepEqual(recs.flatMap((r) => r.of('error')), []);
  await dataRound(recs, 'late descriptions');
  await leaveAll(net, recs);
});

test('signaling that loses, duplicates and reorders signal frames (seeded): every pair still connects, renegotiates and carries app data', T, async (t) => {
  const net = network({ seed: 18 });
  const meeting = await newMeetingId(srv);
  const manglers = [];
  // What recovers a lost offer or answer: for a connection's first offer, the
  // connect watchdog (a fresh connection); for a renegotiation, the rollback
  // after answerTimeoutMs and the offer made again. Both shortened here.
  const coreOptions = { answerTimeoutMs: 400, connectWatchdogMs: 2000, maxFreshConnections: 10 };
  const recs = await Promise.all(['s-a', 's-b', 's-c', 's-d'].map((name, i) => {
    const m = mangledWebSocket({ seed: 200 + i, drop: 0.15, duplicate: 0.2, delay: 0.3, maxDelayMs: 60 });
    manglers.push(m);
    return join(meeting, name, net, { WebSocketImpl: m.MangledWebSocket, coreOptions });
  }));
  t.after(() => manglers.forEach((m) => m.stop()));
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs, 20000, 'a full mesh over lossy signaling');
  for (const r of recs) r.meeting.replaceVideoTrack(new FakeMediaStreamTrack('video'));
  const videoProblems = () =>
    recs.flatMap((a) => recs.filter((b) => b !== a && !a.meeting.remoteTracks(b.id).some((tr) => tr.kind === 'video')).map((b) => `${a.name} lacks ${b.name}'s video`));
  await waitFor(() => videoProblems().length === 0, 20000, "everyone's video over lossy signaling", { describe: () => `${videoProblems().join('\n')}\n${report(recs)}` });
  await waitForMesh(net, recs, 20000, 'the mesh after renegotiating');
  const total = (k) => manglers.reduce((n, m) => n + m.stats[k], 0);
  t.diagnostic(`signals ${total('signals')}: dropped ${total('dropped')}, duplicated ${total('duplicated')}, delayed ${total('delayed')}`);
  assert.ok(total('dropped') >= 1 && total('duplicated') >= 1 && total('delayed') >= 1, 'the mangler dropped, duplicated and delayed signals');
  const dupes = recs.reduce((n, r) => n + r.logs.filter((l) => l.detail === 'signal dropped: duplicate').length, 0);
  assert.ok(dupes >= 1, `duplicates were recognised and dropped (${dupes})`);
  assert.deepEqual(recs.flatMap((r) => r.of('error')), [], 'no error');
  assert.deepEqual(recs.flatMap((r) => r.of('peer-left')), [], 'nobody left');
  await dataRound(recs, 'lossy signaling');
  await leaveAll(net, recs);
});

test('resume refused (bad-resume: away longer than the grace): a fresh join under a new id, connections rebuilt', T, async (t) => {
  const net = network({ seed: 19 });
  const link = cuttableWebSocket();
  const meeting = await newMeetingId(srv);
  const a = await join(meeting, 'b-a', net);
  const b = await join(meeting, 'b-b', net);
  const away = await join(meeting, 'b-away', net, { WebSocketImpl: link.CuttableWebSocket });
  const recs = [a, b, away];
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs);
  const oldId = away.id;
  const mark = away.events.length;
  link.cut();
  // Longer than the server's 1 s resume grace: the others see it leave, and its token expires.
  for (const r of [a, b])
    await waitFor(() => r.of('peer-left', (e) => e.peer === oldId).length === 1, 5000, `${r.name} to see the drop`, { describe: () => report([r]) });
  link.restore();
  await waitFor(() => away.events.slice(mark).some((e) => e.type === 'welcomed'), 5000, 'the fresh join', { describe: () => report([away]) });
  const since = away.events.slice(mark);
  assert.deepEqual(since.filter((e) => e.type === 'welcomed').map((e) => e.how), ['rejoined'], 'bad-resume, then joined afresh');
  away.id = away.meeting.self.id;
  assert.notEqual(away.id, oldId, 'under a new id');
  await waitForMesh(net, recs, 10000, 'the mesh with the rejoined member');
  for (const r of [a, b]) {
    assert.equal(r.of('peer-left', (e) => e.peer === oldId)[0].reason, 'disconnected');
    assert.equal(r.of('peer-joined', (e) => e.peer === away.id).length, 1, `${r.name} saw the new id join`);
    assert.ok(!r.meeting.peers.has(oldId), `${r.name} keeps no ghost of the old id`);
  }
  assert.equal(pcsOf(net, away).length, 2, 'the rejoined member holds one connection per peer');
  assert.deepEqual(recs.flatMap((r) => r.of('error')), []);
  await dataRound(recs, 'after the rebuild');
  await leaveAll(net, recs);
});

test('a peer that never answers (joined, but ignores every signal): shown unreachable (peer-unreachable once) and retried slowly; the others unaffected; nothing left once it goes', T, async (t) => {
  const net = network({ seed: 20 });
  const meeting = await newMeetingId(srv);
  const coreOptions = { connectWatchdogMs: 600, answerTimeoutMs: 200, maxFreshConnections: 2, unreachableRetryBaseMs: 300, unreachableRetryCapMs: 600 };
  const recs = await joinTogether(meeting, ['q-a', 'q-b'], net, { coreOptions });
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs);
  // A raw client: joins, answers the server's pings (ws does), ignores every signal.
  const silent = new WebSocket(srv.wsUrl);
  t.after(() => silent.terminate());
  const welcome = new Promise((resolve) => silent.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.type === 'welcome') resolve(msg.self);
  }));
  await new Promise((resolve, reject) => {
    silent.once('open', resolve);
    silent.once('error', reject);
  });
  silent.send(JSON.stringify({ type: 'join', meeting, name: 'silent' }));
  const silentId = await withTimeout(welcome, 3000, 'the silent client to be welcomed');
  for (const r of recs) {
    await waitFor(() => r.of('error', (e) => e.code === 'peer-unreachable' && e.peer === silentId).length === 1, 15000, `${r.name} to give up on the silent peer`, {
      describe: () => report([r]),
    });
    assert.ok(['unreachable', 'retrying'].includes(r.peerState(silentId)), `${r.name}: ${r.peerState(silentId)}`);
    assert.ok(r.meeting.peers.has(silentId), `${r.name} still lists it (it is in the meeting)`);
  }
  // It keeps being retried (issue 10: no permanent give-up), slowly.
  for (const r of recs)
    await waitFor(() => r.of('peer-state', (e) => e.peer === silentId && e.state === 'retrying').length >= 2, 5000, `${r.name} to retry the silent peer`, {
      describe: () => report([r]),
    });
  const [a, b] = recs;
  assert.ok(linkBetween(net, a, b), 'the two others are still connected');
  assert.equal(a.peerState(b.id), 'connected');
  assert.equal(b.peerState(a.id), 'connected');
  assert.equal(recs.reduce((n, r) => n + r.of('error', (e) => e.peer === silentId).length, 0), 2, 'one peer-unreachable each, not repeated at every retry');
  silent.close();
  for (const r of recs) await waitFor(() => !r.meeting.peers.has(silentId), 3000, `${r.name} to see it leave`);
  for (const r of recs) {
    const mine = pcsOf(net, r).filter((pc) => !net.partnerOf(pc));
    assert.deepEqual(mine.map((pc) => pc.fakeId), [], `${r.name} holds no connection to the silent peer once it left`);
  }
  await assertNoStrayTimers(recs);
  await leaveAll(net, recs);
});

test('leave() leaves no timer of its own behind', T, async (t) => {
  const net = network({ seed: 21 });
  const meeting = await newMeetingId(srv);
  const recs = await joinTogether(meeting, ['t-a', 't-b'], net);
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, recs);
  // Every setTimeout made while leave() runs, and whether it was cleared or fired.
  const made = [];
  const { setTimeout: realSet, clearTimeout: realClear } = globalThis;
  globalThis.setTimeout = (fn, ms, ...args) => {
    const rec = { ms, done: false, stack: new Error().stack };
    rec.handle = realSet(() => {
      rec.done = true;
      fn(...args);
    }, ms);
    made.push(rec);
    return rec.handle;
  };
  globalThis.clearTimeout = (handle) => {
    for (const rec of made) if (rec.handle === handle) rec.done = true;
    realClear(handle);
  };
  try {
    await recs[0].meeting.leave();
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
  }
  // Made by the shim itself: its code is the caller of setTimeout (stack: Error, this wrapper, the caller).
  const shims = made.filter((rec) => !rec.done && /meshmeet\.js/.test(rec.stack.split('\n')[2] ?? ''));
  assert.deepEqual(shims.map((rec) => `${rec.ms} ms`), [], 'no setTimeout of the shim still pending after leave()');
  await leaveAll(net, recs.slice(1));
});

test('local media: tracks arrive, the uplink budget is split per video sender, mute, replace and stop video', T, async (t) => {
  const net = network({ seed: 14 });
  const meeting = await newMeetingId(srv);
  const streams = [fakeLocalStream(), fakeLocalStream(), fakeLocalStream()];
  const names = ['m-a', 'm-b', 'm-c'];
  const recs = await Promise.all(names.map((n, i) => join(meeting, n, net, { localStream: streams[i] })));
  t.after(() => recs.forEach((r) => r.meeting.dispose()));
  const [a, b] = recs;
  await waitForMesh(net, recs);

  // every remote track arrives
  const trackProblems = () => {
    const out = [];
    for (const x of recs)
      for (const y of recs) {
        if (x === y) continue;
        const kinds = x.meeting.remoteTracks(y.id).map((tr) => tr.kind).sort();
        if (JSON.stringify(kinds) !== '["audio","video"]') out.push(`${x.name} has ${kinds} from ${y.name}`);
      }
    return out;
  };
  await waitFor(() => trackProblems().length === 0, 5000, 'remote tracks', { describe: () => trackProblems().join('\n') });
  const trackIds = a.meeting.remoteTracks(b.id).map((tr) => tr.id).sort();
  assert.deepEqual(trackIds, streams[1].getTracks().map((tr) => tr.id).sort(), "a receives b's own track ids");
  assert.deepEqual(a.of('track', (e) => e.peer === b.id).map((e) => e.kind).sort(), ['audio', 'video']);

  // 2500 kbps default, 2 peers, audio 40 kbps each: (2500 - 80) / 2 = 1210 kbps per video copy, scale 1.5
  const videoSenders = (r) => pcsOf(net, r).map((pc) => pc.getSenders().find((s) => s._kind === 'video'));
  const lastParams = (s) => s.setParametersCalls.at(-1)?.[0];
  await waitFor(() => videoSenders(a).every((s) => lastParams(s)?.maxBitrate === 1210000), 3000, 'the uplink split', {
    describe: () => JSON.stringify(videoSenders(a).map((s) => s.setParametersCalls)),
  });
  for (const s of videoSenders(a)) assert.equal(lastParams(s).scaleResolutionDownBy, 1.5);
  // The browser refuses the first three setParameters (both senders, then
  // one retry): the core is told, and asks again until it is applied.
  net.refuseSetParameters = 3;
  a.meeting.setUplinkBudget(600); // (600 - 80) / 2 = 260 → scale 3
  await waitFor(() => videoSenders(a).every((s) => lastParams(s)?.maxBitrate === 260000), 3000, 'the new budget, despite the refusals', {
    describe: () => JSON.stringify(videoSenders(a).map((s) => s.setParametersCalls)),
  });
  assert.equal(net.stats.setParametersRefused, 3);
  for (const s of videoSenders(a)) assert.equal(lastParams(s).scaleResolutionDownBy, 3);
  assert.throws(() => a.meeting.setUplinkBudget(0), { code: 'invalid-argument' });

  // peer-media: everyone learned where the others stand as the channels opened
  const mediaOf = (x, y) => x.of('peer-media', (e) => e.peer === y.id).at(-1);
  const seenAs = (y, audio, video) => () => recs.every((x) => x === y || (mediaOf(x, y)?.audio === audio && mediaOf(x, y)?.video === video));
  await waitFor(seenAs(a, true, true), 3000, "a's microphone and camera on at the others");
  assert.equal(mediaOf(b, a).name, 'm-a');

  // mute: the track stays, disabled; the others see it
  a.meeting.setCamera(false);
  a.meeting.setMicrophone(false);
  assert.equal(streams[0].getVideoTracks()[0].enabled, false);
  assert.equal(streams[0].getAudioTracks()[0].enabled, false);
  assert.equal(a.meeting.cameraOn, false);
  await waitFor(seenAs(a, false, false), 3000, "a's microphone and camera off at the others", { describe: () => report(recs) });
  a.meeting.setCamera(true);
  assert.equal(streams[0].getVideoTracks()[0].enabled, true);
  await waitFor(seenAs(a, false, true), 3000, "a's camera on again at the others");

  // screen share: the video sender switches track without renegotiation
  const screen = new FakeMediaStreamTrack('video');
  const nnBefore = net.stats.negotiationNeeded;
  await a.meeting.replaceVideoTrack(screen);
  await waitFor(() => videoSenders(a).every((s) => s.track === screen), 2000, 'the screen track on every sender');
  await sleep(100);
  assert.equal(net.stats.negotiationNeeded, nnBefore, 'replaceTrack needs no renegotiation');

  // stop video: removeTrack, renegotiation, the others' copies of a's video end
  await a.meeting.replaceVideoTrack(null);
  const videoGone = () => recs.slice(1).every((r) => r.meeting.remoteTracks(a.id).map((tr) => tr.kind).join() === 'audio');
  await waitFor(videoGone, 5000, "a's video to end at the others", { describe: () => report(recs) });
  await waitFor(seenAs(a, false, false), 3000, 'no video is no camera at the others');
  await waitForMesh(net, recs);

  // quality: good at 20 ms; poor when a's connection to b reports 700 ms
  await waitFor(() => a.of('quality', (e) => e.peer === b.id).length >= 2, 3000, 'quality reports');
  assert.equal(a.of('quality', (e) => e.peer === b.id).at(-1).level, 'good');
  net.setQuality(linkBetween(net, a, b).pc, { rttMs: 700 });
  await waitFor(() => a.of('quality', (e) => e.peer === b.id).at(-1).level === 'poor', 3000, 'poor quality');
  assert.ok(a.of('quality', (e) => e.peer === b.id).at(-1).rttMs >= 700);

  await leaveAll(net, recs);
});

test('camera off while a screen is shared turns off the camera only; sharing stops with the camera as it was left', T, async (t) => {
  const net = network({ seed: 16 });
  const meeting = await newMeetingId(srv);
  const stream = fakeLocalStream();
  const camera = stream.getVideoTracks()[0];
  const [a, b] = await Promise.all([join(meeting, 'sc-a', net, { localStream: stream }), join(meeting, 'sc-b', net, { localStream: fakeLocalStream() })]);
  t.after(() => [a, b].forEach((r) => r.meeting.dispose()));
  await waitForMesh(net, [a, b]);
  // A track from getDisplayMedia names the surface it captures (Chromium: while it lives).
  const screenTrack = () => {
    const track = new FakeMediaStreamTrack('video');
    track.getSettings = () => (track.readyState === 'live' ? { displaySurface: 'monitor' } : {});
    return track;
  };
  const sending = (track) => () => pcsOf(net, a).every((pc) => pc.getSenders().find((s) => s._kind === 'video')?.track === track);
  // What b is told it sees of a: 'camera', 'screen' or 'off'.
  const seenAs = (e) => (e.video ? (e.screen ? 'screen' : 'camera') : 'off');
  const videoSeen = () => b.of('peer-media', (e) => e.peer === a.id).map(seenAs).at(-1);
  const videoSeenSince = (n) => b.of('peer-media', (e) => e.peer === a.id).slice(n).map(seenAs);
  const seenCount = () => b.of('peer-media', (e) => e.peer === a.id).length;
  await waitFor(() => videoSeen() === 'camera', 3000, "a's camera on at b");

  // Sharing, camera off: the screen keeps going; b is never told "no video".
  const screen = screenTrack();
  await a.meeting.replaceVideoTrack(screen);
  await waitFor(sending(screen), 2000, 'the screen on every sender');
  await waitFor(() => videoSeen() === 'screen', 3000, 'b told that a shares a screen');
  let seen = seenCount();
  a.meeting.setCamera(false);
  assert.equal(a.meeting.cameraOn, false);
  assert.equal(camera.enabled, false, 'the camera is off');
  assert.equal(screen.enabled, true, 'the screen is still sent');
  await sleep(300);
  assert.deepEqual(videoSeenSince(seen), [], 'b is told nothing: it still sees the screen');
  assert.equal(videoSeen(), 'screen');

  // Sharing stops (the app stops the screen first): the camera comes back
  // off, and b hears so once.
  seen = seenCount();
  screen.stop();
  await a.meeting.replaceVideoTrack(camera);
  await waitFor(sending(camera), 2000, 'the camera on every sender again');
  await waitFor(() => videoSeen() === 'off', 3000, "a's camera off at b once sharing stopped");
  assert.equal(camera.enabled, false, 'the camera stays off');
  await sleep(300);
  assert.deepEqual(videoSeenSince(seen), ['off']);

  // Camera off, then sharing: b sees the screen; the camera turned on
  // meanwhile is on when sharing stops, and b never sees "no video".
  const screen2 = screenTrack();
  seen = seenCount();
  await a.meeting.replaceVideoTrack(screen2);
  await waitFor(() => videoSeen() === 'screen', 3000, "a's screen at b while the camera is off");
  assert.equal(screen2.enabled, true, 'a screen shared while the camera is off is sent');
  a.meeting.setCamera(true);
  assert.equal(camera.enabled, true);
  screen2.stop();
  await a.meeting.replaceVideoTrack(camera);
  await waitFor(sending(camera), 2000, 'the camera on every sender again');
  await sleep(300);
  assert.deepEqual(videoSeenSince(seen), ['screen', 'camera'], 'b saw the screen, then the camera, and never "no video"');
  assert.equal(camera.enabled, true, 'the camera is on');
  await leaveAll(net, [a, b]);
});

test('leave() closes the signaling connection at both ends promptly (no half-closed sockets on the server)', T, async (t) => {
  const net = network({ seed: 15 });
  const link = cuttableWebSocket(); // only its record of sockets: never cut
  // A server of its own, so earlier tests' connections do not count.
  const own = await startServer();
  t.after(() => own.stop());
  const open = async () => {
    const text = await (await fetch(`${own.url}/metrics`)).text();
    return Number(/^meshmeet_connections (\d+)/m.exec(text)?.[1]);
  };
  for (let round = 0; round < 4; round++) {
    const meeting = await newMeetingId(own);
    const recs = await joinTogether(meeting, [`c${round}-a`, `c${round}-b`], net, { WebSocketImpl: link.CuttableWebSocket, server: own });
    t.after(() => recs.forEach((r) => r.meeting.dispose()));
    await waitForMesh(net, recs);
    await leaveAll(net, recs);
  }
  // Closed within moments (polled, for slow runs), not left for the server's
  // heartbeat to find 30 s later.
  const states = () => link.sockets.map((s) => ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'][s.readyState]);
  const allClosed = async () => states().every((s) => s === 'CLOSED') && (await open()) === 0;
  await waitFor(allClosed, 3000, 'every socket closed after leave()', {
    describe: () => `client sockets ${states().join(', ')}`,
  });
});
