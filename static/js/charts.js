// ECharts on the analysis pages. Each chart is an element with data-chart="<id>" where
// <id> names a json_script block holding the ECharts option built on the server, so no
// inline script is needed (CSP). Charts in htmx-loaded panels start when they arrive.
(function () {
  "use strict";

  var charts = [];

  function start(root) {
    if (!window.echarts) return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.chartStarted) return;
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var option;
      try { option = JSON.parse(source.textContent); } catch (e) { return; }
      el.dataset.chartStarted = "1";
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      charts.push(chart);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { start(document); });
  document.addEventListener("htmx:afterSettle", function (event) { start(event.target); });
  window.addEventListener("resize", function () {
    charts = charts.filter(function (chart) { return !chart.isDisposed(); });
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
