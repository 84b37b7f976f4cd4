// One source of truth for error codes: the C++ ErrorCode enum
// (protocol/error_code.cpp, its wire spellings) against the two JS lists a
// client sees them through — the ErrorCode union of web/index.d.ts and the
// set web/meshmeet.js turns into typed errors. A code added on the server
// and forgotten here would reach apps as 'server-error'.
//
//   node --test tests/node/error-codes.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT } from './harness.mjs';

const read = (path) => readFileSync(new URL(path, `file://${ROOT}/`), 'utf8');

// Wire codes no client API call can receive as its own error: HTTP routing
// answers for requests this client never makes, and 'unavailable', which
// the shim reports as 'server-unreachable' (the server's code in serverCode).
const NOT_FOR_CLIENTS = new Set(['not-found', 'method-not-allowed', 'unavailable']);

function serverCodes() {
  const source = read('protocol/error_code.cpp');
  const body = source.slice(source.indexOf('to_string(ErrorCode'), source.indexOf('int http_status'));
  return [...body.matchAll(/case ErrorCode::\w+: return "([a-z-]+)";/g)].map((m) => m[1]);
}

function declaredCodes() {
  const dts = read('web/index.d.ts');
  const union = dts.slice(dts.indexOf('export type ErrorCode'), dts.indexOf(';', dts.indexOf('export type ErrorCode')));
  return [...union.matchAll(/\| '([a-z-]+)'/g)].map((m) => m[1]);
}

function shimCodes() {
  const js = read('web/meshmeet.js');
  const list = js.slice(js.indexOf('const ERROR_CODES = new Set(['), js.indexOf(']);', js.indexOf('const ERROR_CODES')));
  return [...list.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
}

test('every server error code a client can get is a typed ErrorCode, in index.d.ts and in the shim alike', () => {
  const server = serverCodes();
  assert.ok(server.includes('relay-unavailable') && server.length >= 16, `read the server's codes: ${server}`);
  const declared = new Set(declaredCodes());
  const shim = new Set(shimCodes());
  for (const code of server.filter((c) => !NOT_FOR_CLIENTS.has(c))) {
    assert.ok(declared.has(code), `${code} is missing from ErrorCode in web/index.d.ts`);
    assert.ok(shim.has(code), `${code} is missing from ERROR_CODES in web/meshmeet.js`);
  }
  assert.deepEqual([...shim].sort(), [...declared].sort(), 'the shim and index.d.ts list the same codes');
});
