// GeoIP: --geoip FILE fills country/city of the creator audit.
// The .mmdb is produced at test time by ./mmdb-writer.mjs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, runBinary, tempDir, parseAudit, AUDIT_HEADER,
} from './harness.mjs';
import { writeMmdb, AMSTERDAM } from './mmdb-writer.mjs';

after(async () => { await finishAll(); }, T);

async function auditFor(mmdb, { localAddress } = {}) {
  const srv = await startServer([...FAST, '--geoip', mmdb]);
  let m;
  try {
    m = await createMeeting(srv.url, { name: 'geo' }, { headers: { 'User-Agent': 'geo-test/1' }, localAddress });
  } finally {
    await finish(srv);
  }
  const r = await runBinary(['meetings', '--db', srv.dbPath]);
  assert.equal(r.code, 0, r.stderr);
  const { header, rows } = parseAudit(r.stdout);
  assert.equal(header, AUDIT_HEADER);
  assert.equal(rows.length, 1, r.stdout);
  const [id, , name, ip, country, city, ua] = rows[0];
  assert.ok(m.id.startsWith(id.slice(0, -1)));
  assert.equal(name, 'geo');
  assert.equal(ua, 'geo-test/1');
  return { ip, country, city };
}

for (const ipVersion of [6, 4]) {
  test(`audit shows NL / Amsterdam for 127.0.0.1 (ip_version ${ipVersion} tree)`, T, async () => {
    const file = join(tempDir(), `test-v${ipVersion}.mmdb`);
    writeMmdb(file, { ipVersion, networks: [{ cidr: '127.0.0.0/8', data: AMSTERDAM }] });
    const { ip, country, city } = await auditFor(file);
    assert.equal(ip, '127.0.0.1');
    assert.match(country, /^(NL|Netherlands)$/, `country column: ${JSON.stringify(country)}`);
    assert.equal(city, 'Amsterdam');
  });
}

test('another address in the network (127.0.0.2) maps too', T, async () => {
  const file = join(tempDir(), 'test-v6b.mmdb');
  writeMmdb(file, { networks: [{ cidr: '127.0.0.0/8', data: AMSTERDAM }] });
  const { ip, country, city } = await auditFor(file, { localAddress: '127.0.0.2' });
  assert.equal(ip, '127.0.0.2');
  assert.match(country, /^(NL|Netherlands)$/);
  assert.equal(city, 'Amsterdam');
});

test('an address the database does not cover: creation works, country/city empty', T, async () => {
  const file = join(tempDir(), 'other.mmdb');
  writeMmdb(file, { networks: [{ cidr: '10.0.0.0/8', data: { country: { iso_code: 'DE', names: { en: 'Germany' } }, city: { names: { en: 'Berlin' } } } }] });
  const { ip, country, city } = await auditFor(file);
  assert.equal(ip, '127.0.0.1');
  assert.ok(!/DE|Germany/.test(country), `country: ${country}`);
  assert.ok(!/Berlin/.test(city), `city: ${city}`);
});
