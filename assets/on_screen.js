/* noisescope: the page tells the server which panels it shows (see app/on_screen.py).
 *
 * Every element with the class `ns-watch` carries its panel's key in a class `ns-key-<key>`.
 * An IntersectionObserver follows them (with a 200 px margin, so a panel about to scroll in is
 * redrawn before it arrives) and, 100 ms after the last change, the keys of those on screen go,
 * space-separated ("-" when none is; a hidden tab's panels are not on screen), into the value
 * of the page's hidden text input with the class `ns-on-screen`: Bokeh sends the change to the
 * server, where a playing tab redraws only those panels. Panels built later are found by a scan
 * every 1.5 s.
 *
 * A plain script, not a Panel component: a component renders asynchronously and delayed the
 * page's first render; a report is then one property change of one model (no re-render of a
 * template, no walk of the page's model graph on the server).
 */
(function () {
  "use strict";
  if (typeof Bokeh === "undefined" || window.__noisescopeOnScreen) {
    return;
  }
  const WATCH_CLASS = "ns-watch";
  const KEY_PREFIX = "ns-key-";
  const SINK_CLASS = "ns-on-screen";
  const SCAN_INTERVAL_MS = 1500;
  const MARGIN_PX = 200;
  const DEBOUNCE_MS = 100;

  // watched element -> whether it intersects the window (with the margin)
  const intersecting = new Map();
  const store = (window.__noisescopeOnScreen = { sink: null, shown: null });

  function sink() {
    if (store.sink !== null && store.sink.document !== null) {
      return store.sink;
    }
    store.sink = null;
    for (const doc of Bokeh.documents) {
      for (const model of doc.all_models) {
        const classes = model.css_classes;
        if (Array.isArray(classes) && classes.includes(SINK_CLASS)) {
          store.sink = model;
          return model;
        }
      }
    }
    return null;
  }

  function keyOf(el) {
    for (const name of el.classList) {
      if (name.startsWith(KEY_PREFIX)) {
        return name.slice(KEY_PREFIX.length);
      }
    }
    return null;
  }

  let pending = null;
  function schedule() {
    if (pending === null) {
      pending = setTimeout(report, DEBOUNCE_MS);
    }
  }

  // The keys of the watched elements on screen. An element in a tab that is not open is
  // connected but not rendered (no client rects): the observer need not say so when its tab
  // is hidden, so it is left out here.
  function shownText() {
    const keys = new Set();
    for (const [el, on] of intersecting) {
      if (on && el.isConnected && el.getClientRects().length > 0) {
        keys.add(keyOf(el));
      }
    }
    keys.delete(null);
    return keys.size ? [...keys].sort().join(" ") : "-";
  }

  function report() {
    pending = null;
    const text = shownText();
    const model = sink();
    if (model === null) {
      return;  // the document is not there yet: the next scan reports
    }
    store.shown = text;
    if (model.value !== text) {
      model.value = text;
    }
  }

  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        intersecting.set(entry.target, entry.isIntersecting);
      }
      schedule();
    },
    { rootMargin: `${MARGIN_PX}px` },
  );

  function scan(root) {
    for (const el of root.querySelectorAll("*")) {
      if (el.classList.contains(WATCH_CLASS) && !intersecting.has(el)) {
        intersecting.set(el, false);
        observer.observe(el);
      }
      if (el.shadowRoot) {
        scan(el.shadowRoot);
      }
    }
  }

  function tick() {
    for (const el of intersecting.keys()) {
      if (!el.isConnected) {
        intersecting.delete(el);
        observer.unobserve(el);
      }
    }
    scan(document);
    const model = sink();
    if (
      model !== null &&
      intersecting.size &&
      (model.value !== store.shown || shownText() !== store.shown)
    ) {
      // the first report, a report lost with a document not yet there, or a change the
      // observer did not report (a tab hidden)
      schedule();
    }
  }

  setInterval(tick, SCAN_INTERVAL_MS);
})();
