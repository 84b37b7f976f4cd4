// Errors of the public API, through the built package and the real server:
// each rejects with a MeshmeetError carrying the documented `code`, and none
// leaves a C++ client object behind (liveCoreObjects is unchanged).
//
// Kept in its own file: a leaked core object would otherwise show up in every
// later leak check of the same process.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { createMeeting, getMeeting, joinMeeting, liveCoreObjects, Meeting, MeshmeetError, preload } from '../../dist/meshmeet.js';
import { createFakeWebRTC } from './fake-webrtc.mjs';
import { Recorder, newMeetingId, startServer, waitFor, withTimeout } from './harness.mjs';

const T = { timeout: 20000 };
let srv;
const { network, RTCPeerConnection } = createFakeWebRTC();

before(async () => {
  srv = await startServer();
});
after(async () => {
  network.stop();
  await srv?.stop();
});

/** Asserts `call()` rejects with a MeshmeetError of `code` and that no core object leaked. */
async function rejectsCleanly(call, code, what) {
  const before = await liveCoreObjects();
  await assert.rejects(call(), (e) => {
    assert.ok(e instanceof MeshmeetError, `${what}: a MeshmeetError (got ${e?.name}: ${e?.message})`);
    assert.equal(e.name, 'MeshmeetError');
    assert.equal(e.code, code, `${what}: code`);
    return true;
  });
  assert.equal(await liveCoreObjects(), before, `${what}: no core client object leaked`);
}

/** A `ws` WebSocket class that records its instances. */
function recordingWebSocket(options = {}) {
  const made = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url, protocols, wsOptions) {
      super(url, protocols, { ...wsOptions, ...options });
      made.push(this);
    }
  }
  return { made, RecordingWebSocket };
}

test('joinMeeting: a meeting that does not exist → meeting-not-found at once, its WebSocket closed', T, async () => {
  const { made, RecordingWebSocket } = recordingWebSocket();
  const t0 = Date.now();
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'a'.repeat(30), RTCPeerConnection, WebSocket: RecordingWebSocket }), 'meeting-not-found', 'unknown meeting');
  assert.ok(Date.now() - t0 < 3000, `rejected at once (${Date.now() - t0} ms; the join timeout is 15000)`);
  // The lookup runs beside the socket: whichever answered first, nothing is left open.
  await waitFor(() => made.every((ws) => ws.readyState === WebSocket.CLOSED), 3000, 'every WebSocket closed');
});

test('joinMeeting: the HTTP lookup runs beside the WebSocket, not before it', T, async () => {
  const meeting = await newMeetingId(srv);
  // A lookup that never answers (until the join gives it up) must not hold the join back.
  let lookups = 0;
  const fetchNever = (url, { signal }) => {
    lookups += 1;
    return new Promise((resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
  };
  const m = await joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, fetch: fetchNever, joinTimeoutMs: 4000 });
  try {
    assert.equal(m.state, 'joined');
    assert.equal(lookups, 1, 'the meeting was looked up');
  } finally {
    await m.leave();
  }
});

test('joinMeeting: an Origin the server does not allow → forbidden-origin at once (not server-unreachable after the join timeout)', T, async () => {
  const meeting = await newMeetingId(srv);
  // The server's default allow-list: its own origin and localhost.
  let t0 = Date.now();
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, origin: 'https://evil.example' }), 'forbidden-origin', 'origin option');
  assert.ok(Date.now() - t0 < 3000, `rejected at once (${Date.now() - t0} ms; the join timeout is 15000)`);
  // The same when the WebSocket sets the Origin itself: the refusal is seen
  // from the HTTP answer, not from the option.
  const { made, RecordingWebSocket } = recordingWebSocket({ origin: 'https://evil.example' });
  t0 = Date.now();
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket: RecordingWebSocket }), 'forbidden-origin', 'origin set by the WebSocket');
  assert.ok(Date.now() - t0 < 3000, `rejected at once (${Date.now() - t0} ms)`);
  assert.ok(made.length >= 1, 'a WebSocket was tried');
  // An allowed origin joins.
  const m = await joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, origin: 'http://localhost:4000' });
  try {
    assert.equal(m.state, 'joined');
  } finally {
    await m.leave();
  }
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, origin: 42 }), 'invalid-argument', 'origin not a string');
});

