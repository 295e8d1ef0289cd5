// Live updates for Abc's pages, over the gateway's Server-Sent Events
// (GET /campaigns/{id}/events; the events are described in services/gateway/_live.py).
//
// Defines window.AbcLive (the price rule, an ad's markup, the schedule of slots, the
// stream), used by embed.js too, and drives the campaign page when there is one:
//   <main id="campaign" data-campaign-id data-head data-curve='{json}' data-as-of-ms>
//   #price, #current-ad, #current-slot, #recent-slots tbody, #live-status, .next-slot
// The price falls live from the curve; each fill adds a row and, when its slot begins,
// becomes the current ad. Every value goes in as text or an attribute set on an element
// made here: never innerHTML. EventSource reconnects by itself, sending Last-Event-ID.
(function () {
  "use strict";

  const EMPTY_AD = "Nothing is showing: the next slot is for sale.";
  const PRICE_TICK_MS = 100;
  const MAX_ROWS = 50; // recent slots kept in the table
  const MAX_TIMER_MS = 3600 * 1000;
  const REOPEN_MS = [1000, 2000, 5000, 10000, 30000]; // after a refused stream (404, 503)

  // types.proto PriceCurve: min_price with no last purchase or once it ended; before that
  // the straight line from 2 * last.price at bought_at_ms down to min_price at end_ms,
  // in integers, rounded up. BigInt: exact however large the money.
  function priceAt(curve, nowMs) {
    const floor = BigInt(curve.min_price);
    const last = curve.last;
    const now = BigInt(Math.floor(nowMs));
    if (!last || now >= BigInt(last.end_ms)) return floor;
    const top = 2n * BigInt(last.price);
    const bought = BigInt(last.bought_at_ms);
    const end = BigInt(last.end_ms);
    if (now <= bought || end <= bought) return top > floor ? top : floor;
    const fallen = ((top - floor) * (now - bought)) / (end - bought); // >= 0: floors
    const price = top - fallen;
    return price > floor ? price : floor;
  }

  // link when it is an http(s) URL with a host and no credentials (or spaces), else null
  // (the gateway checks too).
  function safeLink(link) {
    if (typeof link !== "string" || link === "" || /[\s\x00-\x1f\x7f]/.test(link)) return null;
    let url;
    try {
      url = new URL(link);
    } catch (e) {
      return null;
    }
    const web = url.protocol === "http:" || url.protocol === "https:";
    return web && url.hostname && !url.username && !url.password ? link : null;
  }

  // Only images this gateway serves (a path on this origin).
  function safeImage(src) {
    return typeof src === "string" && /^\/[^/\\]/.test(src) ? src : null;
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text !== undefined) made.textContent = String(text);
    return made;
  }

  // The ad's markup, as the pages' ad_card and no_ad (templates/_ads.html) render it:
  // <figure class="ad"><img><figcaption><span.ad-text><a.ad-link></figcaption></figure>.
  function adElement(filler, emptyText) {
    if (!filler) {
      const empty = element("div", "ad empty");
      empty.append(element("p", "", emptyText));
      return empty;
    }
    const ad = element("figure", "ad");
    const src = safeImage(filler.image_url);
    if (src) {
      const img = element("img");
      img.src = src;
      img.alt = "";
      if (filler.width > 0 && filler.height > 0) {
        img.width = filler.width;
        img.height = filler.height;
      }
      ad.append(img);
    }
    const caption = element("figcaption");
    caption.append(element("span", "ad-text", filler.text));
    const href = safeLink(filler.link);
    if (href) {
      const link = element("a", "ad-link", filler.link);
      link.href = href;
      link.rel = "nofollow noopener noreferrer ugc";
      link.target = "_blank";
      caption.append(link);
    }
    ad.append(caption);
    return ad;
  }

  function renderAd(box, filler, emptyText) {
    box.replaceChildren(adElement(filler, emptyText));
  }

  // The slots known to come (fills with times), and which one covers now; onChange(slot or
  // null) whenever that changes, at each slot's start and end. shownSlot: the slot whose ad
  // the server rendered (0: none), left as it is while it is still the one showing.
  class Schedule {
    constructor(onChange, shownSlot) {
      this.onChange = onChange;
      this.slots = [];
      this.shown = shownSlot > 0 ? { slot: shownSlot } : undefined;
      this.timer = null;
      this.skew = 0; // server clock minus this one
    }

    now() {
      return Date.now() + this.skew;
    }

    reset(slots) {
      this.slots = slots.filter((s) => s && !s.void).sort((a, b) => a.slot - b.slot);
      this.update();
    }

    add(slot) {
      if (!slot.void && !this.slots.some((s) => s.slot === slot.slot)) {
        this.slots.push(slot);
        this.slots.sort((a, b) => a.slot - b.slot);
      }
      this.update();
    }

    update() {
      const now = this.now();
      this.slots = this.slots.filter((s) => s.end_ms > now);
      const showing = this.slots.find((s) => s.start_ms <= now) || null;
      if (this.shown === undefined || (showing && showing.slot) !== (this.shown && this.shown.slot)) {
        this.shown = showing;
        this.onChange(showing);
      }
      clearTimeout(this.timer);
      const next = showing ? showing.end_ms : this.slots.length ? this.slots[0].start_ms : null;
      if (next !== null) {
        const wait = Math.min(Math.max(0, next - now) + 5, MAX_TIMER_MS);
        this.timer = setTimeout(() => this.update(), wait);
      }
    }
  }

  // The campaign's stream: handlers.snapshot(data), handlers.fill(data), handlers.status(text).
  // EventSource reconnects by itself after a dropped stream (sending Last-Event-ID); a stream
  // the gateway refused (404, 503) is reopened here, a few times, from the last slot seen.
  function follow(campaignId, after, handlers) {
    let lastSlot = after;
    let refusals = 0;
    const open = () => {
      let url = "/campaigns/" + encodeURIComponent(campaignId) + "/events";
      if (lastSlot !== null) url += "?after=" + lastSlot;
      const source = new EventSource(url);
      const seen = (e) => {
        refusals = 0;
        if (/^[0-9]+$/.test(e.lastEventId)) lastSlot = Number(e.lastEventId);
        return JSON.parse(e.data);
      };
      source.addEventListener("snapshot", (e) => handlers.snapshot(seen(e)));
      source.addEventListener("fill", (e) => handlers.fill(seen(e)));
      source.onopen = () => handlers.status("live");
      source.onerror = () => {
        if (source.readyState !== EventSource.CLOSED) {
          handlers.status("reconnecting…");
        } else if (refusals < REOPEN_MS.length) {
          handlers.status("reconnecting…");
          setTimeout(open, REOPEN_MS[refusals++]);
        } else {
          handlers.status("disconnected: reload the page");
        }
      };
    };
    open();
  }

  window.AbcLive = { priceAt, safeLink, adElement, renderAd, Schedule, follow };

  // --- the campaign page ---------------------------------------------------------------

  // "Mar 05 14:02:09", UTC: as the pages' short_when.
  function shortWhen(ms) {
    const d = new Date(ms);
    const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    const two = (n) => String(n).padStart(2, "0");
    return month + " " + two(d.getUTCDate()) + " " + two(d.getUTCHours()) + ":" +
      two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds());
  }

  // "2025-03-05 14:02:09 UTC": as the pages' when.
  function when(ms) {
    return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  // A row of #recent-slots, as templates/campaign.html renders one.
  function slotRow(fill) {
    const row = element("tr");
    row.dataset.slot = String(fill.slot);
    row.append(element("td", "", fill.slot));
    if (fill.void) {
      row.className = "void";
      const cell = element("td", "", "void (an interrupted purchase; nobody bought it)");
      cell.colSpan = 4;
      row.append(cell);
      return row;
    }
    row.append(element("td", "", fill.buyer_id), element("td", "num", fill.price));
    const bought = element("td");
    const time = element("time", "", shortWhen(fill.bought_at_ms));
    time.dateTime = new Date(fill.bought_at_ms).toISOString();
    bought.append(time);
    row.append(bought, element("td", "wide", fill.filler_id || "none"));
    return row;
  }

  function campaignPage(main) {
    const priceBox = document.getElementById("price");
    const adBox = document.getElementById("current-ad");
    const rows = document.querySelector("#recent-slots tbody");
    const statusBox = document.getElementById("live-status");
    let curve = JSON.parse(main.dataset.curve);
    const head = Number(main.dataset.head) || 0;
    let lastRow = head; // the newest slot in the table
    const slotLine = document.getElementById("current-slot");
    const schedule = new Schedule((slot) => {
      if (adBox) renderAd(adBox, slot && slot.filler, main.dataset.emptyAd || EMPTY_AD);
      if (slotLine) slotLine.textContent = slot ? "Slot " + slot.slot + ", bought by " +
        slot.buyer_id + ", until " + when(slot.end_ms) : "";
    }, adBox ? Number(adBox.dataset.slot) || 0 : 0);
    schedule.skew = Number(main.dataset.asOfMs) - Date.now() || 0;

    const tick = () => {
      if (priceBox) priceBox.textContent = priceAt(curve, schedule.now()).toString();
    };
    tick();
    setInterval(tick, PRICE_TICK_MS);

    follow(main.dataset.campaignId, head, {
      snapshot(data) {
        curve = data.curve;
        schedule.skew = data.as_of_ms - Date.now();
        schedule.reset([data.current, ...data.upcoming]);
        tick();
      },
      fill(data) {
        curve = data.curve;
        schedule.add(data);
        if (rows && data.slot > lastRow) {
          rows.prepend(slotRow(data));
          const none = document.getElementById("no-slots");
          if (none) none.remove();
          while (rows.rows.length > MAX_ROWS) rows.lastElementChild.remove();
        }
        lastRow = Math.max(lastRow, data.slot);
        for (const next of document.querySelectorAll(".next-slot")) {
          next.textContent = String(lastRow + 1);
        }
        tick();
      },
      status(text) {
        if (!statusBox) return;
        statusBox.textContent = text === "live" ? "Live" : text;
        statusBox.classList.toggle("live", text === "live");
      },
    });
  }

  const main = document.getElementById("campaign");
  if (main && main.dataset.campaignId) campaignPage(main);
})();
