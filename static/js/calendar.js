// The calendar opens on the day view on a phone: a month grid of 42 cells does not fit
// 390 px. Only when the user has not chosen a view (no ?view= in the address).
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  if (!params.has("view") && window.matchMedia("(max-width: 640px)").matches) {
    params.set("view", "day");
    window.location.replace(window.location.pathname + "?" + params.toString());
  }
})();
