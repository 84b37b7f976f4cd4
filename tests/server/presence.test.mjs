// Presence and departure: clean leave, unclean drop, resume, held slots, heartbeat.
// Server timings: --resume-grace 1 --heartbeat-interval 0.5 --heartbeat-timeout 1.5
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, metrics, mval, Client, RawWs, sleep, waitFor, fakeId,
} from './harness.mjs';

let srv; // FAST timings
let cap2; // FAST + --room-cap 2

before(async () => {
  [srv, cap2] = await Promise.all([
    startServer(FAST),
    startServer([...FAST, '--room-cap', '2']),
  ]);
}, T);

after(async () => { await finishAll(srv, cap2); }, T);

const GRACE = 1000;

async function meetingWith(s, names, opts = []) {
  const m = await createMeeting(s.url, { name: 'presence' });
  const cs = [];
  for (let i = 0; i < names.length; i++) {
    const c = await Client.connect(s.wsUrl, opts[i] || {});
    await c.join(m.id, names[i]);
    cs.push(c);
  }
  for (let i = 0; i < cs.length; i++) {
    for (let j = i + 1; j < cs.length; j++) await cs[i].next((x) => x.type === 'peer-joined' && x.peer.id === cs[j].self);
  }
  return { m, cs };
}

const participants = async (s, id) => (await get(s.url, `/api/meetings/${id}`)).json.participants;
const isPresence = (m) => m.type === 'peer-left' || m.type === 'peer-joined';

test('leave: others get peer-left "left" within 1 s; the socket is closed with 1000', T, async () => {
  const { m, cs: [a, b, c] } = await meetingWith(srv, ['alice', 'bob', 'carol']);
  const t0 = Date.now();
  b.send({ type: 'leave' });
  const pa = await a.next('peer-left', 1000);
  const pc = await c.next('peer-left', 1000);
  assert.ok(Date.now() - t0 <= 1000);
  assert.deepEqual(pa, { type: 'peer-left', peer: b.self, reason: 'left' });
  assert.deepEqual(pc, { type: 'peer-left', peer: b.self, reason: 'left' });
  const { code } = await b.waitClosed(2000);
  assert.equal(code, 1000);
  assert.equal(b.pending('peer-left').length, 0, 'the leaver is not told about itself');
  assert.equal(await participants(srv, m.id), 2);
  // the token of a clean leave is no longer valid
  const b2 = await Client.connect(srv.wsUrl);
  const r = await b2.tryJoin(m.id, 'bob', b.token);
  assert.equal(r.type, 'error');
  assert.equal(r.code, 'bad-resume');
  a.close(1000);
  c.close(1000);
  b2.close(1000);
});

