// A real redis-server (Debian's redis-server 7.0) for the cluster tests: one
// process per call on a free loopback port, in a directory of its own, with
// AOF on when asked, so a restart keeps what was written. Killed at exit if
// a test forgets it.
//
//   const redis = await startRedis({ aof: true });
//   redis.url                       // redis://127.0.0.1:PORT
//   await redis.command('HLEN', k)  // one command, its reply (RESP2, parsed)
//   await redis.kill9(); await redis.restart();
//   await redis.stop();

import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { freePort, tempDir, track } from './server.mjs';

const REDIS_BIN = '/usr/bin/redis-server';
const live = new Set();

/** Every redis-server still running (for an `after` hook). */
export async function stopAllRedis() {
  await Promise.all([...live].map((r) => r.stop()));
}

export async function startRedis({ aof = false } = {}) {
  if (spawnSync('test', ['-x', REDIS_BIN]).status !== 0)
    throw new Error(`${REDIS_BIN} is missing: tools/setup.sh installs redis-server`);
  const r = new RedisProcess(await freePort(), tempDir('meshmeet-redis-'), aof);
  await r.launch();
  live.add(r);
  return r;
}

class RedisProcess {
  constructor(port, dir, aof) {
    this.port = port;
    this.dir = dir;
    this.aof = aof;
    this.url = `redis://127.0.0.1:${port}`;
    this.proc = null;
  }

  async launch(timeoutMs = 5000) {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
      '--appendonly', this.aof ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no', '--loglevel', 'warning'];
    this.output = '';
    this.proc = track(spawn(REDIS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    this.exited = new Promise((res) => this.proc.once('exit', res));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        if ((await this.command('PING')) === 'PONG') return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start: ${this.output}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /** SIGKILL: no shutdown, no final write (AOF with fsync always keeps every write). */
  async kill9() {
    if (!this.proc) return;
    this.proc.kill('SIGKILL');
    await this.exited;
    this.proc = null;
  }

  /** The same port and directory (its AOF) again. */
  async restart() {
    await this.launch();
  }

  async stop() {
    live.delete(this);
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
    this.proc = null;
  }

  /** One command on a fresh connection; resolves with the parsed reply. */
  command(...args) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, '127.0.0.1');
      let buffer = Buffer.alloc(0);
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`redis ${args[0]}: no reply`)); }, 3000);
      socket.on('error', (e) => { clearTimeout(timer); reject(e); });
      socket.on('connect', () => {
        const parts = [`*${args.length}\r\n`];
        for (const a of args) {
          const b = Buffer.from(String(a));
          parts.push(`$${b.length}\r\n`, b, '\r\n');
        }
        socket.write(Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))));
      });
      socket.on('data', (d) => {
        buffer = Buffer.concat([buffer, d]);
        const parsed = parseReply(buffer, 0);
        if (!parsed) return;
        clearTimeout(timer);
        socket.end();
        if (parsed.value instanceof Error) reject(parsed.value); else resolve(parsed.value);
      });
    });
  }
}

// One RESP2 reply from `buf` at `at`: {value, end}, or null when incomplete.
function parseReply(buf, at) {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return null;
  const line = buf.toString('utf8', at + 1, eol);
  switch (String.fromCharCode(buf[at])) {
    case '+': return { value: line, end: eol + 2 };
    case '-': return { value: new Error(line), end: eol + 2 };
    case ':': return { value: Number(line), end: eol + 2 };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (buf.length < eol + 2 + n + 2) return null;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      const out = [];
      let pos = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return null;
        out.push(item.value);
        pos = item.end;
      }
      return { value: out, end: pos };
    }
    default: return { value: new Error(`not RESP: ${line}`), end: eol + 2 };
  }
}
