// Limits: per-IP connection cap, slow consumers, Origin checks (+ their metrics).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, metrics, mval, Client, tryUpgrade, sleep, waitFor,
} from './harness.mjs';

let perIp; // --per-ip 2

before(async () => {
  perIp = await startServer([...FAST, '--per-ip', '2', '--join-timeout', '10']);
}, T);

after(async () => { await finishAll(perIp); }, T);

test('--per-ip 2: the third connection gets too-many-connections, then close 1008', T, async () => {
  const before = await metrics(perIp.url);
  const a = await Client.connect(perIp.wsUrl);
  const b = await Client.connect(perIp.wsUrl);
  const c = await Client.connect(perIp.wsUrl); // the upgrade itself is accepted
  const e = await c.next('error', 2000).catch(() => null);
  const { code } = await c.waitClosed(2000);
  assert.equal(code, 1008);
  if (e) assert.equal(e.code, 'too-many-connections');
  else assert.fail('expected an error too-many-connections before the close');
  // HTTP requests are not counted
  assert.equal((await get(perIp.url, '/healthz')).status, 200);
  // the first two still work
  a.send({ type: 'ping', t: 1 });
  b.send({ type: 'ping', t: 2 });
  assert.equal((await a.next('pong')).t, 1);
  assert.equal((await b.next('pong')).t, 2);
  const after1 = await metrics(perIp.url);
  assert.equal(mval(after1, 'meshmeet_errors_total', { code: 'too-many-connections' }) - mval(before, 'meshmeet_errors_total', { code: 'too-many-connections' }), 1);
  assert.equal(mval(after1, 'meshmeet_disconnects_total', { reason: 'too-many-connections' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'too-many-connections' }), 1);
  assert.equal(mval(after1, 'meshmeet_connections'), 2);
  a.close(1000);
  b.close(1000);
  await waitFor(async () => mval(await metrics(perIp.url), 'meshmeet_connections') === 0, 2000, 'connections back to 0');
});

test('--per-ip counts per client IP: 127.0.0.2 is not counted with 127.0.0.1', T, async () => {
  const m = await createMeeting(perIp.url, {});
  const a = await Client.connect(perIp.wsUrl);
  const b = await Client.connect(perIp.wsUrl);
  const o1 = await Client.connect(perIp.wsUrl, { localAddress: '127.0.0.2' });
  const o2 = await Client.connect(perIp.wsUrl, { localAddress: '127.0.0.2' });
  const w = await o1.join(m.id, 'other-ip');
  assert.equal(w.type, 'welcome');
  o2.send({ type: 'ping', t: 4 });
  assert.equal((await o2.next('pong')).t, 4);
  const o3 = await Client.connect(perIp.wsUrl, { localAddress: '127.0.0.2' });
  assert.equal((await o3.waitClosed(2000)).code, 1008, '127.0.0.2 has its own cap of 2');
  for (const x of [a, b, o1, o2]) x.close(1000);
  await waitFor(async () => mval(await metrics(perIp.url), 'meshmeet_connections') === 0, 2000, 'connections back to 0');
});

test('--per-ip counts open connections: a closed one frees its place, a held slot does not count', T, async () => {
  const m = await createMeeting(perIp.url, {});
  const a = await Client.connect(perIp.wsUrl);
  await a.join(m.id, 'alice');
  const b = await Client.connect(perIp.wsUrl);
  await b.join(m.id, 'bob');
  b.drop(); // unclean: bob's slot is held for the grace, but his connection is gone
  await waitFor(async () => mval(await metrics(perIp.url), 'meshmeet_connections') === 1, 2000, 'server noticed the drop');
  const c = await Client.connect(perIp.wsUrl);
  const w = await c.join(m.id, undefined, b.token); // resume uses the freed place
  assert.equal(w.self, b.self);
  c.send({ type: 'ping', t: 1 });
  assert.equal((await c.next('pong')).t, 1);
  assert.ok(c.isOpen);
  a.close(1000);
  await waitFor(async () => mval(await metrics(perIp.url), 'meshmeet_connections') === 1, 2000, 'server noticed the close');
  const d = await Client.connect(perIp.wsUrl);
  d.send({ type: 'ping', t: 2 });
  assert.equal((await d.next('pong')).t, 2);
  c.close(1000);
  d.close(1000);
});

