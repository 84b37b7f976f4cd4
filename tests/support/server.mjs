// The real server binary as a child process, for every Node-driven suite
// (server, node, browser): start it, wait for its "listening" line, keep its
// stderr, stop / kill -9 / restart it on the same port with the same database.
//
//   const srv = await startServer({ args: ['--room-cap', '2'] });
//   await fetch(`${srv.url}/api/meetings`, …);
//   await srv.kill9();
//   await srv.restart();              // same port, same db, same flags
//   const { code, signal, crashed, hung } = await srv.stop();
//
// Every child process started here (or handed to track()) is SIGKILLed when
// the test process exits, and every tempDir() is removed then.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { SERVER_BIN, withTimeout } from './wait.mjs';

export { SERVER_BIN };

// ---------------------------------------------------------------------------
// What this process started: killed / removed at exit at the latest.

const liveProcs = new Set();
const tempDirs = [];
const servers = new Set();

process.on('exit', () => {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const d of tempDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

/** Tracks a child process so it is SIGKILLed at exit if still running. */
export function track(proc) {
  liveProcs.add(proc);
  proc.once('exit', () => liveProcs.delete(proc));
  proc.once('error', () => liveProcs.delete(proc));
  return proc;
}

/** A fresh directory, removed when the process exits. */
export function tempDir(prefix = 'meshmeet-test-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** process.env without the caller's MESHMEET_* settings, plus `extra`. */
export function serverEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('MESHMEET_')) delete env[k];
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------
// The server

/**
 * Starts the server and resolves once it logs `listening`.
 *   args   extra flags
 *   env    added to serverEnv() (no MESHMEET_* from the caller's shell)
 *   host   --host (default 127.0.0.1)
 *   port   --port (default 0 = any); restart() passes the port it got, so
 *          clients find the server where it was
 *   db     --db (default <fresh temp dir>/meshmeet.db)
 *   startTimeoutMs  how long to wait for the listening line
 *   nofile  the open-file limit of the server process (run under prlimit)
 *   bin    the binary (default SERVER_BIN)
 *   cwd    its working directory (default: this process's)
 * host, port and db are not passed where args (the flag) or env (its
 * MESHMEET_* twin) already give them.
 * The handle: url, wsUrl, port, tls, dbPath, args (the command line), proc
 * (null once stopped), exit ({code, signal} once exited), stderrLines,
 * stdoutLines, logs(), stderrText(), stdoutText(), stop(), kill9(), restart().
 * stopServers() stops every handle still running.
 */
export async function startServer({ args = [], env = {}, host = '127.0.0.1', port = 0, db, startTimeoutMs = 10000, nofile, bin = SERVER_BIN, cwd } = {}) {
  if (!existsSync(bin)) throw new Error(`server binary not found: ${bin} (build it, or set MESHMEET_SERVER_BIN)`);
  const srv = new ServerProcess({ args, env, host, port, db, bin, cwd });
  srv.nofile = nofile;
  await srv.launch(startTimeoutMs);
  servers.add(srv);
  return srv;
}

/** Stops every server started here that still runs (SIGKILL if SIGTERM fails). */
export async function stopServers(timeoutMs = 5000) {
  await Promise.all([...servers].filter((s) => s.proc).map((s) => s.stop(timeoutMs).catch(() => s.kill9())));
}

/** The value of `flag` in args (`--flag V` or `--flag=V`), or undefined. */
function flagValue(args, flag) {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(flag + '='))?.slice(flag.length + 1);
}

class ServerProcess {
  constructor({ args, env, host, port, db, bin, cwd }) {
    this.bin = bin;
    this.cwd = cwd;
    const given = (flag, twin) => args.some((a) => a === flag || a.startsWith(flag + '=')) || !!env[twin];
    this.extraArgs = args;
    this.env = serverEnv(env);
    this.hostFlag = !given('--host', 'MESHMEET_HOST');
    this.portFlag = !given('--port', 'MESHMEET_PORT');
    this.dbFlag = !given('--db', 'MESHMEET_DB');
    this.hostArg = host;
    this.port = this.portFlag ? port : 0;
    this.dbPath = this.dbFlag ? db ?? join(tempDir(), 'meshmeet.db') : flagValue(args, '--db') ?? env.MESHMEET_DB;
    this.tls = false;
    this.proc = null;
    this.exit = null; // {code, signal} once exited
    this.exited = null; // promise of this.exit
    this.spawnError = null;
    this.stderrLines = [];
    this.stdoutLines = [];
  }

  /** The command line of the next launch. */
  get args() {
    return [
      ...(this.hostFlag ? ['--host', this.hostArg] : []),
      ...(this.portFlag ? ['--port', String(this.port)] : []),
      ...(this.dbFlag ? ['--db', this.dbPath] : []),
      ...this.extraArgs,
    ];
  }

  get host() { return '127.0.0.1'; }
  get url() { return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`; }
  get wsUrl() { return `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.port}/ws`; }

  /** Log lines parsed as JSON (non-JSON lines are skipped). */
  logs() {
    return this.stderrLines.map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);
  }

  stderrText() { return this.stderrLines.join('\n'); }

  stdoutText() { return this.stdoutLines.join('\n'); }

  /** Spawns the binary and waits for its listening line (SIGKILL if it does not come). */
  async launch(timeoutMs = 10000) {
    this.exit = null;
    this.spawnError = null;
    // prlimit execs the server: same pid, so signals reach it directly.
    const [command, argv] = this.nofile
      ? ['prlimit', [`--nofile=${this.nofile}:${this.nofile}`, '--', this.bin, ...this.args]]
      : [this.bin, this.args];
    const proc = track(spawn(command, argv, { env: this.env, cwd: this.cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
    createInterface({ input: proc.stdout }).on('line', (line) => this.stdoutLines.push(line));
    this.proc = proc;
    this.exited = new Promise((res) => proc.once('exit', (code, signal) => res((this.exit = { code, signal }))));
    const started = this.stderrLines.length;
    const listening = new Promise((res, rej) => {
      createInterface({ input: proc.stderr }).on('line', (line) => {
        this.stderrLines.push(line);
        if (process.env.MESHMEET_TEST_VERBOSE) process.stderr.write(`[server ${proc.pid}] ${line}\n`);
        let j = null;
        try { j = JSON.parse(line); } catch { /* not JSON */ }
        if (j?.event === 'listening' && typeof j.port === 'number') res(j);
      });
      proc.once('error', (err) => {
        this.spawnError = err;
        rej(err);
      });
      this.exited.then((e) => rej(new Error(
        `server exited before listening (code ${e.code}, signal ${e.signal})${this.spawnError ? ': ' + this.spawnError.message : ''}\n` +
        this.stderrLines.slice(started).join('\n'))));
    });
    let j;
    try {
      j = await withTimeout(listening, timeoutMs, 'the server\'s "listening" log line');
    } catch (err) {
      try { proc.kill('SIGKILL'); } catch { /* gone */ }
      throw err;
    }
    this.port = j.port;
    this.tls = !!j.tls;
    return this;
  }

  /**
   * SIGTERM, await the exit (SIGKILL after timeoutMs). Resolves with
   * {code, signal}, plus crashed: true if it had exited before we asked, or
   * hung: true if it needed the SIGKILL.
   */
  async stop(timeoutMs = 5000) {
    const p = this.proc;
    if (!p) return this.exit;
    if (this.exit) {
      this.proc = null;
      return { ...this.exit, crashed: true };
    }
    p.kill('SIGTERM');
    try {
      await withTimeout(this.exited, timeoutMs, 'server exit after SIGTERM');
    } catch {
      p.kill('SIGKILL');
      await withTimeout(this.exited, 3000, 'server exit after SIGKILL');
      this.proc = null;
      return { ...this.exit, hung: true };
    }
    this.proc = null;
    return this.exit;
  }

  /** kill -9: no goodbye to anyone. */
  async kill9() {
    const p = this.proc;
    if (!p) return this.exit;
    if (!this.exit) p.kill('SIGKILL');
    await withTimeout(this.exited, 3000, 'server exit after SIGKILL');
    this.proc = null;
    return this.exit;
  }

  /**
   * Starts it again on the same port with the same flags, env and database
   * (stops it first if running). The port was free while the server was down,
   * so another test's server (`--port 0`) may have been given it meanwhile:
   * a launch refused with "cannot listen" is tried again a few times.
   */
  async restart(timeoutMs = 10000) {
    if (this.proc) await this.stop();
    for (let attempt = 1; ; attempt++) {
      const before = this.stderrLines.length;
      try {
        return await this.launch(timeoutMs);
      } catch (err) {
        const refused = this.stderrLines.slice(before).some((l) => l.includes('cannot listen on'));
        if (!refused || attempt === 5) throw err;
        await new Promise((res) => setTimeout(res, 300 * attempt));
      }
    }
  }
}
