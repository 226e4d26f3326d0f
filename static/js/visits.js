// Visits: the browser's position for the check-in form and the day's route. The page works
// without it (hidden inputs left empty: a check-in "without a position", a route from the
// best first stop). No inline scripts (CSP); Alpine's standard build needs eval, so plain JS.
(function () {
  "use strict";

  function locate(done, failed) {
    if (!navigator.geolocation) { failed(); return; }
    navigator.geolocation.getCurrentPosition(
      function (position) { done(position.coords); },
      failed,
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
    );
  }

  function setStatus(form, text) {
    var status = form.querySelector("[data-position-status]");
    if (status) status.textContent = text || "";
  }

  function fillCheckin(form) {
    setStatus(form, form.dataset.locating);
    locate(function (coords) {
      form.querySelector("[name=latitude]").value = coords.latitude.toFixed(6);
      form.querySelector("[name=longitude]").value = coords.longitude.toFixed(6);
      form.querySelector("[name=accuracy]").value = Math.round(coords.accuracy || 0);
      setStatus(form, (form.dataset.located || "").replace("%s", Math.round(coords.accuracy || 0)));
      form.dataset.positioned = "true";
    }, function () {
      setStatus(form, form.dataset.failed);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-use-position]");
    if (button) {
      event.preventDefault();
      var form = button.closest("form");
      setStatus(form, button.dataset.locating);
      locate(function (coords) {
        form.querySelector("[name=start_lat]").value = coords.latitude.toFixed(6);
        form.querySelector("[name=start_lon]").value = coords.longitude.toFixed(6);
        form.submit();
      }, function () {
        setStatus(form, button.dataset.failed);
      });
      return;
    }
    var retry = event.target.closest("[data-locate-again]");
    if (retry) {
      event.preventDefault();
      fillCheckin(retry.closest("form"));
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-checkin]").forEach(fillCheckin);
  });
})();
