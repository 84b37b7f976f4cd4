// Command line: --help, bad flags/values/files → exit 2, MESHMEET_* env twins,
// defaults found next to the binary.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  T, BIN, startServer, finish, finishAll, createMeeting, createMeetingRaw, get, Client, runBinary, tempDir, tryUpgrade,
  makeStaticDir, sleep, freePort, fakeId,
} from './harness.mjs';

after(async () => { await finishAll(); }, T);

const PROTOCOL_FLAGS = [
  '--host', '--port', '--db', '--static', '--tls-cert', '--tls-key', '--allow-origin', '--room-cap', '--per-ip',
  '--resume-grace', '--heartbeat-interval', '--heartbeat-timeout', '--max-frame', '--geoip', '--msg-rate', '--create-rate',
];
const EXTRA_FLAGS = ['--join-timeout', '--max-body', '--send-queue', '--create-token', '--ice-server', '--trust-proxy', '--log-level'];
const V2_FLAGS = ['--stun-port', '--turn-url', '--turn-secret-file', '--turn-ttl', '--per-ip-sockets', '--metrics-listen', '--meeting-ttl', '--audit-retention'];

/** Args that make a run harmless if a bad flag were ignored: never bind 8080, temp db. */
function safe(extra) {
  const out = [...extra];
  const has = (f) => extra.some((a) => a === f || a.startsWith(`${f}=`));
  if (!has('--host')) out.push('--host', '127.0.0.1');
  if (!has('--port')) out.push('--port', '0');
  if (!has('--db')) out.push('--db', join(tempDir(), 'cli.db'));
  return out;
}

async function expectExit2(args, env = {}) {
  const r = await runBinary(args, { env, timeoutMs: 5000 });
  const what = `${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${args.join(' ')}`;
  assert.ok(!r.timedOut, `${what}: did not exit (server started?)`);
  assert.equal(r.code, 2, `${what}: exit code ${r.code}, stderr: ${r.stderr.slice(0, 300)}`);
  assert.ok(r.stderr.trim().length > 0, `${what}: a message on stderr`);
  return r;
}

test('--help lists every flag of the protocol table (and the documented extras), exit 0', T, async () => {
  const r = await runBinary(['--help'], { timeoutMs: 5000 });
  assert.ok(!r.timedOut);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout + r.stderr;
  for (const f of [...PROTOCOL_FLAGS, ...EXTRA_FLAGS, ...V2_FLAGS]) {
    assert.ok(new RegExp(`${f}(?![a-z-])`).test(out), `--help mentions ${f}`);
  }
  assert.ok(/meetings/.test(out), '--help mentions the meetings subcommand');
});

test('unknown flag → stderr message, exit 2', T, async () => {
  for (const args of [['--no-such-flag'], ['--roomcap', '3'], ['--room-cap=3x'], ['-z']]) {
    const r = await expectExit2(safe(args));
    if (args[0].startsWith('--no-such')) assert.match(r.stderr, /no-such-flag/, 'names the bad flag');
  }
});

test('bad values → stderr message, exit 2', T, async () => {
  const bad = [
    ['--port', 'abc'], ['--port', '70000'], ['--port', '-1'],
    ['--room-cap', 'abc'], ['--room-cap', '-3'], ['--per-ip', 'many'],
    ['--resume-grace', 'soon'], ['--resume-grace', '-1'], ['--heartbeat-interval', 'x'], ['--heartbeat-timeout', '-2'],
    ['--max-frame', '12abc'], ['--msg-rate', 'fast'], ['--create-rate', '-5'], ['--join-timeout', 'never'],
    ['--max-body', 'big'], ['--send-queue', 'x'], ['--log-level', 'loud'],
  ];
  for (const args of bad) await expectExit2(safe(args));
});

test('a flag missing its value → exit 2', T, async () => {
  await expectExit2([...safe([]), '--room-cap']);
  await expectExit2(['--host', '127.0.0.1', '--db', join(tempDir(), 'x.db'), '--port']);
});

test('unreadable --tls-cert/--tls-key, --geoip → exit 2', T, async () => {
  const dir = tempDir();
  await expectExit2(safe(['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem']));
  await expectExit2(safe(['--geoip', '/nonexistent/db.mmdb']));
  const junk = join(dir, 'junk');
  writeFileSync(junk, 'this is not a certificate nor a maxmind db\n'.repeat(10));
  await expectExit2(safe(['--tls-cert', junk, '--tls-key', junk]));
  await expectExit2(safe(['--geoip', junk]));
});

test('cannot bind → exit 2', T, async () => {
  const s = await startServer(['--resume-grace', '1']);
  try {
    await expectExit2(['--host', '127.0.0.1', '--port', String(s.port), '--db', join(tempDir(), 'bind.db')]);
  } finally {
    await finish(s);
  }
});

