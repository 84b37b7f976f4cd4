// Where a Chromium's CPU goes, from /proc: its processes by type and its
// threads by name. Used by tools/mesh-bench.mjs and the dev tools
// that measure a call the same way; snapshots come from the harness's
// cpuSnapshot().
import { readFileSync, readdirSync } from 'node:fs';

const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

// CPU seconds of Chromium's processes by --type (renderer, gpu-process, utility; none: the browser process).
export function chromiumTypes(snapshot) {
  const out = new Map();
  for (const [pid] of snapshot) {
    let type = null;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/chrom/.test(cmd.split('\0')[0])) continue;
      type = /--type=([\w-]+)/.exec(cmd)?.[1] ?? 'browser';
    } catch {
      continue;
    }
    out.set(pid, type);
  }
  return out;
}
// CPU seconds of each thread of the processes of one type (/proc/PID/task),
// by thread name with its number taken off (8 "ThreadPoolForeg" threads are
// one line). `only` null: every Chromium process, each name after its type
// ("gpu-process:VizCompositorTh"); a main thread is named after the program.
export function chromiumThreads(types, only = 'renderer') {
  const out = new Map();
  for (const [pid, type] of types) {
    if (only !== null && type !== only) continue;
    let tids = [];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
        const thread = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')).replace(/[\d/]+$/, '');
        const name = only === null ? `${type}:${thread}` : thread;
        out.set(`${pid}/${tid}`, { name, cpu: (Number(rest[11]) + Number(rest[12])) / 100 });
      } catch {
        // the thread ended
      }
    }
  }
  return out;
}
export function threadCores(before, after, seconds) {
  const by = {};
  for (const [key, a] of after) by[a.name] = (by[a.name] ?? 0) + a.cpu - (before.get(key)?.cpu ?? 0);
  return Object.fromEntries(Object.entries(by).filter(([, v]) => v / seconds >= 0.01)
    .sort((x, y) => y[1] - x[1]).slice(0, 12).map(([k, v]) => [k, round(v / seconds)]));
}

export function cpuByType(before, after, types) {
  const by = {};
  for (const [pid, a] of after) {
    const type = types.get(pid);
    if (!type) continue;
    by[type] = (by[type] ?? 0) + a.cpu - (before.get(pid)?.cpu ?? 0);
  }
  return by;
}
