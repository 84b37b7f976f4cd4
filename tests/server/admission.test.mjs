// Admission: every socket counts against its client address's share
// (--per-ip-sockets): idle TCP connections, keep-alive HTTP, upgrades and
// WebSockets alike, so one address cannot hold every socket the process may
// open; everyone else is still served. Behind a trusted proxy (--trust-proxy,
// CIDR ranges allowed) the client is the right-most X-Forwarded-For entry
// that is not a trusted proxy, and IPv6 clients are grouped by /64.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  T, startServer, finish, finishAll, createMeeting, get, metrics, mval, Client, waitFor,
} from './harness.mjs';

after(async () => { await finishAll(); }, T);

const sockets = [];
after(() => { for (const s of sockets) s.destroy(); });

/** A TCP connection that sends nothing. */
function idleSocket(port, localAddress = '127.0.0.1') {
  return new Promise((res, rej) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => res(s));
    s.once('error', rej);
    sockets.push(s);
  });
}

/** Everything the server sends on `s` until it closes it (or `ms` pass). */
function untilClosed(s, ms = 3000) {
  return new Promise((res) => {
    let text = '';
    const timer = setTimeout(() => res({ closed: false, text }), ms);
    s.on('data', (d) => { text += d; });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); res({ closed: true, text }); });
  });
}

/** One keep-alive GET /healthz on a socket of its own, left open afterwards. */
function keepAlive(port, { localAddress = '127.0.0.1', forwardedFor = [] } = {}) {
  return new Promise((res, rej) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => {
      const xff = forwardedFor.map((v) => `X-Forwarded-For: ${v}\r\n`).join('');
      s.write(`GET /healthz HTTP/1.1\r\nHost: localhost\r\n${xff}\r\n`);
    });
    sockets.push(s);
    let text = '';
    s.on('data', (d) => {
      text += d;
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(text)?.[1] ?? 0);
      if (text.length >= end + 4 + length) res({ socket: s, status: Number(text.split(' ')[1]), text });
    });
    s.on('error', rej);
    s.on('close', () => res({ socket: s, status: text ? Number(text.split(' ')[1]) : 0, text }));
  });
}

test('--per-ip-sockets 6: idle sockets, keep-alive HTTP and WebSockets all count; past the share 503, while other addresses are served', T, async () => {
  const s = await startServer(['--per-ip-sockets', '6', '--per-ip', '100', '--join-timeout', '30']);
  try {
    const m = await createMeeting(s.url, {}, { localAddress: '127.0.0.3' });
    const held = [await idleSocket(s.port), await idleSocket(s.port)];
    for (let i = 0; i < 2; i++) {
      const r = await keepAlive(s.port);
      assert.equal(r.status, 200, r.text);
      held.push(r.socket);
    }
    const ws = [];
    for (const name of ['ann', 'ben']) {
      const c = await Client.connect(s.wsUrl);
      await c.join(m.id, name);
      ws.push(c);
    }
    // The seventh socket of 127.0.0.1: answered 503 unread, and closed.
    const refused = await untilClosed(await idleSocket(s.port));
    assert.ok(refused.closed, 'closed');
    assert.match(refused.text, /^HTTP\/1\.1 503 /);
    assert.match(refused.text, /"code":"too-many-connections"/);
    // An upgrade from that address gets no further.
    await assert.rejects(Client.connect(s.wsUrl, {}, 2000));
    // Everyone else is served.
    assert.equal((await get(s.url, '/healthz', { localAddress: '127.0.0.2' })).status, 200);
    const met = await metrics(s.url, { localAddress: '127.0.0.2' });
    assert.ok(mval(met, 'meshmeet_errors_total', { code: 'too-many-connections' }) >= 2);
    // The WebSockets kept working meanwhile.
    ws[0].send({ type: 'signal', to: ws[1].self, data: { k: 1 } });
    assert.deepEqual((await ws[1].next('signal')).data, { k: 1 });
    // A socket closed frees its place.
    held[0].destroy();
    await waitFor(async () => (await keepAlive(s.port)).status === 200, 3000, 'a place again for 127.0.0.1');
    for (const c of ws) c.close(1000);
  } finally {
    await finish(s);
  }
});

test('behind a trusted proxy range, each forwarded client has its own share: the right-most untrusted entry, IPv6 by /64', T, async () => {
  const s = await startServer(['--per-ip-sockets', '2', '--trust-proxy', '127.0.0.0/30']);
  try {
    const via = (...forwardedFor) => keepAlive(s.port, { forwardedFor });
    // Two sockets for 203.0.113.9 through the proxy: the third is refused.
    assert.equal((await via('203.0.113.9')).status, 200);
    assert.equal((await via('6.6.6.6, 203.0.113.9, 127.0.0.2')).status, 200);  // a chain: skip our own proxies
    const third = await via('1.1.1.1', '203.0.113.9');                        // repeated headers, one list
    assert.equal(third.status, 503, third.text);
    assert.match(third.text, /"code":"too-many-connections"/);
    // Another client through the same proxy is served; so is a claim the
    // proxy did not make (it is not the right-most entry).
    assert.equal((await via('203.0.113.10')).status, 200);
    assert.equal((await via('203.0.113.9, 198.51.100.1')).status, 200);
    // An entry that is not an address is skipped, not believed.
    assert.equal((await via('198.51.100.1, not-an-ip')).status, 200);
    assert.equal((await via('198.51.100.1, <script>')).status, 503, '198.51.100.1 holds its two');
    // IPv6 clients share a /64.
    assert.equal((await via('2001:db8:1:2::1')).status, 200);
    assert.equal((await via('2001:db8:1:2:ffff::9')).status, 200);
    assert.equal((await via('2001:db8:1:2:abcd::1')).status, 503);
    assert.equal((await via('2001:db8:1:3::1')).status, 200);
    // 127.0.0.5 is outside the trusted range: its X-Forwarded-For is ignored
    // and its own sockets count from accept.
    const direct = (xff) => keepAlive(s.port, { localAddress: '127.0.0.5', forwardedFor: [xff] });
    assert.equal((await direct('192.0.2.1')).status, 200);
    assert.equal((await direct('192.0.2.2')).status, 200);
    const over = await direct('192.0.2.3');
    assert.equal(over.status, 503, 'refused at accept, whatever it forwards');
  } finally {
    await finish(s);
  }
});
