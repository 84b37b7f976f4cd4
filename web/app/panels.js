// The meeting's side panels (chat, people: one open at a time) and its menus
// (reactions, devices: one open at a time), and where the focus goes: into
// what opens, back to its button when it closes. Escape or a click elsewhere
// closes a menu.

import { $ } from '/view.js';
import { chatRead } from '/chat.js';
import { render as renderPeople } from '/people.js';

// panel → [panel, its button, what gets the focus when it opens]
const PANELS = { chat: ['chat-panel', 'chat-button', 'chat-input'], people: ['people-panel', 'people-button', 'people-title'] };
// menu → [menu, its button]
const POPOVERS = { reactions: ['reactions-menu', 'react-button'], devices: ['devices-menu', 'devices-button'] };

export function togglePanel(which) {
  const [panelId, buttonId, focusId] = PANELS[which];
  const opening = $(panelId).hidden;
  for (const [other, [otherPanel, otherButton]] of Object.entries(PANELS)) {
    const open = other === which && opening;
    $(otherPanel).hidden = !open;
    $(otherButton).setAttribute('aria-expanded', String(open));
  }
  document.body.classList.toggle('panel-open', opening);
  if (opening) {
    if (which === 'chat') chatRead();
    if (which === 'people') renderPeople();  // a closed list is not kept up to date
    $(focusId).focus();
  } else {
    $(buttonId).focus();  // back where the person was
  }
}

/** Opens the menu, or closes it if open; returns whether it is open now. */
export function togglePopover(which) {
  if ($(POPOVERS[which][0]).hidden) {
    openPopover(which);
    return true;
  }
  closePopover(which);
  return false;
}

function openPopover(which) {
  for (const other of Object.keys(POPOVERS)) if (other !== which) closePopover(other, { keepFocus: true });
  const [menuId, buttonId] = POPOVERS[which];
  $(menuId).hidden = false;
  $(buttonId).setAttribute('aria-expanded', 'true');
  $(menuId).querySelector('button, select')?.focus();
}

export function closePopover(which, { keepFocus = false } = {}) {
  const [menuId, buttonId] = POPOVERS[which];
  if ($(menuId).hidden) return;
  const hadFocus = $(menuId).contains(document.activeElement);
  $(menuId).hidden = true;
  $(buttonId).setAttribute('aria-expanded', 'false');
  if (hadFocus && !keepFocus) $(buttonId).focus();
}

/** Every panel and menu closed, as a meeting ends. */
export function closeAllPanels() {
  for (const [panelId, buttonId] of Object.values(PANELS)) {
    $(panelId).hidden = true;
    $(buttonId).setAttribute('aria-expanded', 'false');
  }
  document.body.classList.remove('panel-open');
  for (const which of Object.keys(POPOVERS)) closePopover(which, { keepFocus: true });
}

addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  for (const which of Object.keys(POPOVERS)) closePopover(which);
});
addEventListener('pointerdown', (event) => {
  for (const [which, [menuId, buttonId]] of Object.entries(POPOVERS))
    if (!$(menuId).contains(event.target) && !$(buttonId).contains(event.target)) closePopover(which, { keepFocus: true });
});
