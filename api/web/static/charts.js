// Draws every <canvas data-chart="ID"> from the JSON in the element #ID (Chart.js, vendored).
// The JSON may name its unit ("unit": "м³"): the value axis and the tooltips then show it.
"use strict";
(function () {
  if (typeof Chart === "undefined") return;
  var colours = ["#0b5cad", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#495057"];
  var format = new Intl.NumberFormat("ru-RU", { maximumFractionDigits: 3 });
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var unit = data.unit || "";
    var kind = canvas.dataset.kind || "bar";
    data.datasets.forEach(function (set, i) {
      set.backgroundColor = colours[i % colours.length] + (kind === "bar" ? "cc" : "33");
      set.borderColor = colours[i % colours.length];
      set.borderWidth = kind === "line" ? 2 : 0;
      set.pointRadius = kind === "line" ? 1.5 : 0;
      set.spanGaps = false;
    });
    new Chart(canvas, {
      type: kind,
      data: { labels: data.labels, datasets: data.datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: "ru-RU",
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = ctx.parsed.y;
                return ctx.dataset.label + ": " + (v == null ? "—" : format.format(v)) +
                  (unit ? "\u00a0" + unit : "");
              }
            }
          }
        },
        scales: {
          y: { beginAtZero: true, title: { display: unit !== "", text: unit } }
        }
      }
    });
  });
})();
