/* noisescope: five repaint and layout costs of BokehJS 3.9 removed, without changing what is
 * drawn.
 *
 * An animated figure repaints every frame. For each repaint BokehJS 3.9
 *
 *   1. writes every renderer's position into a <style> sheet of its own (RendererView's
 *      `update_position`). A glyph renderer's box follows its data, so the text changes at every
 *      frame, and a changed sheet ("style rule change") makes the browser rebuild the style of
 *      the figure's shadow tree at the next style query: the axes query theirs a few times per
 *      repaint, and a legend then reads its own box, which forces a layout. Written as the
 *      element's inline style, a box touches that element only. A data renderer's element is an
 *      empty box (its glyphs are drawn on the canvas): it is taken out of the layout once and
 *      no longer follows its data;
 *   2. rewrites the other position sheets (legends, annotations) with the same text: setting a
 *      <style> element's text re-parses it even when nothing changed. Equal text is not written;
 *   3. rebuilds a legend's items (new DOM, new canvases) whenever the data of a renderer in it
 *      changes (LegendView follows its items' models recursively, down to the data sources).
 *      When the items and their labels are unchanged, only the entries' "inactive" look is
 *      brought up to date; their glyphs are repainted with the legend anyway;
 *   4. lays out the whole page when a plot's axes change size (an auto-ranged axis whose tick
 *      labels widen): PlotView's `compute_layout` climbs to the layout root, which measures,
 *      lays out and repaints every plot of the page (about 110 ms on the swarm tab, a frozen
 *      frame a few times a second while playing). A plot whose outer box does not depend on its
 *      content (no `frame_width` / `frame_height`: its box comes from its sizing) lays out only
 *      itself, as the root would lay it out;
 *   5. renders a button anew, and lays out the whole page, when its `disabled` flag changes
 *      (a job's Run and Cancel buttons, at each start and end). Its element's attribute changes.
 *
 * Measured on the swarm tab's default in headless Chromium (see README): 6.4-8.8 painted
 * frames/s before 1-3, 16.7-17.6 after 1-3 (the tokens tab 15.8 before, 29.2 after), 24-28 with
 * inline boxes for data renderers, 31 with 4 as well. Each patch checks that the method it
 * replaces is there; with another BokehJS (the check in tests/ui/test_bokeh_fixes.py fails
 * first) the page keeps BokehJS's own behaviour.
 */
(function () {
  "use strict";
  if (typeof Bokeh === "undefined" || Bokeh.__noisescopeFixes) {
    return;
  }
  Bokeh.__noisescopeFixes = [];

  function patch(module, cls, method, replace) {
    let proto;
    try {
      proto = Bokeh.require(module)[cls].prototype;
    } catch (error) {
      return;  // another BokehJS: its own behaviour
    }
    if (typeof proto[method] !== "function") {
      return;
    }
    proto[method] = replace(proto[method]);
    Bokeh.__noisescopeFixes.push(`${cls}.${method}`);
  }

  // 1. a renderer's box as its element's inline style (outer styles override its :host rules)
  patch("models/renderers/renderer", "RendererView", "update_position", () =>
    function update_position() {
      const { bbox } = this;
      const style = this.el.style;
      this.position.clear();  // empty already, unless the view painted before this script ran
      if (bbox != null && bbox.is_valid) {
        const in_panel = this.panel != null;
        style.display = "";
        style.position = in_panel ? "relative" : "absolute";
        style.left = in_panel ? "" : `${bbox.left}px`;
        style.top = in_panel ? "" : `${bbox.top}px`;
        style.width = `${bbox.width}px`;
        style.height = `${bbox.height}px`;
      } else {
        style.display = "none";
      }
    });

  //    ... and a data renderer's element, an empty box (its glyphs are drawn on the canvas), is
  //    not moved with its data: it leaves the layout once
  patch("models/renderers/data_renderer", "DataRendererView", "update_position", () =>
    function update_position() {
      this.position.clear();
      if (this.el.style.display !== "none") {
        this.el.style.display = "none";
      }
    });

  // 2. a <style> sheet is written only when its text changes
  patch("core/dom", "InlineStyleSheet", "_update", (write) =>
    function _update(css) {
      if (this.el.textContent !== css) {
        write.call(this, css);
      }
    });

  // 3. a legend's items are rebuilt only when they or their labels change (an item hidden by
  //    the server has no label: that rebuilds them too); otherwise only the entries' "inactive"
  //    look follows their renderers' visibility (click_policy "hide")
  patch("models/annotations/legend", "LegendView", "_render_items", (render) =>
    function _render_items() {
      if (this.entries.length === 0 || this._should_rerender_items) {
        render.call(this);
        return;
      }
      for (const entry of this.entries) {
        this._toggle_inactive(entry);
      }
    });

  // 4. a plot whose axes change size lays itself out, not the whole page
  patch("models/plots/plot_canvas", "PlotView", "_invalidate_layout_if_needed", (check) =>
    function _invalidate_layout_if_needed() {
      if (this.model.frame_width != null || this.model.frame_height != null) {
        check.call(this);  // its outer box follows its content: the page lays out again
        return;
      }
      this.compute_layout = layout_in_place;
      try {
        check.call(this);
      } finally {
        delete this.compute_layout;
      }
    });

  // 5. a button whose `disabled` changes is not rendered anew: ControlView already sets the
  //    element's `disabled` attribute, which is all the look depends on (`.bk-btn[disabled]`).
  //    AbstractButtonView also re-renders the button, and a re-render lays out the whole page
  //    (about 12 forced layouts on the tokens tab, each time a job's Run and Cancel buttons
  //    flip: half of a preset change's layouts in the browser)
  patch("models/widgets/abstract_button", "AbstractButtonView", "connect_signals", (connect) =>
    function connect_signals() {
      const { disabled } = this.model.properties;
      const on_change = this.on_change;
      this.on_change = function (properties, fn) {
        const kept = Array.isArray(properties) ? properties.filter((p) => p !== disabled) : properties;
        return on_change.call(this, kept, fn);
      };
      try {
        connect.call(this);
      } finally {
        delete this.on_change;
      }
    });

  function layout_in_place() {
    this.measure_layout();
    this.update_bbox();
    this._compute_layout();
    this.after_layout();
    this._layout_computed = true;
  }
})();
