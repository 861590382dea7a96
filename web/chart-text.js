// Chart text stays readable at any width. The charts are SVGs drawn in fixed units and scaled to
// their box (viewBox), so on a narrow screen their 12-unit labels would shrink to 7 px. Each
// chart gets --chart-k, its viewBox width over its width on screen (never under 1, so text only
// grows where the chart is wide), and pretune.css sizes chart text as 12px times --chart-k.
(() => {
  const fit = svg => {
    const vb = svg.viewBox && svg.viewBox.baseVal, w = svg.getBoundingClientRect().width;
    if (!vb || !vb.width || !w) return;
    svg.style.setProperty('--chart-k', Math.max(1, vb.width / w).toFixed(3));
  };
  const sized = new ResizeObserver(entries => entries.forEach(e => fit(e.target)));
  const seen = new WeakSet();
  const scan = () => document.querySelectorAll('svg.chart').forEach(svg => {
    if (!seen.has(svg)) { seen.add(svg); sized.observe(svg); }
  });
  // go-app draws and redraws the charts (new SVG elements) long after this script runs.
  new MutationObserver(scan).observe(document.documentElement, { childList: true, subtree: true });
  scan();
})();
