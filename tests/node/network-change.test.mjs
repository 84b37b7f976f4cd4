// The device's network changed (issue 10): the browser fires `online` on the
// window, the shim (web/meeting-api.js) feeds it to the core (networkChanged),
// and the core restarts ICE on every live pair at once, and retries an
// unreachable peer at once instead of after its backoff. Through the built
// package (dist/) against the real server, with the fake RTCPeerConnection
// of fake-webrtc.mjs.
//
// Node 20 has no addEventListener on globalThis: the test gives it one (an
// EventTarget's), only while the participant who is to hear `online` joins,
// so that in a process of three participants the event reaches one of them,
// as it would reach one device.
//
//   MESHMEET_SERVER_BIN=$PWD/build/bin/meshmeet-server node --test --test-concurrency=1 tests/node/network-change.test.mjs

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { joinMeeting, liveCoreObjects } from '../../dist/meshmeet.js';
import { createFakeWebRTC } from './fake-webrtc.mjs';
import { joinFake, newMeetingId, sleep, startServer, waitFor } from './harness.mjs';

const T = { timeout: 30000 };
const CORE = { connectWatchdogMs: 3000, reconnectBaseMs: 50, reconnectCapMs: 300, iceRestartBaseMs: 50, iceDisconnectedGraceMs: 200 };

// The window's `online` event, in Node: an EventTarget whose methods globalThis borrows.
const windowEvents = new EventTarget();
const hadListeners = 'addEventListener' in globalThis;
globalThis.dispatchEvent ??= (e) => windowEvents.dispatchEvent(e);
globalThis.removeEventListener ??= (type, fn) => windowEvents.removeEventListener(type, fn);
const goOnline = () => globalThis.dispatchEvent(new Event('online'));

let srv;
const cleanups = [];

before(async () => {
  assert.equal(hadListeners, false, 'this Node has a window-like globalThis: the scoping below is moot, rewrite it');
  srv = await startServer({ args: ['--per-ip', '200'] });
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await srv?.stop();
  assert.equal(await liveCoreObjects(), 0, 'no core client outlives the suite');
});

/** Joins `name`; with `hearsOnline` its Meeting is the one listening for `online`. */
async function join(meeting, name, net, { coreOptions = {}, hearsOnline = false } = {}) {
  if (hearsOnline) globalThis.addEventListener = (type, fn) => windowEvents.addEventListener(type, fn);
  try {
    return await joinFake(joinMeeting, WebSocket, { meeting, name, net, cleanups, server: srv.url, coreOptions: { ...CORE, ...coreOptions } });
  } finally {
    delete globalThis.addEventListener;
  }
}

function fakeNetwork(options = {}) {
  const { network } = createFakeWebRTC({ seed: 21, ...options });
  cleanups.push(() => network.stop());
  return network;
}

const openPcs = (net, rec) => net.pcs.filter((pc) => pc.owner === rec.name && !pc._closed);

/** The open connection of `a` whose partner belongs to `b`, if their link is up. */
function linkBetween(net, a, b) {
  const found = openPcs(net, a).filter((pc) => {
    const other = net.partnerOf(pc);
    return other && !other._closed && other.owner === b.name && pc._link.up;
  });
  return found.length === 1 ? { pc: found[0], other: net.partnerOf(found[0]), key: found[0]._link.key } : null;
}

function connectedEverywhere(recs) {
  return recs.every((r) => recs.every((o) => o === r || r.peerState(o.id) === 'connected'));
}

const report = (recs) => [...recs.map((r) => r.summary()), ...recs.map((r) => r.tail(25))].join('\n');

