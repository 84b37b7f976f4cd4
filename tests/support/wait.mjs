// Bounded waiting for every Node-driven suite (server, node, browser): no
// test waits on anything without a deadline that names what it waited for.

import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The server under test: $MESHMEET_SERVER_BIN, or what `npm run build` made. */
export const SERVER_BIN = process.env.MESHMEET_SERVER_BIN || join(ROOT, 'build', 'bin', 'meshmeet-server');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects after ms with a message naming what was awaited. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Polls fn() until it returns something truthy (which is returned) or ms
 * pass. `options` is the poll period in ms, or { every, describe } where
 * describe() explains the last state in the timeout message.
 */
export async function waitFor(fn, ms = 5000, what = 'condition', options = {}) {
  const { every = 25, describe } = typeof options === 'number' ? { every: options } : options;
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      const detail = describe ? describe() : last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timeout after ${ms} ms waiting for ${what}${detail ? ` (last: ${detail})` : ''}`);
    }
    await sleep(every);
  }
}