test('bad environment values → exit 2', T, async () => {
  await expectExit2(safe([]), { MESHMEET_ROOM_CAP: 'abc' });
  await expectExit2(safe([]), { MESHMEET_RESUME_GRACE: 'soon' });
});

test('MESHMEET_* environment twins work (port, db, static, room cap, heartbeat, ice, token, frame, join timeout, origin)', T, async () => {
  const port = await freePort();
  const dir = tempDir();
  const db = join(dir, 'env.db');
  const staticDir = makeStaticDir('MESHMEET-ENV-APP');
  const s = await startServer([], {
    env: {
      MESHMEET_PORT: String(port),
      MESHMEET_HOST: '127.0.0.1',
      MESHMEET_DB: db,
      MESHMEET_STATIC: staticDir,
      MESHMEET_ROOM_CAP: '1',
      MESHMEET_HEARTBEAT_INTERVAL: '0.5',
      MESHMEET_HEARTBEAT_TIMEOUT: '1.5',
      MESHMEET_ICE_SERVER: 'stun:env.example:3478',
      MESHMEET_STUN_PORT: '0',
      MESHMEET_CREATE_TOKEN: 'envtok',
      MESHMEET_MAX_FRAME: '1024',
      MESHMEET_JOIN_TIMEOUT: '1',
      MESHMEET_ALLOW_ORIGIN: 'https://a.example',
      MESHMEET_RESUME_GRACE: '1',
    },
  });
  try {
    assert.equal(s.port, port, 'MESHMEET_PORT');
    assert.ok(existsSync(db), 'MESHMEET_DB');
    const root = await get(s.url, '/');
    assert.ok(root.text.includes('MESHMEET-ENV-APP'), 'MESHMEET_STATIC');
    assert.equal((await createMeetingRaw(s.url, {})).status, 401, 'MESHMEET_CREATE_TOKEN');
    const m = await createMeeting(s.url, { name: 'env' }, { headers: { Authorization: 'Bearer envtok' } });
    const a = await Client.connect(s.wsUrl);
    const w = await a.join(m.id, 'alice');
    assert.deepEqual(w.heartbeat, { interval: 500, timeout: 1500 }, 'MESHMEET_HEARTBEAT_*');
    assert.deepEqual(w.iceServers, [{ urls: 'stun:env.example:3478' }], 'MESHMEET_ICE_SERVER');
    const b = await Client.connect(s.wsUrl);
    assert.equal((await b.tryJoin(m.id, 'bob')).code, 'meeting-full', 'MESHMEET_ROOM_CAP=1');
    const big = { type: 'ping', pad: 'x'.repeat(1100) };
    a.send(big);
    assert.equal((await a.waitClosed()).code, 1009, 'MESHMEET_MAX_FRAME=1024');
    assert.equal((await b.waitClosed(3000)).code, 1008, 'MESHMEET_JOIN_TIMEOUT=1');
    assert.equal((await tryUpgrade(s.url, { Origin: 'http://localhost:3000' })).status, 403, 'MESHMEET_ALLOW_ORIGIN');
    assert.equal((await tryUpgrade(s.url, { Origin: 'https://a.example' })).status, 101, 'MESHMEET_ALLOW_ORIGIN');
  } finally {
    await finish(s);
  }
});

test('MESHMEET_PER_IP, MESHMEET_CREATE_RATE, MESHMEET_MSG_RATE twins', T, async () => {
  const s = await startServer(['--resume-grace', '1'], {
    env: { MESHMEET_PER_IP: '1', MESHMEET_CREATE_RATE: '1', MESHMEET_MSG_RATE: '1' },
  });
  try {
    assert.equal((await createMeetingRaw(s.url, {})).status, 201);
    assert.equal((await createMeetingRaw(s.url, {})).status, 429, 'MESHMEET_CREATE_RATE=1');
    const a = await Client.connect(s.wsUrl);
    const b = await Client.connect(s.wsUrl);
    assert.equal((await b.waitClosed(2000)).code, 1008, 'MESHMEET_PER_IP=1');
    for (let i = 0; i < 10; i++) a.send({ type: 'ping', t: i }); // burst 4×1
    assert.equal((await a.next('error', 3000)).code, 'rate-limited');
    await sleep(100);
    assert.ok(a.pending('pong').length <= 5, `MESHMEET_MSG_RATE=1: ${a.pending('pong').length} pongs`);
    a.close(1000);
  } finally {
    await finish(s);
  }
});

test('a flag beats its environment twin', T, async () => {
  const s = await startServer(['--room-cap', '3', '--resume-grace', '1'], { env: { MESHMEET_ROOM_CAP: '1' } });
  try {
    const m = await createMeeting(s.url, {});
    const a = await Client.connect(s.wsUrl);
    await a.join(m.id, 'a');
    const b = await Client.connect(s.wsUrl);
    const r = await b.tryJoin(m.id, 'b');
    assert.equal(r.type, 'welcome', `--room-cap 3 must win over MESHMEET_ROOM_CAP=1: ${JSON.stringify(r)}`);
    a.close(1000);
    b.close(1000);
  } finally {
    await finish(s);
  }
});

