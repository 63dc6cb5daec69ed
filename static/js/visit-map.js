// The map of a field worker's day: numbered visits in time order joined by a line, the township
// outlines and centres, a degree grid and a scale. Local content only: a tile layer only when the
// install sets MAP_TILE_URL (its own server or intranet; the CSP admits that origin alone).
(function () {
  "use strict";
  function text(tag, className, content) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    element.textContent = content;
    return element;
  }
  function popup(visit) {
    var box = document.createElement("div");
    box.appendChild(text("strong", "", visit.number + ". " + visit.start_time + "–" + visit.end_time));
    box.appendChild(text("div", "", visit.subject));
    box.appendChild(text("div", "muted", visit.place + " · " + visit.assignment));
    visit.flags.forEach(function (flag) { box.appendChild(text("div", "popup-flag", "⚠ " + flag)); });
    return box;
  }
  function draw() {
    var holder = document.getElementById("visit-map");
    var source = document.getElementById("visit-map-data");
    if (!holder || !source || !window.L) { return; }
    var data = JSON.parse(source.textContent);
    var map = L.map(holder, { attributionControl: Boolean(data.tiles && data.tiles.attribution), zoomSnap: 0.25 });
    map.fitBounds(data.bounds);
    if (map.attributionControl) { map.attributionControl.setPrefix(false); }
    if (data.tiles) {
      L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 18 }).addTo(map);
    }
    (data.outlines || []).forEach(function (outline) {
      L.geoJSON(outline.geometry, { style: { className: "map-outline" } })
        .bindTooltip(outline.name, { sticky: true, className: "map-outline-label" })
        .addTo(map);
    });
    var lines = L.layerGroup().addTo(map);
    var extent = data.grid.extent;
    var south = extent[0][0], west = extent[0][1], north = extent[1][0], east = extent[1][1];
    data.grid.longitudes.forEach(function (lng) {
      L.polyline([[south, lng], [north, lng]], { className: "map-grid", interactive: false }).addTo(lines);
    });
    data.grid.latitudes.forEach(function (lat) {
      L.polyline([[lat, west], [lat, east]], { className: "map-grid", interactive: false }).addTo(lines);
    });
    L.control.scale({ imperial: false }).addTo(map);
    data.townships.forEach(function (township) {
      L.circleMarker([township.latitude, township.longitude], { radius: 6, className: "map-township" })
        .bindTooltip(township.name, { permanent: true, direction: "left", offset: [-8, 0], className: "map-township-label" })
        .addTo(map);
    });
    var path = [];
    data.visits.forEach(function (visit) {
      if (!visit.located) { return; }
      var point = [visit.latitude, visit.longitude];
      path.push(point);
      var icon = L.divIcon({ className: "map-visit" + (visit.flags.length ? " flagged" : ""),
                             html: String(visit.number), iconSize: [26, 26], iconAnchor: [13, 13] });
      L.marker(point, { icon: icon, title: visit.number + ". " + visit.start_time, riseOnHover: true })
        .bindPopup(popup(visit)).addTo(map);
    });
    if (path.length > 1) { L.polyline(path, { className: "map-route" }).addTo(map); }
    holder.setAttribute("data-markers", String(path.length));
  }
  document.addEventListener("DOMContentLoaded", draw);
}());
