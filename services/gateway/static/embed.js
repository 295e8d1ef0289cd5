// The embed page (GET /embed/{id}, made to be framed by a publisher's page): the ad showing
// now, swapped for the next when its slot begins, ended when its slot ends. Needs live.js
// (window.AbcLive) loaded first. The page is rendered with the ad showing when it was
// served; the stream's snapshot (current and upcoming slots) takes over from there.
(function () {
  "use strict";

  const EMPTY_AD = "Your ad here"; // as _embed.EMPTY_TEXT
  const box = document.getElementById("embed");
  if (!box || !box.dataset.campaignId || !window.AbcLive) return;
  const live = window.AbcLive;
  const schedule = new live.Schedule((slot) => live.renderAd(box, slot && slot.filler, EMPTY_AD),
    Number(box.dataset.slot) || 0); // the server's rendering stands while its slot shows
  let started = false;

  live.follow(box.dataset.campaignId, null, {
    snapshot(data) {
      started = true;
      schedule.skew = data.as_of_ms - Date.now();
      schedule.reset([data.current, ...data.upcoming]);
    },
    fill(data) {
      if (started) schedule.add(data);
    },
    status(text) {
      box.dataset.live = text;
    },
  });
})();
