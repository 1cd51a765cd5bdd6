/* batch-emulator dashboard: live views by polling small server-rendered fragments and JSON.
   Plain JavaScript, no dependencies. User text only ever reaches the page through textContent
   or through fragments the server rendered with escaping. */
(function () {
  "use strict";

  var POLL_MS = 1000;
  var TERMINAL = { SUCCEEDED: true, FAILED: true };
  var ACTION_HEADERS = { "X-Dashboard-Action": "1", "Content-Type": "application/json", Accept: "application/json" };

  /* Run `task` every `intervalMs` while it resolves to true; skipped while the tab is hidden. */
  function poll(task, intervalMs) {
    function tick() {
      if (document.hidden) { setTimeout(tick, intervalMs); return; }
      Promise.resolve().then(task).then(function (again) {
        if (again !== false) setTimeout(tick, intervalMs);
      }, function () { setTimeout(tick, intervalMs * 3); });
    }
    setTimeout(tick, intervalMs);
  }

  function utc(ms) {
    return new Date(ms).toISOString().replace("T", " ").slice(0, 23);
  }

  function post(url, body) {
    return fetch(url, { method: "POST", headers: ACTION_HEADERS, body: JSON.stringify(body || {}), credentials: "same-origin" })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) throw new Error(answer.message || ("HTTP " + response.status));
          return answer;
        });
      });
  }

  /* ---- job list: the rows refresh themselves ---- */
  var rows = document.getElementById("job-rows");
  if (rows) {
    var rowsTag = null;
    var indicator = document.getElementById("live-indicator");
    poll(function () {
      var headers = rowsTag ? { "If-None-Match": rowsTag } : {};
      return fetch(rows.dataset.liveUrl, { credentials: "same-origin", cache: "no-store", headers: headers })
        .then(function (response) {
          var fine = response.ok || response.status === 304;
          if (indicator) indicator.classList.toggle("stale", !fine);
          if (!response.ok) return true;  // 304: the rows shown are current
          rowsTag = response.headers.get("ETag");
          return response.text().then(function (html) { rows.innerHTML = html; return true; });
        });
    }, POLL_MS);
  }

  /* ---- job page: status, timeline, attempts; Cancel and Terminate ---- */
  var live = document.getElementById("job-live");
  var actions = document.getElementById("job-actions");
  function refreshJob() {
    return fetch(live.dataset.liveUrl, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) return false;
      var status = response.headers.get("X-Job-Status") || "";
      return response.text().then(function (html) {
        live.innerHTML = html;
        live.dataset.status = status;
        if (actions && TERMINAL[status]) actions.hidden = true;
        return !TERMINAL[status];
      });
    });
  }
  if (live) {
    if (!TERMINAL[live.dataset.status]) poll(refreshJob, POLL_MS);
    if (actions) {
      actions.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-action]");
        if (!button) return;
        var reason = document.getElementById("stop-reason").value.trim();
        var url = button.dataset.action === "cancel" ? live.dataset.cancelUrl : live.dataset.terminateUrl;
        var result = document.getElementById("action-result");
        button.disabled = true;
        post(url, reason ? { reason: reason } : {}).then(function () {
          result.textContent = button.dataset.action === "cancel" ? "CancelJob sent" : "TerminateJob sent";
          return refreshJob();
        }).catch(function (error) {
          result.textContent = error.message;
        }).then(function () { button.disabled = false; });
      });
    }
  }

  /* ---- the log: the last 1,000 lines, older ones on demand, new ones as they come ---- */
  var logView = document.getElementById("log");
  if (logView) {
    var streamSelect = document.getElementById("log-stream");
    var olderButton = document.getElementById("log-older");
    var follow = document.getElementById("log-follow");
    var logState = document.getElementById("log-state");
    var PAGE = 1000;
    var log = { stream: streamSelect.value || "", forward: null, backward: null,
                terminal: !!TERMINAL[logView.dataset.status], readsAfterEnd: 0 };

    var lineNode = function (event) {
      var line = document.createElement("span");
      line.className = "line";
      var time = document.createElement("time");
      time.textContent = utc(event.t) + "  ";
      line.appendChild(time);
      line.appendChild(document.createTextNode(event.m + "\n"));
      return line;
    };
    var fragmentOf = function (events) {
      var fragment = document.createDocumentFragment();
      events.forEach(function (event) { fragment.appendChild(lineNode(event)); });
      return fragment;
    };
    var logUrl = function (token) {
      var url = new URL(logView.dataset.url, window.location.href);
      if (log.stream) url.searchParams.set("stream", log.stream);
      if (token) url.searchParams.set("token", token);
      return url.toString();
    };
    var readLog = function (token) {
      return fetch(logUrl(token), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        });
    };
    var adoptStream = function (stream) {
      if (!stream || log.stream) return;
      log.stream = stream;
      if (!Array.prototype.some.call(streamSelect.options, function (o) { return o.value === stream; })) {
        var option = document.createElement("option");
        option.value = stream;
        option.textContent = stream;
        streamSelect.appendChild(option);
      }
      streamSelect.value = stream;
    };
    var scrollDown = function () { if (follow.checked) logView.scrollTop = logView.scrollHeight; };

    var readTail = function () {
      return readLog(null).then(function (page) {
        adoptStream(page.stream);
        logView.replaceChildren(fragmentOf(page.events));
        log.forward = page.events.length ? page.forward : null;
        log.backward = page.backward;
        log.terminal = page.terminal;
        olderButton.hidden = !(page.backward && page.events.length >= PAGE);
        logState.textContent = page.stream ? "" : "no log stream yet";
        scrollDown();
      });
    };
    var readNew = function () {
      if (!log.forward) return readTail();
      return readLog(log.forward).then(function (page) {
        logView.appendChild(fragmentOf(page.events));
        if (page.forward) log.forward = page.forward;
        log.terminal = page.terminal;
        if (page.events.length) scrollDown();
      });
    };
    olderButton.addEventListener("click", function () {
      olderButton.disabled = true;
      readLog(log.backward).then(function (page) {
        var height = logView.scrollHeight;
        logView.insertBefore(fragmentOf(page.events), logView.firstChild);
        logView.scrollTop += logView.scrollHeight - height;
        log.backward = page.backward || log.backward;
        olderButton.hidden = page.events.length < PAGE;
      }).then(function () { olderButton.disabled = false; });
    });
    streamSelect.addEventListener("change", function () {
      log.stream = streamSelect.value;
      log.forward = null;
      readTail();
    });
    follow.addEventListener("change", scrollDown);
    readTail().then(function () {
      poll(function () {
        return readNew().then(function () {
          if (log.terminal) log.readsAfterEnd += 1;  // lines written just before the end
          return log.readsAfterEnd < 3;
        });
      }, POLL_MS);
    });
  }

  /* ---- an array's children: one cell each, coloured by status ---- */
  var grid = document.getElementById("child-grid");
  if (grid) {
    var COLOURS = ["#9aa5b1", "#b08fd8", "#e0a526", "#4aa3df", "#1f6fd1", "#2e9e57", "#d64545"];
    var hover = document.getElementById("grid-hover");
    var legend = document.getElementById("grid-legend");
    var layout = { statuses: "", legend: [], cell: 8, columns: 100 };

    var draw = function () {
      var count = layout.statuses.length;
      var width = Math.max(200, Math.min(grid.parentElement.clientWidth || 800, 1000));
      layout.columns = Math.max(10, Math.floor(width / layout.cell));
      var lines = Math.max(1, Math.ceil(count / layout.columns));
      grid.width = layout.columns * layout.cell;
      grid.height = lines * layout.cell;
      var context = grid.getContext("2d");
      context.clearRect(0, 0, grid.width, grid.height);
      for (var i = 0; i < count; i++) {
        context.fillStyle = COLOURS[layout.statuses.charCodeAt(i) - 48] || "#000";
        context.fillRect((i % layout.columns) * layout.cell, Math.floor(i / layout.columns) * layout.cell,
                         layout.cell - 1, layout.cell - 1);
      }
    };
    var drawLegend = function () {
      var counts = layout.legend.map(function () { return 0; });
      for (var i = 0; i < layout.statuses.length; i++) counts[layout.statuses.charCodeAt(i) - 48] += 1;
      legend.replaceChildren();
      layout.legend.forEach(function (status, index) {
        var item = document.createElement("span");
        item.className = "badge status-" + status.toLowerCase();
        item.textContent = status + " " + counts[index];
        legend.appendChild(item);
      });
    };
    var indexAt = function (event) {
      var box = grid.getBoundingClientRect();
      var x = Math.floor((event.clientX - box.left) / layout.cell);
      var y = Math.floor((event.clientY - box.top) / layout.cell);
      var index = y * layout.columns + x;
      return x < layout.columns && index < layout.statuses.length ? index : -1;
    };
    grid.addEventListener("mousemove", function (event) {
      var index = indexAt(event);
      hover.textContent = index < 0 ? "" :
        "child " + index + ": " + layout.legend[layout.statuses.charCodeAt(index) - 48];
    });
    grid.addEventListener("click", function (event) {
      var index = indexAt(event);
      if (index >= 0) window.location.href = grid.dataset.childUrl.replace("INDEX", String(index));
    });
    var childrenTag = null;
    var readChildren = function () {
      var headers = { Accept: "application/json" };
      if (childrenTag) headers["If-None-Match"] = childrenTag;
      return fetch(grid.dataset.url, { credentials: "same-origin", cache: "no-store", headers: headers })
        .then(function (response) {
          if (response.status === 304) return true;
          if (!response.ok) return false;
          childrenTag = response.headers.get("ETag");
          return response.json().then(function (answer) {
            layout.statuses = answer.statuses;
            layout.legend = answer.legend;
            draw();
            drawLegend();
            return !answer.terminal;
          });
        });
    };
    readChildren().then(function (again) { if (again) poll(readChildren, 2 * POLL_MS); });
    window.addEventListener("resize", draw);
  }

  /* ---- test controls ---- */
  var controls = document.getElementById("controls");
  if (controls) {
    controls.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-control]");
      if (!button) return;
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      var action = button.dataset.control;
      var body = action === "advance" ? { seconds: Number(document.getElementById("advance-seconds").value) } : {};
      var result = document.getElementById("control-result");
      post(controls.dataset.baseUrl.replace("ACTION", action), body).then(function (answer) {
        document.getElementById("clock-now").textContent = utc(answer.nowMs);
        document.getElementById("clock-state").textContent = answer.paused ? "paused" : "running";
        result.textContent = action + ": done";
      }).catch(function (error) { result.textContent = error.message; });
    });
  }
})();
