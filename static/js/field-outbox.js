// The field app's outbox, shared by the page (field-app.js) and the service worker (field-sw.js,
// Background Sync): IndexedDB "oversight-field" (stores settings and outbox) and the sending of
// the waiting visits — photos and signature to /api/v1/media, then the visit with its
// Idempotency-Key, so that the page and the worker sending the same visit at once make one record.
(function (scope) {
  "use strict";
  var DB_NAME = "oversight-field", DB_VERSION = 1;
  var dbPromise = null;

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = function () {
          var db = request.result;
          db.createObjectStore("settings");
          db.createObjectStore("outbox", { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }
  function tx(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(store, mode);
        var result = work(transaction.objectStore(store));
        transaction.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }
  function getSetting(name) { return tx("settings", "readonly", function (s) { return s.get(name); }); }
  function setSetting(name, value) { return tx("settings", "readwrite", function (s) { s.put(value, name); }); }
  function deleteSetting(name) { return tx("settings", "readwrite", function (s) { s.delete(name); }); }
  function putItem(item) { return tx("outbox", "readwrite", function (s) { s.put(item); }); }
  // Only one worker's own visits: a phone may be shared, each visit goes with its own token.
  function itemsOf(worker) {
    return tx("outbox", "readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.filter(function (item) { return item.worker === worker; });
    });
  }
  function unsent(items) { return items.filter(function (item) { return item.status !== "sent"; }); }

  // Everything the device keeps of one worker: its visits, its token and its assignment list.
  function clearWorker(worker) {
    return itemsOf(worker).then(function (items) {
      return tx("outbox", "readwrite", function (s) { items.forEach(function (item) { s.delete(item.key); }); });
    }).then(function () {
      return getSetting("token");
    }).then(function (kept) {
      return tx("settings", "readwrite", function (s) {
        if (kept && kept.worker === worker) { s.delete("token"); }
        s.delete("assignments");
      });
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function isoLocal(date) {
    var offset = -date.getTimezoneOffset(), sign = offset >= 0 ? "+" : "-";
    offset = Math.abs(offset);
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
      sign + pad(Math.floor(offset / 60)) + ":" + pad(offset % 60);
  }

  function refusal(answer) {
    var error = new Error(answer.data.message || ("错误 " + answer.status));
    error.refused = answer.status >= 400 && answer.status < 500 && answer.status !== 429;
    error.reasons = (answer.data.errors || []).map(function (e) { return (e.column || e.field) + "：" + e.reason; });
    if (!error.reasons.length) { error.reasons = [error.message]; }
    return error;
  }
  function uploadMedia(api, kind, entry, item) {
    if (entry.sha256) { return Promise.resolve(entry.sha256); }
    var data = new FormData();
    data.append("kind", kind);
    data.append("file", entry.blob, kind === "photo" ? "photo.jpg" : "signature.png");
    return api("POST", "/media", data).then(function (answer) {
      if (answer.status !== 200 && answer.status !== 201) { throw refusal(answer); }
      entry.sha256 = answer.data.sha256;
      return putItem(item).then(function () { return entry.sha256; });
    });
  }
  // `api(method, path, body, headers)` answers {status, data}, or throws (offline, 401).
  function sendOne(api, item) {
    var chain = Promise.resolve();
    item.photos.forEach(function (entry) { chain = chain.then(function () { return uploadMedia(api, "photo", entry, item); }); });
    if (item.signature) { chain = chain.then(function () { return uploadMedia(api, "signature", item.signature, item); }); }
    return chain.then(function () {
      var body = Object.assign({}, item.body, {
        device_sent_at: isoLocal(new Date()),
        photos: item.photos.map(function (entry) { return entry.sha256; }),
        signature: item.signature ? item.signature.sha256 : null,
      });
      return api("POST", "/visits", body, { "Idempotency-Key": item.key });
    }).then(function (answer) {
      if (answer.status !== 200 && answer.status !== 201) { throw refusal(answer); }
      item.status = "sent"; item.sent_at = isoLocal(new Date()); item.record_id = answer.data.record_id;
      delete item.last_error;
      item.photos.forEach(function (entry) { entry.blob = null; });
      if (item.signature) { item.signature.blob = null; }
      return putItem(item);
    }).catch(function (error) {
      if (error.refused) { item.status = "refused"; item.errors = error.reasons; }
      else { item.last_error = (scope.navigator && scope.navigator.onLine === false) ? "离线" : error.message; }
      return putItem(item);
    });
  }
  // One sender at a time on the device (the page and the service worker): the Web Locks API
  // where there is one, so that the same visit is not sent twice at once.
  function exclusively(work) {
    var locks = scope.navigator && scope.navigator.locks;
    return locks ? locks.request("oversight-field-outbox", work) : work();
  }
  // Send the worker's waiting visits in the order recorded; answers how many still wait.
  function sendWaiting(api, worker) {
    return exclusively(function () { return sendInOrder(api, worker); });
  }
  function sendInOrder(api, worker) {
    return itemsOf(worker).then(function (items) {
      var chain = Promise.resolve();
      items.sort(function (a, b) { return a.saved_at < b.saved_at ? -1 : 1; });
      items.filter(function (item) { return item.status === "waiting"; }).forEach(function (item) {
        chain = chain.then(function () { return sendOne(api, item); });
      });
      return chain;
    }).then(function () { return itemsOf(worker); }).then(function (items) {
      return items.filter(function (item) { return item.status === "waiting"; }).length;
    });
  }
  // An API caller with a bearer token; a refused token (401) is forgotten and ends the round.
  function bearerApi(base, bearer, onRefusedToken) {
    return function (method, path, body, headers) {
      return Promise.resolve(bearer()).then(function (token) {
        var options = { method: method, headers: Object.assign({ "Authorization": "Bearer " + token, "Accept": "application/json" }, headers || {}) };
        if (body instanceof FormData) { options.body = body; }
        else if (body !== undefined) { options.body = JSON.stringify(body); options.headers["Content-Type"] = "application/json"; }
        return fetch(base + path, options).then(function (answer) {
          if (answer.status === 401) {
            return Promise.resolve(onRefusedToken()).then(function () { throw new Error("令牌已失效，请重新连网后再试"); });
          }
          return answer.json().then(function (data) { return { status: answer.status, data: data }; });
        });
      });
    };
  }

  scope.FieldOutbox = {
    SYNC_TAG: "field-outbox", openDb: openDb, getSetting: getSetting, setSetting: setSetting,
    deleteSetting: deleteSetting, putItem: putItem, itemsOf: itemsOf, unsent: unsent, clearWorker: clearWorker,
    isoLocal: isoLocal, sendWaiting: sendWaiting, bearerApi: bearerApi,
  };
}(self));
