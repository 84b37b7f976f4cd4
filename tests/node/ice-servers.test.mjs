// ICE servers and relay-only meetings through the real shim (dist/), with the
// fake RTCPeerConnection of fake-webrtc.mjs:
// - each output is carried out on its own: a `new RTCPeerConnection` that
//   throws (a turn: URL without credentials) does not cost the rest of its
//   batch, and the core hears of it (a fresh connection, or peer-unreachable
//   at once instead of after the connect watchdog) — against the real server;
// - a relay-only welcome and a later `ice-servers` message (protocol v2) —
//   against a small scripted signaling server, as the real one may not send
//   them yet: iceTransportPolicy "relay", meeting.relayOnly, no non-relay
//   candidate on the wire even from a browser that gathers them, and fresh
//   ICE servers applied with setConfiguration, the policy kept.
//
//   MESHMEET_SERVER_BIN=$PWD/build/bin/meshmeet-server node --test --test-concurrency=1 tests/node/ice-servers.test.mjs

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket, { WebSocketServer } from 'ws';
import { joinMeeting, liveCoreObjects } from '../../dist/meshmeet.js';
import { createFakeWebRTC } from './fake-webrtc.mjs';
import { joinFake, newMeetingId, sleep, startServer, waitFor } from './harness.mjs';

const T = { timeout: 30000 };
const CORE = { connectWatchdogMs: 3000, reconnectBaseMs: 50, reconnectCapMs: 300, iceRestartBaseMs: 50 };

let srv;
const cleanups = [];

before(async () => {
  srv = await startServer({ args: ['--per-ip', '200'] });
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  await srv?.stop();
  assert.equal(await liveCoreObjects(), 0, 'no core client outlives the suite');
});

function join(meeting, name, net, { coreOptions = {}, server = srv.url, fetch, iceServers } = {}) {
  return joinFake(joinMeeting, WebSocket, {
    meeting, name, net, cleanups, server, coreOptions: { ...CORE, ...coreOptions }, ...(fetch ? { fetch } : {}), ...(iceServers ? { iceServers } : {}),
  });
}

function fakeNetwork() {
  const { network } = createFakeWebRTC({ seed: 5 });
  cleanups.push(() => network.stop());
  return network;
}

test('a peer connection the browser refuses to create does not cost the rest of the batch; the core shows the peer unreachable at once', T, async () => {
  const net = fakeNetwork();
  const meeting = await newMeetingId(srv);
  // Browsers throw InvalidAccessError for a turn: URL without credentials.
  const a = await join(meeting, 'A', net, { iceServers: [{ urls: 'turn:turn.invalid:3478' }] });
  const b = await join(meeting, 'B', net);
  await waitFor(() => a.of('error', (e) => e.code === 'peer-unreachable').length === 1, 2000,
    "A's core to hear of every refused connection and give B up (before its 3 s connect watchdog)", { describe: () => a.tail(30) });
  // The outputs after each throwing create-peer-connection were still carried out.
  assert.ok(a.of('peer-state', (e) => e.peer === b.id && e.state === 'connecting').length >= 1, 'peer-state connecting came after the throw');
  assert.equal(net.pcs.filter((pc) => pc.owner === 'A').length, 0, 'no connection of A exists');
  const thrown = a.logs.filter((l) => l.machine === 'shim' && /create-peer-connection threw InvalidAccessError/.test(l.detail));
  // The first connection and three fresh ones, each refused and reported
  // (then retries, and B's own connections followed, are refused too).
  assert.ok(thrown.length >= 4, `${thrown.length} refusals reported`);
  assert.ok(['unreachable', 'retrying'].includes(a.peerState(b.id)), `A sees B ${a.peerState(b.id)}`);
  assert.equal(a.meeting.state, 'joined', 'the meeting itself goes on');
  assert.deepEqual(a.meeting._browser._timers.size, a.meeting._client.activeTimerCount(), "the shim's timers are the core's");
});

test('a peer connection refused once: the fresh one connects', T, async () => {
  const net = fakeNetwork();
  const meeting = await newMeetingId(srv);
  const a = await join(meeting, 'A', net);
  net.refusePeerConnections = 1;  // B's first connection to A
  const b = await join(meeting, 'B', net);
  await waitFor(() => a.peerState(b.id) === 'connected' && b.peerState(a.id) === 'connected', 5000, 'A and B connected',
    { describe: () => `${a.tail(20)}\n${b.tail(20)}` });
  assert.equal(net.refusePeerConnections, 0);
  assert.equal(b.of('error').length, 0);
});

// ---- a scripted v2 signaling server ---------------------------------------------------

const TURN_A = [{ urls: 'turn:turn.example:3478', username: '100:p-a', credential: 'a' }];
const TURN_B = [{ urls: 'turn:turn.example:3478', username: '200:p-a', credential: 'b' }];

