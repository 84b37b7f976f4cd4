// Test harness for the meshmeet signaling server integration tests.
// Drives the real binary (build/bin/meshmeet-server, or $MESHMEET_SERVER_BIN).
//
//   const srv = await startServer(['--room-cap', '2']);
//   const a = await Client.connect(srv.wsUrl);
//   const welcome = await a.join(meetingId, 'alice');
//   await srv.stop();
//
// Every wait is bounded; servers and clients are tracked so `cleanup()` (call
// it from an `after` hook) ends them, and a process 'exit' hook SIGKILLs any
// server that is somehow still running.

import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { ROOT, SERVER_BIN, sleep, withTimeout, waitFor } from '../support/wait.mjs';
import * as server from '../support/server.mjs';
import { track, tempDir, freePort, serverEnv } from '../support/server.mjs';

export { WebSocket };

export { ROOT, sleep, withTimeout, waitFor, tempDir, freePort };
export const BIN = SERVER_BIN;

/** Per-test timeout used by every test file. */
export const T = { timeout: 20000 };

/** Short timings so the suite is fast. */
export const FAST = [
  '--resume-grace', '1',
  '--heartbeat-interval', '0.5',
  '--heartbeat-timeout', '1.5',
  '--join-timeout', '1',
];

export const ID_RE = /^[a-z0-9_-]{25,40}$/;
export const RFC3339_UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

// ---------------------------------------------------------------------------
// Server processes (../support/server.mjs)

const clients = new Set();

/** The binary exists? (tests use this to report a clear failure) */
export function binaryPresent() {
  try {
    return spawnSync('test', ['-x', BIN]).status === 0;
  } catch {
    return false;
  }
}

/**
 * Start the server. args: extra CLI args. opts.env: extra environment.
 * opts.startTimeout: ms to wait for it to listen. opts.bin, opts.cwd: another
 * binary, another working directory. Adds `--host 127.0.0.1
 * --port 0 --db <tmp>/meshmeet.db` unless given as a flag or env twin
 * (MESHMEET_HOST/PORT/DB). stop() resolves with {code, signal} plus
 * crashed/hung flags; restart() keeps port, args, env and db.
 */
export async function startServer(args = [], opts = {}) {
  return server.startServer({
    args, env: opts.env, startTimeoutMs: opts.startTimeout, nofile: opts.nofile, bin: opts.bin, cwd: opts.cwd,
  });
}

/**
 * Run the binary to completion (CLI tests). Returns {code, signal, stdout,
 * stderr, timedOut}; after timeoutMs the process is SIGKILLed (timedOut true).
 */
export function runBinary(args, { env = {}, timeoutMs = 10000, input } = {}) {
  return new Promise((res, rej) => {
    const p = track(spawn(BIN, args, { env: serverEnv(env), stdio: ['pipe', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.once('error', (e) => { clearTimeout(timer); rej(e); });
    p.once('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr, timedOut });
    });
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
  });
}

/** Stop every server and close every client this process started. */
export async function cleanup() {
  for (const c of clients) c.terminate();
  clients.clear();
  await server.stopServers();
}

/**
 * Stop a server and fail if it had crashed (exited on its own) or did not exit 0
 * after SIGTERM. Use as the last step of a file's `after` hook.
 */
export async function stopChecked(srv) {
  const r = await srv.stop();
  if (r && (r.crashed || r.hung || r.code !== 0)) {
    const tail = srv.stderrLines.slice(-15).join('\n');
    throw new Error(`server ${r.crashed ? 'had exited on its own' : r.hung ? 'hung on SIGTERM' : 'exited'} with code ${r.code} signal ${r.signal}\n${tail}`);
  }
  return r;
}

// ---------------------------------------------------------------------------
// HTTP

function requestRaw(base, method, path, { body, headers = {}, localAddress, ca, chunked = false, timeoutMs = 5000 } = {}) {
  const u = new URL(path, base);
  const mod = u.protocol === 'https:' ? https : http;
  return withTimeout(new Promise((res, rej) => {
    const h = { ...headers };
    let payload = null;
    if (body !== undefined && body !== null) {
      payload = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      if (!chunked && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length')) h['Content-Length'] = payload.length;
      if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type') && typeof body !== 'string' && !Buffer.isBuffer(body)) h['Content-Type'] = 'application/json';
    } else if (method === 'POST' || method === 'PUT') {
      if (!chunked) h['Content-Length'] = 0;
    }
    const req = mod.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      method,
      headers: h,
      localAddress,
      ca,
      agent: false,
    }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        res({ status: resp.statusCode, headers: resp.headers, text, json });
      });
      resp.on('error', rej);
    });
    req.on('error', rej);
    if (payload) {
      if (chunked) {
        // several chunks to exercise chunked transfer coding
        const step = 1024;
        for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
      } else {
        req.write(payload);
      }
    }
    req.end();
  }), timeoutMs, `${method} ${path}`);
}

