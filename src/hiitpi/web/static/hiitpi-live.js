/* HIIT PI live screen (/workout and /tv): polls GET /api/status at 5 Hz, draws the count, the
 * interval clock, target, next block, last no-rep and pace drift, fires cues on changes, and
 * sends commands (POST /api/command) with an in-page confirmation where a set would end.
 *
 * Every value is set with textContent: a player name or a reason is shown as text, never HTML.
 * The clock is the engine's: remaining_s as the API answered it, counted down locally between
 * polls, so two screens agree to within the time an answer takes.
 */
(function () {
  "use strict";
  var POLL_MS = 200;
  var TIMED = { countdown: 1, work: 1, rest: 1 };
  var last = null;       // the previous status (for cues)
  var lastAt = 0;        // performance.now() when `last` arrived
  var lastTick = null;   // the 3-2-1 second last announced
  var pending = null;    // the command waiting for a confirmation

  function $(id) { return document.getElementById(id); }
  function setText(id, text) {
    var el = $(id);
    if (el && el.textContent !== text) { el.textContent = text; }
  }
  function cues() { return window.hiitpiCues; }

  function fmtClock(s) {
    if (s === null || s === undefined || !isFinite(s)) { return "--"; }
    s = Math.max(0, s);
    var whole = Math.ceil(s - 1e-6);
    var m = Math.floor(whole / 60), sec = whole % 60;
    return m + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function num(v, dflt) { return typeof v === "number" && isFinite(v) ? v : dflt; }
  function shown(s) {
    return num(s.corrected, Math.max(0, num(s.count, num(s.reps, 0)) + num(s.correction, 0)));
  }
  function noRepReason(s) { return s.last_no_rep || s.last_reason || ""; }
  function running(s) {
    return !!s.active || (!!s.interval && s.interval !== "done");
  }
  function me(screen) { return screen.dataset.me || ""; }
  function label(screen, id) {  // an exercise id -> its name (the page carries the list)
    if (!id) { return ""; }
    try { return JSON.parse(screen.dataset.labels || "{}")[id] || id; } catch (e) { return id; }
  }
  function isMine(screen, s) {  // this browser owns the station's session (the API says so)
    if (s.role) { return s.role === "owner"; }
    return !!s.player && s.player === me(screen);
  }
  function forMe(screen, s) {  // what this screen shows: someone's running session or my last
    // one; the room's screen (kiosk) keeps the last session's result up until the next starts
    if (running(s)) { return true; }
    if (screen.dataset.kiosk) { return !!s.workout || s.interval === "done"; }
    return !!s.player && s.player === me(screen);
  }

  // the remaining (or elapsed) seconds now, from the last status and its age
  function clockNow() {
    if (last === null) { return null; }
    // the API's clock is true to the moment it answered (it takes the snapshot's age off);
    // a paused clock stands still, a running one has moved on since that answer
    var age = last.paused ? 0 : (performance.now() - lastAt) / 1000;
    if (TIMED[last.interval] && last.remaining_s !== null && last.remaining_s !== undefined) {
      return { kind: "remaining", s: num(last.remaining_s, 0) - age };
    }
    if (last.active && last.elapsed_s !== null && last.elapsed_s !== undefined) {
      return { kind: "elapsed", s: num(last.elapsed_s, 0) + age };
    }
    return null;
  }

  function drawClock() {
    var el = $("live-clock");
    if (!el) { return; }
    var screen = $("live-screen");
    var c = screen && last && forMe(screen, last) ? clockNow() : null;
    var text = c === null ? "--" : (c.kind === "remaining" ? fmtClock(c.s) : fmtClock(Math.floor(c.s)));
    if (el.textContent !== text) { el.textContent = text; }
    el.dataset.seconds = c === null ? "" : c.s.toFixed(2);
    el.dataset.kind = c === null ? "" : c.kind;
    el.hidden = c === null;  // a set without a clock shows none rather than dashes
  }

  function phaseWord(s) {
    if (s.paused) { return "PAUSED"; }
    if (s.interval === "countdown") { return "GET READY"; }
    if (s.interval === "work") { return "WORK"; }
    if (s.interval === "rest") { return "REST"; }
    if (s.interval === "done") { return "DONE"; }
    if (s.active) { return "GO"; }
    return s.workout ? "DONE" : "READY";  // an ended set's result stays up: it is done
  }

  function driftText(s) {
    var pct = num(s.drift_pct, null);
    var p = pct === null ? "" : " " + (pct > 0 ? "+" : "") + Math.round(pct) + " %";
    if (s.drift === "steady") { return "Pace steady" + p; }
    if (s.drift === "slowing") { return "Slowing down" + p; }
    if (s.drift === "faster") { return "Faster" + p; }
    return "";
  }

  function render(screen, s) {
    var mine = isMine(screen, s);
    var show = forMe(screen, s);
    var state = !s.engine_running ? "offline" : running(s) ? (s.paused ? "paused" : "running") : "idle";
    screen.dataset.state = state;
    var ended = s.workout ? "done" : "";  // an ended set's result: purple, as a plan's end
    screen.dataset.interval = show ? (s.paused ? "paused" : (s.interval || (s.active ? "set" : ended))) : "";
    screen.dataset.mine = mine ? "1" : "0";
    screen.dataset.plan = s.plan ? "1" : "0";
    screen.dataset.watching = running(s) && !mine ? "1" : "0";
    var corr = num(s.correction, 0);
    var countText = String(show ? shown(s) : 0);
    setText("live-count", countText);
    var countEl = $("live-count");
    if (countEl) { countEl.dataset.digits = String(countText.length); }
    setText("live-count-note", show && corr ? "referee " + num(s.count, num(s.reps, 0)) +
      ", fixed " + (corr > 0 ? "+" : "") + corr : (show ? "reps" : "reps"));
    setText("live-target", show && s.target ? "of " + s.target : "");
    setText("live-phase", show ? phaseWord(s) : (s.engine_running ? "READY" : "OFFLINE"));
    var title = show ? (s.plan_name || label(screen, s.workout)) : "";
    if (show && s.plan_name && s.workout) { title += ": " + label(screen, s.workout); }
    setText("live-title", title);
    var where = [];
    if (show && s.rounds) { where.push("Round " + s.round + "/" + s.rounds); }
    if (show && s.blocks && s.blocks > 1) { where.push("Block " + (num(s.block, 0) + 1) + "/" + s.blocks); }
    setText("live-round", where.join(" · "));
    setText("live-next", show && (s.next_name || s.next) ? "Next: " + (s.next_name || label(screen, s.next)) : "");
    setText("live-pace", show && s.pace ? "Pace " + num(s.pace, 0).toFixed(1) + " reps / 30 s" : "");
    var reason = show ? noRepReason(s) : "";
    setText("live-no-rep", reason ? "No-rep (" + num(s.no_reps, 0) + "): " + reason :
      (show && s.no_reps ? "No-reps: " + s.no_reps : ""));
    var drift = show ? driftText(s) : "";
    setText("live-drift", drift);
    var dEl = $("live-drift");
    if (dEl) { dEl.dataset.drift = show ? (s.drift || "") : ""; }
    // the engine's word for a person ("the video ended", a failure), then falling behind (what
    // to do about it), then the referee's ("Go!"; its "Rep 12" says what the count says)
    var referee = s.referee_message || "";
    var said = s.message && s.message !== referee ? s.message : "";
    if (/^Rep \d+$/.test(referee)) { referee = ""; }
    var msg = said || s.warning || referee || s.error || "";
    if (!s.engine_running) { msg = "The referee is not running"; }
    else if (!show) { msg = screen.dataset.kiosk ? "Waiting for a workout" : "Choose a plan or an exercise"; }
    setText("live-message", msg);
    var owner = "";
    if (running(s) && s.player) {  // a kiosk is a display of the session, not a rival browser
      owner = screen.dataset.kiosk ? s.player + "'s workout" : (mine ? "" : s.player + " is working out: you are watching");
    }
    setText("live-owner", owner);
    setText("live-player", me(screen) || "guest");
  }

  function say(text) { var c = cues(); return c ? c.say(text) : false; }
  function play(name) { var c = cues(); return c ? c.play(name) : false; }
  function flash(kind) { var c = cues(); return c ? c.flash(kind) : false; }

  function shortReason(r) {  // "Go lower: elbows did not bend ..." -> "Go lower"
    var i = r.indexOf(":");
    return (i > 0 ? r.slice(0, i) : r).trim();
  }

  // one cue per poll: the most important change wins (and cancels whatever still plays)
  function fireCues(prev, s) {
    if (prev === null || prev.session_id !== s.session_id && !(s.interval && s.interval !== prev.interval)) {
      return;
    }
    if (s.interval !== prev.interval && s.interval) {
      if (s.interval === "work") { play("work"); say("go"); flash("work"); return; }
      if (s.interval === "rest") {
        play("rest"); say(s.next_name ? "rest. next: " + s.next_name : "rest"); flash("rest"); return;
      }
      if (s.interval === "done") { play("end"); say("workout done"); flash("end"); return; }
    }
    if (prev.active && !s.active && !s.interval) { play("end"); say("set done"); flash("end"); return; }
    if (num(s.no_reps, 0) > num(prev.no_reps, 0)) {
      play("no_rep"); say(shortReason(noRepReason(s)) || "no rep"); flash("no-rep"); return;
    }
    if (num(s.count, num(s.reps, 0)) > num(prev.count, num(prev.reps, 0))) {
      var slower = s.drift === "slowing" && prev.drift !== "slowing";  // the pace-drift cue
      play("rep"); say(String(shown(s)) + (slower ? ". pick up the pace" : "")); flash("rep"); return;
    }
  }

  function fireTicks() {  // 3-2-1 before work, from the locally counted-down clock
    if (last === null || last.paused || (last.interval !== "countdown" && last.interval !== "rest")) {
      lastTick = null; return;
    }
    var c = clockNow();
    if (c === null || c.kind !== "remaining") { return; }
    var n = Math.ceil(c.s - 1e-6);
    if (n >= 1 && n <= 3 && n !== lastTick) {
      lastTick = n;
      play("tick"); say(String(n)); flash("tick");
    }
  }

  function poll() {
    var screen = $("live-screen");
    if (!screen) { last = null; setTimeout(poll, 500); return; }
    if (window.hiitpiCues) { window.hiitpiCues.syncToggles(); }
    var sent = performance.now();
    fetch("/api/status", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var prev = last;
        var now = performance.now();
        last = s;
        // the answer's clock was true when the server wrote it: halfway through the round trip
        lastAt = now - Math.min(now - sent, 2000) / 2;
        render(screen, s);
        if (screen.isConnected) { fireCues(prev, s); }
        drawClock();
      })
      .catch(function () { setText("live-message", "Cannot reach the station"); })
      .finally(function () { setTimeout(poll, POLL_MS); });
  }

  function feedback(text) { setText("command-feedback", text); }
  var DONE = { start: "Started", pause: "Paused", resume: "Resumed", skip: "Skipped to the next block",
               stop: "Ended: the set is saved", adjust: "Count fixed" };
  function detail(body) {
    if (body.action === "adjust") {
      return ": " + (body.delta > 0 ? "+" : "") + body.delta + (body.set === "last" ? " on the last set" : "");
    }
    return body.action === "start" ? " " + (body.label || body.plan || body.exercise || "") : "";
  }

  function ask(text, body) {
    pending = body;
    setText("confirm-text", text);
    var el = $("confirm");
    if (el) { el.hidden = false; }
  }
  function closeAsk() {
    pending = null;
    var el = $("confirm");
    if (el) { el.hidden = true; }
  }

  // the station's CSRF token: the cookie another site can neither read nor set, sent back
  // in a header (as Dash's renderer does for its callbacks)
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)_csrf_token=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function send(body) {
    return fetch("/api/command", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body), credentials: "same-origin"
    }).then(function (r) {
      if (r.status === 401) {  // a station PIN is set: unlock, then come back here
        location.href = "/login?next=" + encodeURIComponent(location.pathname);
      }
      return r.json().catch(function () { return { ok: false, error: "HTTP " + r.status }; });
    })
      .then(function (j) {
        if (j.ok === false && j.error === "busy" && !body.confirm) {
          var q = j.owner ? j.owner + " is working out. End " + j.owner + "'s session?"
            : "A set without a player is running. End it?";
          ask(q, Object.assign({}, body, { confirm: true }));
          return j;
        }
        if (j.ok === false && j.error === "running" && !body.confirm) {
          ask("Start something new? The running set ends.", Object.assign({}, body, { confirm: true }));
          return j;
        }
        feedback(j.error ? "Not done: " + j.error : (DONE[body.action] || "") + detail(body));
        return j;
      })
      .catch(function () { feedback("Cannot reach the station"); });
  }

  function commandFor(btn, screen) {
    var action = btn.dataset.command;
    var body = { action: action };
    var player = me(screen);
    if (action === "start") {
      var sel = $(btn.dataset.select);
      var value = sel ? sel.value : "";
      if (!value) { feedback("Choose one first"); return null; }
      if (value === "random") {  // the original's Random: any exercise of the list
        var picks = Array.prototype.filter.call(sel.options, function (o) {
          return o.value && o.value !== "random";
        });
        sel.value = value = picks[Math.floor(Math.random() * picks.length)].value;
      }
      body[btn.dataset.field] = value;
      var text = sel.options[sel.selectedIndex] ? sel.options[sel.selectedIndex].text : "";
      body.label = text.split(":")[0];  // for the feedback only: "Started Tabata push-ups"
      if (player) { body.player = player; }
    } else if (action === "adjust") {
      body.delta = parseInt(btn.dataset.delta, 10);
      body.set = btn.dataset.set;
    }
    return body;
  }

  function confirmText(btn, screen) {  // ask first where a set would end
    var s = last || {};
    var action = btn.dataset.command;
    var mineRunning = running(s) && isMine(screen, s);
    if (action === "stop" && running(s)) {
      return mineRunning ? "End the workout now? The set is saved." : null;  // others: server says busy
    }
    if (action === "skip" && mineRunning) { return "Skip to the next block? This block ends now."; }
    if (action === "start" && mineRunning) { return "Start something new? The running set ends."; }
    return null;
  }

  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target : null;
    if (!t) { return; }
    if (t.closest("#confirm-yes")) { var b = pending; closeAsk(); if (b) { send(b); } return; }
    if (t.closest("#confirm-no")) { closeAsk(); feedback("Nothing changed"); return; }
    var btn = t.closest("[data-command]");
    var screen = $("live-screen");
    if (!btn || !screen) { return; }
    var body = commandFor(btn, screen);
    if (body === null) { return; }
    if (btn.dataset.takeover) { body.confirm = false; }
    var q = confirmText(btn, screen);
    if (q) { ask(q, Object.assign({}, body, { confirm: true })); } else { send(body); }
  });

  // the MJPEG stream reconnects after a restart of the station
  document.addEventListener("error", function (e) {
    var img = e.target;
    if (!img || img.id !== "video") { return; }
    setTimeout(function () { img.src = "/videostream?t=" + Date.now(); }, 2000);
  }, true);

  setInterval(function () { drawClock(); fireTicks(); }, 100);
  poll();
  window.hiitpiLive = { send: send, last: function () { return last; } };
})();
