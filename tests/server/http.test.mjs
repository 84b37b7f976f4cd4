// HTTP API: every row of the protocol's HTTP table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  T, FAST, ID_RE, RFC3339_UTC_RE, startServer, finish, finishAll, createMeetingRaw, createMeeting, get, request,
  metrics, mval, hasMetric, Client, fakeId, makeStaticDir, sleep, withTimeout, waitFor,
} from './harness.mjs';

const MARKER = 'MESHMEET-HTTP-TEST-APP';
let srv; // --create-rate 0, static dir with a marker page
const createdIds = [];

before(async () => {
  srv = await startServer([...FAST, '--create-rate', '0', '--static', makeStaticDir(MARKER)]);
}, T);

after(async () => { await finishAll(srv); }, T);

function assertError(res, status, code) {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status}: ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/, 'error bodies are application/json');
  assert.ok(res.json && typeof res.json === 'object', `error body is JSON: ${res.text}`);
  assert.deepEqual(Object.keys(res.json), ['error'], `envelope is {"error":{…}}: ${res.text}`);
  assert.equal(res.json.error.code, code, `error code: ${res.text}`);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0, 'message is human text');
  assert.deepEqual(Object.keys(res.json.error).sort(), ['code', 'message']);
}

async function anyId() {
  if (!createdIds.length) createdIds.push((await createMeeting(srv.url, {})).id);
  return createdIds[0];
}

async function create(body, opts) {
  const r = await createMeetingRaw(srv.url, body, opts);
  if (r.status === 201 && r.json && r.json.id) createdIds.push(r.json.id);
  return r;
}

test('POST /api/meetings → 201 {id,name,createdAt,url}', T, async () => {
  const t0 = Date.now();
  const r = await create({ name: 'Weekly sync' });
  assert.equal(r.status, 201, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(r.json).sort(), ['createdAt', 'id', 'name', 'relayOnly', 'url']);
  assert.match(r.json.id, ID_RE);
  assert.equal(r.json.name, 'Weekly sync');
  assert.equal(r.json.url, `/m/${r.json.id}`);
  assert.match(r.json.createdAt, RFC3339_UTC_RE, 'createdAt is RFC 3339 in UTC (Z)');
  const ts = Date.parse(r.json.createdAt);
  assert.ok(ts >= t0 - 2000 && ts <= Date.now() + 2000, `createdAt ${r.json.createdAt} is now`);
});

test('meeting ids are distinct, [a-z0-9_-]{25,40}', T, async () => {
  const ids = new Set();
  for (let i = 0; i < 25; i++) {
    const r = await create({});
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.id, ID_RE);
    ids.add(r.json.id);
  }
  assert.equal(ids.size, 25);
  // not sequential / counter-like: no two ids share a 12-char prefix
  const prefixes = new Set([...ids].map((id) => id.slice(0, 12)));
  assert.equal(prefixes.size, 25, 'ids look random');
});

test('empty body, whitespace body and {} create a meeting with an empty name', T, async () => {
  for (const body of [undefined, '', '   \r\n\t  ', '{}', {}]) {
    const r = await create(body);
    assert.equal(r.status, 201, `body ${JSON.stringify(body)}: ${r.text}`);
    assert.equal(r.json.name, '', `body ${JSON.stringify(body)}`);
    assert.match(r.json.id, ID_RE);
  }
  const r = await create({ name: '' });
  assert.equal(r.status, 201);
  assert.equal(r.json.name, '', 'an empty name stays empty');
});

