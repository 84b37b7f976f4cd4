// TLS: one port serves https and wss with --tls-cert/--tls-key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import https from 'node:https';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, Client, tempDir, withTimeout, makeStaticDir, waitFor,
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

/** A self-signed certificate for localhost, made now: { cert, key } (PEM text). */
function makeCertificate(dir, name) {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=localhost/O=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'pipe', timeout: 15000 });
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

/** The certificate a new TLS connection to `port` is shown. */
function servedCertificate(port) {
  return new Promise((res, rej) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const c = s.getPeerCertificate();
      s.destroy();
      res(c);
    });
    s.on('error', rej);
  });
}

test('SIGHUP reloads --tls-cert/--tls-key: open connections keep going, new ones get the new certificate; a bad file changes nothing', T, async () => {
  const dir = tempDir('meshmeet-tls-reload-');
  const first = makeCertificate(dir, 'first');
  const second = makeCertificate(dir, 'second');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  writeFileSync(cert, first.cert);
  writeFileSync(key, first.key);
  const s = await startServer([...FAST, '--tls-cert', cert, '--tls-key', key]);
  try {
    assert.equal((await servedCertificate(s.port)).subject.O, 'first');
    const m = await createMeeting(s.url, { name: 'renewal' }, { ca: first.cert });
    const a = await Client.connect(s.wsUrl, { ca: first.cert });
    const wa = await a.join(m.id, 'alice');
    const b = await Client.connect(s.wsUrl, { ca: first.cert });
    const wb = await b.join(m.id, 'bob');

    // certbot renews: both files replaced, then SIGHUP.
    writeFileSync(cert, second.cert);
    writeFileSync(key, second.key);
    const reloaded = s.logs().filter((l) => l.event === 'tls-reloaded').length;
    s.proc.kill('SIGHUP');
    await waitFor(() => s.logs().filter((l) => l.event === 'tls-reloaded').length > reloaded, 5000, 'the tls-reloaded log line');
    assert.equal((await servedCertificate(s.port)).subject.O, 'second', 'a new connection gets the new certificate');
    assert.equal((await get(s.url, '/healthz', { ca: second.cert })).status, 200);
    // The call set up before goes on, over the connections made with the first.
    b.send({ type: 'signal', to: wa.self, data: { after: 'renewal' } });
    assert.deepEqual((await a.next('signal')).data, { after: 'renewal' });
    a.send({ type: 'signal', to: wb.self, data: { back: 1 } });
    assert.deepEqual((await b.next('signal')).data, { back: 1 });

    // A key that does not match (a renewal half done): logged, nothing changes.
    writeFileSync(key, first.key);
    const failed = s.logs().filter((l) => l.event === 'tls-reload-failed').length;
    s.proc.kill('SIGHUP');
    await waitFor(() => s.logs().filter((l) => l.event === 'tls-reload-failed').length > failed, 5000, 'the tls-reload-failed log line');
    assert.match(s.logs().filter((l) => l.event === 'tls-reload-failed').at(-1).error, /key.pem.*(mismatch|does not match)/);
    assert.equal((await servedCertificate(s.port)).subject.O, 'second', 'still the last good certificate');
    assert.ok(s.proc && s.proc.exitCode === null, 'SIGHUP never ends the server');
    for (const c of [a, b]) c.close(1000);
  } finally {
    await finish(s);
  }
});

test('SIGHUP without TLS is logged and ignored', T, async () => {
  const s = await startServer(FAST);
  try {
    s.proc.kill('SIGHUP');
    await waitFor(() => s.logs().some((l) => l.event === 'reload'), 5000, 'the reload log line');
    assert.equal((await get(s.url, '/healthz')).status, 200);
  } finally {
    await finish(s);
  }
});