/** Generic request: returns {status, headers, text, json}. */
export const request = requestRaw;
export const get = (base, path, opts) => requestRaw(base, 'GET', path, opts);

/**
 * POST /api/meetings. body: object (JSON-encoded), string/Buffer (sent raw) or
 * undefined (empty body). Returns {status, headers, text, json}.
 */
export function createMeetingRaw(base, body, opts = {}) {
  return requestRaw(base, 'POST', '/api/meetings', { body, ...opts });
}

/** Create a meeting and return its 201 body (throws otherwise). */
export async function createMeeting(base, body = { name: 'test meeting' }, opts = {}) {
  const r = await createMeetingRaw(base, body, opts);
  if (r.status !== 201) throw new Error(`POST /api/meetings → ${r.status} ${r.text}`);
  return r.json;
}

/**
 * GET /metrics and parse the Prometheus text format.
 * Returns a Map: 'name' or 'name{k="v",…}' (labels sorted by key) → number.
 * The map has .get(name, labels) semantics via metricValue().
 */
export async function metrics(base, opts) {
  const r = await get(base, '/metrics', opts);
  if (r.status !== 200) throw new Error(`GET /metrics → ${r.status}`);
  return parseMetrics(r.text);
}

export function metricKey(name, labels = {}) {
  const ks = Object.keys(labels).sort();
  if (!ks.length) return name;
  return `${name}{${ks.map((k) => `${k}="${labels[k]}"`).join(',')}}`;
}

export function parseMetrics(text) {
  const map = new Map();
  map.types = new Map();
  map.help = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(TYPE|HELP)\s+(\S+)\s*(.*)$/.exec(line);
      if (m) (m[1] === 'TYPE' ? map.types : map.help).set(m[2], m[3]);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels = {};
    if (m[3]) {
      const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
      let lm;
      while ((lm = re.exec(m[3])) !== null) {
        labels[lm[1]] = lm[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        if (re.lastIndex >= m[3].length) break;
      }
    }
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    map.set(metricKey(m[1], labels), v);
  }
  return map;
}

/** Value of a sample (0 when absent, like an unobserved counter). */
export function mval(map, name, labels = {}) {
  return map.get(metricKey(name, labels)) ?? 0;
}

/** True if any sample (or TYPE/HELP line) for this metric family exists. */
export function hasMetric(map, name) {
  if (map.types.has(name) || map.help.has(name)) return true;
  for (const k of map.keys()) if (k === name || k.startsWith(name + '{')) return true;
  return false;
}

// ---------------------------------------------------------------------------
// WebSocket client over `ws`

let clientSeq = 0;