test('joinMeeting while the server shuts down (upgrades refused, /healthz 503): server-unreachable, not forbidden-origin', T, async (t) => {
  const own = await startServer();
  const meeting = await newMeetingId(own);
  // A WebSocket that never answers the close frame keeps the server draining (up to 3 s).
  const raw = net.connect(own.port, '127.0.0.1');
  t.after(() => raw.destroy());
  let received = '';
  raw.on('data', (d) => (received += d.toString('latin1')));
  raw.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${own.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await waitFor(() => received.startsWith('HTTP/1.1 101'), 3000, 'the raw upgrade');
  const stopped = own.stop();
  const health = async () => {
    try {
      return (await fetch(`${own.url}/healthz`)).status;
    } catch {
      return 0;
    }
  };
  await waitFor(async () => (await health()) === 503, 2000, '/healthz to answer 503 (draining)');
  await rejectsCleanly(
    () => joinMeeting({ server: own.url, meeting, RTCPeerConnection, WebSocket, joinTimeoutMs: 1000, coreOptions: { reconnectBaseMs: 50, reconnectCapMs: 200 } }),
    'server-unreachable',
    'joining a draining server',
  );
  // Still draining when the join was given up: it was refused by a server
  // that is shutting down, not found already gone.
  assert.equal(await health(), 503, '/healthz right after the join was rejected');
  raw.destroy();
  await stopped;
});

test('joinMeeting: a meeting at its room cap → meeting-full at once; the one inside stays', T, async (t) => {
  const own = await startServer({ args: ['--room-cap', '1'] });
  t.after(() => own.stop());
  const meeting = await newMeetingId(own);
  const first = await joinMeeting({ server: own.url, meeting, RTCPeerConnection, WebSocket });
  t.after(() => first.dispose());
  const t0 = Date.now();
  await rejectsCleanly(() => joinMeeting({ server: own.url, meeting, RTCPeerConnection, WebSocket }), 'meeting-full', 'second member');
  assert.ok(Date.now() - t0 < 3000, `rejected at once (${Date.now() - t0} ms)`);
  assert.equal(first.state, 'joined');
  assert.equal(first.peers.size, 0);
  await first.leave();
  // Room again.
  const second = await joinMeeting({ server: own.url, meeting, RTCPeerConnection, WebSocket });
  await second.leave();
});

test('server error codes outside ErrorCode become server-error (unavailable: server-unreachable), the server\'s code kept in serverCode', T, async () => {
  const answer = (status, body) => async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  await assert.rejects(getMeeting(srv.url, 'x'.repeat(30), { fetch: answer(502, { error: { code: 'bad-gateway', message: 'proxy trouble' } }) }), (e) => {
    assert.ok(e instanceof MeshmeetError);
    assert.equal(e.code, 'server-error');
    assert.equal(e.serverCode, 'bad-gateway');
    assert.equal(e.status, 502);
    assert.equal(e.message, 'proxy trouble');
    return true;
  });
  // 'unavailable' (503: shutting down) is as good as unreachable: try again later.
  await assert.rejects(getMeeting(srv.url, 'x'.repeat(30), { fetch: answer(503, { error: { code: 'unavailable', message: 'try again' } }) }),
    { code: 'server-unreachable', serverCode: 'unavailable', status: 503 });
  await assert.rejects(createMeeting(srv.url, { fetch: answer(404, { error: { code: 'not-found', message: 'no such endpoint' } }) }), { code: 'server-error', serverCode: 'not-found', status: 404 });
  // Known codes pass through unchanged; a body without a code is a plain server-error.
  await assert.rejects(createMeeting(srv.url, { fetch: answer(429, { error: { code: 'rate-limited', message: 'slow down' } }) }), (e) => e.code === 'rate-limited' && e.serverCode === undefined);
  await assert.rejects(createMeeting(srv.url, { fetch: async () => new Response('oops', { status: 500 }) }), (e) => e.code === 'server-error' && e.serverCode === undefined && e.status === 500);
});

test('a Meeting cannot be made by hand (it would have no core): only joinMeeting makes one', T, async () => {
  const before = await liveCoreObjects();
  assert.throws(() => new Meeting(), (e) => e instanceof TypeError && /joinMeeting/.test(e.message));
  assert.throws(() => new Meeting({}, {}, {}), TypeError);
  assert.equal(await liveCoreObjects(), before);
});

test('joinMeeting: missing server/meeting and bad core options → invalid-argument', T, async () => {
  await rejectsCleanly(() => joinMeeting(), 'invalid-argument', 'no options');
  await rejectsCleanly(() => joinMeeting({ server: srv.url }), 'invalid-argument', 'no meeting');
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'm', RTCPeerConnection, WebSocket, coreOptions: { statsIntervalMs: -1 } }), 'invalid-argument', 'negative option');
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'm', RTCPeerConnection, WebSocket, iceServers: 'stun:x' }), 'invalid-argument', 'iceServers not an array');
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'm', RTCPeerConnection, WebSocket, coreOptions: { reconectBaseMs: 50 } }), 'invalid-argument', 'a misspelt option');
  for (const key of ['seed', 'uplinkKbps', 'iceServers', 'debugLog', 'entropy'])
    await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'm', RTCPeerConnection, WebSocket, coreOptions: { [key]: 1 } }), 'invalid-argument', `coreOptions.${key}`);
});

