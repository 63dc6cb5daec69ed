// The navigation's groups are <details> menus, usable without this file; it only makes them behave
// like one menu bar: opening a group closes the others, and a click elsewhere or Escape closes it.
(function () {
  function groups() { return document.querySelectorAll('nav.mainnav details.navgroup'); }
  function closeAll(except) {
    groups().forEach(function (group) { if (group !== except) { group.open = false; } });
  }
  document.addEventListener('toggle', function (event) {
    var group = event.target;
    if (group.matches && group.matches('details.navgroup') && group.open) { closeAll(group); }
  }, true);
  document.addEventListener('click', function (event) {
    if (!(event.target.closest && event.target.closest('details.navgroup'))) { closeAll(null); }
  });
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') { return; }
    var open = document.querySelector('nav.mainnav details.navgroup[open]');
    if (open) { open.open = false; open.querySelector('summary').focus(); }
  });
}());
