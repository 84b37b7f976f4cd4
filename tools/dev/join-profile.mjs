// Dev tool: where the main thread of a joining page goes. Two Chromium pages
// open one meeting (the app, or tools/baseline when the server serves it);
// the first joins, then the second is profiled (V8 sampling profiler and
// Chromium's tracing over CDP) from its "Join" click to its first decoded
// remote frame. Prints the time, the main thread's busy time per event kind
// (JS handlers, WebRTC calls that block on Chromium's threads, style, layout,
// paint) and the JS functions by inclusive time; writes the raw profile and
// trace to /tmp/join-profile.<variant>.{cpuprofile,trace.json}. STEADY=1
// profiles 5 s of the settled two-page call instead. PAGES=N (default 2): the
// last of N pages is profiled joining the N-1 already there, until it decodes
// every one of them. ALL=1: the V8 profiler on every page, no tracing (the
// trace slows five or six pages past the wait), until every page shows
// everyone; prints the JS by self and inclusive time, for the pages already
// there summed and for the newcomer (wall time: a blocking call into
// Chromium's WebRTC threads counts as the API function's own). ALL=1 STEADY=1:
// the same over 10 s of the settled call, 15 s after everyone shows everyone.
// TOGETHER=1: every page clicks "Join" one right after the other, as
// tools/mesh-bench.mjs does, traced (no V8 profiler) from the first click
// until every page shows everyone; prints CPU time (the trace's thread time,
// not wall time: on a saturated machine wall time counts waiting for a core)
// of the main threads by the first traced event inside each task, and of all
// threads by name.
//   build/bin/meshmeet-server --port 8090 --static build/web &
//   node tools/dev/join-profile.mjs                       # the app
//   build/bin/meshmeet-server --port 8091 --static tools/baseline &
//   BASE=http://127.0.0.1:8091 VARIANT=baseline node tools/dev/join-profile.mjs
import { writeFileSync } from 'node:fs';
import { launchChromium } from '../../tests/browser/harness.mjs';

const base = process.env.BASE ?? 'http://127.0.0.1:8090';
const variant = process.env.VARIANT ?? 'app';
const PAGES = Number(process.env.PAGES ?? 2);
const STEADY = Boolean(process.env.STEADY);  // the settled call, not a join
const TOGETHER = Boolean(process.env.TOGETHER);  // every page joins at once, traced for CPU time
// As the bench launches it (the harness: the same flags, and without
// CAP_SYS_NICE, so that the pages' media threads cannot starve their main
// threads), with Chromium's own fake camera frame rate.
const browser = await launchChromium([], { fakeCameraFps: null });
try {
  const { url } = await (await fetch(base + '/api/meetings', { method: 'POST' })).json();
  const pages = [];
  for (let i = 0; i < PAGES; i++) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(base + url);
    await page.locator('#your-name, #name').first().fill('P' + i);
    await page.waitForFunction(() => document.querySelector('video')?.readyState >= 2);
    pages.push(page);
  }
  if (TOGETHER) {
    await traceTogether(browser, pages);
    await browser.close();
    process.exit(0);
  }
  for (const settled of pages.slice(0, -1)) {
    await settled.getByRole('button', { name: 'Join' }).click();
    await settled.waitForTimeout(1500);  // settled: their joins are not in the profile
  }

  if (process.env.ALL) {
    await profileAllPages(pages);
    await browser.close();
    process.exit(0);
  }
  const page = pages.at(-1);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const firstFrame = () => page.waitForFunction((others) => {
    const tiles = [...document.querySelectorAll('video[data-peer]')];
    return tiles.length >= others && tiles.every((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0);
  }, PAGES - 1, { polling: 20, timeout: 60000 });
  if (STEADY) {
    await page.getByRole('button', { name: 'Join' }).click();
    await firstFrame();
    await page.waitForTimeout(15000);  // the views, budgets and CPU steps have settled
  }
  const tracing = await browser.newBrowserCDPSession();
  const events = [];
  tracing.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const traced = new Promise((resolve) => tracing.on('Tracing.tracingComplete', resolve));
  await tracing.send('Tracing.start', {
    traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'webrtc', 'toplevel', 'v8'] },
    transferMode: 'ReportEvents',
  });
  await cdp.send('Profiler.start');
  const clicked = Date.now();
  if (STEADY) await page.waitForTimeout(5000);
  else {
    await page.getByRole('button', { name: 'Join' }).click();
    await firstFrame();
  }
  const took = Date.now() - clicked;
  const { profile } = await cdp.send('Profiler.stop');
  await tracing.send('Tracing.end');
  await traced;
  writeFileSync(`/tmp/join-profile.${variant}.cpuprofile`, JSON.stringify(profile));
  writeFileSync(`/tmp/join-profile.${variant}.trace.json`, JSON.stringify(events));

  console.log(STEADY ? `${variant}: ${took} ms of the settled call` : `${variant}: "Join" to video from all ${PAGES - 1} others ${took} ms`);
  console.log('\nmain threads of all pages, busy ms by event (count):');
  for (const [name, [ms, n]] of mainThreadEvents(events).slice(0, 30)) console.log(ms.toFixed(1).padStart(8), String(n).padStart(5), name);
  console.log('\nthe joining page\'s JS, inclusive ms:');
  for (const [name, ms] of inclusiveTimes(profile).slice(0, 25)) console.log(ms.toFixed(1).padStart(8), name);
} finally {
  await browser.close();
}

