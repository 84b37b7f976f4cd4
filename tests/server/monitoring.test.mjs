// Monitoring: /metrics carries the version, open and maximum file
// descriptors; --metrics-listen moves /metrics off the public port; the
// Grafana dashboard in tools/grafana only charts metrics the server exposes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  T, ROOT, startServer, finish, finishAll, get, metrics, mval, hasMetric, runBinary, freePort, Client,
} from './harness.mjs';

after(async () => { await finishAll(); }, T);

test('/metrics: meshmeet_build_info names the version --version prints; file descriptors: open, and the limit', T, async () => {
  const s = await startServer([], { nofile: 200 });
  try {
    const version = /^meshmeet-server (\S+) /.exec((await runBinary(['--version'])).stdout)[1];
    let m = await metrics(s.url);
    assert.equal(m.types.get('meshmeet_build_info'), 'gauge');
    assert.equal(mval(m, 'meshmeet_build_info', { version, protocol: '2' }), 1);
    assert.equal(mval(m, 'process_max_fds'), 200, 'the limit the process runs under');
    const before = mval(m, 'process_open_fds');
    assert.ok(before > 0 && before < 200, `open descriptors: ${before}`);
    // Every WebSocket is a descriptor.
    const clients = [];
    for (let i = 0; i < 10; i++) clients.push(await Client.connect(s.wsUrl));
    m = await metrics(s.url);
    assert.ok(mval(m, 'process_open_fds') >= before + 10, `${mval(m, 'process_open_fds')} open with 10 more sockets (${before} before)`);
    for (const c of clients) c.close(1000);
  } finally {
    await finish(s);
  }
});

test('--metrics-listen: /metrics there and only there; nothing else on that port', T, async () => {
  const port = await freePort();
  const s = await startServer(['--metrics-listen', `127.0.0.1:${port}`]);
  try {
    const scrape = `http://127.0.0.1:${port}`;
    const r = await get(scrape, '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^meshmeet_build_info\{/m);
    for (const path of ['/healthz', '/', '/api/meetings/x', '/ws'])
      assert.equal((await get(scrape, path)).status, 404, `${path} on the metrics port`);
    const pub = await get(s.url, '/metrics');
    assert.equal(pub.status, 404, 'not on the public port');
    assert.equal(pub.json?.error?.code, 'not-found');
    assert.equal((await get(s.url, '/healthz')).status, 200, 'the public port serves the rest');
    assert.equal((await get(s.url, '/readyz')).status, 200);
  } finally {
    await finish(s);
  }
});

test('--metrics-listen: a value that is not ADDR:PORT, or a port taken, is a clear message and exit 2', T, async () => {
  for (const bad of ['9100', 'localhost:9100', '127.0.0.1:', '127.0.0.1:70000', '::1:9100', '127.0.0.1:91x0']) {
    const r = await runBinary(['--port', '0', '--metrics-listen', bad]);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--metrics-listen/);
  }
  const s = await startServer([]);
  try {
    const r = await runBinary(['--port', '0', '--metrics-listen', `127.0.0.1:${s.port}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot listen on --metrics-listen/);
  } finally {
    await finish(s);
  }
});

test('the Grafana dashboard charts only metrics the server exposes, and every panel has a query', T, async () => {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'tools/grafana/meshmeet-dashboard.json'), 'utf8'));
  const s = await startServer([]);
  try {
    const m = await metrics(s.url);
    const named = new Set();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets?.length > 0, `${panel.title}: a query`);
      for (const target of panel.targets)
        for (const [name] of target.expr.matchAll(/\b(?:meshmeet|process)_[a-z_]+/g)) named.add(name);
    }
    for (const v of dashboard.templating.list)
      for (const [name] of String(v.query).matchAll(/\b(?:meshmeet|process)_[a-z_]+/g)) named.add(name);
    assert.ok(named.size >= 15, `metrics charted: ${[...named]}`);
    for (const name of named) {
      const family = name.replace(/_(bucket|count|sum)$/, '');
      assert.ok(hasMetric(m, name) || hasMetric(m, family), `${name} is exposed by /metrics`);
    }
  } finally {
    await finish(s);
  }
});