async function floodUntilSlow(s, a, b, before) {
  const blob = 'x'.repeat(60000);
  let sent = 0;
  const deadline = Date.now() + 10000;
  // flood until the server gives up on b (kernel buffers on loopback hold several MB)
  while (Date.now() < deadline && sent < 2000) {
    for (let i = 0; i < 50; i++) a.send({ type: 'signal', to: b.self, data: { i: sent++, blob } });
    while (a.ws.bufferedAmount > 4e6) await sleep(5);
    const mm = await metrics(s.url);
    if (mval(mm, 'meshmeet_disconnects_total', { reason: 'slow-consumer' }) > mval(before, 'meshmeet_disconnects_total', { reason: 'slow-consumer' })) break;
  }
  return sent;
}

for (const sendQueue of [null, 262144]) {
  const label = sendQueue ? `--send-queue ${sendQueue}` : 'default --send-queue';
  test(`slow consumer: closed, treated as an unclean drop (slot held, resumable) [${label}]`, T, async () => {
    const s = await startServer(['--resume-grace', '3', '--msg-rate', '100000', '--heartbeat-interval', '30', '--heartbeat-timeout', '60',
      ...(sendQueue ? ['--send-queue', String(sendQueue)] : [])]);
    try {
      const m = await createMeeting(s.url, {});
      const a = await Client.connect(s.wsUrl);
      await a.join(m.id, 'flooder');
      const b = await Client.connect(s.wsUrl, { perMessageDeflate: false });
      await b.join(m.id, 'stuck');
      await a.next('peer-joined');
      b.pauseReading();
      const before = await metrics(s.url);
      const sent = await floodUntilSlow(s, a, b, before);
      const mm = await metrics(s.url);
      assert.equal(mval(mm, 'meshmeet_disconnects_total', { reason: 'slow-consumer' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'slow-consumer' }), 1,
        `slow consumer closed after ${sent} signals of 60 KB`);
      assert.ok(a.isOpen, 'the sender is unaffected');
      // Let the flood already in flight reach the server: it lands in the held
      // slot's bounded queue, not on the connection that resumes below.
      while (a.ws.bufferedAmount > 0) await sleep(5);
      await sleep(200);
      // an unclean drop: nobody is told during the grace
      await sleep(300);
      assert.deepEqual(a.pending((x) => x.type === 'peer-left'), []);
      assert.equal((await get(s.url, `/api/meetings/${m.id}`)).json.participants, 2, 'slot is held');
      // the stuck client comes back with its token (on a healthy connection)
      const b2 = await Client.connect(s.wsUrl);
      const w = await b2.join(m.id, undefined, b.token);
      assert.equal(w.self, b.self);
      b.resumeReading();
      a.send({ type: 'signal', to: b.self, data: { after: true } });
      await b2.next((x) => x.type === 'signal' && x.data.after === true, 5000);
      assert.ok(b2.isOpen, `the resumed connection stays open (closed: ${JSON.stringify(b2.closeInfo)})`);
      const m2 = await metrics(s.url);
      assert.equal(mval(m2, 'meshmeet_disconnects_total', { reason: 'slow-consumer' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'slow-consumer' }), 1,
        'the resumed connection was not closed as a slow consumer (held signals must fit the send queue)');
      assert.equal(mval(m2, 'meshmeet_connections'), 2, 'a and the resumed b');
      await sleep(300);
      assert.deepEqual(a.pending((x) => x.type === 'peer-left'), []);
      a.close(1000);
      b2.close(1000);
    } finally {
      await finish(s);
    }
  });
}