// Until page `p` decodes video from `others` peers.
function shows(p, others) {
  return p.waitForFunction((n) => [...document.querySelectorAll('video[data-peer]')]
    .filter((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0).length >= n, others, { polling: 100, timeout: 90000 });
}

async function profileAllPages(pages) {
  await Promise.all(pages.slice(0, -1).map((p) => shows(p, pages.length - 2)));
  await pages[0].waitForTimeout(3000);  // the settled call's own changes are over
  const sessions = [];
  for (const p of pages) {
    const cdp = await p.context().newCDPSession(p);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
    sessions.push(cdp);
  }
  if (STEADY) {
    await pages.at(-1).getByRole('button', { name: 'Join' }).click();
    await Promise.all(pages.map((p) => shows(p, pages.length - 1)));
    await pages[0].waitForTimeout(15000);  // the CPU step and the views have settled
  }
  for (const cdp of sessions) await cdp.send('Profiler.start');
  const clicked = Date.now();
  if (STEADY) await pages[0].waitForTimeout(10000);
  else {
    await pages.at(-1).getByRole('button', { name: 'Join' }).click();
    await Promise.all(pages.map((p) => shows(p, pages.length - 1)));
  }
  const took = Date.now() - clicked;
  const profiles = [];
  for (const cdp of sessions) profiles.push((await cdp.send('Profiler.stop')).profile);
  console.log(STEADY ? `${variant}: ${took} ms of the settled ${pages.length}-page call` : `${variant}: "Join" to every page showing everyone, ${took} ms`);
  for (const [who, group] of [[`the ${pages.length - 1} pages already there`, profiles.slice(0, -1)], ['the newcomer', profiles.slice(-1)]]) {
    const self = new Map();
    const inclusive = new Map();
    for (const profile of group) {
      for (const [name, ms] of selfTimes(profile)) self.set(name, (self.get(name) ?? 0) + ms);
      for (const [name, ms] of inclusiveTimes(profile)) inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
    console.log(`\n${who}, self ms:`);
    for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(ms.toFixed(0).padStart(8), name);
    console.log(`${who}, inclusive ms:`);
    for (const [name, ms] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(ms.toFixed(0).padStart(8), name);
  }
}

async function traceTogether(browser, pages) {
  const tracing = await browser.newBrowserCDPSession();
  const events = [];
  tracing.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const traced = new Promise((resolve) => tracing.on('Tracing.tracingComplete', resolve));
  await tracing.send('Tracing.start', {
    traceConfig: { includedCategories: ['devtools.timeline', 'toplevel', 'webrtc', 'v8'], enableThreadTimeSampling: true },
    transferMode: 'ReportEvents',
  });
  const clicked = Date.now();
  for (const p of pages) await p.getByRole('button', { name: 'Join' }).click();
  await Promise.all(pages.map((p) => shows(p, pages.length - 1)));
  const took = Date.now() - clicked;
  await tracing.send('Tracing.end');
  await traced;
  writeFileSync(`/tmp/join-profile.${variant}.trace.json`, JSON.stringify(events));
  console.log(`${variant}: ${pages.length} pages, first "Join" to every page showing everyone ${took} ms`);
  const { main, threads } = cpuByEvent(events);
  console.log('\nmain threads of all pages, CPU ms by the first traced event inside each task:');
  for (const [name, ms] of [...main].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(ms.toFixed(0).padStart(8), name);
  console.log('\nall threads, CPU ms of their top-level trace events, by thread name:');
  for (const [name, ms] of [...threads].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(ms.toFixed(0).padStart(8), name);
}

// CPU time (the events' thread time) from a trace: `threads`, each thread
// name's top-level events; `main`, the renderers' main threads by the first
// event inside each task (the task itself is only "RunTask"), and what a
// task did outside any traced event as "(in the task, untraced)": there the
// shim's handlers for the browser's WebRTC events run.
function cpuByEvent(events) {
  const names = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, e.args.name]));
  const main = new Map();
  const threads = new Map();
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  const label = (e) => {
    const d = e.args?.data ?? {};
    return [e.name, d.functionName, d.url && String(d.url).split('/').pop().replace(/\.[0-9a-f]{10}\./, '.'), d.type].filter(Boolean).join(' ');
  };
  const byThread = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || e.tdur == null) continue;
    const key = `${e.pid}/${e.tid}`;
    if (!byThread.has(key)) byThread.set(key, []);
    byThread.get(key).push(e);
  }
  for (const [key, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const name = (names.get(key) ?? '?').replace(/\d+$/, '');
    const isMain = name === 'CrRendererMain';
    let task = null;      // the top-level event open now
    let inside = 0;       // thread time of the events directly inside it
    let childEnd = -1;
    const close = () => {
      if (task && isMain && task.name === 'ThreadControllerImpl::RunTask') add(main, '(in the task, untraced)', Math.max(0, task.tdur - inside) / 1000);
    };
    for (const e of list) {
      if (!task || e.ts >= task.ts + task.dur) {
        close();
        task = e;
        inside = 0;
        childEnd = -1;
        add(threads, name, e.tdur / 1000);
        if (isMain && e.name !== 'ThreadControllerImpl::RunTask') add(main, label(e), e.tdur / 1000);
        continue;
      }
      if (!isMain || task.name !== 'ThreadControllerImpl::RunTask' || e.ts < childEnd) continue;  // deeper: counted in its parent
      childEnd = e.ts + e.dur;
      inside += e.tdur;
      add(main, label(e), e.tdur / 1000);
    }
    close();
  }
  return { main, threads };
}

function frameName(f) {
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').pop().replace(/\.[0-9a-f]{10}\./, '.')}:${f.lineNumber + 1}`;
}

// Each function's own samples (idle and "(program)", Chromium's own work, included).
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const name = frameName(byId.get(id).callFrame);
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return self;
}

