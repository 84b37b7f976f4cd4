// Dev tool: repeats the bench's join (tools/mesh-bench.mjs: N pages click
// "Join" one right after the other) until one join takes longer than SLOW ms
// to show everyone's video, then writes every page's core log (the app with
// `?debug`: every transition of every pair, with the wall-clock ms since the
// first click) to OUT/slow-join-<try>.log. For the rare slow join a bench run
// shows (one six-page run of five took 51.6 s on 2026-12-06, where the others
// took 4.9–7.3 s) and that a single timeline seldom catches.
//   PAGES=6 TRIES=20 SLOW=20000 OUT=/tmp node tools/dev/slow-join.mjs
// It starts its own server (build/bin, build/web) and Chromium as the bench
// does, and stops both at the end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cleanup, startServer, launchChromium, newChromiumParticipant, createMeetingApi, joinTogetherFromLobby, framesDecoded, sleep,
} from '../../tests/browser/harness.mjs';

const NAMES = ['Ada', 'Ben', 'Cai', 'Dee', 'Eli', 'Fay'];
const PAGES = Number(process.env.PAGES ?? 6);
const TRIES = Number(process.env.TRIES ?? 10);
const SLOW = Number(process.env.SLOW ?? 20000);
const OUT = process.env.OUT ?? '/tmp';
const GIVE_UP_MS = 70000;
if (!(Number.isInteger(PAGES) && PAGES >= 2 && PAGES <= NAMES.length) || !(TRIES >= 1) || !(SLOW > 0)) {
  console.error('usage: PAGES=2..6 TRIES=N SLOW=ms OUT=dir node tools/dev/slow-join.mjs');
  process.exit(2);
}

const srv = await startServer([]);
const browser = await launchChromium([], { fakeCameraFps: null, evenPriority: true });
try {
  for (let t = 1; t <= TRIES; t++) {
    const { id } = await createMeetingApi(srv, `slow join ${t}`);
    const people = [];
    for (let i = 0; i < PAGES; i++) people.push(await newChromiumParticipant(browser, NAMES[i]));
    try {
      const { firstClick } = await joinTogetherFromLobby(people, `${srv.url}/m/${id}?debug`);
      const firstClickWall = Math.round(Date.now() - (performance.now() - firstClick));
      const t0 = performance.now();
      let complete = false;
      while (!complete && performance.now() - t0 < GIVE_UP_MS) {
        const seen = (await Promise.all(people.map(framesDecoded))).map(Object.values);
        complete = seen.every((tiles) => tiles.length === PAGES - 1 && tiles.every((frames) => frames > 0));
        if (!complete) await sleep(100);
      }
      const ms = Math.round(performance.now() - t0);
      console.log(`try ${t}: ${complete ? '' : 'incomplete after '}${ms} ms from the last click`);
      if (ms > SLOW) {
        const file = join(OUT, `slow-join-${t}.log`);
        writeFileSync(file, people.map((p) => [`##### ${p.name}`,
          ...p.logs.map((entry) => `${entry.at - firstClickWall} ${JSON.stringify(entry)}`), ...p.console].join('\n')).join('\n'));
        console.log(`every page's core log: ${file}`);
        break;
      }
    } finally {
      for (const p of people) await p.close().catch(() => {});
    }
    await sleep(1500);
  }
} finally {
  await cleanup();
}
