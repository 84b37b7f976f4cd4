// TURN credentials in welcome (coturn's use-auth-secret scheme), on resume
// too, the `ice-servers` refresh before they expire, relay-only meetings,
// and the command line's refusals (exit 2 with a clear message).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import {
  T, FAST, startServer, finishAll, createMeeting, createMeetingRaw, get, metrics, mval, Client, runBinary, tempDir, sleep,
} from './harness.mjs';

const SECRET = 'tvoj-sekret-7f3a9c';
const TURN_UDP = 'turn:127.0.0.1:3478?transport=udp';
const TURNS = 'turns:turn.example.org:5349?transport=tcp';
const TTL = 3; // seconds: the refresh comes at 2.4 s

let dir;
let secretFile;
let srv; // TURN configured, short TTL
let plain; // no TURN

before(async () => {
  dir = tempDir();
  secretFile = join(dir, 'turn-secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  [srv, plain] = await Promise.all([
    startServer([...FAST, '--turn-url', TURN_UDP, '--turn-url', TURNS, '--turn-secret-file', secretFile,
      '--turn-ttl', String(TTL)]),
    startServer(FAST),
  ]);
}, T);

after(async () => { await finishAll(srv, plain); }, T);

const hmac = (username) => createHmac('sha1', SECRET).update(username).digest('base64');

/** The TURN entry of an iceServers list, checked: username `<expiry>:<self>`, credential HMAC. */
function checkTurn(iceServers, self) {
  const turn = iceServers.find((e) => Array.isArray(e.urls) && e.urls.some((u) => u.startsWith('turn')));
  assert.ok(turn, `a TURN entry in ${JSON.stringify(iceServers)}`);
  assert.deepEqual(turn.urls, [TURN_UDP, TURNS]);
  const m = /^(\d+):(.+)$/.exec(turn.username);
  assert.ok(m, `username <expiry>:<peer id>, got ${turn.username}`);
  assert.equal(m[2], self);
  const expiry = Number(m[1]);
  const now = Date.now() / 1000;
  assert.ok(Math.abs(expiry - (now + TTL)) <= 2, `expiry ${expiry} ≈ now + ttl (${(now + TTL).toFixed(1)})`);
  assert.equal(turn.credential, hmac(turn.username), 'credential = base64(HMAC-SHA1(secret, username))');
  return { ...turn, expiry };
}

test('welcome carries TURN credentials after the STUN entry; the secret appears nowhere', T, async () => {
  const m = await createMeeting(srv.url, {});
  const a = await Client.connect(srv.wsUrl);
  const w = await a.join(m.id, 'alice');
  assert.deepEqual(w.iceServers[0], { urls: `stun:127.0.0.1:${srv.port}` });
  checkTurn(w.iceServers, w.self);
  assert.equal(w.relayOnly, false);
  assert.ok(!JSON.stringify(w).includes(SECRET));
  // Someone else gets their own username.
  const b = await Client.connect(srv.wsUrl);
  const wb = await b.join(m.id, 'bob');
  assert.notEqual(checkTurn(wb.iceServers, wb.self).username, checkTurn(w.iceServers, w.self).username);
  a.close(1000);
  b.close(1000);
  assert.ok(!srv.stderrText().includes(SECRET) && !srv.stdoutText().includes(SECRET), 'secret never logged');
});

test('no credentials before joining: a failed join gets an error, not ICE servers', T, async () => {
  const c = await Client.connect(srv.wsUrl);
  const r = await c.tryJoin('nosuchmeetingnosuchmeeting1', 'x');
  assert.equal(r.type, 'error');
  assert.ok(!JSON.stringify(c.log).includes('credential'));
  c.close(1000);
});

test('a resume gets fresh credentials under the same peer id', T, async () => {
  const m = await createMeeting(srv.url, {});
  const a = await Client.connect(srv.wsUrl);
  const w1 = await a.join(m.id, 'alice');
  const t1 = checkTurn(w1.iceServers, w1.self);
  await sleep(1100); // a later second, so the expiry moves
  a.drop();
  const again = await Client.connect(srv.wsUrl);
  const w2 = await again.join(m.id, undefined, w1.resume);
  assert.equal(w2.self, w1.self);
  const t2 = checkTurn(w2.iceServers, w2.self);
  assert.ok(t2.expiry > t1.expiry, `fresh expiry (${t1.expiry} → ${t2.expiry})`);
  again.close(1000);
});

