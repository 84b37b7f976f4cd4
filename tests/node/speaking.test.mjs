// The web app's speaking ring (web/app/speaking.js): who is loud gets the
// "speaking" class, and the look at everyone's level, a blocking call into
// the browser's WebRTC thread per tile, never takes more than a twentieth
// of the main thread: the next look waits at least 20 times as long as the
// last one took (150 ms when looks are cheap, 2 s at the most), a look that
// throws does not stop the ring, a hidden tab is not looked at, and while a
// connection is being set up looks are 2 s apart (for its first 10 s at
// most: one that never comes up does not hold the ring back). The clock and the timers are the test's own: nothing here
// depends on how fast this machine is.
//
//   node --test tests/node/speaking.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';

let clock = 0;
const timers = [];  // [delay, fn] in the order they were set
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realPerformance = globalThis.performance;
globalThis.document = { hidden: false };
Object.defineProperty(globalThis, 'performance', { value: { now: () => clock }, configurable: true });
globalThis.setTimeout = (fn, delay) => timers.push([delay, fn]);
globalThis.clearTimeout = () => {};
const { connectionSettingUp, watchSpeaking, unwatchAllSpeaking } = await import('../../web/app/speaking.js');
test.after(() => {
  globalThis.setTimeout = realSetTimeout;
  globalThis.clearTimeout = realClearTimeout;
  Object.defineProperty(globalThis, 'performance', { value: realPerformance, configurable: true });
  delete globalThis.document;
});

function tile() {
  const classes = new Set();
  return { classes, classList: { toggle: (name, on) => (on ? classes.add(name) : classes.delete(name)), remove: (name) => classes.delete(name) } };
}

/** Runs the look that is due: the clock moves on by its delay first. */
function nextLook() {
  const [delay, fn] = timers.shift();
  clock += delay;
  fn();
  return delay;
}

test('a loud peer lights its tile, a quiet one does not; the light holds 600 ms after the voice', () => {
  const loud = tile();
  const quiet = tile();
  let level = 0.5;
  watchSpeaking(loud, () => level);
  watchSpeaking(quiet, () => 0.001);
  nextLook();
  assert.ok(loud.classes.has('speaking'));
  assert.ok(!quiet.classes.has('speaking'));
  level = 0;
  nextLook();  // 150 ms after the voice: still lit
  assert.ok(loud.classes.has('speaking'));
  for (let i = 0; i < 4; i++) nextLook();  // 750 ms after
  assert.ok(!loud.classes.has('speaking'));
  unwatchAllSpeaking();
  timers.length = 0;
});

test('looks come every 150 ms while cheap, and at least 20 times their own duration apart when the browser is slow', () => {
  let cost = 1;  // ms a level takes to read
  watchSpeaking(tile(), () => {
    clock += cost;
    return 0;
  });
  assert.equal(timers[0][0], 150, 'the first look');
  nextLook();
  assert.equal(timers[0][0], 150, 'after a 1 ms look');
  cost = 20;
  nextLook();
  assert.equal(timers[0][0], 400, 'after a 20 ms look: 400 ms');
  cost = 200;
  nextLook();
  assert.equal(timers[0][0], 2000, 'after a 200 ms look: 2 s at the most');
  cost = 2;
  nextLook();
  assert.equal(timers[0][0], 150, 'cheap again: 150 ms');
  unwatchAllSpeaking();
  timers.length = 0;
});

test('a look that throws does not stop the ring', () => {
  let broken = true;
  const t = tile();
  watchSpeaking(t, () => {
    if (broken) throw new Error('the browser refused');
    return 0.5;
  });
  assert.throws(() => nextLook(), /refused/);
  assert.equal(timers.length, 1, 'the next look is due all the same');
  broken = false;
  nextLook();
  assert.ok(t.classes.has('speaking'));
  unwatchAllSpeaking();
  timers.length = 0;
});

test('a hidden tab is not looked at, and is looked at again once shown', () => {
  let looks = 0;
  const t = tile();
  watchSpeaking(t, () => {
    looks += 1;
    return 0.5;
  });
  globalThis.document.hidden = true;
  nextLook();
  nextLook();
  assert.equal(looks, 0);
  assert.equal(timers.length, 1, 'it keeps its turn');
  globalThis.document.hidden = false;
  nextLook();
  assert.equal(looks, 1);
  assert.ok(t.classes.has('speaking'));
  unwatchAllSpeaking();
  assert.ok(!t.classes.has('speaking'), 'unwatched: dark');
});

test('while a connection is being set up, looks are 2 s apart however cheap', () => {
  timers.length = 0;
  connectionSettingUp('bob', true);
  const t = tile();
  watchSpeaking(t, () => 0.5);
  nextLook();
  assert.ok(t.classes.has('speaking'), 'still looked at');
  assert.equal(timers[0][0], 2000, 'a join under way: 2 s');
  connectionSettingUp('carol', true);
  connectionSettingUp('bob', false);
  nextLook();
  assert.equal(timers[0][0], 2000, 'another one still being set up: 2 s');
  connectionSettingUp('carol', false);
  nextLook();
  assert.equal(timers[0][0], 150, 'all set up: 150 ms again');
  unwatchAllSpeaking();
  timers.length = 0;
});

test('a connection that never comes up slows the ring for its first 10 s only', () => {
  timers.length = 0;
  connectionSettingUp('dave', true);  // a peer we cannot reach: tried for up to 45 s
  const t = tile();
  watchSpeaking(t, () => 0);
  const since = clock;
  nextLook();
  while (clock - since < 10000) {
    assert.equal(timers[0][0], 2000, `${clock - since} ms after it began: 2 s`);
    nextLook();
  }
  assert.equal(timers[0][0], 150, 'after 10 s: looks as often as they are cheap again');
  connectionSettingUp('dave', true);  // still connecting: the same attempt, not a new one
  nextLook();
  assert.equal(timers[0][0], 150);
  unwatchAllSpeaking();
  timers.length = 0;
});