export class Client {
  /**
   * @param {string} url ws:// or wss:// url
   * @param {object} opts ws options (origin, headers, localAddress, ca, autoPong, perMessageDeflate…)
   */
  constructor(url, opts = {}) {
    this.id = ++clientSeq;
    this.url = url;
    this.queue = []; // unconsumed messages
    this.log = []; // every message in arrival order: {at, msg, binary}
    this.waiters = [];
    this.errors = [];
    this.closeInfo = null;
    this.welcome = null;
    this.ws = new WebSocket(url, { handshakeTimeout: 5000, ...opts });
    clients.add(this);
    this.opened = new Promise((res, rej) => {
      this.ws.once('open', res);
      this.ws.once('error', rej);
      this.ws.once('unexpected-response', (req, resp) => {
        const chunks = [];
        resp.on('data', (c) => chunks.push(c));
        resp.on('end', () => {
          const e = new Error(`unexpected response ${resp.statusCode}`);
          e.status = resp.statusCode;
          e.body = Buffer.concat(chunks).toString();
          rej(e);
        });
        resp.on('error', () => {});
        setTimeout(() => { try { req.destroy(); } catch { /* ignore */ } }, 1000).unref();
      });
    });
    this.opened.catch(() => {});
    this.ws.on('error', (e) => this.errors.push(e));
    this.closed = new Promise((res) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString(), at: Date.now() };
        clients.delete(this);
        for (const w of this.waiters.splice(0)) {
          w.reject(new Error(`client ${this.id}: socket closed (code ${code}) while waiting for ${w.what}; unconsumed: ${JSON.stringify(this.queue.map((q) => q.msg)).slice(0, 500)}`));
        }
        res(this.closeInfo);
      });
    });
    this.ws.on('message', (data, isBinary) => {
      let msg;
      if (isBinary) {
        msg = { binary: true, data };
      } else {
        const s = data.toString('utf8');
        try { msg = JSON.parse(s); } catch { msg = { unparseable: s }; }
      }
      const entry = { at: Date.now(), msg };
      this.log.push(entry);
      this.queue.push(entry);
      this._pump();
    });
  }

  static async connect(url, opts = {}, timeoutMs = 5000) {
    const c = new Client(url, opts);
    try {
      await withTimeout(c.opened, timeoutMs, `WebSocket open ${url}`);
    } catch (e) {
      c.terminate();
      throw e;
    }
    return c;
  }

  _pump() {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const idx = this.queue.findIndex((e) => w.pred(e.msg));
      if (idx >= 0) {
        const [e] = this.queue.splice(idx, 1);
        this.waiters.splice(i, 1);
        i--;
        w.resolve(e.msg);
      }
    }
  }

  static predicate(p) {
    if (typeof p === 'function') return p;
    if (typeof p === 'string') return (m) => m && m.type === p;
    if (p && typeof p === 'object') {
      return (m) => m && Object.entries(p).every(([k, v]) => m[k] === v);
    }
    return () => true;
  }

  /**
   * Next message matching pred (a type string, a {field: value} object, or a
   * function). Earlier non-matching messages stay queued.
   */
  next(pred, timeoutMs = 3000) {
    const fn = Client.predicate(pred);
    const what = typeof pred === 'function' ? 'a matching message' : JSON.stringify(pred);
    const idx = this.queue.findIndex((e) => fn(e.msg));
    if (idx >= 0) return Promise.resolve(this.queue.splice(idx, 1)[0].msg);
    if (this.closeInfo) {
      return Promise.reject(new Error(`client ${this.id}: socket already closed (code ${this.closeInfo.code}) waiting for ${what}; unconsumed: ${JSON.stringify(this.queue.map((q) => q.msg)).slice(0, 500)}`));
    }
    return new Promise((resolve, reject) => {
      const w = { pred: fn, resolve, reject, what };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`client ${this.id}: timeout after ${timeoutMs} ms waiting for ${what}; unconsumed: ${JSON.stringify(this.queue.map((q) => q.msg)).slice(0, 500)}`));
      }, timeoutMs);
      w.resolve = (m) => { clearTimeout(timer); resolve(m); };
      w.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(w);
    });
  }

  /** Resolve with the matching message, or null if none arrives within ms (does not throw on close). */
  async maybe(pred, ms) {
    try {
      return await this.next(pred, ms);
    } catch {
      return null;
    }
  }

  /** Wait ms and return (and consume) every queued message matching pred. */
  async collect(pred, ms) {
    await sleep(ms);
    const fn = Client.predicate(pred);
    const out = [];
    this.queue = this.queue.filter((e) => {
      if (fn(e.msg)) { out.push(e.msg); return false; }
      return true;
    });
    return out;
  }

  /** Unconsumed messages (not removed). */
  pending(pred = () => true) {
    const fn = Client.predicate(pred);
    return this.queue.filter((e) => fn(e.msg)).map((e) => e.msg);
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Send raw bytes as a TEXT frame (no UTF-8 validation by ws). */
  sendTextBytes(buf) {
    this.ws.send(buf, { binary: false });
  }

  sendBinary(buf) {
    this.ws.send(buf, { binary: true });
  }

  /** Send join and return the welcome (throws with the error message otherwise). */
  async join(meeting, name, resume, timeoutMs = 3000) {
    const r = await this.tryJoin(meeting, name, resume, timeoutMs);
    if (r.type !== 'welcome') {
      const e = new Error(`join failed: ${JSON.stringify(r)}`);
      e.reply = r;
      throw e;
    }
    return r;
  }

  /** Send join and return the first welcome or error reply. */
  async tryJoin(meeting, name, resume, timeoutMs = 3000) {
    const msg = { type: 'join', meeting };
    if (name !== undefined) msg.name = name;
    if (resume !== undefined) msg.resume = resume;
    this.send(msg);
    const r = await this.next((m) => m.type === 'welcome' || m.type === 'error', timeoutMs);
    if (r.type === 'welcome') this.welcome = r;
    return r;
  }

  get self() { return this.welcome && this.welcome.self; }
  get token() { return this.welcome && this.welcome.resume; }

  get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

  close(code, reason) {
    try { this.ws.close(code, reason); } catch { /* ignore */ }
  }

  /** Unclean drop: destroy the TCP socket without a close frame. */
  drop() {
    try { this.ws.terminate(); } catch { /* ignore */ }
  }

  terminate() { this.drop(); }

  /** Stop reading from the socket (simulates a consumer that is stuck). */
  pauseReading() { this.ws._socket.pause(); }
  resumeReading() { this.ws._socket.resume(); }

  /** Await the close event (bounded). */
  waitClosed(timeoutMs = 3000) {
    return withTimeout(this.closed, timeoutMs, `client ${this.id} close`);
  }
}

