// 外勤应用: the field worker's phone app on /field/. Visits are kept in IndexedDB (outbox) with an
// Idempotency-Key made once on the device, and sent to /api/v1 with the device's token when online.
(function () {
  "use strict";
  var config, token, assignments = [], current = null, checkIn = null, photos = [], signed = false, syncing = false;
  var store = window.FieldOutbox;  // field-outbox.js: IndexedDB and the sending, shared with the service worker
  var getSetting = store.getSetting, setSetting = store.setSetting, deleteSetting = store.deleteSetting,
    putItem = store.putItem, isoLocal = store.isoLocal;

  function $(id) { return document.getElementById(id); }
  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }
  function say(message) { $("app-message").textContent = message; }
  function allItems() { return store.itemsOf(config.worker); }

  // --- times ---------------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function shortTime(iso) { return iso ? iso.slice(5, 10) + " " + iso.slice(11, 16) : ""; }

  // --- the device token and the API ----------------------------------------------------------
  function csrf() { var meta = document.querySelector("meta[name=csrf-token]"); return meta ? meta.content : ""; }
  function ensureToken() {
    if (token) { return Promise.resolve(token); }
    return getSetting("token").then(function (kept) {
      if (kept && kept.worker === config.worker) { token = kept.token; return token; }
      return fetch(config.token_url, { method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } })
        .then(function (answer) {
          if (!answer.ok) { throw new Error("未能为本设备创建接口令牌（" + answer.status + "）"); }
          return answer.json();
        })
        .then(function (made) {
          token = made.token;
          return setSetting("token", { token: made.token, worker: config.worker, prefix: made.prefix, id: made.id }).then(function () { return token; });
        });
    });
  }
  function api(method, path, body, headers) {
    return store.bearerApi(config.api, ensureToken, function () { token = null; return deleteSetting("token"); })(method, path, body, headers);
  }

  // --- the visit lists -----------------------------------------------------------------------
  function loadAssignments() {
    return api("GET", "/assignments?per_page=100").then(function (answer) {
      if (answer.status !== 200) { throw new Error(answer.data.message || "读取任务失败"); }
      assignments = answer.data.items.filter(function (a) { return a.status !== "cancelled" && a.status !== "completed"; });
      return setSetting("assignments", assignments);
    }).catch(function () {
      return getSetting("assignments").then(function (kept) { assignments = kept || []; say("离线：显示上次读取的任务"); });
    }).then(drawLists);
  }
  function drawLists() {
    var today = config.today, week = new Date(today + "T00:00:00");
    week.setDate(week.getDate() + 6);
    var weekEnd = week.getFullYear() + "-" + pad(week.getMonth() + 1) + "-" + pad(week.getDate());
    ["visits-today", "visits-week", "visits-later"].forEach(function (id) { $(id).textContent = ""; });
    assignments.forEach(function (a) {
      var list = a.due_date <= today ? "visits-today" : (a.due_date <= weekEnd ? "visits-week" : "visits-later");
      var item = el("li", "card visit-item");
      var open = el("button", "link open-visit", a.number);
      open.type = "button";
      open.dataset.id = a.id;
      open.addEventListener("click", function () { openVisit(a); });
      item.appendChild(open);
      item.appendChild(el("div", "", a.service_label + " · " + a.subject.name + " · " + a.subject.township + " " + a.subject.village));
      item.appendChild(el("div", "muted", "截止 " + a.due_date + " · 已记录 " + a.visits_recorded + " 次"));
      $(list).appendChild(item);
    });
    ["visits-today", "visits-week", "visits-later"].forEach(function (id) {
      if (!$(id).children.length) { $(id).appendChild(el("li", "muted", "没有任务")); }
    });
  }

  // --- one visit: check in, the form, photos, signature, check out ---------------------------
  function openVisit(a) {
    current = a; checkIn = null; photos = []; signed = false;
    $("visit-title").textContent = a.number + " · " + a.service_label;
    $("visit-subject").textContent = a.subject.name + "（" + a.subject.id_number + "） " + a.subject.township + " " + a.subject.village;
    $("check-in-info").textContent = "";
    $("check-in").disabled = false;
    $("visit-form").hidden = true;
    $("visit-form").reset();
    $("form-error").hidden = true;
    $("photo-list").textContent = "";
    clearSignature();
    drawFields(a.form_fields);
    $("visit-lists").hidden = true;
    $("visit-panel").hidden = false;
    window.scrollTo(0, 0);
  }
  function closeVisit() {
    current = null;
    $("visit-panel").hidden = true;
    $("visit-lists").hidden = false;
  }
  function drawFields(fields) {
    var holder = $("form-fields");
    holder.textContent = "";
    fields.forEach(function (field) {
      var label = el("label", "", field.header + (field.required ? " *" : "") + " ");
      var input;
      if (field.key === "care_items") {
        input = el("span", "choice-group");
        field.choices.forEach(function (choice) {
          var box = el("label", "inline-choice");
          var check = el("input");
          check.type = "checkbox"; check.name = "f_" + field.key; check.value = choice;
          box.appendChild(check); box.appendChild(document.createTextNode(choice));
          input.appendChild(box);
        });
      } else if (field.choices.length) {
        input = el("select");
        input.name = "f_" + field.key;
        input.appendChild(el("option", "", ""));
        field.choices.forEach(function (choice) { var option = el("option", "", choice); option.value = choice; input.appendChild(option); });
      } else {
        input = el("input");
        input.name = "f_" + field.key;
        input.type = "text";
        if (/_fen$|_size$|count$/.test(field.key)) { input.inputMode = "decimal"; }
      }
      if (field.required && input.tagName !== "SPAN") { input.required = true; }
      label.appendChild(input);
      if (field.note) { label.appendChild(el("small", "muted", field.note)); }
      holder.appendChild(label);
    });
  }
  function doCheckIn() {
    if (!navigator.geolocation) { say("本设备不能定位"); return; }
    $("check-in").disabled = true;
    say("正在定位…");
    navigator.geolocation.getCurrentPosition(function (position) {
      checkIn = { at: isoLocal(new Date()), longitude: position.coords.longitude, latitude: position.coords.latitude,
        accuracy_m: Math.round(position.coords.accuracy * 10) / 10 };
      $("check-in-info").textContent = "已签到 " + shortTime(checkIn.at) + "，位置 " + checkIn.longitude.toFixed(5) + ", " +
        checkIn.latitude.toFixed(5) + "（精度约 " + Math.round(checkIn.accuracy_m) + " 米）";
      $("visit-form").hidden = false;
      say("");
    }, function (failure) {
      $("check-in").disabled = false;
      say("定位失败：" + failure.message + "。请允许定位后再签到");
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  // A photo is shrunk on the device to at most 1280 px on its long side, as JPEG. The picture is
  // decoded by createImageBitmap (or read as a data: URL): the CSP allows no blob: images.
  function decode(file) {
    if (window.createImageBitmap) { return createImageBitmap(file); }
    return new Promise(function (resolve, reject) {
      var reader = new FileReader(), image = new Image();
      reader.onload = function () { image.src = reader.result; };
      reader.onerror = function () { reject(new Error("不是可读的图片")); };
      image.onload = function () { resolve(image); };
      image.onerror = function () { reject(new Error("不是可读的图片")); };
      reader.readAsDataURL(file);
    });
  }
  function resizePhoto(file) {
    return decode(file).then(function (picture) {
      var width = picture.naturalWidth || picture.width, height = picture.naturalHeight || picture.height;
      var scale = Math.min(1, 1280 / Math.max(width, height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      canvas.getContext("2d").drawImage(picture, 0, 0, canvas.width, canvas.height);
      if (picture.close) { picture.close(); }
      return new Promise(function (resolve, reject) {
        canvas.toBlob(function (blob) { if (blob) { resolve(blob); } else { reject(new Error("照片处理失败")); } }, "image/jpeg", 0.85);
      });
    }, function () { throw new Error("不是可读的图片"); });
  }
  function addPhoto() {
    var file = $("photo-input").files[0];
    if (!file) { return; }
    resizePhoto(file).then(function (blob) {
      photos.push(blob);
      var item = el("li", "", "照片 " + photos.length + "（" + Math.round(blob.size / 1024) + " KB）");
      $("photo-list").appendChild(item);
      $("photo-input").value = "";
    }).catch(function (error) { say(error.message); });
  }

  // The recipient's signature, drawn with a finger (pointer events).
  var drawing = false, last = null;
  function pad2d() { return $("signature-pad").getContext("2d"); }
  function clearSignature() {
    var canvas = $("signature-pad"), context = pad2d();
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    signed = false;
  }
  function point(event) {
    var canvas = $("signature-pad"), box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * canvas.width / box.width, y: (event.clientY - box.top) * canvas.height / box.height };
  }
  function setUpSignature() {
    var canvas = $("signature-pad");
    canvas.addEventListener("pointerdown", function (event) {
      drawing = true; last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var next = point(event), context = pad2d();
      context.strokeStyle = "#111"; context.lineWidth = 3; context.lineCap = "round";
      context.beginPath(); context.moveTo(last.x, last.y); context.lineTo(next.x, next.y); context.stroke();
      last = next; signed = true;
      event.preventDefault();
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });
    $("signature-clear").addEventListener("click", clearSignature);
  }
  function signatureBlob() {
    if (!signed) { return Promise.resolve(null); }
    return new Promise(function (resolve) { $("signature-pad").toBlob(resolve, "image/png"); });
  }

  function formValues() {
    var form = $("visit-form"), values = {};
    current.form_fields.forEach(function (field) {
      if (field.key === "care_items") {
        values[field.key] = Array.prototype.map.call(form.querySelectorAll("input[name=f_care_items]:checked"), function (box) { return box.value; });
      } else {
        var value = form.elements["f_" + field.key].value.trim();
        if (value !== "") { values[field.key] = value; }
      }
    });
    return values;
  }
  function checkOut(event) {
    event.preventDefault();
    var form = $("visit-form"), reason = form.elements.no_signature_reason.value.trim();
    if (!checkIn) { return; }
    if (!signed && !reason) { showError("请服务对象签名，或填写无法签名的原因"); return; }
    var assignment = current;
    signatureBlob().then(function (signature) {
      var item = {
        key: crypto.randomUUID(), status: "waiting", saved_at: isoLocal(new Date()), worker: config.worker,
        number: assignment.number, subject: assignment.subject.name,
        body: { assignment_id: assignment.id, check_in_at: checkIn.at, check_out_at: isoLocal(new Date()),
          longitude: checkIn.longitude, latitude: checkIn.latitude, accuracy_m: checkIn.accuracy_m,
          fields: formValues(), remark: form.elements.remark.value.trim() || null,
          no_signature_reason: signature ? null : reason },
        photos: photos.map(function (blob) { return { blob: blob, sha256: null }; }),
        signature: signature ? { blob: signature, sha256: null } : null,
      };
      return putItem(item);
    }).then(function () {
      closeVisit();
      say("已保存在本机，" + (navigator.onLine ? "正在发送…" : "联网后自动发送"));
      return drawOutbox();
    }).then(function () {
      if (!navigator.onLine) { return askBackgroundSync().then(drawOutbox); }
      return sync();
    }).catch(function (error) { showError(error.message); });
  }
  function showError(message) { $("form-error").textContent = message; $("form-error").hidden = false; }

  // --- the outbox: what waits to be sent, what was sent --------------------------------------
  function drawOutbox() {
    return allItems().then(function (items) {
      items.sort(function (a, b) { return a.saved_at < b.saved_at ? 1 : -1; });
      var waiting = $("outbox-waiting"), sent = $("outbox-sent"), count = 0;
      waiting.textContent = ""; sent.textContent = "";
      items.forEach(function (item) {
        var row = el("li", "card outbox-item " + item.status);
        row.dataset.key = item.key;
        row.appendChild(el("strong", "", item.number + " · " + item.subject));
        row.appendChild(el("div", "muted", "签到 " + shortTime(item.body.check_in_at) + " · 照片 " + item.photos.length + " 张 · " +
          (item.signature ? "已签名" : "未签名")));
        if (item.status === "sent") {
          row.appendChild(el("div", "", "已发送 " + shortTime(item.sent_at) + "（记录 #" + item.record_id + "）"));
          sent.appendChild(row);
        } else {
          count += 1;
          row.appendChild(el("div", item.status === "refused" ? "flash danger" : "muted",
            item.status === "refused" ? "未被接受：" + item.errors.join("；") : "待发送" + (item.last_error ? "（" + item.last_error + "）" : "")));
          waiting.appendChild(row);
        }
      });
      $("waiting-count").textContent = String(count);
      if (!sent.children.length) { sent.appendChild(el("li", "muted", "还没有")); }
    });
  }
  function sync() {
    if (syncing || !navigator.onLine) { return drawOutbox(); }
    syncing = true;
    return store.sendWaiting(api, config.worker).then(function (left) {
      syncing = false;
      if (left) { askBackgroundSync(); }
      return drawOutbox();
    }, function () { syncing = false; return drawOutbox(); });
  }
  // Background Sync where the browser has it: the service worker sends the outbox when the
  // network returns, even with the page closed. Elsewhere the page's online event, its load and
  // its 30-second round do it (they do it here too: the Idempotency-Key makes a double send one).
  function askBackgroundSync() {
    if (!("serviceWorker" in navigator) || !("SyncManager" in window)) { return Promise.resolve(false); }
    return navigator.serviceWorker.ready.then(function (registration) {
      return registration.sync.register(store.SYNC_TAG).then(function () { return true; });
    }).catch(function () { return false; });
  }

  // --- log-out: nothing of the worker stays on the device ----------------------------------
  // While a visit waits to be sent, 退出 is refused (it would be lost); visits the server refused
  // are dropped only when the worker confirms. Then the worker's outbox, token (revoked on the
  // server as well), assignment list and the kept pages are removed, and the log-out goes ahead.
  function guardLogout(form) {
    var leaving = false;
    form.addEventListener("submit", function (event) {
      if (leaving) { return; }
      event.preventDefault();
      allItems().then(function (items) {
        var waiting = items.filter(function (item) { return item.status === "waiting"; }).length;
        var refused = items.filter(function (item) { return item.status === "refused"; }).length;
        if (waiting) {
          say("还有 " + waiting + " 条服务记录未发送，请联网发送后再退出");
          $("logout-blocked").textContent = "还有 " + waiting + " 条服务记录未发送，不能退出；联网后会自动发送。";
          $("logout-blocked").hidden = false;
          sync();
          return;
        }
        if (refused && !window.confirm(refused + " 条未被接受的服务记录将从本机删除，确定退出吗？")) { return; }
        return forgetDevice().then(function () { leaving = true; form.submit(); });
      }).catch(function (error) { say(error.message); });
    });
  }
  function forgetDevice() {
    return getSetting("token").then(function (kept) {
      if (!kept || kept.worker !== config.worker || !kept.id || !navigator.onLine) { return null; }
      return fetch(config.revoke_url.replace("/0/", "/" + kept.id + "/"), { method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": csrf(), "Accept": "application/json" } }).catch(function () { return null; });
    }).then(function () {
      token = null;
      return store.clearWorker(config.worker);
    }).then(function () {
      if (!window.caches) { return null; }
      return caches.keys().then(function (names) {
        return Promise.all(names.filter(function (name) { return name.indexOf("field-") === 0; })
          .map(function (name) { return caches.delete(name); }));
      });
    });
  }
  function showNetwork() {
    var online = navigator.onLine;
    $("net-state").textContent = online ? "在线" : "离线";
    $("net-state").className = "badge " + (online ? "online" : "offline");
  }

  function start() {
    var source = $("field-app-config");
    if (!source || !window.indexedDB) { return; }
    config = JSON.parse(source.textContent);
    $("field-app").hidden = false;
    $("server-list").hidden = true;
    setUpSignature();
    $("check-in").addEventListener("click", doCheckIn);
    $("visit-close").addEventListener("click", closeVisit);
    $("photo-input").addEventListener("change", addPhoto);
    $("visit-form").addEventListener("submit", checkOut);
    window.addEventListener("online", function () { showNetwork(); sync(); });
    window.addEventListener("offline", showNetwork);
    showNetwork();
    window.setInterval(sync, 30000);
    var logout = document.querySelector("form[action='" + config.logout_url + "']");
    if (logout) { guardLogout(logout); }
    if (navigator.serviceWorker) {
      navigator.serviceWorker.addEventListener("message", function (event) {
        if (event.data && event.data.type === "outbox-sent") { drawOutbox(); }
      });
    }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.service_worker, { scope: "/field/" }).catch(function () { return null; });
    }
    loadAssignments().then(sync).then(function () { document.documentElement.dataset.fieldApp = "ready"; })
      .catch(function (error) { say(error.message); document.documentElement.dataset.fieldApp = "ready"; });
  }
  document.addEventListener("DOMContentLoaded", start);
}());
