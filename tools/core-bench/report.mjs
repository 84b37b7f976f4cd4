// Turns one native and one WASM run of meshmeet-core-bench (their stdout,
// each holding one `CORE_BENCH {json}` line) into the "Client core" benchmark
// section of docs/benchmarks.md, between the client-core markers. Called by
// tools/core-bench/bench.sh; every number comes from those two files.
//
//   node tools/core-bench/report.mjs --native FILE --wasm FILE [--wasm-minsize FILE] [--load-start "a b c"]
//        [--doc docs/benchmarks.md] [--no-doc]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, totalmem, release, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, usageError } from '../cli-flags.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const USAGE = 'usage: node tools/core-bench/report.mjs --native FILE --wasm FILE [--wasm-minsize FILE] [--load-start "a b c"] [--doc FILE] [--no-doc]';
const flags = parseFlags(process.argv.slice(2), {
  values: { native: null, wasm: null, 'wasm-minsize': null, 'load-start': '', doc: join(ROOT, 'docs', 'benchmarks.md') },
  switches: ['no-doc'],
}, USAGE);
if (!flags.native || !flags.wasm) usageError(USAGE, 'both --native and --wasm are needed');
const BEGIN = '<!-- client-core:begin (tools/core-bench/bench.sh writes this section) -->';
const END = '<!-- client-core:end -->';

function load(file) {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('CORE_BENCH '));
  if (!line) throw new Error(`${file}: no CORE_BENCH line`);
  return JSON.parse(line.slice('CORE_BENCH '.length));
}

const sh = (cmd, args, env, keepSpace = false) => {
  try {
    const text = execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    return keepSpace ? text : text.trim();
  } catch {
    return '';
  }
};

const native = load(flags.native);
const wasm = load(flags.wasm);
// The same program built like the npm package (MinSizeRel, -Os): optional.
const small = flags['wasm-minsize'] ? load(flags['wasm-minsize']) : null;
for (const r of [native, wasm, small].filter(Boolean)) {
  if (r.failures) throw new Error(`the ${r.platform} run reported ${r.failures} unexpected core behaviour(s): not writing numbers`);
  if (r.smoke) throw new Error(`the ${r.platform} run is a --smoke run: not writing numbers`);
}

const commit = sh('git', ['rev-parse', '--short', 'HEAD']) || 'unknown';
// What the two binaries are built from, beyond the commit.
const dirty = sh('git', ['status', '--porcelain', '--', 'wasm/core', 'wasm/CMakeLists.txt', 'protocol', 'tests/unit/core/sim',
  'tools/core-bench', 'tools/loadgen/sdp.cpp', 'tools/loadgen/common.hpp', 'CMakeLists.txt'], {}, true)
  .split('\n').filter(Boolean).map((l) => l.slice(3));
const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [, 'unknown CPU'])[1].trim();
const osName = (existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="?([^"\n]*)/) : null)?.[1] ?? 'Linux';
const emcc = (sh('emcc', ['--version'], { NODE_PATH: '/usr/share/nodejs' }).split('\n')[0].match(/\) ([0-9.]+)/) || [, '?'])[1];
const when = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
const loadStart = (flags['load-start'] || '').trim().split(/\s+/).slice(0, 3).join(', ') || '–';
const loadEnd = loadavg().map((x) => x.toFixed(2)).join(', ');

const f = (x, d = 1) => (x === undefined || x === null ? '–' : Number(x).toFixed(d));
const ratio = (w, n) => (n > 0 ? `${(w / n).toFixed(2)}×` : '–');
const mode = (r, name) => r.messages.modes.find((m) => m.mode === name);
const modeNames = ['drain', 'drain_json', 'drain_json+debugLog'];
const modeLabel = {
  drain: '`drain()` (C++ values)',
  drain_json: '`drain_json()`, debug log off (**what the JS shim calls**)',
  'drain_json+debugLog': '`drain_json()`, debug log on (the app passed a `logger`)',
};

// One row per drain mode: native, WASM -O3, (WASM -Os), and the ratios to native.
const modeRow = (name, key, d) => {
  const n = mode(native, name)[key], w = mode(wasm, name)[key];
  const cells = [f(n, d), f(w, d)];
  if (small) cells.push(f(mode(small, name)[key], d));
  cells.push(ratio(w, n));
  if (small) cells.push(ratio(mode(small, name)[key], n));
  return `| ${modeLabel[name]} | ${cells.join(' | ')} |`;
};
const modeHeader = small
  ? '| drain mode | native | WASM -O3 | WASM -Os (as packaged) | -O3/native | -Os/native |\n|---|---|---|---|---|---|'
  : '| drain mode | native | WASM | WASM/native |\n|---|---|---|---|';