/** Connect and join in one step; returns the client (welcome in client.welcome). */
export async function joined(srv, meeting, name, opts = {}) {
  const c = await Client.connect(srv.wsUrl, opts);
  await c.join(meeting, name);
  return c;
}

// ---------------------------------------------------------------------------
// Raw WebSocket client over net/tls (hand-built frames)

export function buildFrame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0 } = {}) {
  payload = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = payload.length;
  let header;
  if (len < 126) {
    header = Buffer.alloc(2);
    header[1] = len;
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  header[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f);
  if (!mask) return Buffer.concat([header, payload]);
  header[1] |= 0x80;
  const key = randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

export class RawWs {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frames = []; // all frames received {opcode, fin, payload}
    this.queue = []; // unconsumed complete messages/control frames
    this.waiters = [];
    this.fragments = null;
    this.closeFrame = null; // {code, reason}
    this.autoPong = false;
    this.autoCloseReply = true;
    this.sentClose = false;
    this.ended = new Promise((res) => {
      sock.once('close', () => {
        this.endedAt = Date.now();
        for (const w of this.waiters.splice(0)) w.reject(new Error(`raw socket closed while waiting for ${w.what}`));
        res({ closeFrame: this.closeFrame });
      });
    });
    sock.on('error', (e) => { this.error = e; });
    clients.add(this);
    sock.once('close', () => clients.delete(this));
  }

  static async connect(port, { host = '127.0.0.1', path = '/ws', headers = {}, localAddress, useTls = false, ca, timeoutMs = 5000 } = {}) {
    const sock = await withTimeout(new Promise((res, rej) => {
      const s = useTls
        ? tls.connect({ host, port, ca, servername: 'localhost', localAddress }, () => res(s))
        : net.connect({ host, port, localAddress }, () => res(s));
      s.once('error', rej);
    }), timeoutMs, 'raw TCP connect');
    const key = randomBytes(16).toString('base64');
    const lines = [
      `GET ${path} HTTP/1.1`,
      `Host: ${host}:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '', '',
    ];
    sock.write(lines.join('\r\n'));
    const { head, rest } = await withTimeout(new Promise((res, rej) => {
      let acc = Buffer.alloc(0);
      const onData = (d) => {
        acc = Buffer.concat([acc, d]);
        const i = acc.indexOf('\r\n\r\n');
        if (i >= 0) {
          sock.off('data', onData);
          res({ head: acc.subarray(0, i).toString('latin1'), rest: acc.subarray(i + 4) });
        }
      };
      sock.on('data', onData);
      sock.once('close', () => rej(new Error('closed during handshake')));
    }), timeoutMs, 'raw WebSocket handshake');
    const status = Number(head.split(' ')[1]);
    if (status !== 101) {
      sock.destroy();
      const e = new Error(`raw upgrade got ${status}: ${head}`);
      e.status = status;
      throw e;
    }
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    if (!new RegExp(`^sec-websocket-accept:\\s*${accept.replace(/[+/=]/g, '\\$&')}\\s*$`, 'im').test(head)) {
      sock.destroy();
      throw new Error(`bad Sec-WebSocket-Accept in: ${head}`);
    }
    const ws = new RawWs(sock);
    ws.handshake = head;
    sock.on('data', (d) => ws._onData(d));
    if (rest.length) ws._onData(rest);
    return ws;
  }

  _onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0];
      const b1 = this.buf[1];
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      let payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) {
        const key = this.buf.subarray(off - 4, off);
        for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
      }
      this.buf = this.buf.subarray(off + len);
      const frame = { opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, payload, masked };
      this.frames.push(frame);
      this._onFrame(frame);
    }
  }

  _onFrame(f) {
    if (f.opcode === 0x9) { // ping
      if (this.autoPong) this.sendFrame(0xA, f.payload);
      this._push({ kind: 'ping', payload: f.payload });
      return;
    }
    if (f.opcode === 0xA) { this._push({ kind: 'pong', payload: f.payload }); return; }
    if (f.opcode === 0x8) {
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      this.closeFrame = { code, reason: f.payload.subarray(2).toString('utf8') };
      this._push({ kind: 'close', ...this.closeFrame });
      // complete the closing handshake like a real client (echo the code), then end
      if (this.autoCloseReply && !this.sentClose) {
        this.sendFrame(0x8, code === null ? Buffer.alloc(0) : f.payload.subarray(0, 2));
        this.sock.end();
      }
      return;
    }
    if (f.opcode === 0x1 || f.opcode === 0x2) {
      if (f.fin) this._message(f.opcode, f.payload);
      else this.fragments = { opcode: f.opcode, parts: [f.payload] };
      return;
    }
    if (f.opcode === 0x0 && this.fragments) {
      this.fragments.parts.push(f.payload);
      if (f.fin) {
        const { opcode, parts } = this.fragments;
        this.fragments = null;
        this._message(opcode, Buffer.concat(parts));
      }
    }
  }

  _message(opcode, payload) {
    if (opcode === 0x1) {
      let msg;
      try { msg = JSON.parse(payload.toString('utf8')); } catch { msg = { unparseable: payload.toString('utf8') }; }
      this._push({ kind: 'text', msg });
    } else {
      this._push({ kind: 'binary', payload });
    }
  }

  _push(e) {
    e.at = Date.now();
    this.queue.push(e);
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const idx = this.queue.findIndex(w.pred);
      if (idx >= 0) {
        const [got] = this.queue.splice(idx, 1);
        this.waiters.splice(i, 1);
        i--;
        w.resolve(got);
      }
    }
  }

  /** Next queued event matching pred(event) where event.kind ∈ text|binary|ping|pong|close. */
  nextEvent(pred, timeoutMs = 3000, what = 'raw event') {
    const idx = this.queue.findIndex(pred);
    if (idx >= 0) return Promise.resolve(this.queue.splice(idx, 1)[0]);
    if (this.endedAt) return Promise.reject(new Error(`raw socket already closed waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const w = { pred, resolve, reject, what };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timeout after ${timeoutMs} ms waiting for ${what}; queue: ${JSON.stringify(this.queue.map((q) => q.msg || q.kind)).slice(0, 400)}`));
      }, timeoutMs);
      w.resolve = (m) => { clearTimeout(timer); resolve(m); };
      w.reject = (e) => { clearTimeout(timer); reject(e); };
      this.waiters.push(w);
    });
  }

  /** Next JSON text message matching pred (type string / object / function). */
  async next(pred, timeoutMs = 3000) {
    const fn = Client.predicate(pred);
    const e = await this.nextEvent((ev) => ev.kind === 'text' && fn(ev.msg), timeoutMs, `text ${typeof pred === 'string' ? pred : ''}`);
    return e.msg;
  }

  sendFrame(opcode, payload, opts) {
    if (this.sock.destroyed) return;
    this.sock.write(buildFrame(opcode, payload, opts));
  }

  sendText(s) { this.sendFrame(0x1, Buffer.isBuffer(s) ? s : Buffer.from(typeof s === 'string' ? s : JSON.stringify(s))); }
  send(obj) { this.sendText(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  sendBinary(b) { this.sendFrame(0x2, b); }

  sendClose(code, reason = '') {
    this.sentClose = true;
    let p = Buffer.alloc(0);
    if (code !== undefined) {
      p = Buffer.alloc(2 + Buffer.byteLength(reason));
      p.writeUInt16BE(code, 0);
      p.write(reason, 2);
    }
    this.sendFrame(0x8, p);
  }

  async join(meeting, name, resume, timeoutMs = 3000) {
    const msg = { type: 'join', meeting };
    if (name !== undefined) msg.name = name;
    if (resume !== undefined) msg.resume = resume;
    this.send(msg);
    const r = await this.next((m) => m.type === 'welcome' || m.type === 'error', timeoutMs);
    if (r.type !== 'welcome') throw new Error(`raw join failed: ${JSON.stringify(r)}`);
    this.welcome = r;
    return r;
  }

  /** Resolves when the TCP connection ends; returns {closeFrame}. */
  waitEnded(timeoutMs = 3000) { return withTimeout(this.ended, timeoutMs, 'raw socket close'); }

  destroy() { this.sock.destroy(); }
  terminate() { this.destroy(); }
  pause() { this.sock.pause(); }
  resume() { this.sock.resume(); }
}

/**
 * Attempt an upgrade with given headers over node:http and report the HTTP
 * outcome: {status: 101} on success (socket then destroyed), otherwise
 * {status, headers, text, json}.
 */
export function tryUpgrade(base, headers = {}, { path = '/ws', localAddress, ca, timeoutMs = 5000 } = {}) {
  const u = new URL(path, base);
  const mod = u.protocol === 'https:' || u.protocol === 'wss:' ? https : http;
  return withTimeout(new Promise((res, rej) => {
    const req = mod.request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      method: 'GET',
      agent: false,
      localAddress,
      ca,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.on('upgrade', (resp, socket) => {
      // politely close: a masked close frame, then end
      try { socket.end(buildFrame(0x8, Buffer.from([0x03, 0xe8]))); } catch { /* ignore */ }
      setTimeout(() => socket.destroy(), 200).unref();
      res({ status: resp.statusCode, headers: resp.headers });
    });
    req.on('response', (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        res({ status: resp.statusCode, headers: resp.headers, text, json });
      });
    });
    req.on('error', rej);
    req.end();
  }), timeoutMs, 'upgrade attempt');
}

// ---------------------------------------------------------------------------
// Misc helpers

/** Assert-friendly check of the error envelope; returns the inner error. */
export function errorBody(res) {
  const j = res.json;
  if (!j || typeof j !== 'object' || !j.error || typeof j.error !== 'object') {
    throw new Error(`not an error envelope (status ${res.status}): ${res.text}`);
  }
  return j.error;
}

/** A random, well-formed but unknown meeting id. */
export function fakeId(len = 32) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789_-';
  const b = randomBytes(len);
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[b[i] % alphabet.length];
  return s;
}

/** A static dir with an index.html carrying a marker, for `/` and `/m/ID`. */
export function makeStaticDir(marker = 'MESHMEET-TEST-APP') {
  const d = tempDir('meshmeet-static-');
  writeFileSync(join(d, 'index.html'), `<!doctype html><html><head><title>${marker}</title></head><body>${marker}</body></html>\n`);
  mkdirSync(join(d, 'assets'), { recursive: true });
  writeFileSync(join(d, 'assets', 'app.js'), `console.log(${JSON.stringify(marker)});\n`);
  return d;
}

/**
 * Stop the given servers, checking that each was still running and exits 0 on
 * SIGTERM (a crash or hang fails the caller). Other servers are left alone.
 */
export async function finish(...srvs) {
  const problems = [];
  for (const s of srvs) {
    if (!s) continue;
    try {
      await stopChecked(s);
    } catch (e) {
      problems.push(e.message);
    }
  }
  if (problems.length) throw new Error(problems.join('\n---\n'));
}

/** For a file's `after` hook: finish(...srvs), then end every other server and client. */
export async function finishAll(...srvs) {
  try {
    await finish(...srvs);
  } finally {
    await cleanup();
  }
}

/** Consume and return messages matching pred that arrive within ms (for "nothing happens" checks). */
export function quiet(client, pred, ms) {
  return client.collect(pred, ms);
}

/** Header of `meshmeet-server meetings --db FILE`. */
export const AUDIT_HEADER = 'id\tcreated_at\tname\tip\tcountry\tcity\tuser_agent';

/** Parse the `meetings` audit output: {header, rows: [[7 columns]…]}. */
export function parseAudit(stdout) {
  const lines = stdout.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.length > 0);
  return { header: lines[0], rows: lines.slice(1).map((l) => l.split('\t')) };
}
