// The issuing form offers only the chosen contract's services: picking another contract
// rebuilds the service list from that contract's `data-services` (the server checks it again).
document.addEventListener("DOMContentLoaded", function () {
  var contract = document.getElementById("contract_id");
  var service = document.getElementById("service_type");
  if (!contract || !service) return;
  var labels = JSON.parse(service.getAttribute("data-labels"));
  contract.addEventListener("change", function () {
    var chosen = contract.options[contract.selectedIndex];
    var offered = (chosen.getAttribute("data-services") || "").split(" ").filter(Boolean);
    var previous = service.value;
    service.innerHTML = "";
    Object.keys(labels).forEach(function (code) {
      if (offered.indexOf(code) < 0) return;
      var option = document.createElement("option");
      option.value = code;
      option.textContent = labels[code];
      option.selected = code === previous;
      service.appendChild(option);
    });
  });
});
