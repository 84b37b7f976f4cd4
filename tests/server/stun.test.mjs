// The built-in STUN responder over real UDP: Binding requests get the
// client's own address back, everything else gets nothing, a burst beyond
// the per-address rate gets only the allowed answers, --stun-port 0 turns it
// off, and welcome.iceServers names it on the host the client used.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  T, FAST, startServer, finishAll, createMeeting, metrics, mval, Client, freePort,
} from './harness.mjs';
import { bindingRequest, decode, encode, fingerprint, udpSocket, xorMapped } from './stun-client.mjs';

let srv; // STUN on the same number as the TCP port
let off; // --stun-port 0

before(async () => {
  [srv, off] = await Promise.all([startServer(FAST), startServer([...FAST, '--stun-port', '0'])]);
}, T);

after(async () => { await finishAll(srv, off); }, T);

test('a Binding request gets a success with the same transaction id, our own address and port, a valid FINGERPRINT', T, async () => {
  const udp = await udpSocket();
  try {
    const txid = randomBytes(12);
    await udp.send(bindingRequest(txid), srv.port);
    const raw = await udp.next(2000);
    assert.ok(raw, 'an answer within 2 s');
    assert.ok(raw.length <= 64, `answer of ${raw.length} bytes stays within the bound`);
    const msg = decode(raw);
    assert.equal(msg.type, 0x0101, 'Binding success response');
    assert.equal(msg.length, raw.length - 20);
    assert.deepEqual(msg.txid, txid);
    assert.deepEqual(xorMapped(msg), { family: 4, address: '127.0.0.1', port: udp.port });
    const fpAt = msg.offsets.get(0x8028);
    assert.equal(fpAt, raw.length - 8, 'FINGERPRINT is last');
    assert.equal(msg.attrs.get(0x8028).readUInt32BE(0), fingerprint(raw.subarray(0, fpAt)));

    // A request that carries a correct FINGERPRINT is answered too.
    const draft = encode(0x0001, txid, [[0x8022, Buffer.from('node test')]]);
    draft.writeUInt16BE(draft.length - 20 + 8, 2);
    const fp = Buffer.alloc(4);
    fp.writeUInt32BE(fingerprint(draft));
    const signed = encode(0x0001, txid, [[0x8022, Buffer.from('node test')], [0x8028, fp]]);
    await udp.send(signed, srv.port);
    assert.ok(await udp.next(2000), 'signed request answered');
    // ...and one with a wrong FINGERPRINT is not.
    signed[signed.length - 1] ^= 0xff;
    await udp.send(signed, srv.port);
    assert.equal(await udp.next(500), null, 'bad FINGERPRINT ignored');
  } finally {
    await udp.close();
  }
});

test('garbage, indications, responses and other methods get no answer', T, async () => {
  const udp = await udpSocket();
  try {
    const before = await metrics(srv.url);
    const txid = randomBytes(12);
    const bad = [
      Buffer.from('hello, is this STUN?'),
      Buffer.alloc(0),
      Buffer.alloc(19),
      bindingRequest(txid).subarray(0, 19),
      encode(0x0011, txid), // Binding indication
      encode(0x0101, txid), // Binding success response
      encode(0x0003, txid, [[0x0019, Buffer.from([17, 0, 0, 0])]]), // TURN Allocate
      Buffer.concat([bindingRequest(txid), Buffer.alloc(4)]), // length field lies
      (() => { const b = bindingRequest(txid); b.writeUInt32BE(0x12345678, 4); return b; })(), // no magic cookie
      randomBytes(100),
    ];
    for (const b of bad) await udp.send(b, srv.port);
    const answers = await udp.drain(700);
    assert.equal(answers.length, 0, `no answers, got ${answers.length}`);
    const after = await metrics(srv.url);
    assert.ok(mval(after, 'meshmeet_stun_ignored_total') - mval(before, 'meshmeet_stun_ignored_total') >= bad.length - 1,
      'counted as ignored');
  } finally {
    await udp.close();
  }
});

test('a burst beyond the per-address rate gets only the allowed answers; the rest are counted', T, async () => {
  const s = await startServer(FAST);
  const udp = await udpSocket();
  try {
    const started = Date.now();
    for (let i = 0; i < 300; i++) await udp.send(bindingRequest(), s.port);
    const elapsed = (Date.now() - started) / 1000;
    const answers = await udp.drain(700);
    // 64 saved up, 16 more per second (docs/protocol.md).
    assert.ok(answers.length >= 64, `at least the burst is answered (got ${answers.length})`);
    assert.ok(answers.length <= 64 + Math.ceil(16 * (elapsed + 0.8)) + 1,
      `no more than the burst plus the rate (got ${answers.length} in ${elapsed.toFixed(2)} s)`);
    const m = await metrics(s.url);
    assert.equal(mval(m, 'meshmeet_stun_answered_total'), answers.length);
    // The kernel may drop a few of the 300 before the server reads them.
    const limited = mval(m, 'meshmeet_stun_rate_limited_total');
    assert.ok(limited >= 100 && answers.length + limited <= 300, `rate-limited counted: ${limited}`);
  } finally {
    await udp.close();
    await s.stop();
  }
});

test('--stun-port 0: no answer on UDP, and no STUN entry in welcome', T, async () => {
  const udp = await udpSocket();
  try {
    await udp.send(bindingRequest(), off.port);
    assert.equal(await udp.next(700), null);
  } finally {
    await udp.close();
  }
  const m = await createMeeting(off.url, {});
  const c = await Client.connect(off.wsUrl);
  const w = await c.join(m.id, 'a');
  assert.deepEqual(w.iceServers, []);
  c.close(1000);
});

test('welcome.iceServers lists stun:<the Host the client used>:<stun port>; --stun-port N answers on N', T, async () => {
  const m = await createMeeting(srv.url, {});
  const a = await Client.connect(srv.wsUrl);
  assert.deepEqual((await a.join(m.id, 'a')).iceServers, [{ urls: `stun:127.0.0.1:${srv.port}` }]);
  const b = await Client.connect(srv.wsUrl, { headers: { Host: `localhost:${srv.port}` } });
  assert.deepEqual((await b.join(m.id, 'b')).iceServers, [{ urls: `stun:localhost:${srv.port}` }]);
  const c = await Client.connect(srv.wsUrl, { headers: { Host: 'meet.example.org' } });
  assert.deepEqual((await c.join(m.id, 'c')).iceServers, [{ urls: `stun:meet.example.org:${srv.port}` }]);
  for (const x of [a, b, c]) x.close(1000);

  const port = await freePort();
  const s = await startServer([...FAST, '--stun-port', String(port)]);
  const udp = await udpSocket();
  try {
    await udp.send(bindingRequest(), port);
    const raw = await udp.next(2000);
    assert.ok(raw, 'answered on the --stun-port');
    assert.equal(xorMapped(decode(raw)).port, udp.port);
    const m2 = await createMeeting(s.url, {});
    const d = await Client.connect(s.wsUrl);
    assert.deepEqual((await d.join(m2.id, 'd')).iceServers, [{ urls: `stun:127.0.0.1:${port}` }]);
    d.close(1000);
  } finally {
    await udp.close();
    await s.stop();
  }
});

test('MESHMEET_STUN_PORT=0 turns it off like the flag', T, async () => {
  const s = await startServer(FAST, { env: { MESHMEET_STUN_PORT: '0' } });
  const udp = await udpSocket();
  try {
    await udp.send(bindingRequest(), s.port);
    assert.equal(await udp.next(700), null);
  } finally {
    await udp.close();
    await s.stop();
  }
});