test('name length counts Unicode code points (64 ok, 65 → 400 bad-request)', T, async () => {
  const emoji64 = '😀'.repeat(64); // 64 code points, 128 UTF-16 units, 256 bytes
  let r = await create({ name: emoji64 });
  assert.equal(r.status, 201, `64 emoji must be accepted: ${r.text}`);
  assert.equal(r.json.name, emoji64, 'name round-trips exactly');
  const g = await get(srv.url, `/api/meetings/${r.json.id}`);
  assert.equal(g.json.name, emoji64);

  assertError(await create({ name: '😀'.repeat(65) }), 400, 'bad-request');

  r = await create({ name: 'a'.repeat(64) });
  assert.equal(r.status, 201);
  assertError(await create({ name: 'a'.repeat(65) }), 400, 'bad-request');

  r = await create({ name: 'é'.repeat(64) }); // 2-byte UTF-8 each
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.name, 'é'.repeat(64));

  // combining sequences: code points, not grapheme clusters
  r = await create({ name: 'e\u0301'.repeat(32) }); // 64 code points
  assert.equal(r.status, 201, r.text);
  assertError(await create({ name: 'e\u0301'.repeat(33) }), 400, 'bad-request'); // 66 code points
});

test('wrong types → 400 bad-request (null name included)', T, async () => {
  for (const body of [{ name: null }, { name: 42 }, { name: true }, { name: ['x'] }, { name: { a: 1 } }]) {
    assertError(await create(body), 400, 'bad-request');
  }
  for (const raw of ['[]', '"standup"', '42', 'true', 'null', '[{"name":"x"}]']) {
    const r = await create(raw, { headers: { 'Content-Type': 'application/json' } });
    assertError(r, 400, 'bad-request');
  }
});

test('malformed JSON → 400 bad-json', T, async () => {
  const bodies = ['{"name":', '{name:"x"}', "{'name':'x'}", '{"name":"x"} trailing', 'nope',
    Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])]; // invalid UTF-8 inside a string
  for (const b of bodies) {
    const r = await create(b, { headers: { 'Content-Type': 'application/json' } });
    assertError(r, 400, 'bad-json');
  }
});

/** meshmeet_errors_total{code="too-large"} now (the body limit's metric). */
async function tooLargeCount() {
  return mval(await metrics(srv.url), 'meshmeet_errors_total', { code: 'too-large' });
}

test('body limit: exactly 4096 bytes accepted, 4097 → 413 too-large, counted in its metric', T, async () => {
  const counted = await tooLargeCount();
  const mk = (n) => {
    const head = '{"name":"limit"';
    const tail = '}';
    return head + ' '.repeat(n - head.length - tail.length) + tail;
  };
  assert.equal(Buffer.byteLength(mk(4096)), 4096);
  let r = await create(mk(4096), { headers: { 'Content-Type': 'application/json' } });
  assert.equal(r.status, 201, `a 4096-byte body is within 4 KiB: ${r.text}`);
  assert.equal(r.json.name, 'limit');
  r = await create(mk(4097), { headers: { 'Content-Type': 'application/json' } });
  assertError(r, 413, 'too-large');
  r = await create(JSON.stringify({ name: 'x', pad: 'y'.repeat(100000) }), { headers: { 'Content-Type': 'application/json' } });
  assertError(r, 413, 'too-large');
  assert.equal(await tooLargeCount() - counted, 2, 'each 413 counts once in meshmeet_errors_total{code="too-large"}; the 4096-byte body not at all');
});

test('the body limit has a metric of its own, apart from WebSocket too-large', T, async () => {
  const before = mval(await metrics(srv.url), 'meshmeet_http_body_too_large_total');
  assertError(await create('{"name":"' + 'x'.repeat(5000) + '"}', { headers: { 'Content-Type': 'application/json' } }), 413, 'too-large');
  assert.equal(mval(await metrics(srv.url), 'meshmeet_http_body_too_large_total') - before, 1);
});

test('chunked body over 4 KiB → 413 too-large, counted in its metric', T, async () => {
  const counted = await tooLargeCount();
  const r = await create(JSON.stringify({ name: 'x', pad: 'y'.repeat(10000) }), { chunked: true, headers: { 'Content-Type': 'application/json' } });
  assertError(r, 413, 'too-large');
  assert.equal(await tooLargeCount() - counted, 1);
});

