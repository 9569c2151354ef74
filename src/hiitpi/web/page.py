"""The plain live page (the web-app issue replaces it with the full Dash app).

Rendered with Jinja autoescaping; values that change are set by the inline script with
``textContent`` only, so any user text (a player name) is shown as text, never as HTML.
"""

from __future__ import annotations

INDEX = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>HIIT PI</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #111; color: #eee; }
  main { max-width: 960px; margin: auto; padding: 1em; }
  img { width: 100%; background: #000; border-radius: 6px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1em; font-size: 1.2em; }
  dt { color: #999; } dd { margin: 0; }
  #reps { font-size: 2em; font-weight: bold; color: #6f6; }
  #no_reps { color: #f96; } #error { color: #f66; }
  form { display: inline-block; margin: .5em .5em .5em 0; }
  input, select, button { font-size: 1em; padding: .3em .6em; }
</style>
</head>
<body>
<main>
  <h1>HIIT PI</h1>
  <img id="video" src="{{ url_for('videostream') }}" alt="live video">
  <dl>
    <dt>Player</dt><dd id="player">{{ player }}</dd>
    <dt>Exercise</dt><dd id="workout">-</dd>
    <dt>Reps</dt><dd id="reps">0</dd>
    <dt>No-reps</dt><dd id="no_reps">0</dd>
    <dt>Pace</dt><dd><span id="pace">0.0</span> / 30 s</dd>
    <dt>Last no-rep</dt><dd id="last_reason">-</dd>
    <dt>Status</dt><dd><span id="fps">0</span> fps, <span id="inference_ms">0</span> ms
      <span id="error"></span></dd>
  </dl>
  <form method="post" action="{{ url_for('command') }}" data-action="set_player">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <input type="hidden" name="action" value="set_player">
    <input name="player" maxlength="20" placeholder="player name" value="{{ player }}" required>
    <button>Set player</button>
  </form>
  <form method="post" action="{{ url_for('command') }}" data-action="start">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <input type="hidden" name="action" value="start">
    <select name="exercise">
    {% for ex in exercises %}<option value="{{ ex.id }}">{{ ex.label }}</option>{% endfor %}
    </select>
    <button>Start</button>
  </form>
  <form method="post" action="{{ url_for('command') }}" data-action="stop">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <input type="hidden" name="action" value="stop">
    <button>Stop</button>
  </form>
</main>
<script>
(function () {
  var ids = ["player", "workout", "reps", "no_reps", "pace", "last_reason", "fps",
             "inference_ms", "error"];
  function show(s) {
    ids.forEach(function (k) {
      var v = s[k];
      if (v === null || v === undefined || v === "") { v = (k === "error") ? "" : "-"; }
      if (typeof v === "number") { v = (k === "pace" || k === "fps") ? v.toFixed(1) : String(v); }
      document.getElementById(k).textContent = v;
    });
  }
  function poll() {
    fetch("{{ url_for('status') }}").then(function (r) { return r.json(); })
      .then(show).catch(function () {}).finally(function () { setTimeout(poll, 500); });
  }
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      // f.action would be the input named "action", not the URL
      fetch(f.getAttribute("action"), { method: "POST", body: new FormData(f),
                        headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (j.error) { document.getElementById("error").textContent = j.error; }
        });
    });
  });
  var img = document.getElementById("video");
  img.addEventListener("error", function () {
    setTimeout(function () { img.src = "{{ url_for('videostream') }}?t=" + Date.now(); }, 2000);
  });
  poll();
})();
</script>
</body>
</html>
"""
