// How large the app draws each peer's video, measured in the page and handed
// to the core (Client::set_view), which tells the peer so that it sends no
// larger a picture, or none while nobody sees it (meeting.observeVideo).
//
// A view is the height in device pixels of the whole picture as drawn: for
// `object-fit: cover` the picture overflows its box and is cropped, so it is
// the height that covers the box; for `contain` the height that fits in it.
// It is 0 while the element is off-screen, not rendered, or the tab hidden.
// Several elements may show one peer (a tile and a full-screen copy): the
// largest counts. Resizes are gathered for SETTLE_MS, so a layout that moves
// step by step reports once; becoming hidden or shown is reported at once.

const SETTLE_MS = 150;

export class VideoViews {
  /** `report(peerId, height)` hands a peer's view to the core. */
  constructor(report) {
    this._report = report;
    this._watched = new Map();  // element → { peerId, onscreen }
    this._reported = new Map(); // peerId → the height last reported
    this._timer = 0;
    this._resized = typeof ResizeObserver === 'function' ? new ResizeObserver(() => this._soon()) : null;
    this._onscreen = typeof IntersectionObserver === 'function'
      ? new IntersectionObserver((entries) => {
        for (const e of entries) {
          const w = this._watched.get(e.target);
          if (w) w.onscreen = e.isIntersecting;
        }
        this._measure();
      })
      : null;
    this._onVisibility = () => this._measure();
    globalThis.document?.addEventListener('visibilitychange', this._onVisibility);
  }

  /** Watches `element` as showing `peerId`'s video; returns what stops it. */
  observe(peerId, element) {
    const known = this._watched.get(element);
    if (known?.peerId === peerId) return () => this.unobserve(element);  // already (a 'track' event per kind)
    if (known) this.unobserve(element);
    const onPicture = () => this._soon();  // the picture's own size changed: the aspect may differ
    // Whether it is on screen is unknown until the IntersectionObserver's
    // first callback: nothing is reported for it before.
    this._watched.set(element, { peerId, onscreen: this._onscreen ? null : true, onPicture });
    element.addEventListener?.('resize', onPicture);
    this._resized?.observe(element);
    this._onscreen?.observe(element);
    this._measure();
    return () => this.unobserve(element);
  }

  unobserve(element) {
    const w = this._watched.get(element);
    if (!w) return;
    this._watched.delete(element);
    element.removeEventListener?.('resize', w.onPicture);
    this._resized?.unobserve(element);
    this._onscreen?.unobserve(element);
    // A peer nobody draws any more is sent nothing.
    if (![...this._watched.values()].some((x) => x.peerId === w.peerId)) this._send(w.peerId, 0);
    this._measure();
  }

  /** A peer left: nothing more is reported for it. */
  forget(peerId) {
    this._reported.delete(peerId);
  }

  dispose() {
    clearTimeout(this._timer);
    this._resized?.disconnect();
    this._onscreen?.disconnect();
    globalThis.document?.removeEventListener('visibilitychange', this._onVisibility);
    this._watched.clear();
  }

  _soon() {
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._measure(), SETTLE_MS);
  }

  _measure() {
    clearTimeout(this._timer);
    this._timer = 0;
    const hidden = globalThis.document?.visibilityState === 'hidden';
    const heights = new Map();
    for (const [element, w] of this._watched) {
      if (w.onscreen === null) continue;
      const h = hidden || !w.onscreen ? 0 : drawnHeight(element);
      heights.set(w.peerId, Math.max(heights.get(w.peerId) ?? 0, h));
    }
    for (const [peerId, h] of heights) this._send(peerId, h);
  }

  _send(peerId, height) {
    if (this._reported.get(peerId) === height) return;
    this._reported.set(peerId, height);
    this._report(peerId, height);
  }
}

// The height in device pixels of the picture `element` draws (see the top).
function drawnHeight(element) {
  const box = element.getBoundingClientRect?.();
  if (!box || box.width <= 0 || box.height <= 0) return 0;
  const dpr = globalThis.devicePixelRatio || 1;
  const aspect = element.videoWidth > 0 && element.videoHeight > 0 ? element.videoWidth / element.videoHeight : 0;
  let height = box.height;
  if (aspect > 0) {
    const fit = globalThis.getComputedStyle?.(element).objectFit;
    const heightForWidth = box.width / aspect;
    height = fit === 'cover' ? Math.max(box.height, heightForWidth) : fit === 'fill' ? box.height : Math.min(box.height, heightForWidth);
  }
  return Math.min(4320, Math.max(1, Math.round(height * dpr)));
}