test('joinMeeting: a server URL that is not http(s)/ws(s) → invalid-argument, without leaking a core object', T, async () => {
  await rejectsCleanly(() => joinMeeting({ server: 'ftp://example.com', meeting: 'm', RTCPeerConnection, WebSocket }), 'invalid-argument', 'ftp: URL');
});

test('joinMeeting: no WebSocket / RTCPeerConnection implementation (Node 20 has neither) → invalid-argument, without leaking', T, async () => {
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'm', RTCPeerConnection }), 'invalid-argument', 'no WebSocket');
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting: 'm', WebSocket }), 'invalid-argument', 'no RTCPeerConnection');
});

test('joinMeeting: nothing listening → rejects with server-unreachable after joinTimeoutMs (index.d.ts)', T, async () => {
  // Every socket goes to a closed port until the test ends; then to the real
  // server, where the join fails with meeting-not-found, so a join that never
  // settled still ends and frees its core object.
  let target = 'ws://127.0.0.1:9/ws';
  class RedirectedWebSocket extends WebSocket {
    constructor(url, ...rest) {
      super(target, ...rest);
    }
  }
  const before = await liveCoreObjects();
  const p = joinMeeting({
    server: 'http://127.0.0.1:9', meeting: 'b'.repeat(30), RTCPeerConnection, WebSocket: RedirectedWebSocket,
    coreOptions: { reconnectBaseMs: 10, reconnectCapMs: 50, connectTimeoutMs: 200 },
    joinTimeoutMs: 2000,
  });
  const settled = p.then(() => 'joined', (e) => e);
  const outcome = await withTimeout(settled, 5000, 'joinMeeting against a closed port to settle').catch((e) => e);
  try {
    assert.ok(outcome instanceof MeshmeetError, `rejects with a MeshmeetError (got: ${outcome?.message ?? outcome})`);
    assert.equal(outcome.code, 'server-unreachable');
  } finally {
    target = srv.wsUrl;
    const last = await withTimeout(settled, 5000, 'the redirected join to end');
    assert.ok(last instanceof MeshmeetError);
    assert.equal(await liveCoreObjects(), before, 'no core object leaked');
  }
});

