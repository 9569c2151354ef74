/* HIIT PI cues: Web Audio sounds, speech and screen flashes, each switchable per browser.
 *
 * One cue at a time, the newest wins: a new sound stops the one playing, a new utterance
 * cancels the one being spoken, a new flash restarts the flash. Browsers keep audio locked
 * until the page is tapped: the first tap or key press unlocks it and the banner says so.
 * window.hiitpiCues is used by hiitpi-live.js.
 */
(function () {
  "use strict";
  var KEY = "hiitpi.cues";
  var DEFAULTS = { sound: true, voice: true, flash: true };
  // frequency (Hz), duration (s), wave, then an optional second tone
  var SOUNDS = {
    rep: [[880, 0.12, "sine"]],
    no_rep: [[196, 0.28, "sawtooth"]],
    tick: [[660, 0.1, "square"]],
    work: [[523, 0.14, "triangle"], [1047, 0.3, "triangle"]],
    rest: [[784, 0.16, "sine"], [392, 0.34, "sine"]],
    end: [[523, 0.18, "triangle"], [659, 0.18, "triangle"], [784, 0.5, "triangle"]]
  };
  var ctx = null;
  var playing = [];
  var unlocked = false;

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      var out = {};
      Object.keys(DEFAULTS).forEach(function (k) {
        out[k] = typeof saved[k] === "boolean" ? saved[k] : DEFAULTS[k];
      });
      return out;
    } catch (e) {
      return Object.assign({}, DEFAULTS);
    }
  }
  var prefs = load();

  function save() {
    try { window.localStorage.setItem(KEY, JSON.stringify(prefs)); } catch (e) { /* private mode */ }
  }

  function audio() {
    if (ctx === null) {
      var AC = window.AudioContext || window.webkitAudioContext;
      if (!AC) { return null; }
      ctx = new AC();
    }
    return ctx;
  }

  function stopAll() {
    playing.forEach(function (o) { try { o.stop(); } catch (e) { /* already ended */ } });
    playing = [];
  }

  function play(name) {
    if (!prefs.sound || !SOUNDS[name]) { return false; }
    var ac = audio();
    if (ac === null) { return false; }
    stopAll();
    var t = ac.currentTime;
    SOUNDS[name].forEach(function (tone) {
      var osc = ac.createOscillator();
      var gain = ac.createGain();
      osc.type = tone[2];
      osc.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.35, t + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + tone[1]);
      osc.connect(gain).connect(ac.destination);
      osc.start(t);
      osc.stop(t + tone[1] + 0.02);
      playing.push(osc);
      t += tone[1];
    });
    return true;
  }

  function say(text) {
    if (!prefs.voice || !text || !window.speechSynthesis) { return false; }
    var synth = window.speechSynthesis;
    synth.cancel();  // the newest wins: never a queue of stale counts
    var u = new SpeechSynthesisUtterance(String(text));
    u.rate = 1.15;
    synth.speak(u);
    return true;
  }

  function flash(kind) {
    if (!prefs.flash) { return false; }
    var el = document.getElementById("flash");
    if (!el) { return false; }
    el.className = "";
    void el.offsetWidth;  // restart the animation
    el.className = "flash-" + kind;
    return true;
  }

  function showUnlock() {
    var el = document.getElementById("audio-unlock");
    if (!el) { return; }
    var anyOn = prefs.sound || prefs.voice;
    if (!anyOn) {
      el.textContent = "Sound and voice are off";
      el.dataset.state = "off";
    } else if (unlocked) {
      el.textContent = "Sound on";
      el.dataset.state = "on";
    } else {
      el.textContent = "Tap anywhere to turn sound on";
      el.dataset.state = "locked";
    }
  }

  function unlock() {
    if (unlocked) { return; }
    var ac = audio();
    if (ac !== null && ac.state === "suspended") { ac.resume(); }
    if (window.speechSynthesis) {  // a silent utterance inside the gesture unlocks speech
      var u = new SpeechSynthesisUtterance(" ");
      u.volume = 0;
      window.speechSynthesis.speak(u);
    }
    unlocked = true;
    showUnlock();
  }
  document.addEventListener("pointerdown", unlock, true);
  document.addEventListener("keydown", unlock, true);

  function syncToggles() {
    document.querySelectorAll("[data-cue]").forEach(function (b) {
      var on = !!prefs[b.dataset.cue];
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("off", !on);
    });
    showUnlock();
  }

  document.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-cue]") : null;
    if (!b) { return; }
    var k = b.dataset.cue;
    prefs[k] = !prefs[k];
    save();
    if (!prefs.voice && window.speechSynthesis) { window.speechSynthesis.cancel(); }
    if (!prefs.sound) { stopAll(); }
    syncToggles();
  });

  window.hiitpiCues = {
    play: play, say: say, flash: flash, syncToggles: syncToggles,
    prefs: function () { return Object.assign({}, prefs); },
    unlocked: function () { return unlocked; }
  };
})();