const headline = modeNames.map((name) => modeRow(name, 'perMessageUs', 2));
const perPeer = modeNames.map((name) => modeRow(name, 'perLifecycleUs', 1));

const kinds = [
  ['peer-joined', '`peer-joined` in (opens a connection, adds 2 tracks, new uplink split for all 7)'],
  ['offer-in', '`signal` in: the peer\'s ~3 KB offer (we answer)'],
  ['answer-in', '`signal` in: the peer\'s ~3 KB answer to our offer'],
  ['candidate-in', '`signal` in: one ICE candidate'],
  ['peer-left', '`peer-left` in (closes the connection, new uplink split)'],
  ['description-out', '`local_description` (our ~3 KB offer/answer) → `signal` out'],
  ['candidate-out', '`ice_candidate` (one local candidate) → `signal` out'],
  ['pc-event', 'any other browser event (operation done, states, track, data channel)'],
];
const kindRows = kinds.map(([k, label]) => {
  const nd = mode(native, 'drain').kindsUs[k], wd = mode(wasm, 'drain').kindsUs[k];
  const nj = mode(native, 'drain_json').kindsUs[k], wj = mode(wasm, 'drain_json').kindsUs[k];
  return `| ${label} | ${f(nd, 2)} | ${f(wd, 2)} | ${ratio(wd, nd)} | ${f(nj, 2)} | ${f(wj, 2)} | ${ratio(wj, nj)} |`;
});

const seedRows = native.sim.runs.map((n, i) => {
  const w = wasm.sim.runs[i] || {};
  return `| ${n.seed} | ${n.virtualMs}${w.virtualMs !== undefined && w.virtualMs !== n.virtualMs ? ` (WASM: ${w.virtualMs})` : ''} | ${f(n.wallMs, 2)} | ${f(w.wallMs, 2)} | ${n.events} | ${n.textsSent} |`;
});
const m = native.messages;
const simHeader = small
  ? '| | native | WASM -O3 | WASM -Os | -O3/native | -Os/native |\n|---|---|---|---|---|---|'
  : '| | native | WASM | WASM/native |\n|---|---|---|---|';
const simCells = (key, d, unit, ratios) => {
  const cells = [native, wasm, small].filter(Boolean).map((r) => `${f(r.sim[key], d)}${unit}`);
  for (const r of [wasm, small].filter(Boolean)) cells.push(ratios ? ratio(r.sim[key], native.sim[key]) : '–');
  return cells.join(' | ');
};
const sameTiming = [native, wasm, small].filter(Boolean).every((r) =>
  r.sim.runs.every((x) => x.virtualMs === native.sim.runs[0].virtualMs && x.events === native.sim.runs[0].events));
const lifecycleMsgs = mode(native, 'drain').messagesPerLifecycle;
const lifecycleInputs = mode(native, 'drain').inputsPerLifecycle;

const section = `${BEGIN}
### Cost per signaling message, and 8 peers joining at once

Measured by \`tools/core-bench/bench.sh\` on ${when} (commit ${commit}${dirty.length ? `; the working tree differed from it in ${dirty.map((p) => `\`${p}\``).join(', ')}` : ', working tree clean for the sources involved'}).
**One run** of each build (native, WASM${small ? ' -O3, WASM -Os' : ''}), one after the other: every number
below comes from that run; nothing is averaged across runs or edited by hand.

Machine: ${cpuModel}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${osName}, Linux ${release()}.
Load average ${loadStart} when the run started, ${loadEnd} when it ended: the
machine is shared, so read the ratios rather than the absolute times.
Builds: native g++ ${native.compiler} (CMake \`Release\`, -O3); WASM Emscripten ${emcc}
(${wasm.compiler}, \`-fno-exceptions\` like the package), CMake \`Release\` (-O3)${small ? ` and, in
the "-Os" columns, \`MinSizeRel\` (-Os), the build type of the npm package (\`tools/build-wasm.sh\`)` : ''};
run by Node ${process.version}.