test('joinMeeting: an AbortSignal aborts the join as it would a fetch (its reason, at once), leaving nothing behind', T, async (t) => {
  const before = await liveCoreObjects();
  const meeting = await newMeetingId(srv);
  // Aborted already: refused before anything starts.
  const early = new AbortController();
  early.abort();
  await assert.rejects(joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, signal: early.signal }), (e) => e.name === 'AbortError');
  // Aborted while the server does not answer the WebSocket: rejected with the reason given, long before joinTimeoutMs.
  const silent = net.createServer(() => {});  // accepts, never answers the upgrade
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => silent.close());
  const silentUrl = `ws://127.0.0.1:${silent.address().port}/ws`;
  class SilentWebSocket extends WebSocket {
    constructor(url, ...rest) {
      super(silentUrl, ...rest);
    }
  }
  const controller = new AbortController();
  const started = Date.now();
  const join = joinMeeting({
    server: srv.url, meeting, RTCPeerConnection, WebSocket: SilentWebSocket, joinTimeoutMs: 10000, signal: controller.signal,
  });
  setTimeout(() => controller.abort(new Error('the person closed the dialog')), 300);
  await assert.rejects(withTimeout(join, 5000, 'the aborted join to settle'), /the person closed the dialog/);
  assert.ok(Date.now() - started < 3000, `rejected at the abort (${Date.now() - started} ms), not at joinTimeoutMs`);
  assert.equal(await liveCoreObjects(), before, 'no core object leaked');
  // Not a signal: a usage error.
  await rejectsCleanly(() => joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, signal: {} }), 'invalid-argument', 'a non-signal');
});

test('preload: twice, it leaves no core client object behind, and a join right after opens its one WebSocket and joins', T, async () => {
  const before = await liveCoreObjects();
  const { made, RecordingWebSocket } = recordingWebSocket();
  await preload();
  await preload();  // again: the same loaded core, warmed once more
  assert.equal(await liveCoreObjects(), before, 'no core client object left behind');
  // A join right after still works with its own socket.
  const m = await joinMeeting({ server: srv.url, meeting: await newMeetingId(srv), RTCPeerConnection, WebSocket: RecordingWebSocket });
  try {
    assert.equal(m.state, 'joined');
    assert.equal(made.length, 1, 'the one WebSocket is the join\'s');
  } finally {
    await m.leave();
  }
});

test('createMeeting / getMeeting: ids, links and errors', T, async () => {
  const m = await createMeeting(srv.url, { name: 'API' });
  assert.match(m.id, /^[a-z0-9_-]{25,40}$/);
  assert.equal(m.name, 'API');
  assert.equal(m.link, `${srv.url}/m/${m.id}`);
  const viaWs = await createMeeting(srv.wsUrl.replace('/ws', ''), {});
  assert.match(viaWs.id, /^[a-z0-9_-]{25,40}$/, 'a ws:// base URL works too');
  const info = await getMeeting(srv.url, m.id);
  assert.equal(info.id, m.id);
  assert.equal(info.participants, 0);
  await assert.rejects(getMeeting(srv.url, 'b'.repeat(30)), { name: 'MeshmeetError', code: 'meeting-not-found', status: 404 });
  await assert.rejects(createMeeting(srv.url, { name: 'x'.repeat(65) }), { code: 'bad-request', status: 400 });
  await assert.rejects(createMeeting('http://127.0.0.1:9', {}), { code: 'server-unreachable' });
  await assert.rejects(createMeeting('nonsense url', {}), { code: 'invalid-argument' });
});

// The other refusals of send() need peers: tests/node/app-data.test.mjs.
test('send() alone in a meeting: to everyone resolves, to an unknown id is unknown-peer naming it; after leave and dispose, not-joined', T, async () => {
  const meeting = await newMeetingId(srv);
  const rec = new Recorder('send-errors');
  const m = await joinMeeting({ server: srv.url, meeting, RTCPeerConnection, WebSocket, logger: rec.logger });
  rec.attach(m);
  try {
    await m.send('hello?');  // nobody to send to: nothing to refuse
    await assert.rejects(m.send('hello?', { to: 'nobody-here' }), { name: 'MeshmeetError', code: 'unknown-peer', peer: 'nobody-here' });
    assert.deepEqual(rec.of('error'), [], 'a refused send is the promise\'s, not an error event');
  } finally {
    await m.leave();
  }
  assert.equal(m.state, 'left');
  await m.leave(); // idempotent
  await assert.rejects(m.send('after leaving'), { code: 'not-joined' });
  m.dispose();
  await assert.rejects(m.send('after dispose'), { code: 'not-joined' });
});
