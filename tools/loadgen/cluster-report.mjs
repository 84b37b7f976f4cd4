// Writes the "Several processes on one Redis" subsection of docs/benchmarks.md
// from one tools/loadgen/cluster-bench.sh run.
// Usage: node cluster-report.mjs TMPDIR DOC RUN...   (runs: A1 A2.1 [A2.2 …] B C1 C2 C3)
//
// The subsection sits between marker comments inside "## Signaling server",
// after its "### Notes"; bench-report.mjs ends that section at the first
// marker comment, so either tool can be run again without losing the other's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const BEGIN = '<!-- signaling-cluster:begin (tools/loadgen/cluster-bench.sh writes this subsection) -->';
const END = '<!-- signaling-cluster:end -->';

const [tmp, doc, ...names] = process.argv.slice(2);
if (!tmp || !doc || names.length === 0) {
  console.error('usage: node cluster-report.mjs TMPDIR DOC RUN...');
  process.exit(2);
}

const read = (f, d = '') => {
  try { return fs.readFileSync(path.join(tmp, f), 'utf8').trim(); } catch { return d; }
};

function parseMetrics(text) {
  const m = { errors: {}, disconnects: {}, joins: null };
  for (const line of text.split('\n')) {
    let r;
    if ((r = line.match(/^meshmeet_errors_total\{code="([^"]+)"\}\s+([0-9.eE+]+)/))) m.errors[r[1]] = Number(r[2]);
    else if ((r = line.match(/^meshmeet_disconnects_total\{reason="([^"]+)"\}\s+([0-9.eE+]+)/))) m.disconnects[r[1]] = Number(r[2]);
    else if ((r = line.match(/^meshmeet_join_latency_seconds_count\s+([0-9.eE+]+)/))) m.joins = Number(r[1]);
  }
  return m;
}

function loadRun(name) {
  let s = null;
  try { s = JSON.parse(read(`${name}.json`)); } catch { /* the load generator printed no summary */ }
  const nodes = read(`${name}.nodes`).split('\n').filter(Boolean).map((l) => {
    const [node, pid, port] = l.split(/\s+/);
    const metrics = read(`${name}.${node}.metrics`);
    return { node, pid: Number(pid), port: Number(port), alive: read(`${name}.${node}.alive`, '?'),
      rc: read(`${name}.${node}.rc`, '?'), metrics: metrics ? parseMetrics(metrics) : null };
  });
  // --server-pid order in cluster-bench.sh: the nodes as started, then Redis.
  const servers = s?.servers || [];
  for (const n of nodes) n.sv = servers.find((x) => x && x.pid === n.pid) || null;
  const redis = servers.find((x) => x && !nodes.some((n) => n.pid === x.pid)) || null;
  const info = read(`${name}.redis.info`);
  const redisUsed = (info.match(/^used_memory:(\d+)/m) || [])[1];
  return { name, s, nodes, redis, redisUsedKb: redisUsed ? Number(redisUsed) / 1024 : null,
    title: read(`${name}.title`, name), args: read(`${name}.args`), rc: Number(read(`${name}.rc`, '-1')),
    loadavg: read(`${name}.loadavg`).split(' ').slice(0, 3).join(' ') };
}
const runs = names.map(loadRun);
const by = Object.fromEntries(runs.map((r) => [r.name, r]));

// ---------- formatting ----------
const n0 = (v) => (v == null || Number.isNaN(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const ms = (v) => {
  if (v == null || Number.isNaN(v)) return '–';
  if (v < 10) return `${v.toFixed(2)} ms`;
  if (v < 1000) return `${v.toFixed(1)} ms`;
  return `${(v / 1000).toFixed(2)} s`;
};
const mb = (kb) => (kb == null ? '–' : `${(kb / 1024).toFixed(1)} MB`);
const f = (v, d, unit = '') => (v == null || Number.isNaN(v) ? '–' : `${v.toFixed(d)}${unit}`);
const lat = (h, max = false) => (!h || !h.n ? '–' : `${ms(h.p50)} / ${ms(h.p99)}${max ? ` / ${ms(h.max)}` : ''}`);
const errs = (s) => {
  if (!s) return '–';
  if (!s.errors) return '0';
  return `**${n0(s.errors)}**: ${Object.entries(s.errors_detail || {}).map(([k, v]) => `${k} ${n0(v)}`).join(', ')}`;
};
const kv = (o) => Object.entries(o || {}).filter(([, v]) => v).map(([k, v]) => `${k} ${n0(v)}`).join(', ') || 'none';
const sum = (xs) => (xs.some((x) => x == null) ? null : xs.reduce((a, b) => a + b, 0));
const nodeLabel = (n) => `\`${typeof n === 'string' ? n : n.node}\``;

// Joins each node took: its share of the URLs, or (several nodes behind one
// URL) its own /metrics join count.
function nodeJoins(r) {
  const s = r.s;
  if (!s) return r.nodes.map(() => null);
  const byPort = {};
  (s.urls || []).forEach((u, i) => {
    const port = Number((u.match(/:(\d+)/) || [])[1]);
    byPort[port] = (byPort[port] || 0) + (s.joined_by_url?.[i] ?? 0);
  });
  const shared = r.nodes.filter((n, _, a) => a.filter((m) => m.port === n.port).length > 1).length > 0;
  return r.nodes.map((n) => (shared ? n.metrics?.joins ?? null : byPort[n.port] ?? null));
}

// CPU and memory figures of one run, nodes summed and with Redis.
function costs(r) {
  const joins = nodeJoins(r);
  const nodes = r.nodes.map((n, i) => {
    const v = n.sv || {};
    const j = joins[i];
    return { n, joins: j, idle: v.rss_idle_kb, peak: v.rss_peak_kb, cpu: v.cpu_ramp_s,
      kbPer: j && v.rss_peak_kb != null ? (v.rss_peak_kb - v.rss_idle_kb) / j : null,
      msPerJoin: j && v.cpu_ramp_s != null ? (v.cpu_ramp_s * 1000) / j : null,
      busy: v.cpu_ramp_s != null && v.ramp_wall_s > 0 ? (100 * v.cpu_ramp_s) / v.ramp_wall_s : null };
  });
  const joined = r.s?.joined || 0;
  const nodeCpu = sum(nodes.map((x) => x.cpu));
  const nodePeak = sum(nodes.map((x) => x.peak));
  const nodeIdle = sum(nodes.map((x) => x.idle));
  const rd = r.redis;
  const allCpu = rd ? (nodeCpu == null || rd.cpu_ramp_s == null ? null : nodeCpu + rd.cpu_ramp_s) : nodeCpu;
  const allGrowth = nodePeak == null ? null : nodePeak - nodeIdle + (rd ? rd.rss_peak_kb - rd.rss_idle_kb : 0);
  return { nodes, joined, nodeCpu, nodePeak, nodeIdle, redis: rd,
    nodeKbPer: joined && nodePeak != null ? (nodePeak - nodeIdle) / joined : null,
    allKbPer: joined && allGrowth != null ? allGrowth / joined : null,
    redisKbPer: joined && rd ? (rd.rss_peak_kb - rd.rss_idle_kb) / joined : null,
    nodeMsPerJoin: joined && nodeCpu != null ? (nodeCpu * 1000) / joined : null,
    allMsPerJoin: joined && allCpu != null ? (allCpu * 1000) / joined : null,
    redisMsPerJoin: joined && rd?.cpu_ramp_s != null ? (rd.cpu_ramp_s * 1000) / joined : null,
    allBusy: allCpu != null && r.s?.server?.ramp_wall_s > 0 ? (100 * allCpu) / r.s.server.ramp_wall_s : null };
}

// ---------- machine and run ----------
const sh = (cmd, args) => {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
};
const cpuModel = (os.cpus()[0] || {}).model || 'unknown CPU';
const osName = sh('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']) || os.type();
const rev = sh('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']);
const dirty = sh('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'server', 'tools/loadgen']) !== '';
const revText = rev ? `commit ${rev}${dirty ? ' plus uncommitted changes under server/ or tools/loadgen/' : ''}` : 'no commit';
const started = read('started', new Date().toISOString());
const redisVersion = sh('redis-server', ['--version']).match(/v=(\S+)/)?.[1] || '?';
const loadStart = read('loadavg.start').split(' ').slice(0, 3).join(' ');

const md = [];
md.push(BEGIN);
md.push('### Several processes on one Redis');
md.push('');
md.push(`Measured by \`tools/loadgen/cluster-bench.sh\` on ${started} (${revText}). **One run**: every number below comes from that run, read from the load generator's JSON, the nodes' \`/metrics\` and \`/proc\`; nothing is averaged or typed by hand.`);
md.push('');
md.push(`Machine: ${cpuModel}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${osName}, Linux ${os.release()}, redis-server ${redisVersion} (no persistence: \`--save '' --appendonly no\`). **Every server process, Redis and the load generator's workers share those 2 cores**, so a cluster here has less CPU than a single process had, not more: read CPU per join and memory per participant, not the latencies, as what the design costs. Load average when the run began: ${loadStart || '–'} (1, 5, 15 min); before each scenario it is in its row "load average before".`);
md.push('');
md.push('Each node is `meshmeet-server --redis redis://127.0.0.1:P --node-id NAME --create-rate 0 --per-ip 100000 --per-ip-sockets 100000 --host 127.0.0.1 --port 0` with its own temp database; the single process is the same without `--redis`. Each scenario gets a fresh Redis and fresh servers. The load generator\'s participant *p* connects to `--url` number *p* mod *n*, so with three nodes and meetings of 4 every meeting spans all three; everything else is as in the scenarios above (one ~3 KB SDP and 4 candidates to every peer, hold, half leave). "CPU per join" is the CPU used from the first scheduled join until the last signal of the ramp arrived, divided by the joins; for a node, by the joins it took.');
md.push('');

const notes = [];

// ---------- A ----------
const a1 = by.A1;
const a2s = runs.filter((r) => r.name.startsWith('A2.'));
const a2 = a2s.find((r) => r.s?.ok) || a2s[a2s.length - 1];
if (a1 || a2) {
  const cols = [a1, a2].filter(Boolean);
  const c = Object.fromEntries(cols.map((r) => [r.name, costs(r)]));
  const head = (r) => (r === a1 ? `one process, no Redis: ${n0(r.s?.participants)}` : `three nodes on one Redis: ${n0(r.s?.participants)}`);
  const row = (label, fn) => `| ${label} | ${cols.map((r) => (r.s ? fn(r.s, r, c[r.name]) : '–')).join(' | ')} |`;
  md.push('#### A. One process against three nodes, side by side');
  md.push('');
  md.push(`Participants at 1,000 joins/s in meetings of 4, hold 10 s. The single process is limited to just under 20,000 sockets by its open-file limit; the cluster target was 50,000 (each node < 20,000).${a2s.length > 1 ? ` Cluster sizes tried in this run, largest first, until one ran without an error: ${a2s.map((r) => `${n0(r.s?.participants)} (${r.s ? (r.s.ok ? 'no error' : `${n0(r.s.errors)} errors, ${n0(r.s.signals.missing)} signals missing`) : `no summary, exit ${r.rc}`})`).join(', ')}.` : ''}`);
  md.push('');
  md.push(`| | ${cols.map(head).join(' | ')} |`);
  md.push(`|---|${cols.map(() => '---').join('|')}|`);
  md.push(row('`meshmeet-loadgen` flags (besides `--url`, `--server-pid`)', (s, r) => `\`${r.args.replace(/--(url|server-pid) \S+ ?/g, '').trim()}\``));
  md.push(row('load average before (1, 5, 15 min)', (s, r) => r.loadavg || '–'));
  md.push(row('joined / requested (per node)', (s, r) => `${n0(s.joined)} / ${n0(s.participants)}${r.nodes.length > 1 ? ` (${nodeJoins(r).map(n0).join(' + ')})` : ''}`));
  md.push(row('ramp: requested → achieved joins/s', (s) => `${n0(s.rate)} → ${n0(s.achieved_rate)} (${f(s.ramp_s, 2, ' s')})`));
  md.push(row('errors', (s) => errs(s)));
  md.push(row('signals received / expected: missing, out of order, before peer-joined', (s) =>
    `${n0(s.signals.received)} / ${n0(s.signals.expected)}: **${n0(s.signals.missing)}** missing, ${n0(s.signals.out_of_order)}, ${n0(s.signals.before_peer_joined)}`));
  md.push(row('peer-left delivered / expected, missing', (s) => `${n0(s.peer_left.delivered)} / ${n0(s.peer_left.expected)}, **${n0(s.peer_left.missing)}** missing`));
  md.push(row('join latency p50 / p99 / max (join sent → welcome)', (s) => lat(s.join_ms, true)));
  md.push(row('WebSocket upgrade p50 / p99', (s) => lat(s.upgrade_ms)));
  md.push(row('scheduled start → welcome p50 / p99', (s) => lat(s.start_to_welcome_ms)));
  md.push(row('relay latency p50 / p99, all `signal`s', (s) => lat(s.relay_ms)));
  md.push(row('relay latency p50 / p99, sender and receiver on the same node', (s, r) => (r.nodes.length > 1 ? lat(s.relay_same_url_ms) : lat(s.relay_ms))));
  md.push(row('relay latency p50 / p99, on different nodes (through Redis)', (s, r) => (r.nodes.length > 1 ? lat(s.relay_cross_url_ms) : 'n/a')));
  md.push(row('peer-left latency p50 / p99', (s) => lat(s.peer_left.latency_ms)));
  md.push(row('server RSS idle → peak, nodes summed', (s, r, k) => `${mb(k.nodeIdle)} → ${mb(k.nodePeak)}`));
  md.push(row('server RSS per participant beyond idle, nodes summed ÷ all joined', (s, r, k) => f(k.nodeKbPer, 2, ' KB')));
  md.push(row('per node: RSS beyond idle ÷ its own joins', (s, r, k) => k.nodes.map((x) => `${r.nodes.length > 1 ? `${nodeLabel(x.n)} ` : ''}${f(x.kbPer, 2, ' KB')}`).join(', ')));
  md.push(row('Redis RSS idle → peak (per participant)', (s, r, k) => (k.redis ? `${mb(k.redis.rss_idle_kb)} → ${mb(k.redis.rss_peak_kb)} (${f(k.redisKbPer, 2, ' KB')})` : 'n/a')));
  md.push(row('Redis `used_memory` after the run', (s, r) => (r.redisUsedKb != null ? mb(r.redisUsedKb) : 'n/a')));
  md.push(row('RSS per participant, nodes + Redis', (s, r, k) => f(k.allKbPer, 2, ' KB')));
  md.push(row('CPU per join, nodes + Redis', (s, r, k) => f(k.allMsPerJoin, 3, ' ms')));
  md.push(row('CPU per join: nodes summed / Redis', (s, r, k) => `${f(k.nodeMsPerJoin, 3, ' ms')} / ${k.redis ? f(k.redisMsPerJoin, 3, ' ms') : 'n/a'}`));
  md.push(row('per node: CPU during ramp ÷ its own joins', (s, r, k) => k.nodes.map((x) => `${r.nodes.length > 1 ? `${nodeLabel(x.n)} ` : ''}${f(x.msPerJoin, 3, ' ms')}`).join(', ')));
  md.push(row('CPU busy during ramp: each node / all servers + Redis (of one core)', (s, r, k) =>
    `${k.nodes.map((x) => f(x.busy, 0, ' %')).join(', ')} / ${f(k.allBusy, 0, ' %')}`));
  md.push(row('each node runnable but waiting for a CPU, share of the ramp', (s, r) => r.nodes.map((n) => f(n.sv?.run_wait_ramp_pct, 0, ' %')).join(', ')));
  md.push(row('PSI: some task waited for a CPU during the ramp', (s) => f(s.server?.psi_cpu_some_ramp_pct, 0, ' %')));
  md.push(row('load generator CPU during ramp / all (workers)', (s) => `${f(s.server?.loadgen_cpu_ramp_s, 2, ' s')} / ${f(s.loadgen_cpu_s, 2, ' s')} (${n0(s.workers)})`));
  md.push(row('server errors sent (/metrics, all nodes)', (s, r) => kv(Object.assign({}, ...r.nodes.map((n) => {
    const o = {}; for (const [k, v] of Object.entries(n.metrics?.errors || {})) o[k] = v; return o;
  }))) ));
  md.push(row('nodes after the run', (s, r) => r.nodes.map((n) => `${r.nodes.length > 1 ? `${nodeLabel(n.node)} ` : ''}${n.alive}, exit ${n.rc}`).join('; ')));
  md.push('');
  for (const r of cols) {
    const s = r.s, v = r.nodes[0]?.sv;
    const k = costs(r);
    if (s && v && (s.start_to_welcome_ms?.p99 > 1000 || s.achieved_rate < 0.97 * s.rate))
      notes.push(`**Scenario A, ${r.title}: the ramp fell behind** (achieved ${n0(s.achieved_rate)} of ${n0(s.rate)} joins/s; scheduled start → welcome p50 ${ms(s.start_to_welcome_ms.p50)}, p99 ${ms(s.start_to_welcome_ms.p99)}, ${s.upgrade_ms.p99 > 0.5 * s.start_to_welcome_ms.p99 ? 'mostly queued before the WebSocket upgrade: ' : ''}upgrade p99 ${ms(s.upgrade_ms.p99)}, join p99 ${ms(s.join_ms.p99)}), with ${n0(s.signals.missing)} signals and ${n0(s.peer_left.missing)} peer-left missing: the servers${k.redis ? ' and Redis' : ''} used ${f(k.allBusy, 0, ' %')} of one core during the ramp, the load generator ${f(v.loadgen_cpu_ramp_s, 1, ' CPU s')} in the ${f(v.ramp_wall_s, 1, ' s')} ramp, on 2 cores; ${r.nodes.length > 1 ? 'each node' : 'the server'} was runnable but waiting for a CPU ${r.nodes.map((n) => f(n.sv?.run_wait_ramp_pct, 0, ' %')).join(', ')} of the ramp. So this size is what the machine held${s.errors ? '' : ' with zero errors'}, not a rate it sustained; its latencies measure the queue for the CPU.`);
  }
  for (const r of [a1, ...a2s]) if (r && !r.s) notes.push(`Scenario A (${r.title}): the load generator printed no summary (exit ${r.rc}).`);
  if (a2?.s && a2.s.participants < 50000)
    notes.push(`**The cluster was measured with ${n0(a2.s.participants)} participants, not the 50,000 target**${a2s.length > 1 ? ' (larger sizes had errors in this run, listed above)' : ' (CLUSTER_N for this run)'}.`);
  if (a2?.s && !a2.s.ok) notes.push(`**Scenario A's cluster run did not pass**: ${errs(a2.s)}, signals missing ${n0(a2.s.signals.missing)}, peer-left missing ${n0(a2.s.peer_left.missing)}.`);
}

// ---------- B ----------
const b = by.B;
if (b) {
  md.push('#### B. Reconnect storm: one of three nodes killed');
  md.push('');
  if (!b.s) {
    md.push(`The load generator printed no summary (exit ${b.rc}).`);
  } else {
    const s = b.s, rs = s.resume || {};
    const joins = nodeJoins(b);
    const K = b.nodes.find((n) => n.node === 'K');
    const surv = b.nodes.filter((n) => n.node !== 'K');
    const kJoins = joins[b.nodes.indexOf(K)];
    const upl = s.errors_detail ? Object.entries(s.errors_detail).filter(([k]) => k.startsWith('unexpected-peer-left')).reduce((a, [, v]) => a + v, 0) : 0;
    md.push(`${n0(s.participants)} participants at 1,000 joins/s over the URLs K, K, S1, S2 (node K holds half: ${n0(kJoins)}; S1 ${n0(joins[b.nodes.findIndex((n) => n.node === 'S1')])}, S2 ${n0(joins[b.nodes.findIndex((n) => n.node === 'S2')])}), \`--resume-on-close\`. A few seconds into the ${f(s.hold_s, 0, ' s')} hold the script writes \`CLOCK_MONOTONIC\` to the kill time file and sends K \`SIGKILL\` (K: ${K?.alive ?? '?'}). Every participant whose socket closed reconnects at once to S1 or S2 (spread by participant) and sends \`join\` with its last resume token; the welcome must carry the same \`self\` and the roster it had. Flags: \`${b.args.replace(/--(url|server-pid|kill-time-file) \S+ ?/g, '').trim()}\`. Load average before: ${b.loadavg || '–'}.`);
    md.push('');
    md.push('| measure | value |');
    md.push('|---|---|');
    md.push(`| sockets closed by the kill | ${n0(rs.closes)} (of ${n0(kJoins)} on K) |`);
    md.push(`| resumed with the same id / different id / refused / failed | **${n0(rs.same_id)}** / ${n0(rs.different_id)} / ${n0(rs.refused)} / ${n0(rs.failed)} (${n0(rs.attempts)} connection attempts) |`);
    md.push(`| roster after resume: peers new / missing | ${n0(rs.roster_new)} / ${n0(rs.roster_missing)} |`);
    md.push(`| closes seen, first → last (after the kill) | ${ms(rs.first_close_ms)} → ${ms(rs.last_close_ms)} |`);
    md.push(`| resumed welcomes, first → last (after the kill) | ${ms(rs.first_welcome_ms)} → **${ms(rs.last_welcome_ms)}** |`);
    md.push(`| kill → welcome per participant p50 / p99 / max | ${lat(rs.kill_to_welcome_ms, true)} |`);
    md.push(`| close → welcome per participant p50 / p99 / max | ${lat(rs.close_to_welcome_ms, true)} |`);
    md.push(`| \`peer-left\` about a resumed participant (must be 0) | **${n0(upl)}** |`);
    md.push(`| errors (all kinds) | ${errs(s)} |`);
    md.push(`| signals received / expected, missing (ramp, before the kill) | ${n0(s.signals.received)} / ${n0(s.signals.expected)}, ${n0(s.signals.missing)} |`);
    md.push(`| peer-left at the end: delivered / expected, missing | ${n0(s.peer_left.delivered)} / ${n0(s.peer_left.expected)}, **${n0(s.peer_left.missing)}** |`);
    md.push(`| survivors' RSS peak (after taking K's participants) | ${surv.map((n) => `${nodeLabel(n.node)} ${mb(n.sv?.rss_peak_kb)}`).join(', ')} |`);
    md.push(`| survivors' CPU during the hold (the storm is in it) | ${surv.map((n) => `${nodeLabel(n.node)} ${f(n.sv?.cpu_hold_s, 2, ' s')}`).join(', ')}; Redis ${f(b.redis?.cpu_hold_s, 2, ' s')}; in ${f(s.server?.hold_wall_s, 1, ' s')} |`);
    md.push(`| server disconnects (/metrics, survivors) | ${surv.map((n) => `${nodeLabel(n.node)}: ${n.metrics ? kv(n.metrics.disconnects) : '–'}`).join('; ')} |`);
    md.push(`| nodes after the run | ${b.nodes.map((n) => `${nodeLabel(n.node)} ${n.alive}, exit ${n.rc}`).join('; ')} |`);
    md.push('');
    if (!s.ok) notes.push(`**Scenario B did not pass**: ${errs(s)}, peer-left missing ${n0(s.peer_left.missing)}.`);
  }
}

// ---------- C ----------
const cr = ['C1', 'C2', 'C3'].map((n) => by[n]).filter(Boolean);
if (cr.length) {
  const c = Object.fromEntries(cr.map((r) => [r.name, costs(r)]));
  const row = (label, fn) => `| ${label} | ${cr.map((r) => (r.s ? fn(r.s, r, c[r.name]) : '–')).join(' | ')} |`;
  md.push('#### C. Join rate: two processes sharing one port');
  md.push('');
  md.push(`${n0(cr[0].s?.participants)} participants requested at ${n0(cr[0].s?.rate)} joins/s, hold 2 s: one process without Redis, one node on Redis, and two nodes on Redis listening on the same port (the kernel spreads the connections; per-node joins from their \`/metrics\`).`);
  md.push('');
  md.push(`| | ${cr.map((r) => r.title).join(' | ')} |`);
  md.push(`|---|${cr.map(() => '---').join('|')}|`);
  md.push(row('load average before', (s, r) => r.loadavg || '–'));
  md.push(row('joined / requested (per node)', (s, r) => `${n0(s.joined)} / ${n0(s.participants)}${r.nodes.length > 1 ? ` (${nodeJoins(r).map(n0).join(' + ')})` : ''}`));
  md.push(row('**achieved joins/s** (requested)', (s) => `**${n0(s.achieved_rate)}** (${n0(s.rate)})`));
  md.push(row('join latency p50 / **p99** / max', (s) => lat(s.join_ms, true)));
  md.push(row('WebSocket upgrade p50 / p99', (s) => lat(s.upgrade_ms)));
  md.push(row('scheduled start → welcome p50 / p99', (s) => lat(s.start_to_welcome_ms)));
  md.push(row('relay latency p50 / p99', (s) => lat(s.relay_ms)));
  md.push(row('errors; signals missing; peer-left missing', (s) => `${errs(s)}; ${n0(s.signals.missing)}; ${n0(s.peer_left.missing)}`));
  md.push(row('CPU per join: nodes + Redis (nodes / Redis)', (s, r, k) => `${f(k.allMsPerJoin, 3, ' ms')} (${f(k.nodeMsPerJoin, 3, ' ms')} / ${k.redis ? f(k.redisMsPerJoin, 3, ' ms') : 'n/a'})`));
  md.push(row('CPU busy during ramp: each node / all (of one core)', (s, r, k) => `${k.nodes.map((x) => f(x.busy, 0, ' %')).join(', ')} / ${f(k.allBusy, 0, ' %')}`));
  md.push(row('PSI: some task waited for a CPU during the ramp', (s) => f(s.server?.psi_cpu_some_ramp_pct, 0, ' %')));
  md.push(row('load generator CPU during ramp', (s) => f(s.server?.loadgen_cpu_ramp_s, 2, ' s')));
  md.push(row('nodes after the run', (s, r) => r.nodes.map((n) => `${n.alive}, exit ${n.rc}`).join('; ')));
  md.push('');
  const one = by.C1?.s, two = by.C3?.s;
  if (one && two)
    md.push(`Two processes sharing the port reached ${n0(two.achieved_rate)} joins/s (join p99 ${ms(two.join_ms.p99)}) against ${n0(one.achieved_rate)} (p99 ${ms(one.join_ms.p99)}) for one process without Redis${by.C2?.s ? ` and ${n0(by.C2.s.achieved_rate)} (p99 ${ms(by.C2.s.join_ms.p99)}) for one node on Redis` : ''}; a join cost ${f(costs(by.C3).allMsPerJoin, 3, ' ms')} of CPU (nodes + Redis) with two nodes against ${f(costs(by.C1).allMsPerJoin, 3, ' ms')} for one process without Redis, and the servers${costs(by.C3).redis ? ' with Redis' : ''} were busy ${f(costs(by.C3).allBusy, 0, ' %')} against ${f(costs(by.C1).allBusy, 0, ' %')} of one core during the ramp, beside the load generator on the same 2 cores.`);
  md.push('');
  for (const r of cr) if (r.s && !r.s.ok) notes.push(`Scenario C (${r.title}) did not pass: ${errs(r.s)}.`);
}

const skipped = ['A', 'B', 'C'].filter((x) => !runs.some((r) => r.name.startsWith(x)));
if (skipped.length) notes.push(`Not run this time: scenario ${skipped.join(', ')}.`);
md.push('#### Notes on this run');
md.push('');
for (const n of notes) md.push(`- ${n}`);
md.push('- Two cores for everything: the nodes, Redis and the load generator compete for them, so the cluster\'s latencies (and scenario C\'s join rates) include waiting for a core (rows "PSI" and "CPU busy"); a second process cannot add CPU here. What carries over to a deployment with a core per process is CPU per join and RSS per participant (what Redis adds to each), and the counts: signals and peer-left missing, resumes with the same id.');
md.push('- Reproduce: build (`npm run build`), then `tools/loadgen/cluster-bench.sh` (A, B and C, about 5 minutes; `tools/loadgen/cluster-bench.sh B` for one scenario; `CLUSTER_N="50000 40000"` tries sizes in turn; `--no-docs` leaves this file alone).');
md.push(END);

const section = md.join('\n');
let text = fs.readFileSync(doc, 'utf8');
const b0 = text.indexOf(BEGIN), b1 = text.indexOf(END);
if (b0 >= 0 && b1 > b0) {
  text = text.slice(0, b0) + section + text.slice(b1 + END.length);
} else {
  // After the signaling section's "### Notes", before the next writer's marker or "## Web app".
  const sig = text.search(/^## Signaling server\s*$/m);
  if (sig < 0) { console.error(`cluster-report: no "## Signaling server" section in ${doc}`); process.exit(3); }
  const rest = text.slice(sig + 1);
  const next = rest.search(/^(## |<!-- )/m);
  const at = next >= 0 ? sig + 1 + next : text.length;
  text = `${text.slice(0, at).replace(/\n*$/, '\n\n')}${section}\n\n${text.slice(at)}`;
}
fs.writeFileSync(doc, text);
