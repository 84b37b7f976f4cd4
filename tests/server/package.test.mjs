// The Debian package (npm run package): it builds, installs into a fresh
// root (dpkg --root, its maintainer scripts run for that root), the unit's
// ExecStart runs there as the package's system user with the unit's
// environment and serves the app and the API; remove keeps the data, purge
// deletes it. The unit itself passes systemd-analyze (verify, and an
// exposure level of at most 2.0 from `security`).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { T, ROOT, tempDir, freePort, get, createMeeting, waitFor } from './harness.mjs';

// The package holds the release build: the sanitize suite's run of
// tests/server (MESHMEET_SANITIZED) has nothing to add here.
const TP = { timeout: 120000, skip: process.env.MESHMEET_SANITIZED ? 'packages the release build (the server suite runs it)' : false };
let server;
after(() => { if (server && server.exitCode === null) server.kill('SIGKILL'); });

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: 'pipe', timeout: 90000, ...opts });
const dpkg = (root, ...args) => run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', ...args]);

/** The unit's Environment= assignments, then its EnvironmentFile's, as systemd applies them. */
function unitEnvironment(unitText, root) {
  const env = {};
  const assign = (line) => {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  };
  for (const line of unitText.split('\n')) {
    if (line.startsWith('Environment=')) assign(line.slice('Environment='.length));
  }
  const file = /^EnvironmentFile=-?(.*)$/m.exec(unitText)[1];
  for (const line of readFileSync(join(root, file), 'utf8').split('\n')) if (!line.startsWith('#')) assign(line);
  return env;
}

test('npm run package builds a .deb that installs, serves the app as its own user, and remove keeps what purge deletes', TP, async () => {
  const deb = run(join(ROOT, 'tools/package-deb.sh'), [], { cwd: ROOT }).trim().split('\n').at(-1);
  assert.match(deb, /^build\/meshmeet_\d+\.\d+\.\d+_amd64\.deb$/);
  const info = run('dpkg-deb', ['-f', join(ROOT, deb)]);
  for (const lib of ['libc6', 'libssl3', 'libsqlite3-0', 'libmaxminddb0', 'systemd']) assert.match(info, new RegExp(`^Depends: .*\\b${lib}\\b`, 'm'));

  // A fresh root: an empty dpkg database and nothing else.
  const root = tempDir('meshmeet-deb-root-');
  chmodSync(root, 0o755);
  for (const d of ['etc', 'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/log']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  dpkg(root, '-i', join(ROOT, deb));

  const unit = readFileSync(join(root, 'lib/systemd/system/meshmeet.service'), 'utf8');
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'StateDirectory=meshmeet', 'User=meshmeet'])
    assert.ok(unit.includes(`\n${line}\n`), `the unit has ${line}`);
  assert.ok(Number(/^LimitNOFILE=(\d+)$/m.exec(unit)[1]) >= 100000, 'room for 100,000 sockets');
  // systemd's own checks, on the unit with ExecStart pointing at this build's binary.
  const check = tempDir('meshmeet-unit-');
  writeFileSync(join(check, 'meshmeet.service'), unit.replace(/^ExecStart=.*$/m, `ExecStart=${join(root, 'usr/bin/meshmeet-server')}`));
  run('systemd-analyze', ['verify', '--man=no', './meshmeet.service'], { cwd: check });
  const security = run('systemd-analyze', ['security', '--offline=yes', './meshmeet.service'], { cwd: check });
  const exposure = Number(/Overall exposure level for meshmeet\.service: ([\d.]+)/.exec(security)[1]);
  assert.ok(exposure <= 2.0, `exposure ${exposure}`);

  // The system user and its state folder.
  const [, uid, gid] = /^meshmeet:x:(\d+):(\d+):/m.exec(readFileSync(join(root, 'etc/passwd'), 'utf8')).map(Number);
  const state = statSync(join(root, 'var/lib/meshmeet'));
  assert.equal(state.uid, uid);
  assert.equal(state.mode & 0o777, 0o700);

  // The operator's settings file, then ExecStart with the unit's environment,
  // its paths taken inside the root, as the package's user.
  const port = await freePort();
  writeFileSync(join(root, 'etc/meshmeet/meshmeet.env'), `${readFileSync(join(root, 'etc/meshmeet/meshmeet.env'), 'utf8')}MESHMEET_PORT=${port}\nMESHMEET_STUN_PORT=0\n`);
  const env = unitEnvironment(unit, root);
  for (const k of ['MESHMEET_DB', 'MESHMEET_STATIC']) env[k] = join(root, env[k]);
  const exec = /^ExecStart=(\S+)$/m.exec(unit)[1];
  server = spawn(join(root, exec), [], { env: { PATH: process.env.PATH, ...env }, uid, gid, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => { stderr += d; });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await get(url, '/readyz').catch(() => ({ status: 0 }))).status === 200, 10000, 'the service to be ready', { describe: () => stderr });
  const page = await get(url, '/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<html/i);
  const m = await createMeeting(url, { name: 'from the package' });
  assert.equal((await get(url, `/api/meetings/${m.id}`)).json.name, 'from the package');
  assert.ok(existsSync(join(root, 'var/lib/meshmeet/meshmeet.db')), 'the database in the state folder');
  assert.equal(statSync(join(root, 'var/lib/meshmeet/resume-key')).uid, uid);
  server.kill('SIGTERM');
  await new Promise((res) => server.once('exit', res));

  // remove: the program goes, the meetings and the settings stay.
  dpkg(root, '-r', 'meshmeet');
  assert.ok(!existsSync(join(root, 'usr/bin/meshmeet-server')));
  assert.ok(existsSync(join(root, 'var/lib/meshmeet/meshmeet.db')), 'remove keeps the data');
  assert.ok(existsSync(join(root, 'etc/meshmeet/meshmeet.env')), 'remove keeps the settings');
  // purge: they go too.
  dpkg(root, '-P', 'meshmeet');
  assert.ok(!existsSync(join(root, 'var/lib/meshmeet')), 'purge deletes the data');
  assert.ok(!existsSync(join(root, 'etc/meshmeet/meshmeet.env')), 'purge deletes the settings');
});
