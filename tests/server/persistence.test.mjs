// Persistence: meetings survive restarts, the operator audit, shutdown behaviour.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, Client, runBinary, sleep, tempDir, parseAudit, AUDIT_HEADER as HEADER,
  metrics, mval, waitFor, RFC3339_UTC_RE as RFC3339,
} from './harness.mjs';

after(async () => { await finishAll(); }, T);


test('a meeting survives a SIGTERM restart; the roster does not', T, async () => {
  const srv = await startServer(FAST);
  try {
    const m1 = await createMeeting(srv.url, { name: 'Survivor ☀️' });
    const m2 = await createMeeting(srv.url, {});
    const a = await Client.connect(srv.wsUrl);
    await a.join(m1.id, 'alice');
    const exit = await srv.stop();
    assert.equal(exit.code, 0, 'SIGTERM → exit 0');
    await a.waitClosed(3000);
    await srv.restart();
    for (const m of [m1, m2]) {
      const r = await get(srv.url, `/api/meetings/${m.id}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { id: m.id, name: m.name, createdAt: m.createdAt, participants: 0, relayOnly: false });
    }
  } finally {
    await finish(srv);
  }
});

// Protocol v2 "Resume": a lone server that restarted knows nobody, but the
// tokens it issued before are signed with the key it keeps beside the
// database, so participants come back under their ids and names.
const RESTART = ['--resume-grace', '4', '--heartbeat-interval', '0.5', '--heartbeat-timeout', '1.5', '--join-timeout', '1'];

for (const how of ['SIGTERM', 'kill -9']) {
  test(`after a ${how} restart, participants come back under the same ids and names; those present hear peer-joined`, T, async () => {
    const srv = await startServer(RESTART);
    try {
      const m = await createMeeting(srv.url, { name: 'restart' });
      const people = [];
      for (const name of ['alice', 'bob', 'cy']) {
        const c = await Client.connect(srv.wsUrl);
        people.push({ name, c, w: await c.join(m.id, name) });
      }
      if (how === 'SIGTERM') assert.equal((await srv.stop()).code, 0);
      else await srv.kill9();
      await srv.restart();

      // Alice is back first and sees nobody; Bob sees Alice, who hears
      // peer-joined for the id she knew. Nobody gets a new id.
      const [alice, bob, cy] = people;
      const a2 = await Client.connect(srv.wsUrl);
      const wa = await a2.join(m.id, undefined, alice.w.resume);
      assert.equal(wa.self, alice.w.self, 'the same id');
      assert.deepEqual(wa.peers, []);
      assert.notEqual(wa.resume, alice.w.resume, 'a fresh token');
      const b2 = await Client.connect(srv.wsUrl);
      const wb = await b2.join(m.id, 'someone else', bob.w.resume);
      assert.equal(wb.self, bob.w.self);
      assert.deepEqual(wb.peers, [{ id: alice.w.self, name: 'alice' }], 'the name from the first join');
      const joined = await a2.next((x) => x.type === 'peer-joined');
      assert.deepEqual(joined.peer, { id: bob.w.self, name: 'bob' });
      const r = await get(srv.url, `/api/meetings/${m.id}`);
      assert.equal(r.json.participants, 2);

      // Relays under the old ids.
      a2.send({ type: 'signal', to: bob.w.self, data: { hello: 1 } });
      const sig = await b2.next((x) => x.type === 'signal');
      assert.deepEqual(sig, { type: 'signal', from: alice.w.self, data: { hello: 1 } });

      // A token from before the restart is spent once it came back.
      const thief = await Client.connect(srv.wsUrl);
      assert.equal((await thief.tryJoin(m.id, 'x', alice.w.resume)).code, 'bad-resume');

      // Cy does not come back within the grace after the restart: his token
      // is dead, and he joins afresh under a new id.
      await sleep(4500);
      const c2 = await Client.connect(srv.wsUrl);
      assert.equal((await c2.tryJoin(m.id, 'cy', cy.w.resume)).code, 'bad-resume');
      const wc = await c2.join(m.id, 'cy');
      assert.notEqual(wc.self, cy.w.self);
      for (const c of [a2, b2, c2, thief]) c.close(1000);
    } finally {
      await finish(srv);
    }
  });
}

test('a second server that fails to start on the same database does not replace the resume key: the first one\'s participants still come back', T, async () => {
  const srv = await startServer(RESTART);
  try {
    const m = await createMeeting(srv.url, {});
    const c = await Client.connect(srv.wsUrl);
    const w = await c.join(m.id, 'alice');
    const r = await runBinary(['--db', srv.dbPath, '--host', '127.0.0.1', '--port', String(srv.port)]);
    assert.equal(r.code, 2, `the port is taken: ${r.stderr}`);
    await srv.stop();
    await srv.restart();
    const c2 = await Client.connect(srv.wsUrl);
    assert.equal((await c2.join(m.id, undefined, w.resume)).self, w.self, 'the same id after the restart');
    c2.close(1000);
  } finally {
    await finish(srv);
  }
});

test('the resume key sits beside the database, readable by the server alone, and holds nothing about anyone', T, async () => {
  const srv = await startServer(RESTART);
  try {
    const m = await createMeeting(srv.url, {});
    const c = await Client.connect(srv.wsUrl);
    const w = await c.join(m.id, 'alice');
    const keyFile = join(dirname(srv.dbPath), 'resume-key');
    assert.ok(existsSync(keyFile), keyFile);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    assert.match(key, /^[0-9a-f]{64}\n$/);
    await srv.stop();
    await srv.restart();
    const key2 = readFileSync(keyFile, 'utf8');
    assert.notEqual(key2, key, 'a new key at every start: tokens from two restarts ago never verify');
    for (const secret of [w.self, w.resume, 'alice', m.id]) {
      for (const f of readdirSync(dirname(srv.dbPath))) {
        if (!f.startsWith('resume-key')) continue;
        assert.ok(!readFileSync(join(dirname(srv.dbPath), f), 'utf8').includes(secret), `${f} holds no participant data`);
      }
    }
    c.close(1000);
  } finally {
    await finish(srv);
  }
});

test('a resume key the server cannot write: a clear message and exit 2', T, async () => {
  const dir = tempDir('meshmeet-key-');
  mkdirSync(join(dir, 'resume-key'));  // in the way (a folder: even root cannot rename a file over it)
  const r = await runBinary(['--db', join(dir, 'meshmeet.db'), '--port', '0']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot write the resume key .*resume-key/);
});

test('a meeting survives kill -9 right after its 201', T, async () => {
  const srv = await startServer(FAST);
  try {
    const m = await createMeeting(srv.url, { name: 'crash-safe' });
    await srv.kill9();
    await srv.restart();
    const r = await get(srv.url, `/api/meetings/${m.id}`);
    assert.equal(r.status, 200, 'a 201 means the meeting is durable');
    assert.equal(r.json.name, 'crash-safe');
    assert.equal(r.json.createdAt, m.createdAt);
  } finally {
    await finish(srv);
  }
});

test('`meetings --db FILE` prints the audit: ip, user agent, never the full id', T, async () => {
  const srv = await startServer(FAST);
  const ua = 'meshmeet-audit-test/1.0 (+persistence)';
  let m;
  let m2;
  try {
    m = await createMeeting(srv.url, { name: 'Audited' }, { headers: { 'User-Agent': ua } });
    m2 = await createMeeting(srv.url, { name: 'From two' }, { headers: { 'User-Agent': 'other-agent/2' }, localAddress: '127.0.0.2' });
  } finally {
    await finish(srv);
  }
  const r = await runBinary(['meetings', '--db', srv.dbPath]);
  assert.equal(r.code, 0, r.stderr);
  const { header, rows } = parseAudit(r.stdout);
  assert.equal(header, HEADER);
  assert.equal(rows.length, 2, r.stdout);
  for (const row of rows) assert.equal(row.length, 7, `7 tab-separated columns: ${JSON.stringify(row)}`);
  const row = rows.find((x) => x[2] === 'Audited');
  assert.ok(row, r.stdout);
  const [id, createdAt, name, ip, , , userAgent] = row;
  assert.ok(id.endsWith('…'), `id column ends with …: ${id}`);
  const prefix = id.slice(0, -1);
  assert.ok(prefix.length >= 1 && prefix.length < m.id.length, `a strict prefix: ${id}`);
  assert.ok(m.id.startsWith(prefix), 'prefix of the real id');
  assert.ok(!r.stdout.includes(m.id) && !r.stdout.includes(m2.id), 'never the full id');
  assert.ok(!r.stderr.includes(m.id));
  assert.ok(Math.abs(Date.parse(createdAt) - Date.parse(m.createdAt)) < 2000, `created_at ${createdAt} vs ${m.createdAt}`);
  assert.equal(name, 'Audited');
  assert.equal(ip, '127.0.0.1');
  assert.equal(userAgent, ua);
  const row2 = rows.find((x) => x[2] === 'From two');
  assert.equal(row2[3], '127.0.0.2');
  assert.equal(row2[6], 'other-agent/2');
});

test('participants are never written to disk', T, async () => {
  const srv = await startServer(FAST);
  const secretName = 'zq-participant-name-7f3a9';
  const secretData = 'zq-signal-payload-c41d2';
  try {
    const m = await createMeeting(srv.url, { name: 'disk check' });
    const a = await Client.connect(srv.wsUrl);
    await a.join(m.id, secretName);
    const b = await Client.connect(srv.wsUrl);
    await b.join(m.id, 'other');
    a.send({ type: 'signal', to: b.self, data: { secretData } });
    await b.next('signal');
    a.close(1000);
    b.close(1000);
    await sleep(200);
  } finally {
    await finish(srv);
  }
  const dir = dirname(srv.dbPath);
  const files = readdirSync(dir);
  assert.ok(files.length >= 1, 'the db exists');
  for (const f of files) {
    const buf = readFileSync(join(dir, f));
    assert.ok(!buf.includes(secretName), `${f} contains a participant name`);
    assert.ok(!buf.includes(secretData), `${f} contains signal data`);
  }
});

test('SIGTERM closes joined sockets with 1001 and exits 0', T, async () => {
  const srv = await startServer(FAST);
  const m = await createMeeting(srv.url, {});
  const a = await Client.connect(srv.wsUrl);
  await a.join(m.id, 'alice');
  const b = await Client.connect(srv.wsUrl);
  await b.join(m.id, 'bob');
  const unjoined = await Client.connect(srv.wsUrl);
  const t0 = Date.now();
  const exit = await srv.stop(8000);
  assert.ok(!exit.hung, 'exited without SIGKILL');
  assert.equal(exit.code, 0);
  assert.equal(exit.signal, null);
  const [ca, cb, cu] = await Promise.all([a.waitClosed(2000), b.waitClosed(2000), unjoined.waitClosed(2000)]);
  assert.equal(ca.code, 1001);
  assert.equal(cb.code, 1001);
  assert.equal(cu.code, 1001);
  assert.ok(Date.now() - t0 < 5000, 'prompt shutdown');
  await finish();
});

test('the db given with --db is used (a fresh path is created)', T, async () => {
  const dir = tempDir();
  const flat = join(dir, 'flat.sqlite');
  const srv = await startServer([...FAST, '--db', flat]);
  try {
    await createMeeting(srv.url, { name: 'db path' });
  } finally {
    await finish(srv);
  }
  assert.ok(readdirSync(dir).includes('flat.sqlite'));
  const r = await runBinary(['meetings', '--db', flat]);
  assert.equal(r.code, 0);
  assert.ok(r.stdout.includes('db path'));
});

/** The journal mode SQLite itself reports (the sqlite3 CLI, a test helper from tools/setup.sh). */
function journalMode(dbPath) {
  const r = spawnSync('sqlite3', ['-readonly', dbPath, 'PRAGMA journal_mode;'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) throw new Error(`sqlite3 CLI: ${r.error.message} (tools/setup.sh installs it)`);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('the database runs in WAL mode (write-ahead log while running, WAL recorded in the file header)', T, async () => {
  const srv = await startServer(FAST);
  try {
    await createMeeting(srv.url, { name: 'wal' });
    assert.ok(existsSync(`${srv.dbPath}-wal`), 'a -wal file next to the database while the server runs');
    assert.ok(existsSync(`${srv.dbPath}-shm`), 'and its shared-memory index');
    assert.equal(journalMode(srv.dbPath), 'wal');
  } finally {
    await finish(srv);
  }
  // Bytes 18 and 19 of the header: file format write/read version, 2 = WAL
  // (1 would be a rollback journal). WAL mode persists in the file.
  const header = Buffer.alloc(100);
  const fd = openSync(srv.dbPath, 'r');
  try { readSync(fd, header, 0, 100, 0); } finally { closeSync(fd); }
  assert.equal(header.subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  assert.deepEqual([header[18], header[19]], [2, 2], 'the header says WAL');
  assert.ok(!existsSync(`${srv.dbPath}-wal`), 'a clean exit checkpoints and removes the WAL');
});

// docs/privacy.md: meetings unused for --meeting-ttl days are deleted, the
// creator audit is erased after --audit-retention days, and an operator can
// delete a meeting at once. Small values (fractions of a day) stand in for days.
test('retention: an unused meeting is deleted after --meeting-ttl, one in use is not; the audit is erased after --audit-retention', T, async () => {
  const srv = await startServer([...FAST, '--meeting-ttl', '0.00003', '--audit-retention', '0.00002']);  // 2.6 s, 1.7 s
  try {
    const unused = await createMeeting(srv.url, { name: 'nobody came' });
    const used = await createMeeting(srv.url, { name: 'in use' });
    const c = await Client.connect(srv.wsUrl);
    await c.join(used.id, 'alice');
    await waitFor(async () => (await get(srv.url, `/api/meetings/${unused.id}`)).status === 404, 8000, 'the unused meeting to go');
    assert.equal((await get(srv.url, `/api/meetings/${used.id}`)).status, 200, 'a meeting someone is in stays');
    // The audit keeps the meeting and its date, not who created it.
    // (id, created_at, name, ip, country, city, user_agent)
    const audit = parseAudit((await runBinary(['meetings', '--db', srv.dbPath])).stdout);
    assert.equal(audit.header, HEADER);
    const row = audit.rows.find((r) => r[2] === 'in use');
    assert.ok(row, JSON.stringify(audit.rows));
    assert.deepEqual([row[3], row[4], row[5], row[6]], ['', '', '', ''], JSON.stringify(row));
    assert.match(row[1], RFC3339);
    // Once left, it goes after the TTL too.
    c.close(1000);
    await waitFor(async () => (await get(srv.url, `/api/meetings/${used.id}`)).status === 404, 10000, 'the meeting left to go');
    const m = await metrics(srv.url);
    assert.ok(mval(m, 'meshmeet_meetings_expired_total') >= 2);
    assert.ok(srv.logs().some((l) => l.event === 'retention' && l.meetings_deleted >= 1), 'logged, without ids');
  } finally {
    await finish(srv);
  }
});

test('`meetings delete ID` deletes a meeting at once; an unknown one is exit 1, a missing ID exit 2', T, async () => {
  const srv = await startServer(FAST);
  try {
    const m = await createMeeting(srv.url, { name: 'delete me' });
    const r = await runBinary(['meetings', 'delete', m.id, '--db', srv.dbPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^deleted meeting ${m.id.slice(0, 6)}…`));
    assert.ok(!r.stdout.includes(m.id), 'never the full id');
    assert.equal((await get(srv.url, `/api/meetings/${m.id}`)).status, 404);
    const c = await Client.connect(srv.wsUrl);
    assert.equal((await c.tryJoin(m.id, 'late')).code, 'meeting-not-found');
    c.close(1000);
    const again = await runBinary(['meetings', 'delete', m.id, '--db', srv.dbPath]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no meeting/);
    const missing = await runBinary(['meetings', 'delete', '--db', srv.dbPath]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /needs the meeting's ID/);
  } finally {
    await finish(srv);
  }
});
