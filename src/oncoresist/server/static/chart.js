/* oncoresist: the VAF trajectory chart of the patient page.
 *
 * Reads the plotted values from the page's own table (#trajectory-table: one row per draw
 * and variant, values in data- attributes) and the series' colour, marker shape and dash
 * pattern from the legend's keys, then draws into <svg id="trajectory-chart">: variant
 * allele fraction on a log10 axis (0.01 % to 100 %) against days, on the day scale of the
 * therapy timeline above it. Detected draws are filled markers; draws below detection are
 * open markers placed at that draw's 95 % limit of detection (LoD), whose median and range
 * over the variants are drawn as a dashed line and a grey band.
 *
 * Interaction: a legend key (a toggle button, so click, Enter and Space) hides or shows its
 * series. Every point takes focus, one tab stop per series: Left and Right move along the
 * variant, Up and Down between variants, Home and End to its first and last draw, Escape
 * hides the tooltip. Focus or hover shows a tooltip with day, date, VAF and call.
 *
 * No dependencies and nothing inline (the page's CSP allows only scripts from /static).
 */
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var LOG_MIN = -4;
  var LOG_MAX = 0;
  var INK = "#1a1a1a";
  var GRID = "#d0d0d0";
  var LOD_INK = "#555555";
  var EVENT_INK = "#7a2e00";
  var TOP = 24;
  var BOTTOM_MARGIN = 80;
  var RADIUS = 7;

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (key) {
      node.setAttribute(key, String(attrs[key]));
    });
    if (parent) {
      parent.appendChild(node);
    }
    return node;
  }

  function text(parent, x, y, words, attrs) {
    var node = el("text", Object.assign({ x: x, y: y, fill: INK, "font-size": 16 }, attrs || {}),
      parent);
    node.textContent = words;
    return node;
  }

  /* A fraction as a percentage with three significant digits (as the report writes it). */
  function pct(value) {
    if (!isFinite(value)) {
      return "n/a";
    }
    var v = value * 100;
    if (v === 0) {
      return "0%";
    }
    if (v < 0.001) {
      return "<0.001%";
    }
    return String(Number(v.toPrecision(3))) + "%";
  }

  function dayTicks(lo, hi) {
    var span = Math.max(hi - lo, 1);
    var steps = [7, 14, 28, 30, 60, 90, 120, 180, 365, 730, 1825];
    var step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i += 1) {
      if (span / steps[i] <= 8) {
        step = steps[i];
        break;
      }
    }
    var ticks = [];
    for (var day = Math.ceil(lo / step) * step; day <= hi; day += step) {
      ticks.push(day);
    }
    return ticks;
  }

  /* The marker of `shape` centred on (x, y): the shapes of the report's plots. */
  function marker(shape, x, y, r) {
    if (shape === "circle") {
      return el("circle", { cx: x, cy: y, r: r });
    }
    if (shape === "square") {
      var s = r * 0.9;
      return el("rect", { x: x - s, y: y - s, width: 2 * s, height: 2 * s });
    }
    var pts;
    if (shape === "plus") {
      var a = r * 1.1;
      var b = r * 0.4;
      pts = [[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a], [-b, b],
        [-a, b], [-a, -b], [-b, -b]];
    } else {
      var spec = {
        triangle: [3, -90, 1.25],
        "triangle-down": [3, 90, 1.25],
        diamond: [4, -90, 1.25],
        pentagon: [5, -90, 1.1],
        hexagon: [6, 0, 1.05]
      }[shape] || [4, -90, 1.25];
      pts = [];
      for (var k = 0; k < spec[0]; k += 1) {
        var angle = (spec[1] + (360 * k) / spec[0]) * Math.PI / 180;
        pts.push([r * spec[2] * Math.cos(angle), r * spec[2] * Math.sin(angle)]);
      }
    }
    return el("polygon", {
      points: pts.map(function (p) {
        return (x + p[0]).toFixed(1) + "," + (y + p[1]).toFixed(1);
      }).join(" ")
    });
  }

  function median(values) {
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    var mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  function stateWords(state) {
    return state === "detected" ? "detected" : state.replace(/_/g, " ");
  }

  function Chart(svg) {
    this.svg = svg;
    this.frame = svg.parentNode;
    this.tip = document.getElementById("trajectory-tip");
    this.keys = Array.prototype.slice.call(
      document.querySelectorAll("#trajectory-legend .legend-key"));
    var box = svg.viewBox.baseVal;
    this.width = box.width;
    this.height = box.height;
    this.lo = Number(svg.dataset.dayLo);
    this.hi = Number(svg.dataset.dayHi);
    this.left = Number(svg.dataset.left);
    this.right = Number(svg.dataset.right);
    this.top = TOP;
    this.bottom = this.height - BOTTOM_MARGIN;
    this.series = this.read(document.getElementById(svg.dataset.table));
  }

  Chart.prototype.x = function (day) {
    return this.left + (day - this.lo) / (this.hi - this.lo) * (this.right - this.left);
  };

  Chart.prototype.y = function (value) {
    var v = Math.min(Math.max(value, Math.pow(10, LOG_MIN)), Math.pow(10, LOG_MAX));
    var frac = (Math.log10(v) - LOG_MIN) / (LOG_MAX - LOG_MIN);
    return this.bottom - frac * (this.bottom - this.top);
  };

  /* The series (from the legend keys) with their points (from the table's rows). */
  Chart.prototype.read = function (table) {
    var byLabel = {};
    var series = this.keys.map(function (key) {
      var s = {
        label: key.dataset.series, colour: key.dataset.colour, shape: key.dataset.shape,
        dash: key.dataset.dash, key: key, points: [], current: 0, group: null
      };
      byLabel[s.label] = s;
      return s;
    });
    table.querySelectorAll("tbody tr[data-series]").forEach(function (row) {
      var s = byLabel[row.dataset.series];
      if (!s) {
        return;
      }
      s.points.push({
        day: Number(row.dataset.day), date: row.dataset.date, vaf: Number(row.dataset.vaf),
        state: row.dataset.state,
        lod: row.dataset.lod === "" ? NaN : Number(row.dataset.lod)
      });
    });
    series.forEach(function (s) {
      s.points.sort(function (a, b) { return a.day - b.day; });
    });
    return series;
  };

  Chart.prototype.plotted = function (p) {
    if (p.state === "detected") {
      return p.vaf;
    }
    return isFinite(p.lod) ? p.lod : Math.pow(10, LOG_MIN);
  };

  Chart.prototype.draw = function () {
    var svg = this.svg;
    Array.prototype.slice.call(svg.childNodes).forEach(function (node) {
      if (node.nodeName !== "title" && node.nodeName !== "desc") {
        svg.removeChild(node);
      }
    });
    el("rect", { x: 0, y: 0, width: this.width, height: this.height, fill: "#ffffff" }, svg);
    this.axes();
    this.lodBand();
    this.events();
    var layer = el("g", { "class": "series-layer" }, svg);
    this.series.forEach(function (s, i) {
      this.drawSeries(s, i, layer);
    }, this);
    this.ring = el("g", { "class": "focus-ring", visibility: "hidden", "aria-hidden": "true" },
      svg);
    el("circle", { r: 13, fill: "none", stroke: INK, "stroke-width": 3 }, this.ring);
    el("circle", { r: 10.5, fill: "none", stroke: "#ffffff", "stroke-width": 2 }, this.ring);
  };

  Chart.prototype.axes = function () {
    var g = el("g", { "class": "axes", "aria-hidden": "true" }, this.svg);
    for (var k = LOG_MIN; k <= LOG_MAX; k += 1) {
      var y = this.y(Math.pow(10, k));
      el("line", { x1: this.left, y1: y, x2: this.right, y2: y, stroke: GRID }, g);
      text(g, this.left - 8, y + 6, pct(Math.pow(10, k)), { "text-anchor": "end" });
    }
    dayTicks(this.lo, this.hi).forEach(function (day) {
      var x = this.x(day);
      el("line", { x1: x, y1: this.top, x2: x, y2: this.bottom, stroke: GRID }, g);
      text(g, x, this.bottom + 22, String(day), { "text-anchor": "middle" });
    }, this);
    el("line", { x1: this.left, y1: this.top, x2: this.left, y2: this.bottom, stroke: INK,
      "stroke-width": 1.5 }, g);
    el("line", { x1: this.left, y1: this.bottom, x2: this.right, y2: this.bottom, stroke: INK,
      "stroke-width": 1.5 }, g);
    text(g, (this.left + this.right) / 2, this.bottom + 50, this.svg.dataset.axisLabel,
      { "text-anchor": "middle", "font-size": 17 });
    var mid = (this.top + this.bottom) / 2;
    text(g, 20, mid, "Variant allele fraction (log scale)",
      { "text-anchor": "middle", "font-size": 17, transform: "rotate(-90 20 " + mid + ")" });
  };

  /* The 95 % LoD of each draw over the variants: range as a band, median as a dashed line. */
  Chart.prototype.lodBand = function () {
    var perDay = {};
    this.series.forEach(function (s) {
      s.points.forEach(function (p) {
        if (isFinite(p.lod)) {
          (perDay[p.day] = perDay[p.day] || []).push(p.lod);
        }
      });
    });
    var days = Object.keys(perDay).map(Number).sort(function (a, b) { return a - b; });
    if (!days.length) {
      return;
    }
    var self = this;
    var upper = days.map(function (d) {
      return self.x(d) + "," + self.y(Math.max.apply(null, perDay[d]));
    });
    var lower = days.slice().reverse().map(function (d) {
      return self.x(d) + "," + self.y(Math.min.apply(null, perDay[d]));
    });
    var g = el("g", { "class": "lod", "aria-hidden": "true" }, this.svg);
    el("polygon", { points: upper.concat(lower).join(" "), fill: "#bdbdbd",
      "fill-opacity": 0.45, stroke: "none" }, g);
    el("polyline", { points: days.map(function (d) {
      return self.x(d) + "," + self.y(median(perDay[d]));
    }).join(" "), fill: "none", stroke: LOD_INK, "stroke-width": 2,
    "stroke-dasharray": "7 5" }, g);
  };

  Chart.prototype.events = function () {
    var rows = document.querySelectorAll("#event-table tbody tr[data-day]");
    var g = el("g", { "class": "events", "aria-hidden": "true" }, this.svg);
    rows.forEach(function (row) {
      var x = this.x(Number(row.dataset.day));
      el("line", { x1: x, y1: this.top, x2: x, y2: this.bottom, stroke: EVENT_INK,
        "stroke-width": 2.5, "stroke-dasharray": "6 3" }, g);
      text(g, x - 6, this.top + 18, row.dataset.event + " (day " + row.dataset.day + ")",
        { "text-anchor": "end", "font-weight": 600, fill: EVENT_INK });
    }, this);
  };

  Chart.prototype.describe = function (s, p) {
    var when = "day " + p.day + " (" + p.date + ")";
    if (p.state === "detected") {
      return s.label + ", " + when + ": VAF " + pct(p.vaf) + ", detected";
    }
    var at = isFinite(p.lod) ? ", drawn at the 95% limit of detection " + pct(p.lod) : "";
    return s.label + ", " + when + ": VAF " + pct(p.vaf) + ", " + stateWords(p.state) + at;
  };

  Chart.prototype.drawSeries = function (s, index, layer) {
    var self = this;
    var g = el("g", { "class": "series", "data-series": s.label, role: "group",
      "aria-label": s.label }, layer);
    s.group = g;
    s.nodes = [];
    for (var i = 1; i < s.points.length; i += 1) {
      var a = s.points[i - 1];
      var b = s.points[i];
      var both = a.state === "detected" && b.state === "detected";
      var attrs = { x1: this.x(a.day), y1: this.y(this.plotted(a)), x2: this.x(b.day),
        y2: this.y(this.plotted(b)), stroke: s.colour, "stroke-width": both ? 3 : 1.5,
        "stroke-opacity": both ? 1 : 0.55, "aria-hidden": "true" };
      if (s.dash) {
        attrs["stroke-dasharray"] = s.dash;
      }
      el("line", attrs, g);
    }
    s.points.forEach(function (p, i) {
      var node = marker(s.shape, self.x(p.day), self.y(self.plotted(p)), RADIUS);
      var hit = p.state === "detected";
      node.setAttribute("class", "point " + (hit ? "detected" : "not-detected"));
      node.setAttribute("fill", hit ? s.colour : "#ffffff");
      node.setAttribute("stroke", hit ? INK : s.colour);
      node.setAttribute("stroke-width", hit ? 1.2 : 2.5);
      if (p.state !== "detected" && p.state !== "not_detected") {
        node.setAttribute("stroke-dasharray", "2 2");
      }
      node.setAttribute("tabindex", i === 0 ? "0" : "-1");
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", self.describe(s, p));
      node.dataset.series = String(index);
      node.dataset.index = String(i);
      node.addEventListener("focus", function () { self.focused(s, i); });
      node.addEventListener("blur", function () { self.hideTip(); });
      node.addEventListener("mouseenter", function () { self.showTip(s, i); });
      node.addEventListener("mouseleave", function () { self.hideTip(); });
      node.addEventListener("keydown", function (event) { self.key(event, index, i); });
      g.appendChild(node);
      s.nodes.push(node);
    });
  };

  Chart.prototype.focused = function (s, i) {
    s.nodes[s.current].setAttribute("tabindex", "-1");
    s.current = i;
    s.nodes[i].setAttribute("tabindex", "0");
    var p = s.points[i];
    this.ring.setAttribute("transform",
      "translate(" + this.x(p.day) + " " + this.y(this.plotted(p)) + ")");
    this.ring.setAttribute("visibility", "visible");
    this.showTip(s, i);
  };

  Chart.prototype.showTip = function (s, i) {
    var p = s.points[i];
    var tip = this.tip;
    tip.textContent = "";
    var head = document.createElement("strong");
    head.textContent = s.label;
    tip.appendChild(head);
    var lines = ["Day " + p.day + " (" + p.date + ")", "VAF " + pct(p.vaf) + ", " +
      stateWords(p.state)];
    if (p.state !== "detected" && isFinite(p.lod)) {
      lines.push("drawn at the 95% limit of detection, " + pct(p.lod));
    }
    lines.forEach(function (line) {
      tip.appendChild(document.createElement("br"));
      tip.appendChild(document.createTextNode(line));
    });
    tip.hidden = false;
    var frame = this.frame.getBoundingClientRect();
    var box = s.nodes[i].getBoundingClientRect();
    var left = box.right - frame.left + 12;
    if (left + tip.offsetWidth > frame.width) {
      left = box.left - frame.left - tip.offsetWidth - 12;
    }
    tip.style.left = Math.max(0, left) + "px";
    tip.style.top = Math.max(0, box.top - frame.top - tip.offsetHeight / 2) + "px";
  };

  /* Hide the tooltip, or move it back to the focused point when one has focus. */
  Chart.prototype.hideTip = function () {
    var active = document.activeElement;
    if (active && active.classList && active.classList.contains("point") &&
        this.svg.contains(active)) {
      this.showTip(this.series[Number(active.dataset.series)], Number(active.dataset.index));
      return;
    }
    this.tip.hidden = true;
    this.ring.setAttribute("visibility", "hidden");
  };

  Chart.prototype.visible = function () {
    return this.series.filter(function (s) {
      return s.key.getAttribute("aria-pressed") === "true" && s.points.length;
    });
  };

  Chart.prototype.key = function (event, index, i) {
    var s = this.series[index];
    var target = null;
    if (event.key === "ArrowRight") {
      target = [s, Math.min(i + 1, s.points.length - 1)];
    } else if (event.key === "ArrowLeft") {
      target = [s, Math.max(i - 1, 0)];
    } else if (event.key === "Home") {
      target = [s, 0];
    } else if (event.key === "End") {
      target = [s, s.points.length - 1];
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      var shown = this.visible();
      var at = shown.indexOf(s) + (event.key === "ArrowDown" ? 1 : -1);
      if (at >= 0 && at < shown.length) {
        var other = shown[at];
        var day = s.points[i].day;
        var best = 0;
        other.points.forEach(function (p, j) {
          if (Math.abs(p.day - day) < Math.abs(other.points[best].day - day)) {
            best = j;
          }
        });
        target = [other, best];
      } else {
        target = [s, i];
      }
    } else if (event.key === "Escape") {
      this.tip.hidden = true;
      event.preventDefault();
      return;
    } else {
      return;
    }
    event.preventDefault();
    target[0].nodes[target[1]].focus();
  };

  Chart.prototype.toggle = function (s) {
    var shown = s.key.getAttribute("aria-pressed") !== "true";
    s.key.setAttribute("aria-pressed", shown ? "true" : "false");
    s.group.classList.toggle("hidden", !shown);
    s.key.title = shown ? "Hide " + s.label : "Show " + s.label;
  };

  Chart.prototype.enable = function () {
    var self = this;
    this.series.forEach(function (s) {
      s.key.disabled = false;
      s.key.title = "Hide " + s.label;
      s.key.addEventListener("click", function () { self.toggle(s); });
    });
  };

  function start() {
    var svg = document.getElementById("trajectory-chart");
    if (!svg || !svg.dataset.table || !document.getElementById(svg.dataset.table)) {
      return;
    }
    var chart = new Chart(svg);
    chart.draw();
    chart.enable();
    var values = document.getElementById("trajectory-values");
    if (values) {
      values.open = false; // the chart says it now; the table stays one click away
    }
    svg.setAttribute("data-state", "ready");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
