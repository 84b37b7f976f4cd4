// Firefox ESR preferences every suite that drives it needs: fake camera and
// microphone without a permission prompt, and media that may autoplay.
export const FIREFOX_FAKE_MEDIA_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
};
