// Presentation mode for board meetings: one chart at a time, keyboard to move on.
(function () {
  function cards() { return Array.from(document.querySelectorAll('.chart-card')); }
  function show(index) {
    const all = cards();
    if (!all.length) return;
    const i = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((card, k) => card.classList.toggle('current', k === i));
    all[i].scrollIntoView({ block: 'start' });
    document.body.dataset.slide = String(i);
  }
  document.addEventListener('click', function (event) {
    const button = event.target.closest('#presentation-toggle');
    if (!button) return;
    const on = document.body.classList.toggle('presenting');
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.textContent = on ? 'Leave presentation mode' : 'Presentation mode';
    if (on) show(0);
  });
  document.addEventListener('keydown', function (event) {
    if (!document.body.classList.contains('presenting')) return;
    const current = Number(document.body.dataset.slide || 0);
    if (['ArrowRight', 'PageDown', ' '].includes(event.key)) { show(current + 1); event.preventDefault(); }
    if (['ArrowLeft', 'PageUp'].includes(event.key)) { show(current - 1); event.preventDefault(); }
    if (event.key === 'Escape') { document.getElementById('presentation-toggle').click(); }
  });
})();
