/* The War Room's charts and map, drawn with Apache ECharts from each chart's JSON beside it.
   The page works without this file: every chart and map has its table. */
(function () {
  "use strict";
  var FONT = "Sarabun, 'Noto Sans Thai', Tahoma, sans-serif";
  var BLUE = "#1d70b8";
  var RAMP = ["#e8f1f8", "#9cc3e4", "#5694ca", "#1d70b8", "#003078"];
  var NO_DATA = "#f3f2f1";
  var charts = [];

  function json(el) {
    return JSON.parse(document.getElementById(el.getAttribute("data-source")).textContent);
  }

  function number(value) {
    return value == null ? "–" : Number(value).toLocaleString("en-US", {maximumFractionDigits: 1});
  }

  function init(el) {
    var chart = echarts.init(el, null, {renderer: "svg"});
    charts.push(chart);
    return chart;
  }

  var base = {
    textStyle: {fontFamily: FONT, fontSize: 14, color: "#0b0c0c"},
    animation: false,
    tooltip: {trigger: "item", valueFormatter: number}
  };

  function bar(el, d) {
    init(el).setOption(Object.assign({}, base, {
      grid: {left: 8, right: 48, top: 8, bottom: 8, containLabel: true},
      xAxis: {type: "value", axisLabel: {formatter: number, hideOverlap: true}},
      yAxis: {type: "category", data: d.labels.slice().reverse(), axisTick: {show: false},
              axisLabel: {width: 220, overflow: "break", lineHeight: 16}},
      series: [{type: "bar", name: d.name, barMaxWidth: 28, data: d.values.slice().reverse(), itemStyle: {color: BLUE},
                label: {show: true, position: "right", formatter: function (p) { return number(p.value); }}}]
    }));
  }

  /* The programme's funnel talk -> think -> act -> benefit: one bar per stage, in that order,
     darker as the participation deepens (a funnel shape would hide a stage counted more than
     the one before it). */
  function stages(el, d) {
    var shades = RAMP.slice(1);
    bar(el, {labels: d.labels, name: d.name, values: d.values.map(function (v, i) {
      return {value: v, itemStyle: {color: shades[i % shades.length]}};
    })});
  }

  function line(el, d) {
    init(el).setOption(Object.assign({}, base, {
      tooltip: {trigger: "axis", valueFormatter: number},
      grid: {left: 8, right: 24, top: 16, bottom: 8, containLabel: true},
      xAxis: {type: "category", data: d.labels},
      yAxis: {type: "value", minInterval: 1, axisLabel: {formatter: number}},
      series: [{type: "line", name: d.name, data: d.values, color: BLUE, symbolSize: 8,
                areaStyle: {color: "rgba(29,112,184,0.12)"}}]
    }));
  }

  function mapSeries(d, measure) {
    var values = d.rows.map(function (r) { return r[measure] || 0; });
    var max = Math.max.apply(null, values.concat([1]));
    return {
      visualMap: {min: 0, max: max, calculable: false, left: 8, bottom: 8, inRange: {color: RAMP},
                  text: [number(max), "0"], textStyle: {fontFamily: FONT}, formatter: number},
      series: [{type: "map", map: d.key, nameProperty: "code", roam: false, name: d.labels[measure],
                top: 8, bottom: 8,
                label: {show: !!d.province, fontFamily: FONT, fontSize: 12, color: "#0b0c0c",
                        textBorderColor: "#ffffff", textBorderWidth: 3,
                        formatter: function (p) { return p.data ? p.data.label : ""; }},
                selectedMode: false, itemStyle: {areaColor: NO_DATA, borderColor: "#ffffff", borderWidth: 0.6},
                emphasis: {label: {show: false}, itemStyle: {areaColor: "#ffdd00"}},
                data: d.rows.map(function (r) {
                  return {name: r.code, value: r[measure] == null ? 0 : r[measure],
                          label: d.lang === "en" ? r.name_en : r.name_th};
                })}]
    };
  }

  function map(el, d) {
    fetch(d.geo).then(function (r) { return r.json(); }).then(function (geo) {
      if (d.province) {
        geo = {type: "FeatureCollection", features: geo.features.filter(function (f) {
          return f.properties.province_code === d.province;
        })};
      }
      d.key = "warroom-" + (d.province || "th");
      echarts.registerMap(d.key, geo);
      var chart = init(el);
      chart.setOption(Object.assign({}, base, {
        tooltip: {trigger: "item", formatter: function (p) {
          return (p.data ? p.data.label : p.name) + ": " + number(p.value);
        }}
      }, mapSeries(d, "reports")));
      chart.on("click", function (p) { window.location.href = d.link + p.name + d.query; });
      document.querySelectorAll("input[name=measure]").forEach(function (input) {
        input.addEventListener("change", function () { chart.setOption(mapSeries(d, input.value)); });
      });
      el.setAttribute("data-ready", "true");
    });
  }

  var draw = {bar: bar, stages: stages, line: line, map: map};

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      draw[el.getAttribute("data-chart")](el, json(el));
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details.table-toggle").forEach(function (d) { d.open = true; });
      charts.forEach(function (c) { c.resize(); });
    });
  });
})();
