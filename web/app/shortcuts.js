// Keyboard shortcuts in the meeting, and the help overlay that lists them
// (?). A key typed into a field is the field's: shortcuts never fire while
// the focus is in one, nor with Ctrl, Alt or Meta (the browser's own).

import { $ } from '/view.js';

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || target.matches('input, textarea, select'));
}

/**
 * Calls `actions[key]()` for a shortcut pressed while `active()` is true.
 * Escape closes the help overlay.
 */
export function listenForShortcuts(actions, active) {
  addEventListener('keydown', (event) => {
    if (!active() || event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) return;
    if (event.key === 'Escape' && !$('help-dialog').hidden) return closeHelp();
    const action = actions[event.key.toLowerCase()];
    if (!action || event.repeat) return;
    event.preventDefault();
    action();
  });
}

let focusBeforeHelp = null;

export function toggleHelp() {
  if (!$('help-dialog').hidden) return closeHelp();
  focusBeforeHelp = document.activeElement;
  $('help-dialog').hidden = false;
  $('help-close').focus();
}

export function closeHelp() {
  if ($('help-dialog').hidden) return;
  $('help-dialog').hidden = true;
  focusBeforeHelp?.focus?.();
  focusBeforeHelp = null;
}
