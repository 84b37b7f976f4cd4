// The benches and report scripts in tools/ refuse words they do not know: a
// typo or `--help` prints the usage and exits 2 at once, instead of starting
// a run of many minutes with the defaults (and rewriting docs/benchmarks.md).

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './harness.mjs';

const run = (script, args) => new Promise((resolve) => {
  execFile(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, timeout: 30000 }, (error, stdout, stderr) => {
    resolve({ code: error ? error.code : 0, killed: !!error?.killed, stdout, stderr });
  });
});

const cases = [
  ['tools/mesh-bench.mjs', ['--help']],
  ['tools/mesh-bench.mjs', ['--pages', '2', '--run', '1']],  // a typo of --runs
  ['tools/mesh-bench.mjs', ['--pages', '9']],                  // more pages than it has names for
  ['tools/mesh-bench.mjs', ['--runs']],                        // a value flag without its value
  ['tools/mesh-bench.mjs', ['--camera-fps', 'fast']],          // a frame rate that is not a number
  ['tools/mesh-bench.mjs', ['--from', 'package.json']],        // a JSON file, not a bench result
  ['tools/mesh-bench.mjs', ['--app-static', 'docs']],          // a folder without an index.html
  ['tools/network-bench/bench.mjs', ['--only', 'everything']],
  ['tools/core-bench/report.mjs', ['--native', 'a.txt']],      // --wasm missing
  ['tools/package-size.mjs', ['--prnt']],
  ['tools/page-load.mjs', ['--help']],
];

for (const [script, args] of cases) {
  test(`${script} ${args.join(' ')}: usage, exit 2`, async () => {
    const r = await run(script, args);
    assert.equal(r.killed, false, 'it ran instead of refusing');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^usage: node tools\//m);
    assert.equal(r.stdout, '');
  });
}
