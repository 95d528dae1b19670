/* oncoresist: interaction on the VAF trajectory chart of the patient page.
 *
 * The chart itself is drawn on the server by the report's own function
 * (oncoresist.report._svg.trajectory_svg, through the figure layer), so the web page and
 * the downloaded report show the same picture, with the same colour and marker for each
 * variant. This script draws nothing of the data; it adds interaction to the elements the
 * SVG already carries:
 *
 *   <g class="series" data-series="LABEL">   one per variant
 *     <... class="marker point detected|not-detected|not-assessable"
 *          data-day data-date data-vaf data-state data-lod>   one per draw
 *
 * A legend key (#trajectory-legend .legend-key[data-series], a toggle button, so click,
 * Enter and Space) hides or shows its series. Every point takes focus, one tab stop per
 * series: Left and Right move along the variant, Up and Down between variants, Home and
 * End to its first and last draw, Escape hides the tooltip. Focus or hover shows a tooltip
 * with day, date, VAF and call.
 *
 * No dependencies and nothing inline (the page's CSP allows only scripts from /static).
 */
(function () {
  "use strict";

  var NS = "http://www.w3.org/2000/svg";
  var INK = "#1a1a1a";

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

  function stateWords(state) {
    return state === "detected" ? "detected" : state.replace(/_/g, " ");
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (key) {
      node.setAttribute(key, String(attrs[key]));
    });
    parent.appendChild(node);
    return node;
  }

  function Chart(svg) {
    this.svg = svg;
    this.frame = svg.parentNode;
    this.tip = document.getElementById("trajectory-tip");
    var keys = {};
    document.querySelectorAll("#trajectory-legend .legend-key").forEach(function (key) {
      keys[key.dataset.series] = key;
    });
    this.series = Array.prototype.map.call(svg.querySelectorAll("g.series"), function (g) {
      var nodes = Array.prototype.slice.call(g.querySelectorAll(".point"));
      nodes.sort(function (a, b) { return Number(a.dataset.day) - Number(b.dataset.day); });
      return {
        label: g.dataset.series, group: g, key: keys[g.dataset.series] || null, nodes: nodes,
        current: 0,
        points: nodes.map(function (n) {
          return { day: Number(n.dataset.day), date: n.dataset.date || "",
            vaf: Number(n.dataset.vaf), state: n.dataset.state, lod: Number(n.dataset.lod) };
        })
      };
    });
  }

  Chart.prototype.describe = function (s, p) {
    var when = "day " + p.day + (p.date ? " (" + p.date + ")" : "");
    if (p.state === "detected") {
      return s.label + ", " + when + ": VAF " + pct(p.vaf) + ", detected";
    }
    var at = isFinite(p.lod) ? ", drawn at the 95% limit of detection " + pct(p.lod) : "";
    return s.label + ", " + when + ": VAF " + pct(p.vaf) + ", " + stateWords(p.state) + at;
  };

  /* Points become focusable, labelled images; their <title> (the tooltip without this
   * script) gives way to the richer tooltip below. */
  Chart.prototype.enhance = function () {
    var self = this;
    this.svg.setAttribute("role", "group");
    this.series.forEach(function (s, index) {
      s.group.setAttribute("role", "group");
      s.group.setAttribute("aria-label", s.label);
      s.nodes.forEach(function (node, i) {
        var title = node.querySelector("title");
        if (title) {
          node.removeChild(title);
        }
        node.setAttribute("tabindex", i === 0 ? "0" : "-1");
        node.setAttribute("role", "img");
        node.setAttribute("aria-label", self.describe(s, s.points[i]));
        node.dataset.series = String(index);
        node.dataset.index = String(i);
        node.addEventListener("focus", function () { self.focused(s, i); });
        node.addEventListener("blur", function () { self.hideTip(); });
        node.addEventListener("mouseenter", function () { self.showTip(s, i); });
        node.addEventListener("mouseleave", function () { self.hideTip(); });
        node.addEventListener("keydown", function (event) { self.key(event, index, i); });
      });
    });
    this.ring = el("g", { "class": "focus-ring", visibility: "hidden", "aria-hidden": "true" },
      this.svg);
    el("circle", { r: 13, fill: "none", stroke: INK, "stroke-width": 3 }, this.ring);
    el("circle", { r: 10.5, fill: "none", stroke: "#ffffff", "stroke-width": 2 }, this.ring);
  };

  Chart.prototype.focused = function (s, i) {
    s.nodes[s.current].setAttribute("tabindex", "-1");
    s.current = i;
    s.nodes[i].setAttribute("tabindex", "0");
    var box = s.nodes[i].getBBox();
    this.ring.setAttribute("transform",
      "translate(" + (box.x + box.width / 2) + " " + (box.y + box.height / 2) + ")");
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
    var lines = ["Day " + p.day + (p.date ? " (" + p.date + ")" : ""),
      "VAF " + pct(p.vaf) + ", " + stateWords(p.state)];
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
      return !s.group.classList.contains("hidden") && s.points.length;
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
      if (!s.key) {
        return;
      }
      s.key.disabled = false;
      s.key.title = "Hide " + s.label;
      s.key.addEventListener("click", function () { self.toggle(s); });
    });
  };

  function start() {
    var svg = document.getElementById("trajectory-chart");
    if (!svg) {
      return;
    }
    var chart = new Chart(svg);
    chart.enhance();
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
