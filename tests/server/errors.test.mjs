// Message-level errors, their order, frame violations and rate limiting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, metrics, mval, Client, RawWs, buildFrame, fakeId, sleep, waitFor,
} from './harness.mjs';

const MAX = 1024;
let srv; // --max-frame 1024, generous message rate
let rate; // --msg-rate 5 (burst 20)
let dflt; // defaults (except timings)

before(async () => {
  [srv, rate, dflt] = await Promise.all([
    startServer([...FAST, '--max-frame', String(MAX), '--msg-rate', '2000']),
    startServer(['--resume-grace', '1', '--msg-rate', '5']), // default 10 s join timeout: some tests idle unjoined
    startServer(['--resume-grace', '1']),
  ]);
}, T);

after(async () => { await finishAll(srv, rate, dflt); }, T);

const connect = (s = srv, opts) => Client.connect(s.wsUrl, opts);

async function expectError(c, raw, code, label) {
  c.send(raw);
  const e = await c.next('error');
  assert.equal(e.code, code, `${label ?? raw}: got ${JSON.stringify(e)}`);
  assert.equal(typeof e.message, 'string');
  return e;
}

async function meetingWith(s, names) {
  const m = await createMeeting(s.url, {});
  const cs = [];
  for (const n of names) {
    const c = await connect(s);
    await c.join(m.id, n);
    cs.push(c);
  }
  for (let i = 0; i < cs.length; i++) {
    for (let j = i + 1; j < cs.length; j++) await cs[i].next((x) => x.type === 'peer-joined' && x.peer.id === cs[j].self);
  }
  return { m, cs };
}

test('bad-json for text that is not JSON; socket stays open', T, async () => {
  const c = await connect();
  for (const raw of ['{', 'not json', '', ' ', "{'type':'ping'}", '{"type":"ping"} trailing', '{"type":"ping",}', 'NaN']) {
    const e = await expectError(c, raw, 'bad-json');
    assert.ok(!('ref' in e) || e.ref === undefined || e.ref === null, `bad-json cannot know a type: ${JSON.stringify(e)}`);
  }
  assert.ok(c.isOpen);
  c.send({ type: 'ping', t: 1 });
  assert.equal((await c.next('pong')).t, 1);
  c.close(1000);
});

test('bad-message: not an object, missing/non-string/unknown type', T, async () => {
  const c = await connect();
  const cases = [
    '[]', '[{"type":"ping"}]', '"ping"', '42', 'null', 'true',
    '{}', '{"t":1}', '{"type":5}', '{"type":null}', '{"type":{}}', '{"type":["ping"]}', '{"type":true}',
    '{"type":"nope"}', '{"type":"PING"}', '{"type":"welcome"}', '{"type":"pong"}', '{"type":""}', '{"type":"ping "}',
  ];
  for (const raw of cases) await expectError(c, raw, 'bad-message');
  assert.ok(c.isOpen);
  c.close(1000);
});

test('bad-message: missing, mistyped or too long fields', T, async () => {
  const m = await createMeeting(srv.url, {});
  const c = await connect();
  const cases = [
    { type: 'join' },
    { type: 'join', meeting: 5 },
    { type: 'join', meeting: null },
    { type: 'join', meeting: { id: m.id } },
    { type: 'join', meeting: [m.id] },
    { type: 'join', meeting: m.id, name: 5 },
    { type: 'join', meeting: m.id, name: null },
    { type: 'join', meeting: m.id, name: { n: 'x' } },
    { type: 'join', meeting: m.id, name: 'n'.repeat(65) },
    { type: 'join', meeting: m.id, name: '👩‍💻'.repeat(22) }, // 3 code points each → 66
    { type: 'join', meeting: m.id, resume: 5 },
    { type: 'join', meeting: m.id, resume: null },
    { type: 'ping', t: 'now' },
    { type: 'ping', t: null },
    { type: 'ping', t: { v: 1 } },
  ];
  for (const msg of cases) {
    const e = await expectError(c, msg, 'bad-message', JSON.stringify(msg).slice(0, 80));
    if ('ref' in e && e.ref !== undefined) assert.equal(e.ref, msg.type, 'ref names the offending type');
  }
  // none of those joined
  c.send({ type: 'signal', to: 'x', data: {} });
  assert.equal((await c.next('error')).code, 'not-joined');
  // a name of exactly 64 code points made of multi-unit characters is fine
  const w = await c.join(m.id, '👩‍💻'.repeat(21) + 'x'); // 63 + 1
  assert.equal(w.type, 'welcome');
  c.close(1000);
});