test('a huge Content-Length is refused with 413 without waiting for the body, counted in its metric', T, async () => {
  const counted = await tooLargeCount();
  const sock = net.connect({ host: '127.0.0.1', port: srv.port });
  const text = await withTimeout(new Promise((res, rej) => {
    let acc = '';
    sock.on('connect', () => {
      sock.write('POST /api/meetings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"name":');
    });
    sock.on('data', (d) => {
      acc += d.toString('latin1');
      if (/\r\n\r\n/.test(acc)) res(acc);
    });
    sock.on('error', rej);
    sock.on('close', () => res(acc));
  }), 4000, '413 response to a huge Content-Length');
  sock.destroy();
  assert.match(text, /^HTTP\/1\.1 413 /, `got: ${text.slice(0, 200)}`);
  assert.equal(await tooLargeCount() - counted, 1);
});

test('GET /api/meetings/ID → 200 {id,name,createdAt,participants}', T, async () => {
  const m = await createMeeting(srv.url, { name: 'Retro' });
  createdIds.push(m.id);
  let r = await get(srv.url, `/api/meetings/${m.id}`);
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(r.json).sort(), ['createdAt', 'id', 'name', 'participants', 'relayOnly']);
  assert.deepEqual(r.json, { id: m.id, name: 'Retro', createdAt: m.createdAt, participants: 0, relayOnly: false });

  const a = await Client.connect(srv.wsUrl);
  await a.join(m.id, 'alice');
  const b = await Client.connect(srv.wsUrl);
  await b.join(m.id, 'bob');
  r = await get(srv.url, `/api/meetings/${m.id}`);
  assert.equal(r.json.participants, 2);
  b.send({ type: 'leave' });
  await b.waitClosed();
  r = await get(srv.url, `/api/meetings/${m.id}`);
  assert.equal(r.json.participants, 1, 'a clean leave is removed at once');
  a.close(1000);
  await a.waitClosed();
});

test('creator IP and user agent are never returned over HTTP', T, async () => {
  const ua = 'meshmeet-http-test/ua-9f3c';
  const r = await create({ name: 'private' }, { headers: { 'User-Agent': ua } });
  assert.equal(r.status, 201);
  assert.ok(!r.text.includes(ua) && !r.text.includes('127.0.0.1'), r.text);
  const g = await get(srv.url, `/api/meetings/${r.json.id}`);
  assert.ok(!g.text.includes(ua) && !g.text.includes('127.0.0.1'), g.text);
});

test('unknown and malformed ids → 404 meeting-not-found', T, async () => {
  const real = await anyId();
  const ids = [
    fakeId(32), fakeId(25), fakeId(40),
    'abc', 'a'.repeat(24), 'a'.repeat(41), 'A'.repeat(30), `${fakeId(30)}.json`, '%20' + fakeId(28),
    real.toUpperCase() === real ? `${real}x` : real.toUpperCase(), // case matters
    real.slice(0, -1), // a prefix of a real id
    `${real}a`.slice(0, 40) === real ? `${real}-` : `${real}a`, // one char longer
  ];
  for (const id of ids) {
    const r = await get(srv.url, `/api/meetings/${id}`);
    assertError(r, 404, 'meeting-not-found');
  }
});

