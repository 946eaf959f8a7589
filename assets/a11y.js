// Accessibility repairs for two Dash 4.4 components, applied as they render (axe-core
// found them on every page). Remove when Dash fixes them upstream.
// 1. dcc.Dropdown puts keyboard focus on a hidden input (aria-hidden, tabindex 0) and
//    takes the labelled trigger button out of the tab order: the button becomes the
//    focus target (Enter or Space opens the list) and the hidden input leaves the order.
// 2. dcc.RadioItems renders role=listbox/option around native radio inputs (interactive
//    inside interactive, no name): it becomes a radiogroup of native radios named by
//    its aria-label (set on the component's wrapper as data-label).
(function () {
  function repair(root) {
    root.querySelectorAll('input.dash-dropdown-focus-target').forEach(function (input) {
      if (input.getAttribute('tabindex') !== '-1') input.setAttribute('tabindex', '-1');
    });
    root.querySelectorAll('button.dash-dropdown').forEach(function (button) {
      if (button.getAttribute('tabindex') !== '0') button.setAttribute('tabindex', '0');
    });
    root.querySelectorAll('.dash-radioitems[role="listbox"]').forEach(function (group) {
      group.setAttribute('role', 'radiogroup');
      const holder = group.closest('[data-label]');
      if (holder && !group.getAttribute('aria-label')) group.setAttribute('aria-label', holder.dataset.label);
      group.querySelectorAll('[role="option"]').forEach(function (option) {
        option.removeAttribute('role');
        option.removeAttribute('aria-selected');
      });
    });
  }
  // Charts change the DOM often (hover, redraws): repair at most once per frame.
  let scheduled = false;
  const observer = new MutationObserver(function () {
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(function () { scheduled = false; repair(document); });
  });
  function start() {
    repair(document);
    observer.observe(document.body, { childList: true, subtree: true, attributes: true,
                                      attributeFilter: ['tabindex', 'role'] });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
