// A button marked data-print prints the page (the pages' Content-Security-Policy allows no inline
// handler); the print style sheet leaves out the navigation, forms and buttons.
document.addEventListener('click', function (event) {
  if (event.target.closest && event.target.closest('[data-print]')) { window.print(); }
});
