// One source of truth for peer states: the C++ PeerState enum
// (wasm/core/connection_recovery.cpp, its to_string spellings) against the
// PeerState union of web/index.d.ts that apps switch on. A state added in
// the core and forgotten here would reach a typed app as a value it cannot
// name; the app's tile text depends on 'unreachable' and 'retrying'.
//
//   node --test tests/node/peer-states.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT } from './harness.mjs';

const read = (path) => readFileSync(new URL(path, `file://${ROOT}/`), 'utf8');

function coreStates() {
  const source = read('wasm/core/connection_recovery.cpp');
  const body = source.slice(source.indexOf('to_string(PeerState'), source.indexOf('return "closed";\n}'));
  return [...body.matchAll(/case PeerState::\w+: return "([a-z-]+)";/g)].map((m) => m[1]);
}

function declaredStates() {
  const dts = read('web/index.d.ts');
  const start = dts.indexOf('export type PeerState');
  const union = dts.slice(start, dts.indexOf(';', start));
  return [...union.matchAll(/\| '([a-z-]+)'/g)].map((m) => m[1]);
}

test('every peer state the core emits is in PeerState of index.d.ts, and no other', () => {
  // 'new' is the state before a connection exists: never emitted as peer-state.
  const core = coreStates().filter((s) => s !== 'new');
  assert.ok(core.includes('unreachable') && core.includes('retrying') && core.length >= 9, `read the core's states: ${core}`);
  assert.deepEqual([...declaredStates()].sort(), [...core].sort());
});

test('the app shows an unreachable peer in both languages, on its tile and in the people panel', () => {
  const meeting = read('web/app/meeting.js');
  assert.match(meeting, /state === 'unreachable' \|\| state === 'retrying'/);
  const people = read('web/app/people.js');
  assert.match(people, /case 'unreachable':\s*case 'retrying': return 'stateCantReach';/);
  const i18n = read('web/app/i18n.js');
  assert.match(i18n, /cantReach: \(name\) => `Can't reach \$\{name\} — retrying`/);
  assert.match(i18n, /cantReach: \(name\) => `无法连接 \$\{name\} — 正在重试`/);
});
