// The deal board: drag a card to another column (SortableJS; long-press on touch) or pick
// "Move to…" on the card; the move is posted with the CSRF token and the card's version.
// A refused move (someone changed the deal, a lost stage without a reason) snaps back with
// the server's message; a drop on "Lost" first asks the reason in a small dialog.
// No inline scripts (CSP); plain JS.
(function () {
  "use strict";

  function toast(message, level) {
    if (window.guanxiToast) window.guanxiToast(message, level);
  }

  function board() { return document.getElementById("board"); }

  function askReason() {
    var dialog = document.getElementById("lose-dialog");
    return new Promise(function (resolve) {
      if (!dialog || !dialog.showModal) { resolve(null); return; }
      var form = dialog.querySelector("form");
      form.reset();
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (dialog.returnValue !== "lose") { resolve(null); return; }
        resolve({ reason: form.elements.reason.value, note: form.elements.note.value });
      });
      dialog.showModal();
    });
  }

  function post(card, stageId, neighbours, extra) {
    var root = board();
    var data = new FormData();
    data.append("stage", stageId);
    data.append("version", card.dataset.version);
    if (neighbours.after) data.append("after_id", neighbours.after);
    if (neighbours.before) data.append("before_id", neighbours.before);
    if (extra) Object.keys(extra).forEach(function (k) { data.append(k, extra[k]); });
    var url = root.dataset.moveUrl.replace("/0/", "/" + card.dataset.id + "/");
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": root.dataset.csrf, "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  function refresh() {
    var root = board();
    if (root && window.htmx) {
      window.htmx.ajax("GET", root.dataset.boardUrl, { target: "#board", swap: "outerHTML" });
    }
  }

  function move(card, stageId, kind, neighbours, undo) {
    card.classList.add("is-moving");
    var attempt = function (extra) {
      return post(card, stageId, neighbours, extra).then(function (result) {
        if (result.ok) {
          card.dataset.version = result.body.version;
          refresh();
          return;
        }
        if (result.body.code === "reason_required") {
          return askReason().then(function (answer) {
            if (answer) return attempt(answer);
            card.classList.remove("is-moving");
            undo();
          });
        }
        card.classList.remove("is-moving");
        undo();
        toast(result.body.message || board().dataset.error, "error");
      });
    };
    attempt(null).catch(function () {
      card.classList.remove("is-moving");
      undo();
      toast(board().dataset.error, "error");
    });
  }

  function cardId(el) {
    return el && el.classList && el.classList.contains("deal-card") ? el.dataset.id : null;
  }

  function neighboursOf(card) {
    var prev = card.previousElementSibling;
    while (prev && !cardId(prev)) prev = prev.previousElementSibling;
    var next = card.nextElementSibling;
    while (next && !cardId(next)) next = next.nextElementSibling;
    return { after: cardId(prev), before: cardId(next) };
  }

  function setup() {
    var root = board();
    if (!root || !window.Sortable) return;
    root.querySelectorAll(".kanban-cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      window.Sortable.create(list, {
        group: "deals",
        draggable: ".deal-card",
        filter: "select, button, a, input",
        preventOnFilter: false,
        delay: 250,
        delayOnTouchOnly: true,
        animation: 120,
        onEnd: function (event) {
          var card = event.item;
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          var from = event.from, oldIndex = event.oldIndex;
          var undo = function () {
            var ref = from.children[oldIndex] || null;
            from.insertBefore(card, ref);
          };
          move(card, event.to.dataset.stage, event.to.dataset.kind, neighboursOf(card), undo);
        }
      });
    });
  }

  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-move-select]");
    if (!select || !select.value || !board()) return;
    var card = select.closest(".deal-card");
    var kind = select.selectedOptions[0] ? select.selectedOptions[0].dataset.kind : "open";
    move(card, select.value, kind, {}, function () { select.value = ""; });
  });

  document.addEventListener("DOMContentLoaded", setup);
  document.addEventListener("htmx:afterSettle", setup);
})();
