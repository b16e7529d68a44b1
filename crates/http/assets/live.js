// Live updates: listens to /api/live (server-sent events) and fires `live:<kind>` on
// document.body with the event's data, so that htmx parts refresh themselves
// (hx-trigger="live:message from:body") and small modules react. EventSource reconnects
// by itself after a network drop.
(function () {
  if (!window.EventSource || document.body.dataset.live !== "on") return;
  const source = new EventSource("/api/live");
  source.onmessage = (e) => {
    let data = {};
    try { data = JSON.parse(e.data); } catch (_) { return; }
    document.body.dispatchEvent(new CustomEvent("live:" + (data.kind || "message"), { detail: data }));
  };
})();