test('405 method-not-allowed with an Allow header', T, async () => {
  const id = await anyId();
  const cases = [
    ['GET', '/api/meetings', 'POST'], // never lists meetings
    ['PUT', '/api/meetings', 'POST'],
    ['DELETE', '/api/meetings', 'POST'],
    ['DELETE', `/api/meetings/${id}`, 'GET'],
    ['POST', `/api/meetings/${id}`, 'GET'],
    ['POST', '/healthz', 'GET'],
    ['POST', '/metrics', 'GET'],
  ];
  for (const [method, path, allowed] of cases) {
    const r = await request(srv.url, method, path, method === 'GET' || method === 'DELETE' ? {} : { body: '{}' });
    assertError(r, 405, 'method-not-allowed');
    assert.ok(r.headers.allow, `${method} ${path}: Allow header present`);
    const allow = r.headers.allow.split(',').map((s) => s.trim().toUpperCase());
    assert.ok(allow.includes(allowed), `${method} ${path}: Allow "${r.headers.allow}" includes ${allowed}`);
    assert.ok(!allow.includes(method), `${method} ${path}: Allow "${r.headers.allow}" must not include ${method}`);
    for (const cid of createdIds) assert.ok(!r.text.includes(cid), 'ids are never listed');
  }
});

test('a path that names nothing is 404 whatever the method; a page of the app is 405 for other methods', T, async () => {
  for (const [method, path] of [['POST', '/nope'], ['DELETE', '/nope'], ['PUT', '/assets/missing.js'], ['POST', '/m/not-an-id']]) {
    const r = await request(srv.url, method, path, method === 'DELETE' ? {} : { body: '{}' });
    assertError(r, 404, 'not-found');
  }
  for (const [method, path] of [['POST', '/'], ['DELETE', `/m/${await anyId()}`]]) {
    const r = await request(srv.url, method, path, method === 'DELETE' ? {} : { body: '{}' });
    assertError(r, 405, 'method-not-allowed');
    assert.equal(r.headers.allow, 'GET, HEAD');
  }
});

/** Writes `text` on one connection and reads until it closes. */
function rawExchange(text, what) {
  const sock = net.connect({ host: '127.0.0.1', port: srv.port });
  return withTimeout(new Promise((res, rej) => {
    let acc = '';
    sock.on('connect', () => sock.write(text));
    sock.on('data', (d) => { acc += d.toString('latin1'); });
    sock.on('error', rej);
    sock.on('close', () => res(acc));
  }), 4000, what);
}