test('ice-servers arrives with fresh credentials before the held ones expire, again and again', T, async () => {
  const m = await createMeeting(srv.url, {});
  const a = await Client.connect(srv.wsUrl);
  const w = await a.join(m.id, 'alice');
  const held = checkTurn(w.iceServers, w.self);
  const joinedAt = Date.now();
  const r1 = await a.next('ice-servers', (TTL + 2) * 1000);
  const at1 = (Date.now() - joinedAt) / 1000;
  assert.ok(at1 < TTL, `first refresh after ${at1.toFixed(2)} s, before the ${TTL} s credentials expire`);
  assert.deepEqual(r1.iceServers[0], { urls: `stun:127.0.0.1:${srv.port}` });
  const fresh = checkTurn(r1.iceServers, w.self);
  assert.ok(fresh.expiry >= held.expiry);
  const r2 = await a.next('ice-servers', (TTL + 2) * 1000);
  checkTurn(r2.iceServers, w.self);
  const m2 = await metrics(srv.url);
  assert.ok(mval(m2, 'meshmeet_ice_refreshes_total') >= 2);
  a.close(1000);
});

test('no ice-servers refresh without TURN (nothing expires)', T, async () => {
  const m = await createMeeting(plain.url, {});
  const a = await Client.connect(plain.wsUrl);
  await a.join(m.id, 'alice');
  assert.equal(await a.maybe('ice-servers', 1500), null);
  a.close(1000);
});

test('relayOnly: stored, in the 201 body, GET and welcome; refused with 400 relay-unavailable without TURN', T, async () => {
  const made = await createMeetingRaw(srv.url, { name: 'private', relayOnly: true });
  assert.equal(made.status, 201, made.text);
  assert.equal(made.json.relayOnly, true);
  const got = await get(srv.url, `/api/meetings/${made.json.id}`);
  assert.equal(got.json.relayOnly, true);
  const a = await Client.connect(srv.wsUrl);
  const w = await a.join(made.json.id, 'alice');
  assert.equal(w.relayOnly, true);
  checkTurn(w.iceServers, w.self);
  a.close(1000);

  const normal = await createMeetingRaw(srv.url, {});
  assert.equal(normal.json.relayOnly, false);
  assert.equal((await get(srv.url, `/api/meetings/${normal.json.id}`)).json.relayOnly, false);

  const refused = await createMeetingRaw(plain.url, { relayOnly: true });
  assert.equal(refused.status, 400);
  assert.equal(refused.json.error.code, 'relay-unavailable');
  for (const bad of [null, 'true', 1, [], {}]) {
    const r = await createMeetingRaw(srv.url, { relayOnly: bad });
    assert.equal(r.status, 400, `relayOnly ${JSON.stringify(bad)}`);
    assert.equal(r.json.error.code, 'bad-request');
  }
});

async function expectExit2(args, env = {}) {
  const r = await runBinary(['--host', '127.0.0.1', '--port', '0', '--db', join(tempDir(), 'x.db'), ...args],
    { env, timeoutMs: 5000 });
  assert.ok(!r.timedOut, `${args.join(' ')}: did not exit`);
  assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr.slice(0, 300)}`);
  assert.ok(!r.stderr.includes(SECRET), 'the secret is never printed');
  return r.stderr;
}

test('bad --turn-url, unreadable or empty secret, one without the other: exit 2 with a clear message', T, async () => {
  for (const url of ['stun:turn.example.org', 'turn://turn.example.org', 'turn:turn.example.org:99999',
    'turn:turn.example.org?transport=sctp', 'turn:']) {
    const err = await expectExit2(['--turn-url', url, '--turn-secret-file', secretFile]);
    assert.match(err, /--turn-url/);
    assert.ok(err.includes(url), `names the bad URL ${url}: ${err.slice(0, 200)}`);
  }
  assert.match(await expectExit2([], { MESHMEET_TURN_URL: 'http://x', MESHMEET_TURN_SECRET_FILE: secretFile }),
    /MESHMEET_TURN_URL/);
  assert.match(await expectExit2(['--turn-url', TURN_UDP, '--turn-secret-file', join(dir, 'missing')]),
    /cannot read --turn-secret-file/);
  const unreadable = join(dir, 'unreadable');
  writeFileSync(unreadable, SECRET);
  chmodSync(unreadable, 0o000);
  if (process.getuid && process.getuid() === 0) {
    // root reads any file: a directory stands in for "unreadable"
    assert.match(await expectExit2(['--turn-url', TURN_UDP, '--turn-secret-file', dir]), /--turn-secret-file/);
  } else {
    assert.match(await expectExit2(['--turn-url', TURN_UDP, '--turn-secret-file', unreadable]), /cannot read/);
  }
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  assert.match(await expectExit2(['--turn-url', TURN_UDP, '--turn-secret-file', empty]), /empty/);
  assert.match(await expectExit2(['--turn-url', TURN_UDP]), /--turn-url and --turn-secret-file go together/);
  assert.match(await expectExit2(['--turn-secret-file', secretFile]), /go together/);
  assert.match(await expectExit2(['--turn-ttl', '0', '--turn-url', TURN_UDP, '--turn-secret-file', secretFile]), /--turn-ttl/);
});
