// Real coturn (Debian's turnserver, use-auth-secret) accepts the TURN
// credentials our server mints from the same secret file, and refuses
// expired and forged ones. coturn is started and stopped here, on loopback,
// bounded in time; a missing turnserver is a failure, not a skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { T, FAST, startServer, finishAll, createMeeting, Client, tempDir, freePort, sleep } from './harness.mjs';
import { turnAllocate } from './stun-client.mjs';

const TURNSERVER = '/usr/bin/turnserver';
const SECRET = 'coturn-shared-secret-5b1e';

let dir;
let coturn; // the child process
let coturnOutput = '';
let turnPort;
let srv; // mints credentials valid for an hour
let short; // mints credentials valid for 1 s

async function startCoturn() {
  turnPort = await freePort();
  const secretFile = join(dir, 'turn-secret');
  const config = join(dir, 'turnserver.conf');
  // The secret goes through a config file, not the command line (ps).
  writeFileSync(config, [
    `listening-ip=127.0.0.1`, `relay-ip=127.0.0.1`, `listening-port=${turnPort}`,
    `min-port=49152`, `max-port=65535`,
    'use-auth-secret', `static-auth-secret=${readFileSync(secretFile, 'utf8').trim()}`, 'realm=meshmeet.test',
    'no-cli', 'no-tls', 'no-dtls', 'fingerprint', 'allow-loopback-peers', 'log-file=stdout', 'simple-log',
    `pidfile=${join(dir, 'turnserver.pid')}`, `userdb=${join(dir, 'turndb')}`,
  ].join('\n') + '\n');
  coturn = spawn(TURNSERVER, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  coturn.stdout.on('data', (d) => { coturnOutput += d; });
  coturn.stderr.on('data', (d) => { coturnOutput += d; });
  coturn.once('exit', (code, signal) => { coturnOutput += `\n[turnserver exited: ${code ?? signal}]`; coturn.exited = true; });
  // Ready when an unauthenticated Allocate is answered (401), within 10 s.
  const deadline = Date.now() + 10000;
  for (;;) {
    if (coturn.exited) throw new Error(`turnserver exited at startup:\n${coturnOutput.slice(-2000)}`);
    try {
      await turnAllocate({ port: turnPort, username: 'probe', password: 'x', timeoutMs: 300 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`turnserver not answering on ${turnPort}: ${e.message}\n${coturnOutput.slice(-2000)}`);
      await sleep(200);
    }
  }
}

async function stopCoturn() {
  if (!coturn || coturn.exited) return;
  const exited = new Promise((res) => coturn.once('exit', res));
  coturn.kill('SIGTERM');
  const timer = setTimeout(() => coturn.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

before(async () => {
  assert.ok(existsSync(TURNSERVER), `${TURNSERVER} is missing: install Debian's coturn (tools/setup.sh)`);
  dir = tempDir();
  writeFileSync(join(dir, 'turn-secret'), `${SECRET}\n`);
  await startCoturn();
  const turnArgs = (ttl) => ['--turn-url', `turn:127.0.0.1:${turnPort}?transport=udp`,
    '--turn-secret-file', join(dir, 'turn-secret'), '--turn-ttl', String(ttl)];
  [srv, short] = await Promise.all([startServer([...FAST, ...turnArgs(3600)]), startServer([...FAST, ...turnArgs(1)])]);
}, { timeout: 30000 });

after(async () => {
  try {
    await finishAll(srv, short);
  } finally {
    await stopCoturn();
  }
}, T);

async function mint(s) {
  const m = await createMeeting(s.url, {});
  const c = await Client.connect(s.wsUrl);
  const w = await c.join(m.id, 'alice');
  c.close(1000);
  const turn = w.iceServers.find((e) => e.username);
  assert.ok(turn, `TURN credentials in ${JSON.stringify(w.iceServers)}`);
  assert.deepEqual(turn.urls, [`turn:127.0.0.1:${turnPort}?transport=udp`]);
  return turn;
}

test('coturn accepts the credentials in welcome: the Allocate succeeds', T, async () => {
  const turn = await mint(srv);
  const r = await turnAllocate({ port: turnPort, username: turn.username, password: turn.credential });
  assert.deepEqual(r, { ok: true }, `Allocate refused: ${JSON.stringify(r)}\n${coturnOutput.slice(-1500)}`);
});

test('coturn refuses a forged credential and a username whose expiry was changed', T, async () => {
  const turn = await mint(srv);
  const forged = await turnAllocate({ port: turnPort, username: turn.username, password: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' });
  assert.deepEqual(forged, { ok: false, code: 401 });
  const [expiry, peer] = turn.username.split(':');
  const stretched = await turnAllocate({ port: turnPort, username: `${Number(expiry) + 86400}:${peer}`, password: turn.credential });
  assert.deepEqual(stretched, { ok: false, code: 401 });
});

test('coturn refuses credentials once they expired (--turn-ttl 1)', T, async () => {
  const turn = await mint(short);
  const expiry = Number(turn.username.split(':')[0]);
  // Past the expiry second, by the wall clock coturn reads.
  while (Date.now() / 1000 <= expiry + 1) await sleep(200);
  const r = await turnAllocate({ port: turnPort, username: turn.username, password: turn.credential });
  assert.deepEqual(r, { ok: false, code: 401 }, `expired credentials accepted?\n${coturnOutput.slice(-1500)}`);
});