test('unknown fields are ignored', T, async () => {
  const m = await createMeeting(srv.url, {});
  const c = await connect();
  c.send({ type: 'ping', t: 9, extra: { deep: [1, 2] }, v: 2 });
  assert.equal((await c.next('pong')).t, 9);
  const w = await c.join(m.id, 'alice', undefined);
  assert.equal(w.type, 'welcome');
  const d = await connect();
  d.send({ type: 'join', meeting: m.id, name: 'dan', avatar: 'x', capabilities: ['a'] });
  const wd = await d.next('welcome');
  d.send({ type: 'signal', to: w.self, data: { a: 1 }, priority: 'high' });
  const s = await c.next('signal');
  assert.equal(s.from, wd.self);
  c.close(1000);
  d.close(1000);
});

test('error.ref names the type of the message that caused it', T, async (t) => {
  const m = await createMeeting(srv.url, {});
  const c = await connect();
  const refs = [];
  c.send({ type: 'signal', to: 'x', data: {} });
  refs.push(['signal', await c.next('error')]);
  c.send({ type: 'join', meeting: fakeId() });
  refs.push(['join', await c.next('error')]);
  await c.join(m.id, 'alice');
  c.send({ type: 'join', meeting: m.id });
  refs.push(['join', await c.next('error')]);
  c.send({ type: 'signal', to: 'nobody', data: {} });
  refs.push(['signal', await c.next('error')]);
  for (const [type, e] of refs) {
    if (!('ref' in e)) {
      t.diagnostic(`error ${e.code} carries no ref (optional in protocol.md)`);
      continue;
    }
    assert.equal(e.ref, type, `${e.code}.ref`);
  }
  c.close(1000);
});

test('check order: bad-message before not-joined / already-joined; those before own errors', T, async () => {
  const m = await createMeeting(srv.url, {});
  const c = await connect();
  // before join: a malformed signal is bad-message, not not-joined
  await expectError(c, { type: 'signal' }, 'bad-message', 'malformed signal before join');
  await expectError(c, { type: 'signal', to: 'x', data: [] }, 'bad-message', 'signal with array data before join');
  // before join: a well-formed signal to an unknown peer is not-joined, not unknown-peer
  await expectError(c, { type: 'signal', to: 'nobody', data: {} }, 'not-joined');
  // bad-json before everything
  await expectError(c, '{"type":"signal"', 'bad-json');
  await c.join(m.id, 'alice');
  // after join: malformed join is bad-message, not already-joined
  await expectError(c, { type: 'join' }, 'bad-message', 'join without meeting after join');
  await expectError(c, { type: 'join', meeting: 5 }, 'bad-message', 'join with numeric meeting after join');
  // after join: join to an unknown meeting is already-joined, not meeting-not-found
  await expectError(c, { type: 'join', meeting: fakeId() }, 'already-joined');
  // and with a bogus resume token: already-joined, not bad-resume
  await expectError(c, { type: 'join', meeting: m.id, resume: 'bogus' }, 'already-joined');
  c.close(1000);
});

