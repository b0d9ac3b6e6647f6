// One bar chart for every office page: data = {categories: [...], series: [{name, data}]}; `options` carries what
// differs (yAxis, stack, grid). Returns the chart (or null without ECharts), resized with the window.
window.xinyongBars = function (el, data, options) {
  if (!window.echarts || !el) { return null; }
  options = options || {};
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis"},
    legend: {top: 0},
    grid: Object.assign({left: 40, right: 16, bottom: 80, top: 40}, options.grid || {}),
    xAxis: {type: "category", data: data.categories, axisLabel: {interval: 0, rotate: 30}},
    yAxis: Object.assign({type: "value"}, options.yAxis || {}),
    series: data.series.map(function (s) {
      var item = {name: s.name, type: "bar", data: s.data};
      if (options.stack) { item.stack = options.stack; }
      return item;
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
  return chart;
};