test('--port 0 picks a free port and logs it', T, async () => {
  const s = await startServer(['--resume-grace', '1']);
  try {
    const l = s.logs().find((j) => j.event === 'listening');
    assert.equal(l.host, '127.0.0.1');
    assert.ok(Number.isInteger(l.port) && l.port > 0);
    assert.equal(l.tls, false);
    assert.equal(l.level, 'info');
    assert.ok(!Number.isNaN(Date.parse(l.t)), `t is a timestamp: ${l.t}`);
    assert.equal((await get(s.url, '/healthz')).status, 200);
  } finally {
    await finish(s);
  }
});

test('--static that does not exist or is not a directory → exit 2 (flag and environment twin)', T, async () => {
  const dir = tempDir();
  const file = join(dir, 'index.html');
  writeFileSync(file, '<!doctype html>\n');
  for (const bad of ['/nonexistent/meshmeet-web', file]) {
    const r = await expectExit2(safe(['--static', bad]));
    assert.match(r.stderr, /--static/, 'names the flag');
    assert.ok(r.stderr.includes(bad), 'names the directory');
    await expectExit2(safe([]), { MESHMEET_STATIC: bad });
  }
});

test('--db that cannot be opened → exit 2', T, async () => {
  const dir = tempDir();
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'not a directory\n');
  let r = await expectExit2(safe(['--db', join(file, 'meshmeet.db')])); // its parent is a file
  assert.match(r.stderr, /database/);
  r = await expectExit2(safe(['--db', dir])); // a directory
  assert.match(r.stderr, /database/);
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not an SQLite database, just text\n'.repeat(200));
  r = await expectExit2(safe(['--db', junk]));
  assert.match(r.stderr, /database/);
});

test('`meetings --db` with a missing or broken database → exit 2, nothing created', T, async () => {
  const dir = tempDir();
  const missing = join(dir, 'missing.db');
  let r = await expectExit2(['meetings', '--db', missing]);
  assert.ok(r.stderr.includes(missing), r.stderr);
  assert.ok(!existsSync(missing), 'the audit never creates a database');
  r = await expectExit2(['meetings', '--db', '/missing']);
  assert.match(r.stderr, /\/missing/);
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'this is not an SQLite database, just text\n'.repeat(200));
  await expectExit2(['meetings', '--db', junk]);
});

/** A working directory from which no `web` folder is reachable by a relative path. */
function elsewhere() {
  const d = join(tempDir('meshmeet-cwd-'), 'a', 'b');
  mkdirSync(d, { recursive: true });
  return d;
}

test('without --static the web app is found next to the binary (<bin>/../web) from any working directory', T, async () => {
  // A copy of the binary in a layout of our own: <root>/bin/meshmeet-server, <root>/web/.
  const root = tempDir('meshmeet-install-');
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'web', 'assets'), { recursive: true });
  const bin = join(root, 'bin', 'meshmeet-server');
  copyFileSync(BIN, bin);
  chmodSync(bin, 0o755);
  const marker = 'MESHMEET-NEXT-TO-THE-BINARY';
  writeFileSync(join(root, 'web', 'index.html'), `<!doctype html><title>${marker}</title>\n`);
  writeFileSync(join(root, 'web', 'assets', 'app.js'), `// ${marker}\n`);
  for (const cwd of [elsewhere(), '/']) {
    const s = await startServer(['--resume-grace', '1'], { bin, cwd });
    try {
      for (const path of ['/', `/m/${fakeId(26)}`, '/assets/app.js']) {
        const r = await get(s.url, path);
        assert.equal(r.status, 200, `${path} from cwd ${cwd}: ${r.status} ${r.text.slice(0, 200)}`);
        assert.ok(r.text.includes(marker), `${path} from cwd ${cwd} is the app next to the binary`);
      }
    } finally {
      await finish(s);
    }
  }
});

test('the built server serves the built app (web/app built into <build>/web) from another working directory', T, async (t) => {
  const builtIndex = join(dirname(BIN), '..', 'web', 'index.html');
  if (!existsSync(builtIndex)) {
    t.skip(`no web app built next to ${BIN} (the web_app target builds it into ${dirname(dirname(BIN))}/web)`);
    return;
  }
  const s = await startServer(['--resume-grace', '1'], { cwd: elsewhere() });
  try {
    const index = readFileSync(builtIndex, 'utf8');
    for (const path of ['/', `/m/${fakeId(26)}`]) {
      const r = await get(s.url, path);
      assert.equal(r.status, 200, `${path}: ${r.status}`);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.equal(r.text, index, `${path} is the built app's index.html`);
    }
  } finally {
    await finish(s);
  }
});