async function scriptedServer({ relayOnly }) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const received = [];
  let socket = null;
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data));
      received.push(msg);
      if (msg.type === 'join')
        ws.send(JSON.stringify({
          type: 'welcome', self: 'p-a', resume: 'tok', meeting: { id: msg.meeting, name: 'Relay' },
          // p-0 sorts before p-a: we are the impolite end and make the first offer.
          peers: [{ id: 'p-0', name: 'Ghost' }], iceServers: TURN_A, relayOnly, heartbeat: { interval: 10000, timeout: 30000 },
        }));
    });
  });
  cleanups.push(() => new Promise((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(resolve);
  }));
  const url = `http://127.0.0.1:${wss.address().port}`;
  const fetch = async () => new Response(JSON.stringify({ id: 'x', name: 'Relay', createdAt: '2025-01-01T00:00:00Z', participants: 1, relayOnly }),
    { status: 200, headers: { 'content-type': 'application/json' } });
  return { url, fetch, received, send: (msg) => socket.send(JSON.stringify(msg)) };
}

function candidateLines(signal) {
  const d = signal.data;
  if (d.candidate) return [d.candidate.candidate];
  return (d.description?.sdp ?? '').split('\r\n').filter((l) => l.startsWith('a=candidate:')).map((l) => l.slice(2));
}

test('relay-only welcome: iceTransportPolicy relay, meeting.relayOnly, no non-relay candidate sent; ice-servers applied with setConfiguration', T, async () => {
  const net = fakeNetwork();
  const server = await scriptedServer({ relayOnly: true });
  const meetingId = 'abcdefghijklmnopqrstuvwxyz0123';
  const a = await join(meetingId, 'A', net, { server: server.url, fetch: server.fetch });
  assert.equal(a.meeting.relayOnly, true);
  await waitFor(() => net.pcs.some((pc) => pc.owner === 'A'), 2000, 'a connection to the ghost');
  const pc = net.pcs.find((p) => p.owner === 'A');
  assert.equal(pc.getConfiguration().iceTransportPolicy, 'relay');
  assert.deepEqual(pc.getConfiguration().iceServers, TURN_A);

  // The fake browser gathers host candidates whatever the policy: they must not leave.
  const signals = () => server.received.filter((m) => m.type === 'signal');
  await waitFor(() => signals().some((m) => m.data.description?.type === 'offer'), 3000, 'our offer');
  await sleep(300);  // the trickled candidates
  const sent = signals().flatMap(candidateLines);
  assert.deepEqual(sent.filter((l) => !/ typ relay( |$)/.test(l)), [], 'only relay candidates on the wire');
  assert.ok(a.logs.some((l) => /relay-only: a local non-relay candidate was not sent/.test(l.detail)), 'host candidates were gathered and held back');

  // Fresh TURN credentials: the live connection gets them, the policy stays.
  server.send({ type: 'ice-servers', iceServers: TURN_B });
  await waitFor(() => pc.getConfiguration().iceServers?.[0]?.credential === 'b', 2000, 'setConfiguration with the fresh list');
  assert.equal(pc.getConfiguration().iceTransportPolicy, 'relay');
});

test('fresh ICE servers the browser refuses (a turn: URL without credentials) leave the connection as it was and the meeting going; the next good list is applied', T, async () => {
  const net = fakeNetwork();
  const server = await scriptedServer({ relayOnly: false });
  const a = await join('abcdefghijklmnopqrstuvwxyz0125', 'A', net, { server: server.url, fetch: server.fetch });
  await waitFor(() => net.pcs.some((pc) => pc.owner === 'A'), 2000, 'a connection to the ghost');
  const pc = net.pcs.find((p) => p.owner === 'A');
  server.send({ type: 'ice-servers', iceServers: [{ urls: 'turn:turn.example:3478' }] });
  await waitFor(() => a.logs.some((l) => l.machine === 'shim' && /set-configuration threw InvalidAccessError/.test(l.detail)), 2000,
    'the refusal reported', { describe: () => a.tail(20) });
  assert.deepEqual(pc.getConfiguration().iceServers, TURN_A, 'the connection keeps the servers it had');
  assert.equal(a.meeting.state, 'joined');
  server.send({ type: 'ice-servers', iceServers: TURN_B });
  await waitFor(() => pc.getConfiguration().iceServers?.[0]?.credential === 'b', 2000, 'the next good list applied');
});

test('an ordinary welcome: no transport policy, meeting.relayOnly false', T, async () => {
  const net = fakeNetwork();
  const server = await scriptedServer({ relayOnly: false });
  const a = await join('abcdefghijklmnopqrstuvwxyz0124', 'A', net, { server: server.url, fetch: server.fetch });
  assert.equal(a.meeting.relayOnly, false);
  await waitFor(() => net.pcs.some((pc) => pc.owner === 'A'), 2000, 'a connection to the ghost');
  assert.equal(net.pcs.find((p) => p.owner === 'A').getConfiguration().iceTransportPolicy, undefined);
});