for (const code of [1000, 1001, 4000, undefined]) {
  test(`close frame ${code ?? 'without a code'} → peer-left "left" within 1 s`, T, async () => {
    const { m, cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
    const t0 = Date.now();
    b.close(code);
    const pl = await a.next('peer-left', 1000);
    assert.ok(Date.now() - t0 <= 1000);
    assert.deepEqual(pl, { type: 'peer-left', peer: b.self, reason: 'left' });
    assert.equal(await participants(srv, m.id), 1);
    a.close(1000);
  });
}

// Close frames a WebSocket library would refuse (reserved codes, a 1-byte
// payload, a reason that is not UTF-8) are close frames all the same: the
// protocol says any close frame is a clean leave.
const oddCloses = [
  ['code 999', Buffer.from([0x03, 0xe7])],
  ['reserved code 1005', Buffer.from([0x03, 0xed])],
  ['reserved code 1006', Buffer.from([0x03, 0xee])],
  ['reserved code 1015', Buffer.from([0x03, 0xf7])],
  ['a 1-byte payload', Buffer.from([0x03])],
  ['a reason that is not UTF-8', Buffer.from([0x03, 0xe8, 0xc3, 0x28])],
];
for (const [what, payload] of oddCloses) {
  test(`close frame with ${what} → peer-left "left" within 1 s`, T, async () => {
    const m = await createMeeting(srv.url, { name: 'odd close' });
    const a = await Client.connect(srv.wsUrl);
    await a.join(m.id, 'alice');
    const r = await RawWs.connect(srv.port);
    await r.join(m.id, 'raw');
    await a.next((x) => x.type === 'peer-joined' && x.peer.id === r.welcome.self);
    const t0 = Date.now();
    r.sentClose = true;
    r.sendFrame(0x8, payload);
    const pl = await a.next('peer-left', 1000);
    assert.ok(Date.now() - t0 <= 1000);
    assert.deepEqual(pl, { type: 'peer-left', peer: r.welcome.self, reason: 'left' });
    assert.equal(await participants(srv, m.id), 1);
    r.destroy();
    a.close(1000);
  });
}

test('unclean drop: nothing during the grace, then peer-left "disconnected"', T, async () => {
  const before = await metrics(srv.url);
  const { m, cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  const t0 = Date.now();
  b.drop();
  // Once the server has seen the drop, the slot is held for the grace: read
  // it then, rather than late in the grace, where a slow run could pass its end.
  const dropped = async () => mval(await metrics(srv.url), 'meshmeet_disconnects_total', { reason: 'dropped' });
  const droppedBefore = mval(before, 'meshmeet_disconnects_total', { reason: 'dropped' });
  await waitFor(async () => (await dropped()) > droppedBefore, 3000, 'the server to see the drop');
  assert.equal(await participants(srv, m.id), 2, 'a held slot counts toward participants');
  await sleep(GRACE / 2);
  assert.deepEqual(a.pending(isPresence), [], 'others are not told during the grace');
  const pl = await a.next('peer-left', 3000);
  const dt = Date.now() - t0;
  assert.deepEqual(pl, { type: 'peer-left', peer: b.self, reason: 'disconnected' });
  assert.ok(dt >= GRACE - 100, `peer-left after ${dt} ms, grace is ${GRACE} ms`);
  assert.ok(dt <= GRACE + 2000, `peer-left after ${dt} ms`);
  assert.equal(await participants(srv, m.id), 1);
  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_resume_expired_total') - mval(before, 'meshmeet_resume_expired_total'), 1);
  assert.equal(mval(after1, 'meshmeet_disconnects_total', { reason: 'dropped' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'dropped' }), 1);
  // after the grace the token is expired
  const b2 = await Client.connect(srv.wsUrl);
  const r = await b2.tryJoin(m.id, 'bob', b.token);
  assert.equal(r.code, 'bad-resume');
  assert.ok(b2.isOpen, 'bad-resume leaves the socket open');
  const w = await b2.join(m.id, 'bob');
  assert.notEqual(w.self, b.self, 'a fresh join gets a new identity');
  a.close(1000);
  b2.close(1000);
});

test('resume within the grace keeps self, hands a fresh token and kills the earlier one; others see nothing', T, async () => {
  const before = await metrics(srv.url);
  const { m, cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  const token = b.token;
  b.drop();
  await sleep(200);
  const b2 = await Client.connect(srv.wsUrl);
  const w = await b2.join(m.id, 'robert', token);
  assert.equal(w.self, b.self, 'resume takes back the earlier identity');
  assert.notEqual(w.resume, token, 'a fresh token at every welcome (protocol v2)');
  assert.deepEqual(w.meeting, { id: m.id, name: 'presence' });
  assert.deepEqual(w.peers, [{ id: a.self, name: 'alice' }], 'resumed client reconciles from welcome.peers');

  // again: drop and resume a second time, with the fresh token: the first one is dead
  b2.drop();
  await sleep(200);
  const b3 = await Client.connect(srv.wsUrl);
  assert.equal((await b3.tryJoin(m.id, undefined, token)).code, 'bad-resume', 'a leaked earlier token takes nothing over');
  const w3 = await b3.join(m.id, undefined, w.resume);
  assert.equal(w3.self, b.self);
  assert.notEqual(w3.resume, w.resume);

  await sleep(GRACE + 300); // longer than the grace: the resumed slot must not expire
  assert.deepEqual(a.pending(isPresence), [], 'no peer-joined/peer-left for a resume');

  // the name from the first join is kept
  const c = await Client.connect(srv.wsUrl);
  const wc = await c.join(m.id, 'carol');
  assert.deepEqual(wc.peers, [{ id: a.self, name: 'alice' }, { id: b.self, name: 'bob' }]);

  // signals still flow both ways with the old identity
  a.send({ type: 'signal', to: b.self, data: { x: 1 } });
  assert.deepEqual((await b3.next('signal')).data, { x: 1 });
  b3.send({ type: 'signal', to: a.self, data: { y: 2 } });
  const s = await a.next('signal');
  assert.equal(s.from, b.self);

  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_resumes_total') - mval(before, 'meshmeet_resumes_total'), 2);
  for (const x of [a, b3, c]) x.close(1000);
});

test('bad-resume: unknown token, and a token of another meeting', T, async () => {
  const { m: m1, cs: [a] } = await meetingWith(srv, ['alice']);
  const { m: m2, cs: [x] } = await meetingWith(srv, ['xavier']);
  const c = await Client.connect(srv.wsUrl);
  let r = await c.tryJoin(m1.id, 'c', 'not-a-real-token-0123456789');
  assert.equal(r.type, 'error');
  assert.equal(r.code, 'bad-resume');
  r = await c.tryJoin(m1.id, 'c', '');
  assert.equal(r.code, 'bad-resume', 'empty token');
  r = await c.tryJoin(m2.id, 'c', a.token);
  assert.equal(r.code, 'bad-resume', "another meeting's token");
  r = await c.tryJoin(m1.id, 'c', x.token);
  assert.equal(r.code, 'bad-resume', "another meeting's token (other direction)");
  r = await c.tryJoin(m1.id, 'c', a.self);
  assert.equal(r.code, 'bad-resume', 'a peer id is not a token');
  // a's identity was not taken over, nobody was told anything
  await sleep(100);
  assert.deepEqual(a.pending(isPresence), []);
  assert.deepEqual(x.pending(isPresence), []);
  assert.ok(c.isOpen, 'bad-resume leaves the socket open');
  const w = await c.join(m1.id, 'carol');
  assert.notEqual(w.self, a.self);
  for (const y of [a, x, c]) y.close(1000);
});

test('resume while the old socket is still open closes the old socket silently', T, async () => {
  const { m, cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  const b2 = await Client.connect(srv.wsUrl);
  const w = await b2.join(m.id, 'bob', b.token);
  assert.equal(w.self, b.self);
  await b.waitClosed(2000);
  await sleep(GRACE + 300);
  assert.deepEqual(a.pending(isPresence), [], 'others see nothing');
  assert.equal(await participants(srv, m.id), 2);
  a.send({ type: 'signal', to: b.self, data: { to: 'new socket' } });
  assert.deepEqual((await b2.next('signal')).data, { to: 'new socket' });
  a.close(1000);
  b2.close(1000);
});

test('held slot counts toward the room cap', T, async () => {
  const { m, cs: [a, b] } = await meetingWith(cap2, ['alice', 'bob']);
  b.drop();
  await sleep(150);
  const c = await Client.connect(cap2.wsUrl);
  const r = await c.tryJoin(m.id, 'carol');
  assert.equal(r.code, 'meeting-full', 'the held slot is still taken');
  assert.deepEqual(await a.next('peer-left', 3000), { type: 'peer-left', peer: b.self, reason: 'disconnected' });
  const w = await c.join(m.id, 'carol');
  assert.deepEqual(w.peers, [{ id: a.self, name: 'alice' }]);
  a.close(1000);
  c.close(1000);
});

test("held slot appears in others' welcome.peers; all are told when it expires", T, async () => {
  const { m, cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  b.drop();
  await sleep(150);
  const c = await Client.connect(srv.wsUrl);
  const w = await c.join(m.id, 'carol');
  assert.deepEqual(w.peers, [{ id: a.self, name: 'alice' }, { id: b.self, name: 'bob' }]);
  const expect = { type: 'peer-left', peer: b.self, reason: 'disconnected' };
  assert.deepEqual(await a.next('peer-left', 3000), expect);
  assert.deepEqual(await c.next('peer-left', 3000), expect);
  a.close(1000);
  c.close(1000);
});

test('signals to a held slot are delivered in order after the resumed welcome', T, async () => {
  const { m, cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  b.drop();
  await sleep(150);
  for (let i = 0; i < 5; i++) a.send({ type: 'signal', to: b.self, data: { seq: i } });
  await sleep(100);
  assert.deepEqual(a.pending('error'), [], 'a held slot is not an unknown peer');
  const b2 = await Client.connect(srv.wsUrl);
  await b2.join(m.id, 'bob', b.token);
  for (let i = 5; i < 8; i++) a.send({ type: 'signal', to: b.self, data: { seq: i } });
  const seqs = [];
  for (let i = 0; i < 8; i++) seqs.push((await b2.next('signal', 3000)).data.seq);
  assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5, 6, 7]);
  const order = b2.log.map((e) => e.msg.type);
  assert.equal(order[0], 'welcome', `welcome comes first: ${order.join(',')}`);
  a.close(1000);
  b2.close(1000);
});

test('heartbeat: a client that never answers pings is dropped; others get peer-left "timeout"', T, async () => {
  const before = await metrics(srv.url);
  // The server last hears from `silent` at its join, after t0: peer-left is
  // due no earlier than timeout 1.5 s + grace 1 s after t0.
  const t0 = Date.now();
  const { cs: [a, silent] } = await meetingWith(srv, ['alice', 'silent'], [{}, { autoPong: false }]);
  let pings = 0;
  silent.ws.on('ping', () => { pings++; });
  await sleep(1500 - (Date.now() - t0));
  assert.deepEqual(a.pending(isPresence), [], 'nothing before heartbeat timeout + grace');
  const pl = await a.next('peer-left', 5000);
  const dt = Date.now() - t0;
  assert.deepEqual(pl, { type: 'peer-left', peer: silent.self, reason: 'timeout' });
  assert.ok(dt >= 2400, `peer-left after ${dt} ms: not before the heartbeat timeout and the grace`);
  assert.ok(dt <= 6000, `peer-left after ${dt} ms`);
  assert.ok(pings >= 2, `server sent ping frames (${pings})`);
  await silent.waitClosed(2000).catch(() => {});
  assert.ok(!silent.isOpen, 'the silent socket was closed by the server');
  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_disconnects_total', { reason: 'heartbeat' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'heartbeat' }), 1);
  a.close(1000);
});

test('heartbeat: a timed-out client can resume within the grace', T, async () => {
  const { m, cs: [a, silent] } = await meetingWith(srv, ['alice', 'silent'], [{}, { autoPong: false }]);
  await silent.waitClosed(4000);
  const again = await Client.connect(srv.wsUrl);
  const w = await again.join(m.id, undefined, silent.token);
  assert.equal(w.self, silent.self);
  await sleep(GRACE + 300);
  assert.deepEqual(a.pending(isPresence), []);
  a.close(1000);
  again.close(1000);
});

test('heartbeat: answering pings, or sending messages, keeps a client alive', T, async () => {
  const { cs: [a, ponger, talker] } = await meetingWith(srv, ['alice', 'ponger', 'talker'], [{}, {}, { autoPong: false }]);
  let pings = 0;
  ponger.ws.on('ping', () => { pings++; });
  const timer = setInterval(() => talker.send({ type: 'ping' }), 400);
  try {
    await sleep(3500);
  } finally {
    clearInterval(timer);
  }
  assert.ok(pings >= 4 && pings <= 12, `about one ping frame per 0.5 s: ${pings} in 3.5 s`);
  assert.ok(ponger.isOpen && talker.isOpen);
  assert.deepEqual(a.pending(isPresence), []);
  for (const x of [a, ponger, talker]) x.close(1000);
});

test('a raw client that never reads pings is also timed out (no close frame needed)', T, async () => {
  const m = await createMeeting(srv.url, {});
  const a = await Client.connect(srv.wsUrl);
  await a.join(m.id, 'alice');
  const r = await RawWs.connect(srv.port); // autoPong off
  const w = await r.join(m.id, 'raw');
  await a.next('peer-joined');
  await r.waitEnded(5000);
  const pings = r.frames.filter((f) => f.opcode === 0x9).length;
  assert.ok(pings >= 2, `ping frames seen: ${pings}`);
  assert.deepEqual(await a.next('peer-left', 3000), { type: 'peer-left', peer: w.self, reason: 'timeout' });
  a.close(1000);
});

// A connection reset while the server is writing to it (the client stopped
// reading, its window is full, a write is in flight) used to end the socket
// without telling the registry: the participant stayed in the room forever,
// its seat taken, listed in every newcomer's welcome. Every end is one end.
test('a participant reset while the server writes to it is held, then announced gone: no ghost', T, async () => {
  const s = await startServer(['--resume-grace', '1', '--msg-rate', '100000', '--send-queue', String(16 << 20),
    '--heartbeat-interval', '30', '--heartbeat-timeout', '60']);
  try {
    const { m, cs: [a, b] } = await meetingWith(s, ['alice', 'bob']);
    const bobId = b.self;
    b.pauseReading();
    // Enough to fill the kernel's buffers both ways, so a write is in flight.
    const data = { sdp: 'x'.repeat(32 * 1024) };
    for (let i = 0; i < 200; i++) a.send({ type: 'signal', to: bobId, data });
    await sleep(300);
    b.ws._socket.resetAndDestroy();  // TCP RST, no close frame
    const left = await a.next((x) => x.type === 'peer-left', GRACE + 4000);
    assert.deepEqual(left, { type: 'peer-left', peer: bobId, reason: 'disconnected' });
    const r = await get(s.url, `/api/meetings/${m.id}`);
    assert.equal(r.json.participants, 1, 'the seat is free again');
    const c = await Client.connect(s.wsUrl);
    const wc = await c.join(m.id, 'carol');
    assert.deepEqual(wc.peers.map((p) => p.name), ['alice'], 'no ghost in a newcomer\'s welcome');
    const met = await metrics(s.url);
    assert.equal(mval(met, 'meshmeet_participants'), 2);
    for (const x of [a, c]) x.close(1000);
  } finally {
    await finish(s);
  }
});
