// Signal relay: from stamping, opaque data, ordering, unknown-peer, data type.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, Client, sleep, metrics, mval,
} from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer([...FAST, '--msg-rate', '2000']);
}, T);

after(async () => { await finishAll(srv); }, T);

async function pair(names = ['alice', 'bob']) {
  const m = await createMeeting(srv.url, {});
  const cs = [];
  for (const n of names) {
    const c = await Client.connect(srv.wsUrl);
    await c.join(m.id, n);
    cs.push(c);
  }
  // drain peer-joined notices
  for (let i = 0; i < cs.length; i++) {
    for (let j = i + 1; j < cs.length; j++) await cs[i].next((x) => x.type === 'peer-joined' && x.peer.id === cs[j].self);
  }
  return { m, cs };
}

const closeAll = (cs) => cs.forEach((c) => c.close(1000));

test('signal is relayed with from stamped and data deep-equal', T, async () => {
  const { cs: [a, b] } = await pair();
  const data = {
    kind: 'offer',
    sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n',
    nested: { arr: [1, 2.5, -3, { x: null, y: [true, false] }], empty: {}, emptyArr: [] },
    unicode: 'ü ñ 中文 😀 \u2028 \u0000 "quoted" back\\slash \t tab',
    numbers: [0, -0.5, 1e-7, 123456789012345, 1.7976931348623157e308],
  };
  a.send({ type: 'signal', to: b.self, data });
  const s = await b.next('signal');
  assert.equal(s.from, a.self);
  assert.deepEqual(s.data, data);
  assert.deepEqual(Object.keys(s).sort(), ['data', 'from', 'type']);
  // the sender gets nothing back
  await sleep(150);
  assert.deepEqual(a.pending(), []);
  closeAll([a, b]);
});

test('from is always stamped by the server (a forged from is ignored)', T, async () => {
  const { cs: [a, b, c] } = await pair(['alice', 'bob', 'carol']);
  a.send({ type: 'signal', to: b.self, from: c.self, data: { n: 1 } });
  const s = await b.next('signal');
  assert.equal(s.from, a.self);
  assert.deepEqual(s.data, { n: 1 });
  await sleep(100);
  assert.equal(c.pending('signal').length, 0, 'only the addressee receives a signal');
  closeAll([a, b, c]);
});

test('an empty object and a ~60 KB object are relayed', T, async () => {
  const { cs: [a, b] } = await pair();
  a.send({ type: 'signal', to: b.self, data: {} });
  assert.deepEqual((await b.next('signal')).data, {});
  const big = { blob: 'x'.repeat(60000), list: Array.from({ length: 50 }, (_, i) => ({ i })) };
  a.send({ type: 'signal', to: b.self, data: big });
  assert.deepEqual((await b.next('signal')).data, big);
  closeAll([a, b]);
});

test('200 signals each way arrive complete and in order', T, async () => {
  const { cs: [a, b] } = await pair();
  for (let i = 0; i < 200; i++) {
    a.send({ type: 'signal', to: b.self, data: { seq: i, pad: 'a'.repeat(i) } });
    b.send({ type: 'signal', to: a.self, data: { seq: i } });
  }
  const gotB = [];
  const gotA = [];
  for (let i = 0; i < 200; i++) gotB.push((await b.next('signal', 5000)).data.seq);
  for (let i = 0; i < 200; i++) gotA.push((await a.next('signal', 5000)).data.seq);
  const expected = Array.from({ length: 200 }, (_, i) => i);
  assert.deepEqual(gotB, expected);
  assert.deepEqual(gotA, expected);
  assert.equal(a.pending('error').length + b.pending('error').length, 0);
  closeAll([a, b]);
});