test('binary message → close 1003; a joined sender is removed at once', T, async () => {
  const c = await connect();
  c.sendBinary(Buffer.from('{"type":"ping"}'));
  assert.equal((await c.waitClosed()).code, 1003);

  const before = await metrics(srv.url);
  const { cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  b.sendBinary(Buffer.from([1, 2, 3]));
  const t0 = Date.now();
  assert.equal((await b.waitClosed()).code, 1003);
  const pl = await a.next('peer-left', 1500);
  assert.deepEqual(pl, { type: 'peer-left', peer: b.self, reason: 'removed' });
  assert.ok(Date.now() - t0 < 1000, 'removed at once, without the resume grace');
  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_disconnects_total', { reason: 'binary' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'binary' }), 1);
  // the removed participant's token is gone: resume → bad-resume
  const b2 = await connect();
  const r = await b2.tryJoin(a.welcome.meeting.id, 'bob', b.token);
  assert.equal(r.code, 'bad-resume');
  a.close(1000);
  b2.close(1000);
});

test('invalid UTF-8 in a text message → close 1007 (several encodings)', T, async () => {
  const bad = [
    Buffer.from([0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), // {"type":"\xff"}
    Buffer.from([0xc0, 0xaf]), // overlong '/'
    Buffer.from('{"type":"ping","t":1,"x":"\xed\xa0\x80"}', 'latin1'), // UTF-16 surrogate
    Buffer.from([0x22, 0xe2, 0x82, 0x22]), // truncated sequence
    Buffer.from([0xf4, 0x90, 0x80, 0x80]), // > U+10FFFF
  ];
  for (const buf of bad) {
    const c = await connect();
    c.sendTextBytes(buf);
    const { code } = await c.waitClosed();
    assert.equal(code, 1007, `bytes ${buf.toString('hex')}`);
  }
});

test('invalid UTF-8 from a joined participant: 1007 and peer-left removed; metrics', T, async () => {
  const before = await metrics(srv.url);
  const { cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  b.sendTextBytes(Buffer.from([0xff, 0xfe]));
  assert.equal((await b.waitClosed()).code, 1007);
  assert.deepEqual(await a.next('peer-left', 1500), { type: 'peer-left', peer: b.self, reason: 'removed' });
  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_disconnects_total', { reason: 'bad-utf8' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'bad-utf8' }), 1);
  a.close(1000);
});

test('UTF-8 split across fragments of one message is valid', T, async () => {
  const r = await RawWs.connect(srv.port);
  const msg = Buffer.from('{"type":"ping","t":5,"x":"€😀"}');
  const cut = msg.indexOf(Buffer.from('€')) + 1; // in the middle of a multi-byte sequence
  r.sendFrame(0x1, msg.subarray(0, cut), { fin: false });
  r.sendFrame(0x0, msg.subarray(cut, cut + 3), { fin: false });
  r.sendFrame(0x0, msg.subarray(cut + 3), { fin: true });
  const p = await r.next('pong');
  assert.equal(p.t, 5);
  r.sendClose(1000);
  await r.waitEnded();
});

test('a message trickled in a byte at a time, with an empty first fragment and a ping between fragments, is read whole', T, async () => {
  // The server waits for each message without a buffer of its own and only
  // then reads it into one: header and payload arriving apart must not matter.
  const r = await RawWs.connect(srv.port);
  const msg = Buffer.from('{"type":"ping","t":7,"x":"€"}');
  const wire = Buffer.concat([
    buildFrame(0x1, Buffer.alloc(0), { fin: false }),
    buildFrame(0x0, msg.subarray(0, 10), { fin: false }),
    buildFrame(0x9, Buffer.from('hi')),
    buildFrame(0x0, msg.subarray(10), { fin: true }),
  ]);
  for (const byte of wire) {
    r.sock.write(Buffer.from([byte]));
    await sleep(1);
  }
  assert.equal((await r.next('pong')).t, 7);
  const pong = await r.nextEvent((ev) => ev.kind === 'pong');
  assert.equal(pong.payload.toString(), 'hi');
  // Idle again, then two messages in one write: both are answered, in order.
  await sleep(50);
  r.sock.write(Buffer.concat([buildFrame(0x1, Buffer.from('{"type":"ping","t":8}')), buildFrame(0x1, Buffer.from('{"type":"ping","t":9}'))]));
  assert.equal((await r.next('pong')).t, 8);
  assert.equal((await r.next('pong')).t, 9);
  r.sendClose(1000);
  await r.waitEnded();
});

function padded(n) {
  // a ping message of exactly n bytes
  const base = { type: 'ping', t: 1, pad: '' };
  const len = Buffer.byteLength(JSON.stringify(base));
  base.pad = 'p'.repeat(n - len);
  const s = JSON.stringify(base);
  assert.equal(Buffer.byteLength(s), n);
  return s;
}

test('--max-frame: exactly the limit is accepted, one byte more → close 1009', T, async () => {
  const c = await connect();
  c.send(padded(MAX));
  assert.equal((await c.next('pong')).t, 1, 'a message of exactly --max-frame bytes is accepted');
  c.send(padded(MAX + 1));
  assert.equal((await c.waitClosed()).code, 1009);
  assert.equal(c.pending((m) => m.type === 'pong').length, 0, 'the oversized message was not processed');
});

test('--max-frame applies after reassembly of fragments', T, async () => {
  let r = await RawWs.connect(srv.port);
  let msg = Buffer.from(padded(MAX));
  r.sendFrame(0x1, msg.subarray(0, 600), { fin: false });
  r.sendFrame(0x0, msg.subarray(600), { fin: true });
  assert.equal((await r.next('pong')).t, 1, 'fragmented message of exactly the limit');
  r.sendClose(1000);
  await r.waitEnded();

  r = await RawWs.connect(srv.port);
  msg = Buffer.from(padded(MAX + 100));
  r.sendFrame(0x1, msg.subarray(0, 600), { fin: false });
  r.sendFrame(0x0, msg.subarray(600), { fin: true });
  await r.waitEnded(3000);
  assert.equal(r.closeFrame && r.closeFrame.code, 1009, `close frame: ${JSON.stringify(r.closeFrame)}`);
});

test('too-large from a joined participant → 1009, peer-left removed; metrics', T, async () => {
  const before = await metrics(srv.url);
  const { cs: [a, b] } = await meetingWith(srv, ['alice', 'bob']);
  b.send({ type: 'signal', to: a.self, data: { blob: 'z'.repeat(MAX) } });
  assert.equal((await b.waitClosed()).code, 1009);
  assert.deepEqual(await a.next('peer-left', 1500), { type: 'peer-left', peer: b.self, reason: 'removed' });
  assert.equal(a.pending('signal').length, 0);
  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_disconnects_total', { reason: 'too-large' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'too-large' }), 1);
  a.close(1000);
});

test('defaults allow a burst of 200 messages without rate-limited', T, async () => {
  const c = await connect(dflt);
  for (let i = 0; i < 200; i++) c.send({ type: 'ping', t: i });
  for (let i = 0; i < 200; i++) assert.equal((await c.next('pong', 5000)).t, i);
  await sleep(100);
  assert.equal(c.pending('error').length, 0, JSON.stringify(c.pending('error')));
  c.close(1000);
});

test('rate-limited: burst 4×N, then one rate-limited error, no close, refill', T, async () => {
  const before = await metrics(rate.url);
  const c = await connect(rate);
  const N = 40;
  for (let i = 0; i < N; i++) c.send({ type: 'ping', t: i });
  // Until the server has dealt with every ping (answered or counted as
  // dropped), however slow this run is; the bounds below are on counts.
  const limitedSince = async () =>
    mval(await metrics(rate.url), 'meshmeet_rate_limited_messages_total') - mval(before, 'meshmeet_rate_limited_messages_total');
  await waitFor(async () => c.pending('pong').length + (await limitedSince()) >= N && c.pending('error').length >= 1,
    5000, 'every ping answered or dropped');
  await sleep(100);
  const pongs = c.pending('pong');
  const errs = c.pending('error');
  assert.ok(pongs.length >= 20 && pongs.length <= 23, `burst of 4×5=20 (+refill): got ${pongs.length} pongs`);
  assert.deepEqual(pongs.map((p) => p.t), Array.from({ length: pongs.length }, (_, i) => i), 'the first messages pass, in order');
  assert.equal(errs.length, 1, `one rate-limited error per second at most: ${JSON.stringify(errs)}`);
  assert.equal(errs[0].code, 'rate-limited');
  assert.ok(c.isOpen, 'rate limiting never closes');
  const m = await metrics(rate.url);
  assert.equal(mval(m, 'meshmeet_rate_limited_messages_total') - mval(before, 'meshmeet_rate_limited_messages_total'), N - pongs.length,
    'every dropped message is counted');
  // refill: 5 per second
  await c.collect(() => true, 0);
  await sleep(1100);
  c.send({ type: 'ping', t: 5 });
  assert.equal((await c.next('pong', 2000)).t, 5);
  c.close(1000);
});

test('rate-limited is sent at most once per second during a sustained flood', T, async () => {
  const c = await connect(rate);
  const t0 = Date.now();
  while (Date.now() - t0 < 2600) {
    c.send({ type: 'ping' });
    await sleep(15);
  }
  await sleep(200);
  const errs = c.log.filter((e) => e.msg.type === 'error');
  assert.ok(errs.every((e) => e.msg.code === 'rate-limited'), JSON.stringify(errs.map((e) => e.msg)));
  assert.ok(errs.length >= 2 && errs.length <= 4, `${errs.length} rate-limited errors over ~2.6 s`);
  for (let i = 1; i < errs.length; i++) {
    const gap = errs[i].at - errs[i - 1].at;
    // Stamped on arrival here, so a stall in this process can shorten one gap.
    assert.ok(gap >= 600, `rate-limited errors ${gap} ms apart`);
  }
  assert.ok(c.isOpen);
  c.close(1000);
});

test('check order: rate-limited before bad-json (dropped unread)', T, async () => {
  const c = await connect(rate);
  for (let i = 0; i < 30; i++) c.send('{not json');
  await waitFor(() => c.pending('error').length >= 21, 5000, 'the burst of bad-json and the rate-limited error');
  await sleep(100);
  const errs = c.pending('error');
  const badJson = errs.filter((e) => e.code === 'bad-json').length;
  const limited = errs.filter((e) => e.code === 'rate-limited').length;
  assert.ok(badJson >= 20 && badJson <= 22, `only the first ~20 are parsed: ${badJson} bad-json`);
  assert.equal(limited, 1);
  assert.equal(badJson + limited, errs.length);
  c.close(1000);
});

test('a rate-limited joined participant is not dropped', T, async () => {
  const { cs: [a, b] } = await meetingWith(rate, ['alice', 'bob']);
  for (let i = 0; i < 40; i++) b.send({ type: 'signal', to: a.self, data: { i } });
  await waitFor(() => a.pending('signal').length >= 18 && b.pending('error').length >= 1, 5000, 'the burst of signals and the rate-limited error');
  await sleep(100);
  const got = a.pending('signal').map((s) => s.data.i);
  assert.ok(got.length >= 18 && got.length <= 23, `${got.length} signals passed`);
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
  assert.equal(a.pending('peer-left').length, 0);
  assert.ok(b.isOpen);
  assert.equal(b.pending('error').filter((e) => e.code === 'rate-limited').length, 1);
  const m = await metrics(rate.url);
  assert.ok(mval(m, 'meshmeet_errors_total', { code: 'rate-limited' }) >= 1);
  a.close(1000);
  b.close(1000);
});

test('deeply nested JSON does not crash the server', T, async () => {
  const m = await createMeeting(dflt.url, {});
  const c = await connect(dflt);
  c.send('['.repeat(60000));
  const e1 = await c.next('error', 5000);
  assert.ok(['bad-json', 'bad-message'].includes(e1.code), e1.code);
  c.send('['.repeat(30000) + ']'.repeat(30000));
  const e2 = await c.next('error', 5000);
  assert.ok(['bad-json', 'bad-message'].includes(e2.code), e2.code);
  await c.join(m.id, 'deep');
  const d = await connect(dflt);
  await d.join(m.id, 'receiver');
  const deep = `{"type":"signal","to":${JSON.stringify(d.self)},"data":{"a":${'['.repeat(20000)}${']'.repeat(20000)}}}`;
  c.send(deep);
  // either relayed or refused; the server must survive
  await sleep(500);
  const h = await get(dflt.url, '/healthz');
  assert.equal(h.status, 200);
  assert.equal(dflt.exit, null, 'server process is still running');
  c.send({ type: 'ping', t: 2 });
  assert.equal((await c.next('pong', 3000)).t, 2);
  c.close(1000);
  d.close(1000);
});
