// Asks before a form or link marked data-confirm goes ahead (no inline handlers: the pages'
// Content-Security-Policy allows scripts from this site's files only).
document.addEventListener('submit', function (event) {
  var message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) { event.preventDefault(); }
});
document.addEventListener('click', function (event) {
  var link = event.target.closest && event.target.closest('a[data-confirm]');
  if (link && !window.confirm(link.dataset.confirm)) { event.preventDefault(); }
});