test('unknown-peer: nobody, yourself, a peer of another meeting, a peer who left', T, async () => {
  const { cs: [a, b] } = await pair();
  const { cs: [x] } = await pair(['xavier']);
  const targets = [['nobody', 'no such peer'], [a.self, 'yourself'], [x.self, 'peer in another meeting']];
  for (const [to, what] of targets) {
    a.send({ type: 'signal', to, data: { secret: what } });
    const e = await a.next('error');
    assert.equal(e.code, 'unknown-peer', what);
    if ('ref' in e) assert.equal(e.ref, 'signal');
  }
  await sleep(100);
  assert.equal(x.pending('signal').length, 0, 'no cross-meeting relay');
  assert.equal(a.pending('signal').length, 0, 'no self relay');
  b.send({ type: 'leave' });
  await b.waitClosed();
  await a.next('peer-left');
  a.send({ type: 'signal', to: b.self, data: {} });
  assert.equal((await a.next('error')).code, 'unknown-peer', 'a peer who left cleanly');
  // errors never drop a joined participant
  a.send({ type: 'ping', t: 3 });
  assert.equal((await a.next('pong')).t, 3);
  closeAll([a, x]);
});

test('data must be a JSON object: array, null, string, number, bool, missing → bad-message', T, async () => {
  const { cs: [a, b] } = await pair();
  const bad = [
    { type: 'signal', to: b.self, data: [] },
    { type: 'signal', to: b.self, data: [{ sdp: 'x' }] },
    { type: 'signal', to: b.self, data: null },
    { type: 'signal', to: b.self, data: 'v=0' },
    { type: 'signal', to: b.self, data: 5 },
    { type: 'signal', to: b.self, data: true },
    { type: 'signal', to: b.self },
    { type: 'signal', data: {} },
    { type: 'signal', to: 5, data: {} },
    { type: 'signal', to: null, data: {} },
    { type: 'signal', to: [b.self], data: {} },
  ];
  for (const msg of bad) {
    a.send(msg);
    const e = await a.next('error');
    assert.equal(e.code, 'bad-message', JSON.stringify(msg));
  }
  await sleep(150);
  assert.equal(b.pending('signal').length, 0, 'nothing was relayed');
  a.send({ type: 'signal', to: b.self, data: { ok: 1 } });
  assert.deepEqual((await b.next('signal')).data, { ok: 1 }, 'still joined after errors');
  closeAll([a, b]);
});

test('peer-joined for X reaches every member before any signal from X', T, async () => {
  const m = await createMeeting(srv.url, {});
  const members = [];
  for (let i = 0; i < 3; i++) {
    const c = await Client.connect(srv.wsUrl);
    await c.join(m.id, `m${i}`);
    members.push(c);
  }
  for (let round = 0; round < 12; round++) {
    const x = await Client.connect(srv.wsUrl);
    // signal everyone the instant the welcome is parsed (same tick)
    x.ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.type === 'welcome') {
        for (const p of msg.peers) x.send({ type: 'signal', to: p.id, data: { hello: round } });
      }
    });
    x.send({ type: 'join', meeting: m.id, name: `x${round}` });
    const w = await x.next('welcome');
    for (const mem of members) {
      const first = await mem.next((msg) => (msg.type === 'peer-joined' && msg.peer.id === w.self) || (msg.type === 'signal' && msg.from === w.self));
      assert.equal(first.type, 'peer-joined', `round ${round}: signal from ${w.self} arrived before its peer-joined`);
      const s = await mem.next((msg) => msg.type === 'signal' && msg.from === w.self);
      assert.deepEqual(s.data, { hello: round });
    }
    x.send({ type: 'leave' });
    await x.waitClosed();
    for (const mem of members) await mem.next((msg) => msg.type === 'peer-left' && msg.peer === w.self);
  }
  closeAll(members);
});

test('messages in/out counters count relayed signals', T, async () => {
  const { cs: [a, b] } = await pair();
  const m0 = await metrics(srv.url);
  for (let i = 0; i < 10; i++) a.send({ type: 'signal', to: b.self, data: { i } });
  for (let i = 0; i < 10; i++) await b.next('signal');
  const m1 = await metrics(srv.url);
  assert.ok(mval(m1, 'meshmeet_messages_in_total') - mval(m0, 'meshmeet_messages_in_total') >= 10);
  assert.ok(mval(m1, 'meshmeet_messages_out_total') - mval(m0, 'meshmeet_messages_out_total') >= 10);
  closeAll([a, b]);
});