**Per message.** \`meshmeet-core-bench\` drives one \`meshmeet::core::Client\`
through its public inputs, as the JS shim would: it joins a meeting whose
welcome lists 6 peers, connects to all of them, then sees one peer after
another join, negotiate, connect and leave (${lifecycleMsgs} signaling messages in per peer:
\`peer-joined\`, one \`signal\` with a ~3 KB SDP offer or answer, 4 \`signal\`s
with an ICE candidate, \`peer-left\`; peers alternate between offering and
answering; SDPs and candidates from \`tools/loadgen/sdp.cpp\`, the shape the
server benchmark relays). The browser's side (operation done, local
description and candidates, connection states, tracks, data channel) is fed
back as inputs, ${lifecycleInputs} inputs per peer in all. Each input is timed with
\`std::chrono::steady_clock\` together with the drain after it; a batch is
${m.lifecyclesPerBatch} peers on a fresh \`Client\` (set up and warmed up untimed); the three drain
modes are interleaved batch by batch; the figure is the **median over
${m.batches} batches** of each batch's mean. A clock reading pair costs
${f(native.clockOverheadNs, 0)} ns natively and ${f(wasm.clockOverheadNs, 0)} ns in WASM (a call out to \`performance.now()\`),
included once in every sample.

µs per signaling message (the ${lifecycleMsgs} \`socket_message\` inputs of a peer, each with its drain):

${modeHeader}
${headline.join('\n')}

µs per peer, all ${lifecycleInputs} inputs of its join, negotiation, connection and leave:

${modeHeader}
${perPeer.join('\n')}

Per input kind, µs (median of the batch means; WASM -O3):

| input + drain | native \`drain()\` | WASM \`drain()\` | WASM/native | native \`drain_json()\` | WASM \`drain_json()\` | WASM/native |
|---|---|---|---|---|---|---|
${kindRows.join('\n')}

Not included: the Embind boundary (copying the strings into and out of the
WASM heap), the shim's \`JSON.parse\` of the drained outputs, and the browser's
own WebRTC work.

**8 peers joining at the same instant.** The simulation of the core's doctest
suite (\`tests/unit/core/sim\`: model signaling server, fake peer connections,
virtual clock; default participant options, so the debug log is on) with
${native.sim.peers} real cores joining at virtual time 0: both ends of every pair make their
connection at once, and only the impolite end offers, so no offers cross
(the scenario asserts no glare and one connection per peer). *Virtual time*:
the first millisecond at which the suite's mesh check (\`World::mesh_problems\`)
passes (every pair connected through one pair of connections, data
channels open, codes matching, rosters exact, only steady-state timers);
the doctest scenario asserts it stays under 1.5 s. *Wall time*: \`steady_clock\`
around the whole run replayed to that instant (world, ${native.sim.peers} clients, joins,
event loop; the checks excluded), median of ${native.sim.repeatsPerSeed} replays per seed. It includes
the fake server and fake peer connections, not only the cores.

${simHeader}
| virtual time to converge, median of ${native.sim.runs.length} seeds | ${simCells('medianVirtualMs', 0, ' ms', false)} |
| wall time of the run, median of ${native.sim.runs.length} seeds | ${simCells('medianWallMs', 2, ' ms', true)} |
${sameTiming ? `\nEvery seed converged at the same virtual millisecond after the same number of events (${native.sim.runs[0].events}).\n` : ''}
| seed | virtual ms | wall ms, native | wall ms, WASM${small ? ' -O3' : ''} | events | texts sent |
|---|---|---|---|---|---|
${seedRows.join('\n')}

Reproduce: \`tools/core-bench/bench.sh\` builds \`meshmeet-core-bench\` natively
(\`build-bench/\`) and under emcmake (\`build-bench-wasm/\`, and \`build-bench-wasm-minsize/\`
unless \`--no-minsize\`), runs each once, one after the other, and
rewrites this section (\`--no-doc\` prints the results only; options after
\`--\` go to both runs). By hand: \`build-bench/bin/meshmeet-core-bench\` or
\`node build-bench-wasm/bin/meshmeet-core-bench.cjs\`, with \`--batches N
--lifecycles N --seeds N --repeats N\`; each prints one \`CORE_BENCH {json}\`
line. ctest runs it as \`core-bench-smoke\` (\`--smoke\`: a few iterations, checks
the core behaved as the bench expects, asserts no timing).
${END}`;

process.stdout.write(`${section}\n`);
if (!flags['no-doc']) {
  const file = flags.doc;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) {
    text = text.slice(0, a) + section + text.slice(b + END.length);
  } else {
    // First run: at the end of the "Client core" section (before the next
    // top-level heading), or at the end of the file.
    const heading = text.search(/^## Client core/m);
    const next = heading >= 0 ? text.slice(heading + 1).search(/^## /m) : -1;
    if (next >= 0) {
      const at = heading + 1 + next;
      text = `${text.slice(0, at).replace(/\s*$/, '')}\n\n${section}\n\n${text.slice(at)}`;
    } else {
      text = `${text.replace(/\s*$/, '')}\n\n${section}\n`;
    }
  }
  writeFileSync(file, text);
  process.stderr.write(`wrote ${file}\n`);
}
