// The call centre in the browser: screen pops and click-to-call. Loaded by the top bar's
// call widget (service/calls/_widget.html) only for users who take or place calls.
//
// Pops: an EventSource on the widget's stream URL (the server closes it every ~25 s and
// the browser reconnects with Last-Event-ID) tells of new pops, and the page claims one
// before showing it; without EventSource, htmx asks the "next" URL every 2 s (which
// claims). A pop is a banner with an "Open" button. It opens the page by itself only
// when the agent ticked "Open by itself" (kept in localStorage) and nothing has been typed
// into a form on the current page, so a pop never throws away a half-written form.
//
// Click-to-call: with a dial URL (the user may call and the workspace has a telephony
// provider), a click on any tel: link POSTs the number to it and shows the answer as a
// toast; without one the tel: link dials natively (a phone).
(function () {
  "use strict";
  if (window.guanxiCalls) return;
  var shell = document.getElementById("calls-shell");
  if (!shell) return;
  window.guanxiCalls = { pops: [] };
  var AUTO_KEY = "guanxi.calls.autoOpen";
  var dirty = false;

  function toast(message, level) {
    if (window.guanxiToast) window.guanxiToast(message, level);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function autoOpen() {
    try { return window.localStorage.getItem(AUTO_KEY) === "1"; } catch (e) { return false; }
  }

  function box() {
    var el = document.getElementById("call-pops");
    if (!el) {
      el = document.createElement("div");
      el.id = "call-pops";
      el.className = "call-pops";
      el.setAttribute("aria-live", "assertive");
      document.body.appendChild(el);
    }
    return el;
  }

  function prepare(banner) {
    var check = banner.querySelector("[data-call-auto-open]");
    if (check) check.checked = autoOpen();
  }

  // Every open page hears of a pop; the first to claim it shows it (one banner, even with
  // two tabs).
  function claimAndShow(pop) {
    fetch(pop.claim_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      if (response.ok) show(pop);
    }).catch(function () { /* the next page will hear of newer pops */ });
  }

  function show(pop) {
    window.guanxiCalls.pops.push(pop);
    var holder = document.createElement("div");
    holder.innerHTML = pop.html;
    var banner = holder.firstElementChild;
    if (!banner) return;
    prepare(banner);
    box().appendChild(banner);
    if (autoOpen() && !dirty && pop.url) window.location.assign(pop.url);
  }

  // A form the agent is typing in must not be lost to an automatic navigation.
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (field.closest && field.closest("form") && !field.closest(".call-pop, .search, .lang")) {
      dirty = true;
    }
  });

  document.addEventListener("change", function (event) {
    var check = event.target;
    if (check.matches && check.matches("[data-call-auto-open]")) {
      try { window.localStorage.setItem(AUTO_KEY, check.checked ? "1" : "0"); } catch (e) { /* private mode */ }
    }
  });

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-call-dismiss]");
    if (dismiss) {
      var banner = dismiss.closest(".call-pop");
      if (banner) banner.remove();
      return;
    }
    var link = event.target.closest('a[href^="tel:"]');
    var dialUrl = document.body.dataset.dialUrl;
    if (!link || !dialUrl || event.defaultPrevented || event.button !== 0) return;
    event.preventDefault();
    var number = decodeURIComponent(link.getAttribute("href").slice(4));
    var body = new URLSearchParams();
    body.set("phone", number);
    fetch(dialUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) toast(data.message, "success");
        else toast((data.error && data.error.message) || response.statusText, "error");
      });
    }).catch(function () {
      toast(shell.dataset.dialFailed, "error");
    });
  });

  if (shell.dataset.dialUrl) document.body.dataset.dialUrl = shell.dataset.dialUrl;

  // htmx's fallback swaps banners into the box; give them their checkbox state.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "call-pops") {
      event.target.querySelectorAll(".call-pop").forEach(prepare);
      var last = event.target.lastElementChild;
      if (last && autoOpen() && !dirty && last.dataset.callUrl) {
        window.location.assign(last.dataset.callUrl);
      }
    }
  });

  var streamUrl = shell.dataset.streamUrl;
  if (!streamUrl) return;
  if (window.EventSource) {
    var source = new EventSource(streamUrl);
    source.addEventListener("pop", function (event) {
      var pop;
      try { pop = JSON.parse(event.data); } catch (e) { return; /* a broken event is skipped */ }
      claimAndShow(pop);
    });
    window.guanxiCalls.source = source;
  } else if (window.htmx && shell.dataset.nextUrl) {
    var poller = box();
    poller.setAttribute("hx-get", shell.dataset.nextUrl);
    poller.setAttribute("hx-trigger", "every 2s");
    poller.setAttribute("hx-swap", "beforeend");
    window.htmx.process(poller);
  }
})();
