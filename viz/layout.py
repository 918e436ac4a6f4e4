"""The page's layout: one CSS grid that works from a phone (400 px) to a wide screen.

No drawer or sidebar overlays the page: the run bar (day, Step, Play, Reset) stays at the top,
and the rest flows in a grid whose columns follow the width:

* >= 1500 px: set-up | map and the clicked cell | plots above the text (the plots are
  above the fold);
* 760-1500 px: set-up | map, the clicked cell, the text, then the plots (the map keeps
  >= 450 px);
* < 760 px (phones): one column: map, text, plots, then the set-up (the run bar's
  "Set-up ↓" link jumps there).
"""

CSS = """
.lc-page { display: grid; gap: 14px; padding: 0 10px 40px 10px; box-sizing: border-box;
           grid-template-columns: 320px minmax(0, 1fr); grid-template-areas: "setup main";
           width: 100%; max-width: 100vw; }
.lc-setup { grid-area: setup; min-width: 0; }
.lc-main { grid-area: main; min-width: 0; display: grid; gap: 14px; align-items: start;
           grid-template-columns: minmax(0, 1fr); }
.lc-left, .lc-side { min-width: 0; display: flex; flex-direction: column; gap: 14px; }
.lc-textcol { order: 1; min-width: 0; }
.lc-plotcol { order: 2; min-width: 0; }
@media (min-width: 1500px) {
  .lc-main { grid-template-columns: minmax(0, 640px) minmax(0, 1fr); }
  .lc-plotcol { order: 1; }
  .lc-textcol { order: 2; }
}
@media (max-width: 1100px) {
  .lc-page { grid-template-columns: 290px minmax(0, 1fr); }
}
@media (max-width: 760px) {
  .lc-page { grid-template-columns: minmax(0, 1fr); grid-template-areas: "main" "setup";
             padding: 0 4px 40px 4px; }
}
.lc-runbar { position: sticky; top: 0; z-index: 5; background: #fff; padding: 6px 10px;
             border-bottom: 1px solid #ddd; flex-wrap: wrap; align-items: center; }
.lc-day { font-size: 1.3em; font-weight: bold; min-width: 7em; }
.lc-setup-link { display: none; margin-left: auto; }
@media (max-width: 760px) { .lc-setup-link { display: inline; } }
.lc-layers { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; }
.lc-layers .v-btn-toggle { flex-wrap: wrap; height: auto !important; }
.lc-category { max-width: 200px; }
.lc-map { width: 100%; max-width: 640px; }
.lc-map img { width: 100%; height: auto; image-rendering: pixelated; display: block; }
.lc-plots img { width: 100%; max-width: 1100px; height: auto; }
.lc-maptitle { font-weight: bold; font-size: 1.0em; }
.lc-legend { font-size: 13px; line-height: 1.25; }
.lc-lh { font-weight: bold; margin: 6px 0 2px 0; }
.lc-lg { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr));
         gap: 2px 10px; }
.lc-li { display: flex; align-items: center; gap: 6px; }
.lc-sw { display: inline-block; width: 14px; height: 14px; flex: none; box-sizing: border-box; }
.lc-cbar { display: flex; align-items: center; gap: 6px; font-size: 12px; margin-top: 4px; }
.lc-cbar-bar { display: inline-block; height: 12px; flex: 1; }
.lc-cbar-caption { font-size: 12px; color: #444; text-align: center; }
.lc-lever-label { font-size: 0.85em; color: #555; margin-top: 6px; }
.lc-lever .v-input { margin-top: 0; }
.lc-summary blockquote { color: #444; border-left: 3px solid #ccc; padding-left: 8px;
                         margin: 4px 0; }
.lc-inspector table { font-size: 13px; }
.lc-footer { font-size: 12px; color: #777; margin-top: 10px; }
"""