test('slow consumer that does not come back → peer-left "disconnected" after the grace', T, async () => {
  // A 2 s grace: this test sees the detection late (a metrics round trip
  // after a batch of 3 MB), and the held slot must still outlast that.
  const s = await startServer(['--resume-grace', '2', '--send-queue', '131072', '--msg-rate', '100000']);
  try {
    const m = await createMeeting(s.url, {});
    const a = await Client.connect(s.wsUrl);
    await a.join(m.id, 'flooder');
    const b = await Client.connect(s.wsUrl, { perMessageDeflate: false });
    await b.join(m.id, 'stuck');
    await a.next('peer-joined');
    b.pauseReading();
    const blob = 'y'.repeat(60000);
    let sent = 0;
    let detectedAt = 0;
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && sent < 2000) {
      for (let i = 0; i < 50; i++) a.send({ type: 'signal', to: b.self, data: { i: sent++, blob } });
      while (a.ws.bufferedAmount > 4e6) await sleep(5);
      if (mval(await metrics(s.url), 'meshmeet_disconnects_total', { reason: 'slow-consumer' }) >= 1) { detectedAt = Date.now(); break; }
    }
    assert.ok(detectedAt, `slow consumer detected (sent ${sent})`);
    const pl = await a.next((x) => x.type === 'peer-left', 6000);
    assert.deepEqual(pl, { type: 'peer-left', peer: b.self, reason: 'disconnected' });
    assert.ok(Date.now() - detectedAt >= 600, 'not at once: the slot was held for the grace');
    a.close(1000);
  } finally {
    await finish(s);
  }
});

test('origin: default allow-list (own origin, localhost, 127.0.0.1, [::1]), others 403', T, async () => {
  const s = await startServer(FAST);
  try {
    const before = await metrics(s.url);
    const p = s.port;
    const allowed = [
      {},
      { Origin: `http://127.0.0.1:${p}` },
      { Origin: 'http://localhost' },
      { Origin: 'http://localhost:3000' },
      { Origin: 'https://localhost:8443' },
      { Origin: 'http://127.0.0.1:5173' },
      { Origin: 'https://127.0.0.1' },
      { Origin: 'http://[::1]:3000' },
      { Origin: 'https://[::1]' },
      { Host: `meet.example:${p}`, Origin: `http://meet.example:${p}` }, // own origin per Host
    ];
    for (const h of allowed) {
      const r = await tryUpgrade(s.url, h);
      assert.equal(r.status, 101, `allowed: ${JSON.stringify(h)} → ${r.status} ${r.text ?? ''}`);
    }
    const refused = [
      { Origin: 'http://evil.example' },
      { Origin: 'https://evil.example:443' },
      { Origin: `http://evil.example:${p}` },
      { Origin: 'http://localhost.evil.example' },
      { Origin: 'http://127.0.0.1.evil.example' },
      { Origin: 'http://evil-localhost' },
      { Origin: 'null' },
      { Host: `meet.example:${p}`, Origin: `http://meet.example:${p + 1}` },
      { Host: `meet.example:${p}`, Origin: `http://meet.example.evil:${p}` },
    ];
    for (const h of refused) {
      const r = await tryUpgrade(s.url, h);
      assert.equal(r.status, 403, `refused: ${JSON.stringify(h)} → ${r.status}`);
      assert.match(String(r.headers['content-type']), /^application\/json/);
      assert.equal(r.json?.error?.code, 'forbidden-origin', r.text);
      assert.equal(typeof r.json.error.message, 'string');
    }
    const after1 = await metrics(s.url);
    assert.equal(mval(after1, 'meshmeet_errors_total', { code: 'forbidden-origin' }) - mval(before, 'meshmeet_errors_total', { code: 'forbidden-origin' }), refused.length);
    // a real ws client with a foreign origin cannot open
    await assert.rejects(Client.connect(s.wsUrl, { origin: 'http://evil.example' }), (e) => e.status === 403);
    const ok = await Client.connect(s.wsUrl, { origin: 'http://localhost:8080' });
    ok.close(1000);
  } finally {
    await finish(s);
  }
});

