/* Printer-down alarm: a red bar on every staff page while a printer that prints by itself is
 * down (no agent, paper out, cover open) for longer than the server's threshold, with what to do,
 * and a short sound once per incident. The sound can be muted on this device (localStorage).
 */
(function () {
  "use strict";

  const bar = document.getElementById("printer-alarm");
  if (!bar) return;
  const POLL_MS = 4000;
  const MUTE_KEY = "cantina.alarmSound";
  const HEARD_KEY = "cantina.alarmHeard";
  const text = bar.querySelector("[data-alarm-text]");
  const mute = bar.querySelector("[data-alarm-mute]");

  function muted() {
    try { return localStorage.getItem(MUTE_KEY) === "off"; } catch (error) { return false; }
  }

  function renderMute() {
    mute.textContent = muted() ? bar.dataset.unmuteLabel : bar.dataset.muteLabel;
  }

  mute.addEventListener("click", function () {
    try { localStorage.setItem(MUTE_KEY, muted() ? "on" : "off"); } catch (error) { /* private mode */ }
    renderMute();
  });

  function heard() {
    try { return JSON.parse(localStorage.getItem(HEARD_KEY) || "[]"); } catch (error) { return []; }
  }

  function beep() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      const audio = new Context();
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "square";
      tone.frequency.value = 880;
      gain.gain.value = 0.15;
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
      tone.onended = function () { audio.close(); };
    } catch (error) {
      // No audio device, or the browser wants a tap first: the bar still shows.
    }
  }

  function duration(seconds) {
    const minutes = Math.floor(seconds / 60);
    return minutes ? minutes + " min" : seconds + " s";
  }

  function show(alarms) {
    if (!alarms.length) {
      bar.hidden = true;
      bar.dataset.alarms = "";
      text.textContent = "";
      return;
    }
    text.textContent = alarms.map(function (alarm) {
      return bar.dataset.downLabel
        .replace("{printer}", "“" + alarm.printer + "”")
        .replace("{duration}", duration(alarm.seconds))
        .replace("{reason}", alarm.advice);
    }).join(" ");
    bar.dataset.alarms = alarms.map(function (alarm) { return alarm.id; }).join(",");
    bar.hidden = false;
    renderMute();
    // Once per incident, on this device: not at every poll, nor on every page it opens.
    const already = heard();
    const fresh = alarms.filter(function (alarm) { return already.indexOf(alarm.id) === -1; });
    if (fresh.length) {
      try {
        localStorage.setItem(HEARD_KEY, JSON.stringify(already.concat(fresh.map(function (a) { return a.id; })).slice(-50)));
      } catch (error) { /* private mode */ }
      bar.dataset.sounded = String(Number(bar.dataset.sounded || 0) + 1);
      if (!muted()) beep();
    }
  }

  async function poll() {
    try {
      const response = await fetch(bar.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (response.ok && !response.redirected) show((await response.json()).alarms || []);
    } catch (error) {
      // Server unreachable: the live banner already says so.
    }
  }

  poll();
  setInterval(poll, POLL_MS);
})();
