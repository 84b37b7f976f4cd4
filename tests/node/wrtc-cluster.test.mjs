// Real WebRTC (@roamhq/wrtc) through the built package and a cluster: two
// server processes sharing one port (SO_REUSEPORT) and one real
// redis-server. Three participants join through that port (the kernel
// spreads them over the nodes); the node holding most of them is killed
// with SIGKILL. Its participants reconnect to the same address, reach the
// survivor, and resume under the same ids: no peer-left, no peer-joined,
// no RTCPeerConnection made again, and the data channels carry app data
// before, during and after.
//
//   node --test tests/node/wrtc-cluster.test.mjs

import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import wrtc from '@roamhq/wrtc';
import WebSocket from 'ws';
import { joinMeeting } from '../../dist/meshmeet.js';
import {
  Recorder, WRTC_CORE, freePort, newMeetingId, sendToEach, startServer, trackedPeerConnections, waitFor, withTimeout,
} from './harness.mjs';
import { startRedis, stopAllRedis } from '../support/redis.mjs';

const T = { timeout: 90000 };
const { pcs, TrackedRTCPeerConnection } = trackedPeerConnections(wrtc.RTCPeerConnection);
const people = [];
const nodes = [];

after(async () => {
  for (const p of people) p.meeting?.dispose();
  for (const n of nodes) await n.stop().catch(() => n.kill9());
  await stopAllRedis();
});

async function participant(server, meeting, name, seed) {
  const rec = new Recorder(name);
  const m = await withTimeout(
    joinMeeting({ server, meeting, name, RTCPeerConnection: TrackedRTCPeerConnection, WebSocket, coreOptions: WRTC_CORE, seed, logger: rec.logger }),
    10000, `${name} to join`);
  rec.attach(m);
  const p = { name, rec, meeting: m, get id() { return m.self.id; } };
  people.push(p);
  return p;
}

/** How many participants each node holds (its /metrics, on a port of its own). */
async function participantsOn(metricsPort) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return Number(/^meshmeet_participants (\d+)$/m.exec(text)?.[1] ?? NaN);
}

function meshProblems(ps) {
  const out = [];
  for (const a of ps)
    for (const b of ps) if (a !== b && a.rec.peerState(b.id) !== 'connected') out.push(`${a.name} sees ${b.name} as ${a.rec.peerState(b.id)}`);
  return out;
}

async function dataRound(ps, tag) {
  await Promise.all(ps.map((p) => sendToEach(p.meeting, `${tag} from ${p.name}`, ps.filter((o) => o !== p).map((o) => o.id), 10000)));
  const missing = () => ps.flatMap((a) => ps.filter((b) => b !== a && !a.rec.dataFrom(b.id).includes(`${tag} from ${b.name}`)).map((b) => `${a.name} lacks ${b.name}`));
  await waitFor(() => missing().length === 0, 10000, `"${tag}" to reach everyone`, { describe: () => missing().join('\n') });
}

test('a node killed with SIGKILL: its participants resume on the other node under the same ids, and every connection carries on', T, async () => {
  const redis = await startRedis();
  const port = await freePort();
  const metricsPorts = [await freePort(), await freePort()];
  for (const [i, name] of ['node-a', 'node-b'].entries())
    nodes.push(await startServer({ port, args: ['--redis', redis.url, '--node-id', name, '--metrics-listen', `127.0.0.1:${metricsPorts[i]}`] }));
  await waitFor(async () => (await fetch(`${nodes[1].url}/readyz`)).status === 200 && (await fetch(`${nodes[0].url}/readyz`)).status === 200,
    5000, 'both nodes ready');

  const meeting = await newMeetingId(nodes[0], 'cluster');
  const all = await Promise.all(['ada', 'bob', 'cyd'].map((name, i) => participant(nodes[0].url, meeting, name, i + 1)));
  await waitFor(() => meshProblems(all).length === 0, 30000, 'every pair connected', { describe: () => meshProblems(all).join('\n') });
  await dataRound(all, 'hello');
  const ids = new Map(all.map((p) => [p, p.id]));
  const marks = new Map(all.map((p) => [p, p.rec.events.length]));
  const pcsBefore = pcs.length;

  // The node holding most of them dies (they are spread by the kernel, so
  // that is at least two of the three).
  const held = [await participantsOn(metricsPorts[0]), await participantsOn(metricsPorts[1])];
  assert.equal(held[0] + held[1], 3);
  const victim = held[0] >= held[1] ? 0 : 1;
  await nodes[victim].kill9();
  await dataRound(all, 'while signaling is down');

  const resumed = () => all.filter((p) => p.rec.events.slice(marks.get(p)).some((e) => e.type === 'welcomed'));
  await waitFor(() => resumed().length === held[victim] && all.every((p) => p.meeting.state === 'joined'), 20000,
    'the dropped participants to resume', { describe: () => all.map((p) => `${p.name}: ${p.meeting.state}`).join(', ') });
  assert.equal(await participantsOn(metricsPorts[1 - victim]), 3, 'the survivor holds all three');

  const problems = [];
  for (const p of all) {
    const since = p.rec.events.slice(marks.get(p));
    if (p.id !== ids.get(p)) problems.push(`${p.name}: a new id ${p.id} (was ${ids.get(p)})`);
    const welcomes = since.filter((e) => e.type === 'welcomed').map((e) => e.how);
    if (welcomes.some((how) => how !== 'resumed')) problems.push(`${p.name}: welcomed as ${welcomes}`);
    const roster = since.filter((e) => e.type === 'peer-left' || e.type === 'peer-joined').map((e) => e.type);
    if (roster.length) problems.push(`${p.name}: ${roster} (resumes are silent in a cluster)`);
    const rebuilt = since.filter((e) => e.type === 'peer-state' && (e.state === 'closed' || e.state === 'connecting'));
    if (rebuilt.length) problems.push(`${p.name}: connections rebuilt`);
  }
  if (pcs.length !== pcsBefore) problems.push(`${pcs.length - pcsBefore} RTCPeerConnection(s) made after the kill`);
  assert.deepEqual(problems, []);
  assert.equal(resumed().length, held[victim], 'exactly those on the dead node resumed');
  await dataRound(all, 'after the resume');
});
