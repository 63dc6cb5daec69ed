// Polls a running upload's status and shows its progress; reloads the page once it is done.
(function () {
  var box = document.getElementById('progress');
  if (!box) { return; }
  var bar = document.getElementById('progress-bar');
  var text = document.getElementById('progress-text');
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.done) { window.location.reload(); return; }
        bar.max = Math.max(state.rows_total, 1);
        bar.value = state.rows_processed;
        text.textContent = (state.message || state.label) + '：已检查 ' + state.rows_processed + ' / 约 ' + state.rows_total + ' 行';
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 500);
})();