test('online: every connected pair of that participant restarts ICE on the same connection; pairs it is not in are untouched', T, async () => {
  const net = fakeNetwork();
  const meeting = await newMeetingId(srv);
  const a = await join(meeting, 'A', net, { hearsOnline: true });
  const b = await join(meeting, 'B', net);
  const c = await join(meeting, 'C', net);
  const recs = [a, b, c];
  await waitFor(() => connectedEverywhere(recs) && linkBetween(net, a, b) && linkBetween(net, a, c) && linkBetween(net, b, c),
    10000, 'a full mesh', { describe: () => report(recs) });
  const before = { ab: linkBetween(net, a, b), ac: linkBetween(net, a, c), bc: linkBetween(net, b, c) };
  const pcCount = net.pcs.length;
  const marks = recs.map((r) => r.events.length);

  goOnline();

  // A's two connections come back on new ICE credentials (a new link key),
  // the same RTCPeerConnection objects (restarted, not replaced).
  await waitFor(() => {
    const ab = linkBetween(net, a, b);
    const ac = linkBetween(net, a, c);
    return ab && ac && ab.key !== before.ab.key && ac.key !== before.ac.key && connectedEverywhere(recs);
  }, 5000, "A's pairs to reconnect on new ICE credentials", { describe: () => report(recs) });
  for (const [pair, other] of [['ab', b], ['ac', c]]) {
    const now = linkBetween(net, a, other);
    assert.equal(now.pc, before[pair].pc, `A's connection to ${other.name} was restarted, not replaced`);
    // The impolite end of each pair makes the restart offer; a polite A asks for it.
    const restarted = [before[pair].pc, before[pair].other].filter((pc) => pc.log.includes('restartIce()'));
    assert.equal(restarted.length, 1, `one end of A–${other.name} called restartIce()`);
  }
  assert.equal(net.pcs.length, pcCount, 'no new connection anywhere');
  assert.match(a.logs.map((l) => l.detail ?? '').join('\n'), /the network changed/, "A's core says why");
  // B and C did not hear `online`: their connection to each other stays as it was.
  assert.equal(linkBetween(net, b, c).key, before.bc.key, 'B–C kept its ICE credentials');
  assert.ok(!before.bc.pc.log.includes('restartIce()') && !before.bc.other.log.includes('restartIce()'), 'nobody restarted B–C');
  for (const [i, r] of recs.entries()) {
    const states = r.events.slice(marks[i]).filter((e) => e.type === 'peer-state').map((e) => e.state);
    assert.ok(!states.includes('connecting') && !states.includes('unreachable'), `${r.name}: no fresh connection, nobody unreachable (${states})`);
  }
  assert.deepEqual(recs.flatMap((r) => r.of('error')), [], 'no errors');
});

test('online: a peer that was unreachable is retried at once instead of after its backoff, and connects', T, async () => {
  // A and B cannot reach each other: each connection's ICE fails after 100 ms.
  const net = fakeNetwork({ seed: 22, unreachableFailMs: 100 });
  net.reachable = (x, y) => x.owner === y.owner;
  const slowRetries = { maxFreshConnections: 1, unreachableRetryBaseMs: 60000, unreachableRetryCapMs: 60000 };
  const meeting = await newMeetingId(srv);
  const a = await join(meeting, 'A', net, { hearsOnline: true, coreOptions: slowRetries });
  const b = await join(meeting, 'B', net, { coreOptions: slowRetries });
  const recs = [a, b];
  await waitFor(() => a.peerState(b.id) === 'unreachable' && b.peerState(a.id) === 'unreachable', 10000,
    'A and B to give each other up', { describe: () => report(recs) });
  assert.equal(a.of('error', (e) => e.code === 'peer-unreachable' && e.peer === b.id).length, 1, 'A heard peer-unreachable once');

  // The network heals, but nothing tells the cores: their next retry is 30–60 s away.
  net.reachable = () => true;
  await sleep(1000);
  assert.equal(a.peerState(b.id), 'unreachable', 'no retry of its own within a second (the backoff is ≥ 30 s)');
  assert.equal(linkBetween(net, a, b), null);

  const online = Date.now();
  goOnline();
  await waitFor(() => a.peerState(b.id) === 'connected' && b.peerState(a.id) === 'connected' && linkBetween(net, a, b), 3000,
    'A to retry at once and connect', { describe: () => report(recs) });
  const states = a.of('peer-state', (e) => e.peer === b.id).map((e) => e.state);
  assert.deepEqual(states.slice(-2), ['retrying', 'connected'], `A retried, then connected (${states})`);
  assert.ok(Date.now() - online < 3000);
});
