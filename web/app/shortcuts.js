// Keyboard shortcuts in the meeting, and the help overlay that lists them
// (?). A key typed into a field is the field's: shortcuts never fire while
// the focus is in one, nor with Ctrl, Alt or Meta (the browser's own). The
// help is modal: while it is open the page behind it is inert (no focus, no
// clicks, hidden from screen readers) and only ? and Escape act.

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
    const helpOpen = !$('help-dialog').hidden;
    if (event.key === 'Escape' && helpOpen) return closeHelp();
    if (helpOpen && event.key !== '?') return;
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
  setPageInert(true);
  $('help-dialog').hidden = false;
  $('help-close').focus();
}

export function closeHelp() {
  if ($('help-dialog').hidden) return;
  $('help-dialog').hidden = true;
  setPageInert(false);
  focusBeforeHelp?.focus?.();
  focusBeforeHelp = null;
}

// Everything a person could reach behind the help: the top bar and the views.
function setPageInert(inert) {
  for (const el of document.querySelectorAll('body > header, body > main')) el.inert = inert;
}
