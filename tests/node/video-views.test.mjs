// How large the page draws each peer's video, as the package reports it to
// the core (web/video-views.js): the height the picture is drawn at, the
// largest of several elements showing one peer, 0 when none is drawn;
// resizes are gathered, so a layout that moves step by step reports once.
//
//   node --test tests/node/video-views.test.mjs

import test from 'node:test';
import assert from 'node:assert/strict';
import { VideoViews } from '../../web/video-views.js';

// A video element of `height` CSS px (4:3 box, picture unknown: the box's height is drawn).
function element(height) {
  const listeners = new Map();
  return {
    height,
    videoWidth: 0,
    videoHeight: 0,
    getBoundingClientRect() { return { width: (this.height * 4) / 3, height: this.height }; },
    addEventListener: (type, fn) => listeners.set(type, fn),
    removeEventListener: (type) => listeners.delete(type),
    // The layout changed its size: what the ResizeObserver would say.
    resize(to) { this.height = to; listeners.get('resize')?.(); },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));  // past the 150 ms gathering

function views() {
  const reports = [];
  return { reports, v: new VideoViews((peer, height) => reports.push([peer, height])) };
}

test('each peer\'s drawn height is reported, the largest element counting, 0 when none is drawn', () => {
  const { reports, v } = views();
  const tile = element(300);
  const full = element(600);
  v.observe('bob', tile);
  assert.deepEqual(reports, [['bob', 300]]);
  const stop = v.observe('bob', full);
  assert.deepEqual(reports.at(-1), ['bob', 600]);
  stop();  // full screen left: the tile's size again, though smaller
  assert.deepEqual(reports.at(-1), ['bob', 300]);
  v.unobserve(tile);
  assert.deepEqual(reports.at(-1), ['bob', 0]);
  v.dispose();
});

test('a layout that moves step by step is reported once, when it has settled', async () => {
  const { reports, v } = views();
  const tile = element(300);
  v.observe('bob', tile);
  tile.resize(280);
  tile.resize(260);
  tile.resize(240);
  assert.equal(reports.length, 1, 'nothing before the layout settles');
  await settle();
  assert.deepEqual(reports, [['bob', 300], ['bob', 240]]);
  v.dispose();
});