test('HEAD is answered like GET without a body, so a kept-alive connection stays in step', T, async () => {
  const id = await anyId();
  for (const path of ['/healthz', '/metrics', `/api/meetings/${id}`, '/api/meetings/nope', '/nope', '/']) {
    // HEAD, then GET on the same connection: the GET's status line must come
    // right after the HEAD's headers, not after a body that HEAD may not have.
    const text = await rawExchange(
      `HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      `HEAD ${path} then GET`);
    const end = text.indexOf('\r\n\r\n');
    assert.ok(end > 0, `HEAD ${path}: got ${text.slice(0, 200)}`);
    const head = text.slice(0, end);
    assert.match(head, /^HTTP\/1\.1 (200|404) /, `HEAD ${path}: ${head}`);
    assert.match(head, /\r\ncontent-length: [1-9]\d*\r?$/im, `HEAD ${path} tells the length GET would have: ${head}`);
    const rest = text.slice(end + 4);
    assert.match(rest, /^HTTP\/1\.1 200 OK\r\n/, `HEAD ${path} sent a body: ${JSON.stringify(rest.slice(0, 80))}`);
    assert.ok(rest.endsWith('\r\n\r\nok'), 'the GET after it is answered whole');
  }
});

test('a request that is not HTTP gets 400, headers over 16 KiB get 431; both counted', T, async () => {
  const before = mval(await metrics(srv.url), 'meshmeet_http_bad_requests_total');
  let text = await rawExchange('GET / HTTP/1.1\r\nHo st: x\r\n\r\n', 'bad header name');
  assert.match(text, /^HTTP\/1\.1 400 /, text.slice(0, 200));
  assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code, 'bad-request');
  text = await rawExchange('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n', 'TLS hello to the plain port');
  assert.match(text, /^HTTP\/1\.1 400 /, text.slice(0, 200));
  text = await rawExchange(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'y'.repeat(17 * 1024)}\r\n\r\n`, 'huge header');
  assert.match(text, /^HTTP\/1\.1 431 /, text.slice(0, 200));
  assert.equal(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code, 'bad-request');
  assert.equal(mval(await metrics(srv.url), 'meshmeet_http_bad_requests_total') - before, 3);
  assert.equal((await get(srv.url, '/healthz')).status, 200, 'the server carries on');
});

test('plain GET /ws without upgrade → 426 (with Upgrade: websocket)', T, async () => {
  const r = await get(srv.url, '/ws');
  assert.equal(r.status, 426, r.text);
  // RFC 9110 §15.5.22: a 426 response MUST carry an Upgrade header
  assert.match(String(r.headers.upgrade || ''), /websocket/i, 'Upgrade header names websocket');
});

test('GET /healthz → 200 ok', T, async () => {
  const r = await get(srv.url, '/healthz');
  assert.equal(r.status, 200);
  assert.equal(r.text.trim(), 'ok');
});

test('GET /metrics → Prometheus text with every family, and the numbers move', T, async () => {
  const r = await get(srv.url, '/metrics');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  let m = await metrics(srv.url);
  const families = [
    'meshmeet_connections', 'meshmeet_meetings_created_total', 'meshmeet_meetings_active', 'meshmeet_participants',
    'meshmeet_messages_in_total', 'meshmeet_messages_out_total', 'meshmeet_errors_total', 'meshmeet_disconnects_total',
    'meshmeet_resumes_total', 'meshmeet_resume_expired_total', 'meshmeet_rate_limited_messages_total',
    'meshmeet_join_latency_seconds', 'meshmeet_meetings_create_rate_limited_total', 'meshmeet_http_body_too_large_total',
    'meshmeet_http_bad_requests_total',
  ];
  for (const f of families) assert.ok(hasMetric(m, f), `metric family ${f} is exposed`);
  assert.equal(m.types.get('meshmeet_join_latency_seconds'), 'histogram');
  assert.equal(m.types.get('meshmeet_connections'), 'gauge');
  assert.equal(m.types.get('meshmeet_meetings_created_total'), 'counter');
  assert.equal(m.types.get('meshmeet_participants'), 'gauge');

  const before = m;
  const meeting = await createMeeting(srv.url, { name: 'metrics' });
  createdIds.push(meeting.id);
  const nf = await get(srv.url, `/api/meetings/${fakeId()}`);
  assert.equal(nf.status, 404);
  const a = await Client.connect(srv.wsUrl);
  await a.join(meeting.id, 'alice');
  a.send({ type: 'ping', t: 1 });
  await a.next('pong');
  const after1 = await metrics(srv.url);
  assert.equal(mval(after1, 'meshmeet_meetings_created_total') - mval(before, 'meshmeet_meetings_created_total'), 1);
  assert.equal(mval(after1, 'meshmeet_connections'), 1);
  assert.equal(mval(after1, 'meshmeet_participants'), 1);
  assert.equal(mval(after1, 'meshmeet_meetings_active'), 1);
  assert.ok(mval(after1, 'meshmeet_messages_in_total') - mval(before, 'meshmeet_messages_in_total') >= 2, 'join + ping counted in');
  assert.ok(mval(after1, 'meshmeet_messages_out_total') - mval(before, 'meshmeet_messages_out_total') >= 2, 'welcome + pong counted out');
  assert.equal(mval(after1, 'meshmeet_errors_total', { code: 'meeting-not-found' }) - mval(before, 'meshmeet_errors_total', { code: 'meeting-not-found' }), 1,
    'HTTP errors are counted by code');
  assert.equal(mval(after1, 'meshmeet_join_latency_seconds_count') - mval(before, 'meshmeet_join_latency_seconds_count'), 1);
  assert.equal(mval(after1, 'meshmeet_join_latency_seconds_bucket', { le: '+Inf' }), mval(after1, 'meshmeet_join_latency_seconds_count'));
  assert.ok(mval(after1, 'meshmeet_join_latency_seconds_sum') >= 0);

  a.send({ type: 'leave' });
  await a.waitClosed();
  m = await waitFor(async () => {
    const x = await metrics(srv.url);
    return mval(x, 'meshmeet_connections') === 0 ? x : null;
  }, 2000, 'meshmeet_connections back to 0');
  assert.equal(mval(m, 'meshmeet_connections'), 0);
  assert.equal(mval(m, 'meshmeet_participants'), 0);
  assert.equal(mval(m, 'meshmeet_meetings_active'), 0);
  assert.equal(mval(m, 'meshmeet_disconnects_total', { reason: 'left' }) - mval(before, 'meshmeet_disconnects_total', { reason: 'left' }), 1);
});

test('GET / and /m/ID serve the web app, even for unknown ids', T, async () => {
  const root = await get(srv.url, '/');
  assert.equal(root.status, 200);
  assert.match(String(root.headers['content-type']), /^text\/html/);
  assert.ok(root.text.includes(MARKER), 'serves index.html from --static');
  for (const id of [await anyId(), fakeId(32), fakeId(25)]) {
    const r = await get(srv.url, `/m/${id}`);
    assert.equal(r.status, 200, `/m/${id}`);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.ok(r.text.includes(MARKER));
  }
  const js = await get(srv.url, '/assets/app.js');
  assert.equal(js.status, 200);
  assert.ok(js.text.includes(MARKER));
});

test('other paths → 404 not-found JSON', T, async () => {
  for (const p of ['/nope', '/api', '/api/nope', '/api/meetingsx', '/assets/missing.js', '/healthz/x', '/wsx']) {
    const r = await get(srv.url, p);
    assertError(r, 404, 'not-found');
  }
});

test('no path traversal out of --static', T, async () => {
  for (const p of ['/../../../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd', '/..%5c..%5c..%5cetc%5cpasswd']) {
    const sock = net.connect({ host: '127.0.0.1', port: srv.port });
    const text = await withTimeout(new Promise((res, rej) => {
      let acc = '';
      sock.on('connect', () => sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
      sock.on('data', (d) => { acc += d.toString('latin1'); });
      sock.on('error', rej);
      sock.on('close', () => res(acc));
    }), 4000, `response to GET ${p}`);
    assert.ok(!/root:.*:0:0:/.test(text), `GET ${p} must not leak /etc/passwd`);
  }
});

test('default --create-rate allows 60 creations per minute per IP', T, async () => {
  const s = await startServer(FAST);
  try {
    for (let i = 0; i < 60; i++) {
      const r = await createMeetingRaw(s.url, {});
      assert.equal(r.status, 201, `creation #${i + 1}: ${r.text}`);
    }
  } finally {
    await finish(s);
  }
});

test('--create-rate 2: third creation → 429 rate-limited; another IP is not affected', T, async () => {
  const s = await startServer([...FAST, '--create-rate', '2']);
  try {
    assert.equal((await createMeetingRaw(s.url, {})).status, 201);
    assert.equal((await createMeetingRaw(s.url, {})).status, 201);
    assertError(await createMeetingRaw(s.url, {}), 429, 'rate-limited');
    assertError(await createMeetingRaw(s.url, { name: 'again' }), 429, 'rate-limited');
    const other = await createMeetingRaw(s.url, {}, { localAddress: '127.0.0.2' });
    assert.equal(other.status, 201, 'per client IP: 127.0.0.2 has its own budget');
    // other endpoints are not limited by it
    assert.equal((await get(s.url, '/healthz')).status, 200);
    const m = await metrics(s.url);
    assert.equal(mval(m, 'meshmeet_errors_total', { code: 'rate-limited' }), 2);
    assert.equal(mval(m, 'meshmeet_meetings_create_rate_limited_total'), 2, 'the creation rate has its own metric');
    assert.equal(mval(m, 'meshmeet_meetings_created_total'), 3);
  } finally {
    await finish(s);
  }
});

test('--create-rate: a malformed request creates nothing and spends none of the budget', T, async () => {
  const s = await startServer([...FAST, '--create-rate', '1']);
  try {
    assertError(await createMeetingRaw(s.url, '{"name":', { headers: { 'Content-Type': 'application/json' } }), 400, 'bad-json');
    assertError(await createMeetingRaw(s.url, { name: 7 }), 400, 'bad-request');
    assert.equal((await createMeetingRaw(s.url, {})).status, 201, 'the one creation allowed is still there');
    assertError(await createMeetingRaw(s.url, {}), 429, 'rate-limited');
  } finally {
    await finish(s);
  }
});

test('--create-rate 0 means no limit (70 creations)', T, async () => {
  for (let i = 0; i < 70; i++) {
    const r = await createMeetingRaw(srv.url, {});
    assert.equal(r.status, 201, `creation #${i + 1}`);
  }
});

test('--create-token: 401 unauthorized without the right bearer token', T, async () => {
  const s = await startServer([...FAST, '--create-token', 's3cret-T0ken']);
  try {
    assertError(await createMeetingRaw(s.url, {}), 401, 'unauthorized');
    assertError(await createMeetingRaw(s.url, {}, { headers: { Authorization: 'Bearer wrong' } }), 401, 'unauthorized');
    assertError(await createMeetingRaw(s.url, {}, { headers: { Authorization: 'Bearer s3cret-T0ke' } }), 401, 'unauthorized');
    assertError(await createMeetingRaw(s.url, {}, { headers: { Authorization: 'Bearer s3cret-T0kenX' } }), 401, 'unauthorized');
    assertError(await createMeetingRaw(s.url, {}, { headers: { Authorization: 's3cret-T0ken' } }), 401, 'unauthorized');
    assertError(await createMeetingRaw(s.url, {}, { headers: { Authorization: `Basic ${Buffer.from('x:s3cret-T0ken').toString('base64')}` } }), 401, 'unauthorized');
    const ok = await createMeetingRaw(s.url, { name: 'authed' }, { headers: { Authorization: 'Bearer s3cret-T0ken' } });
    assert.equal(ok.status, 201, ok.text);
    // reading and joining need no token
    const g = await get(s.url, `/api/meetings/${ok.json.id}`);
    assert.equal(g.status, 200);
    const c = await Client.connect(s.wsUrl);
    const w = await c.join(ok.json.id, 'x');
    assert.equal(w.type, 'welcome');
    c.close(1000);
    const m = await metrics(s.url);
    assert.equal(mval(m, 'meshmeet_errors_total', { code: 'unauthorized' }), 6);
  } finally {
    await finish(s);
  }
});

test('full meeting ids are never logged', T, async () => {
  // exercise a few more paths that might log ids
  const id = (await createMeeting(srv.url, { name: 'log check' })).id;
  createdIds.push(id);
  await get(srv.url, `/api/meetings/${id}`);
  await get(srv.url, `/m/${id}`);
  const c = await Client.connect(srv.wsUrl);
  await c.join(id, 'logger');
  c.send({ type: 'join', meeting: id });
  await c.next('error');
  c.send({ type: 'leave' });
  await c.waitClosed();
  await sleep(100);
  const text = srv.stderrText();
  for (const cid of createdIds) {
    assert.ok(!text.includes(cid), `log contains full id ${cid.slice(0, 6)}…`);
  }
  // logs are one JSON object per line with t, level, event
  for (const line of srv.stderrLines) {
    let j;
    assert.doesNotThrow(() => { j = JSON.parse(line); }, `log line is JSON: ${line}`);
    assert.equal(typeof j.t, 'string');
    assert.ok(['debug', 'info', 'warn', 'error'].includes(j.level), `level ${j.level}`);
    assert.equal(typeof j.event, 'string');
  }
});