test('--allow-origin replaces the default list (repeatable)', T, async () => {
  const s = await startServer([...FAST, '--allow-origin', 'https://a.example', '--allow-origin', 'https://b.example:8443']);
  try {
    for (const h of [{}, { Origin: 'https://a.example' }, { Origin: 'https://b.example:8443' }]) {
      assert.equal((await tryUpgrade(s.url, h)).status, 101, JSON.stringify(h));
    }
    for (const o of ['http://localhost:3000', `http://127.0.0.1:${s.port}`, 'http://[::1]:1', 'http://a.example', 'https://a.example.evil', 'https://b.example', 'null']) {
      const r = await tryUpgrade(s.url, { Origin: o });
      assert.equal(r.status, 403, `${o} must be refused once --allow-origin is set`);
      assert.equal(r.json?.error?.code, 'forbidden-origin');
    }
  } finally {
    await finish(s);
  }
});

test("--allow-origin '*' allows any origin", T, async () => {
  const s = await startServer([...FAST, '--allow-origin', '*']);
  try {
    for (const o of ['http://evil.example', 'https://anything.example:9999', 'http://localhost:1']) {
      assert.equal((await tryUpgrade(s.url, { Origin: o })).status, 101, o);
    }
    const m = await createMeeting(s.url, {});
    const c = await Client.connect(s.wsUrl, { origin: 'https://elsewhere.example' });
    assert.equal((await c.join(m.id, 'x')).type, 'welcome');
    c.close(1000);
  } finally {
    await finish(s);
  }
});

// One HTTP/1.1 keep-alive request on a raw socket: resolves with the status
// line, and the socket (still open unless the server closed it).
function rawRequest(port, path = '/healthz') {
  return new Promise((res, rej) => {
    const s = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => { s.destroy(); rej(new Error('no answer within 3 s')); }, 3000);
    s.on('error', (e) => { clearTimeout(timer); rej(e); });
    s.on('data', (d) => {
      data += d;
      const end = data.indexOf('\r\n');
      if (end >= 0) {
        clearTimeout(timer);
        res({ status: data.slice(0, end), socket: s, text: () => data });
      }
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

test('at the open-file limit, further connections are refused with 503 at once (not left to time out), and it recovers', T, async () => {
  const srv = await startServer([...FAST, '--per-ip', '1000'], { nofile: 48 });
  const held = [];
  try {
    let refused = null;
    for (let i = 0; i < 80 && !refused; i++) {
      const r = await rawRequest(srv.port);
      if (r.status.startsWith('HTTP/1.1 200')) held.push(r.socket);
      else refused = r;
    }
    assert.ok(refused, `a connection past the limit was answered (held ${held.length})`);
    assert.ok(held.length >= 20, `the limit left room for connections (held ${held.length})`);
    assert.equal(refused.status, 'HTTP/1.1 503 Service Unavailable');
    await new Promise((r) => refused.socket.once('close', r));
    assert.match(refused.text(), /"code":"too-many-connections"/);
    assert.match(refused.text(), /Retry-After: 5/i);
    assert.match(refused.text(), /Access-Control-Allow-Origin: \*/i, 'any page may read "full" (the Origin is not known yet)');
    // Room again once some go: the server takes new connections.
    for (const s of held.splice(0, 5)) s.destroy();
    await waitFor(async () => (await rawRequest(srv.port).then((r) => { r.socket.destroy(); return r.status; })) === 'HTTP/1.1 200 OK', 3000, 'a connection accepted again');
    const m = await metrics(srv.url);
    assert.ok(mval(m, 'meshmeet_connections_refused_fd_limit_total') >= 1, 'counted in /metrics');
  } finally {
    for (const s of held) s.destroy();
    await finish(srv);
  }
});
