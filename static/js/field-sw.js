// The field app's service worker (scope /field/): keeps the app shell so that 我的任务 opens
// without a network. API calls are never cached: visits wait in IndexedDB, not here. Where the
// browser has Background Sync, the page registers the "field-outbox" sync when a visit waits, and
// this worker sends the outbox when the network returns, even with the page closed.
"use strict";
importScripts("/static/js/field-outbox.js");
var SHELL = "field-shell-v2";
var SHELL_FILES = ["/field/", "/static/style.css", "/static/js/field-outbox.js", "/static/js/field-app.js",
  "/static/js/nav.js", "/static/js/confirm.js", "/field/manifest.webmanifest", "/static/field/icon.svg"];
var API = "/api/v1";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return Promise.all(SHELL_FILES.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (answer) {
        if (answer.ok && !answer.redirected) { return cache.put(url, answer); }
        return null;
      }).catch(function () { return null; });
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) { return name !== SHELL; }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request, url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) { return; }
  if (request.mode === "navigate" && url.pathname === "/field/") {
    // Network first (fresh list and CSRF token), the kept shell when offline.
    event.respondWith(fetch(request).then(function (answer) {
      if (answer.ok && !answer.redirected) {
        var copy = answer.clone();
        caches.open(SHELL).then(function (cache) { cache.put("/field/", copy); });
      }
      return answer;
    }).catch(function () { return caches.match("/field/"); }));
    return;
  }
  if (SHELL_FILES.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname).then(function (kept) {
      var fresh = fetch(request).then(function (answer) {
        if (answer.ok) { var copy = answer.clone(); caches.open(SHELL).then(function (cache) { cache.put(url.pathname, copy); }); }
        return answer;
      });
      return kept || fresh;
    }));
  }
});

// The outbox of the worker whose token the device keeps (the page makes the token; without one,
// or once it is refused, the page sends when next open). A round that leaves visits waiting
// rejects, so that the browser tries again later.
function sendOutbox() {
  var outbox = self.FieldOutbox;
  return outbox.getSetting("token").then(function (kept) {
    if (!kept || !kept.token) { return 0; }
    var refused = false;
    var api = outbox.bearerApi(API, function () {
      if (refused) { throw new Error("令牌已失效"); }
      return kept.token;
    }, function () { refused = true; return outbox.deleteSetting("token"); });
    return outbox.sendWaiting(api, kept.worker).then(function (left) {
      return self.clients.matchAll({ includeUncontrolled: true }).then(function (pages) {
        pages.forEach(function (page) { page.postMessage({ type: "outbox-sent", waiting: left }); });
        if (left && !refused) { throw new Error(left + " 条服务记录仍待发送"); }
        return left;
      });
    });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag === self.FieldOutbox.SYNC_TAG) { event.waitUntil(sendOutbox()); }
});
