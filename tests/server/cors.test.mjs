// The meetings API from pages of other origins (CORS): a developer's site at
// its own origin creates and looks up meetings on a meshmeet server
// elsewhere. The same allow-list as the WebSocket's Origin rule decides who
// may read the answers; everything else about the HTTP API is unchanged.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { T, FAST, startServer, finishAll, createMeetingRaw, get, request } from './harness.mjs';

const started = [];
after(async () => { await finishAll(...started); }, T);

async function server(args = []) {
  const s = await startServer([...FAST, '--create-rate', '0', ...args]);
  started.push(s);
  return s;
}

const preflight = (base, path, origin, method = 'POST') => request(base, 'OPTIONS', path, {
  headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'content-type' },
});

test('default list: a localhost page of another port may create and look up meetings', T, async () => {
  const srv = await server();
  const site = 'http://localhost:5173';

  const pre = await preflight(srv.url, '/api/meetings', site);
  assert.equal(pre.status, 204, pre.text);
  assert.equal(pre.headers['access-control-allow-origin'], site);
  assert.equal(pre.headers['access-control-allow-methods'], 'POST');
  assert.match(pre.headers['access-control-allow-headers'], /content-type/i);
  assert.match(pre.headers['access-control-allow-headers'], /authorization/i);
  assert.match(pre.headers.vary, /origin/i);

  const created = await createMeetingRaw(srv.url, { name: 'from my site' }, { headers: { Origin: site } });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers['access-control-allow-origin'], site, 'the page may read the new meeting');
  assert.match(created.headers['access-control-expose-headers'], /Location/);

  const found = await get(srv.url, `/api/meetings/${created.json.id}`, { headers: { Origin: site } });
  assert.equal(found.status, 200);
  assert.equal(found.headers['access-control-allow-origin'], site);
  const missing = await get(srv.url, '/api/meetings/nosuchmeetingnosuchmeeting00', { headers: { Origin: site } });
  assert.equal(missing.status, 404);
  assert.equal(missing.headers['access-control-allow-origin'], site, 'errors are readable too: the page can say "not found"');
  assert.equal(missing.json.error.code, 'meeting-not-found');

  const getPre = await preflight(srv.url, `/api/meetings/${created.json.id}`, site, 'GET');
  assert.equal(getPre.status, 204);
  assert.equal(getPre.headers['access-control-allow-methods'], 'GET, HEAD');
});

test('an origin off the list gets no CORS headers and a 403 forbidden-origin preflight', T, async () => {
  const srv = await server();
  const other = 'https://evil.example';
  const pre = await preflight(srv.url, '/api/meetings', other);
  assert.equal(pre.status, 403);
  assert.equal(pre.json.error.code, 'forbidden-origin');
  assert.equal(pre.headers['access-control-allow-origin'], undefined);

  const created = await createMeetingRaw(srv.url, {}, { headers: { Origin: other } });
  assert.equal(created.status, 201, 'the API itself answers as before (the browser keeps the answer from the page)');
  assert.equal(created.headers['access-control-allow-origin'], undefined);
  assert.match(created.headers.vary, /origin/i);
  const nul = await preflight(srv.url, '/api/meetings', 'null');
  assert.equal(nul.status, 403, 'Origin: null is never trusted');
});

test('--allow-origin replaces the default list for the API as for the WebSocket', T, async () => {
  const srv = await server(['--allow-origin', 'https://site.example']);
  const ok = await preflight(srv.url, '/api/meetings', 'https://site.example');
  assert.equal(ok.status, 204);
  assert.equal(ok.headers['access-control-allow-origin'], 'https://site.example');
  const local = await preflight(srv.url, '/api/meetings', 'http://localhost:5173');
  assert.equal(local.status, 403, 'localhost is no longer on the list');
});

test('other OPTIONS requests, and requests without Origin, are answered as before', T, async () => {
  const srv = await server();
  const plain = await request(srv.url, 'OPTIONS', '/api/meetings', {});
  assert.equal(plain.status, 405, 'an OPTIONS that is not a CORS preflight');
  assert.equal(plain.json.error.code, 'method-not-allowed');
  const elsewhere = await preflight(srv.url, '/metrics', 'http://localhost:5173', 'GET');
  assert.equal(elsewhere.status, 405, 'only the meetings API is offered to other origins');
  assert.equal(elsewhere.headers['access-control-allow-origin'], undefined);
  const noOrigin = await createMeetingRaw(srv.url, {});
  assert.equal(noOrigin.status, 201);
  assert.equal(noOrigin.headers['access-control-allow-origin'], undefined);
  assert.equal(noOrigin.headers.vary, undefined);
});
