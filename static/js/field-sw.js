// The field app's service worker (scope /field/): keeps the app shell so that 我的任务 opens
// without a network. API calls are never cached: visits wait in IndexedDB, not here.
"use strict";
var SHELL = "field-shell-v1";
var SHELL_FILES = ["/field/", "/static/style.css", "/static/js/field-app.js", "/static/js/nav.js",
  "/static/js/confirm.js", "/field/manifest.webmanifest", "/static/field/icon.svg"];

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
