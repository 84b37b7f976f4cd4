// TLS: one port serves https and wss with --tls-cert/--tls-key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, Client, tempDir, withTimeout, makeStaticDir,
} from './harness.mjs';

let srv;
let ca;

before(async () => {
  const dir = tempDir('meshmeet-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'pipe', timeout: 15000 });
  ca = readFileSync(cert);
  srv = await startServer([...FAST, '--tls-cert', cert, '--tls-key', key, '--static', makeStaticDir('MESHMEET-TLS-APP')]);
}, T);

after(async () => { await finishAll(srv); }, T);

test('the listening line says tls:true', T, async () => {
  const l = srv.logs().find((j) => j.event === 'listening');
  assert.equal(l.tls, true);
  assert.equal(srv.url.startsWith('https://'), true);
});

test('https GET /healthz works with the CA', T, async () => {
  const r = await get(srv.url, '/healthz', { ca });
  assert.equal(r.status, 200);
  assert.equal(r.text.trim(), 'ok');
});

test('the certificate is really checked (no CA → TLS error)', T, async () => {
  await assert.rejects(get(srv.url, '/healthz'), /self[- ]signed|certificate/i);
});

test('plain http on the TLS port does not get served', T, async () => {
  const plain = srv.url.replace('https://', 'http://');
  let r = null;
  try {
    r = await get(plain, '/healthz', { timeoutMs: 3000 });
  } catch {
    r = null; // connection reset / closed: fine
  }
  assert.ok(!r || r.status !== 200 || r.text.trim() !== 'ok', 'healthz must not be served in cleartext');
});

test('https POST /api/meetings and wss join + relay work', T, async () => {
  const m = await createMeeting(srv.url, { name: 'secure' }, { ca });
  assert.match(m.url, new RegExp(`^/m/${m.id}$`));
  const a = await Client.connect(srv.wsUrl, { ca });
  assert.ok(srv.wsUrl.startsWith('wss://'));
  const wa = await a.join(m.id, 'alice');
  assert.deepEqual(wa.meeting, { id: m.id, name: 'secure' });
  const b = await Client.connect(srv.wsUrl, { ca });
  const wb = await b.join(m.id, 'bob');
  assert.deepEqual(wb.peers, [{ id: wa.self, name: 'alice' }]);
  assert.deepEqual((await a.next('peer-joined')).peer, { id: wb.self, name: 'bob' });
  b.send({ type: 'signal', to: wa.self, data: { sdp: 'offer' } });
  const s = await a.next('signal');
  assert.equal(s.from, wb.self);
  assert.deepEqual(s.data, { sdp: 'offer' });
  b.send({ type: 'leave' });
  assert.equal((await b.waitClosed()).code, 1000);
  assert.deepEqual(await a.next('peer-left'), { type: 'peer-left', peer: wb.self, reason: 'left' });
  a.close(1000);
});

test('wss client without the CA is refused by the client (real TLS)', T, async () => {
  await assert.rejects(Client.connect(srv.wsUrl, {}), /self[- ]signed|certificate/i);
});

test('the web app is served over https too', T, async () => {
  const r = await withTimeout(new Promise((res, rej) => {
    https.get(`${srv.url}/m/abcdefghijklmnopqrstuvwxyz012`, { ca, agent: false }, (resp) => {
      let body = '';
      resp.on('data', (d) => { body += d; });
      resp.on('end', () => res({ status: resp.statusCode, body, type: resp.headers['content-type'] }));
    }).on('error', rej);
  }), 4000, 'https /m/ID');
  assert.equal(r.status, 200);
  assert.match(String(r.type), /^text\/html/);
  assert.ok(r.body.includes('MESHMEET-TLS-APP'));
});