// Busy time of the renderers' main threads per kind of trace event.
function mainThreadEvents(events) {
  const threads = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, e.args.name);
  const kinds = /^(FunctionCall|TimerFire|EventDispatch|UpdateLayoutTree|Layout|Paint|PrePaint|Layerize|Commit|RTCPeerConnectionHandler::\w+|RtpSenderProxy::\w+|DataChannelProxy::\w+|IntersectionObserverController::computeIntersections|MinorGC|MajorGC|SVGImage::DataChanged|BlinkScheduler_PerformMicrotaskCheckpoint)$/;
  const total = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur || threads.get(`${e.pid}/${e.tid}`) !== 'CrRendererMain' || !kinds.test(e.name)) continue;
    const d = e.args?.data ?? {};
    const name = [e.name, d.functionName, d.url && String(d.url).split('/').pop().replace(/\.[0-9a-f]{10}\./, '.'), d.type].filter(Boolean).join(' ');
    const [ms, n] = total.get(name) ?? [0, 0];
    total.set(name, [ms + e.dur / 1000, n + 1]);
  }
  return [...total].sort((a, b) => b[1][0] - a[1][0]);
}

// Each JS function's samples, its callees' included (wasm and idle left out).
function inclusiveTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const total = new Map();
  for (const [id, ms] of self) {
    const counted = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      const name = frameName(f);
      if (counted.has(name) || /^\((root|program|idle|garbage collector)\)/.test(name) || f.url.includes('.wasm')) continue;
      counted.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  }
  return [...total].sort((a, b) => b[1] - a[1]);
}
