// One source of truth for error codes, states and options: the C++ enums, spelled by
// their to_string functions —
//   protocol::ErrorCode (protocol/error_code.cpp): what the server sends;
//   core::CoreError (wasm/core/outputs.cpp): what the core reports itself;
//   core::PeerState, SessionState, TrustState, QualityLevel: the states
//     'peer-state', 'state', 'verification-code' and 'quality' carry —
// against the JS lists a client sees them through: the unions of
// web/index.d.ts and the set web/errors.js turns into typed errors. A code
// or state added in C++ and forgotten here would reach apps untyped (a
// server code as 'server-error').
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
// Codes only the shim raises (its own API's misuse, the package, app data).
const SHIM_ONLY = new Set([
  'server-unreachable', 'server-error', 'invalid-argument', 'core-unavailable', 'data-too-large', 'peer-not-connected',
  'send-buffer-full', 'track-not-replaced',
]);

/** The strings a C++ `to_string(Enum ...)` switch returns, in order. */
function spellings(path, enumName) {
  const source = read(path);
  const start = source.indexOf(`to_string(${enumName} `);
  assert.ok(start >= 0, `${path} spells ${enumName}`);
  const body = source.slice(start, source.indexOf('\n}\n', start));
  return [...body.matchAll(new RegExp(`case ${enumName}::\\w+: return "([a-z-]+)";`, 'g'))].map((m) => m[1]);
}

/** The string literals of `export type <name> = ...;` in web/index.d.ts. */
function declared(name) {
  const dts = read('web/index.d.ts');
  const start = dts.indexOf(`export type ${name} =`);
  assert.ok(start >= 0, `index.d.ts declares ${name}`);
  // Up to the first ';' outside a comment.
  const body = dts.slice(start).replace(/\/\*[\s\S]*?\*\//g, '');
  return [...body.slice(0, body.indexOf(';')).matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
}

function shimCodes() {
  const js = read('web/errors.js');
  const list = js.slice(js.indexOf('const ERROR_CODES = new Set(['), js.indexOf(']);', js.indexOf('const ERROR_CODES')));
  return [...list.matchAll(/'([a-z-]+)'/g)].map((m) => m[1]);
}

test('every error code a client can get is a typed ErrorCode, in index.d.ts and in the shim alike', () => {
  const server = spellings('protocol/error_code.cpp', 'ErrorCode');
  assert.ok(server.includes('relay-unavailable') && server.length >= 16, `read the server's codes: ${server}`);
  const core = spellings('wasm/core/outputs.cpp', 'CoreError');
  assert.ok(core.includes('peer-unreachable') && core.length >= 3, `read the core's codes: ${core}`);
  const dts = new Set(declared('ErrorCode'));
  const shim = new Set(shimCodes());
  for (const code of [...server.filter((c) => !NOT_FOR_CLIENTS.has(c)), ...core]) {
    assert.ok(dts.has(code), `${code} is missing from ErrorCode in web/index.d.ts`);
    assert.ok(shim.has(code), `${code} is missing from ERROR_CODES in web/errors.js`);
  }
  assert.deepEqual([...shim].sort(), [...dts].sort(), 'the shim and index.d.ts list the same codes');
  const known = new Set([...server, ...core, ...SHIM_ONLY]);
  for (const code of dts) assert.ok(known.has(code), `${code} in index.d.ts comes from no C++ enum and is not the shim's own`);
});

test('the states of the events are the C++ enums\' spellings', () => {
  // 'new' (before a connection exists) and 'unknown' (not measured yet) are never emitted.
  const cases = [
    ['wasm/core/connection_recovery.cpp', 'PeerState', 'PeerState', ['new']],
    ['wasm/core/signaling_session.cpp', 'SessionState', 'MeetingState', []],
    ['wasm/core/peer_trust.cpp', 'TrustState', 'VerificationTrust', []],
    ['wasm/core/quality.cpp', 'QualityLevel', 'QualityLevel', ['unknown']],
  ];
  for (const [path, cpp, ts, unseen] of cases) {
    const spelled = spellings(path, cpp).filter((s) => !unseen.includes(s));
    assert.ok(spelled.length >= 3, `read ${cpp}: ${spelled}`);
    assert.deepEqual(declared(ts).sort(), spelled.sort(), `${ts} in index.d.ts is ${cpp} of ${path}`);
  }
});

test('CoreOptions in index.d.ts are the options the core reads, less those joinMeeting sets itself', () => {
  const source = read('wasm/core/client_config.cpp');
  const list = source.slice(source.indexOf('kOptions[] = {'), source.indexOf('};', source.indexOf('kOptions[] = {')));
  const core = [...list.matchAll(/"([A-Za-z]+)"/g)].map((m) => m[1]);
  assert.ok(core.includes('connectWatchdogMs') && core.length >= 20, `read the core's options: ${core}`);
  const dts = read('web/index.d.ts');
  const body = dts.slice(dts.indexOf('export interface CoreOptions {'), dts.indexOf('\n}\n', dts.indexOf('export interface CoreOptions {')));
  const typed = [...body.matchAll(/^ {2}(\w+)\?: number;$/gm)].map((m) => m[1]);
  const js = read('web/meeting-api.js');
  const own = js.slice(js.indexOf('const JOIN_OPTIONS_NOT_CORE = {'), js.indexOf('};', js.indexOf('const JOIN_OPTIONS_NOT_CORE')));
  const joins = [...own.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
  assert.deepEqual([...typed, ...joins].sort(), [...core].sort(), 'CoreOptions + the shim\'s own = the core\'s options');
  // Every core read of an option is in the list the core checks keys against.
  const reads = [...source.matchAll(/(?:integer\(doc, |doc\.find\()"([A-Za-z]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(reads)].sort(), [...core].sort(), 'kOptions lists what parse_client_config reads');
});

test('every event of MeetingEvents has exactly one doc comment', () => {
  const dts = read('web/index.d.ts');
  const body = dts.slice(dts.indexOf('export interface MeetingEvents {'), dts.indexOf('\n}\n', dts.indexOf('export interface MeetingEvents {')));
  // Each member, with what stands between it and the member before it.
  const members = [...body.matchAll(/\n((?:\s*\/\*\*[\s\S]*?\*\/)*)\s*('?[\w-]+'?): /g)].map((m) => ({ name: m[2], docs: (m[1].match(/\/\*\*/g) ?? []).length }));
  assert.ok(members.length >= 11 && members.at(-1).name === 'error', `read the events: ${members.map((m) => m.name)}`);
  for (const m of members) assert.equal(m.docs, 1, `${m.name} has ${m.docs} doc comments`);
});
