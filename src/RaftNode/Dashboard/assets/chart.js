// RaftMall dashboard: the throughput chart, drawn by hand on a canvas in the page's colours (light or dark).
'use strict';

/**
 * Draws committed entries/s and orders/s over the last windowMs from counter samples ({ t, commit, orders }), with
 * dashed markers ({ t, label, kind: 'kill' | 'leader' }); returns the latest rates.
 */
function drawRateChart(canvas, samples, markers, windowMs) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const css = getComputedStyle(document.body);
  const color = (name) => css.getPropertyValue(name).trim();
  const now = Date.now();
  const left = 44;
  const right = width - 8;
  const top = 10;
  const bottom = height - 22;
  const x = (t) => left + ((t - (now - windowMs)) / windowMs) * (right - left);

  // Rates between consecutive samples; a counter that went backwards (another node answered) counts as 0.
  const rates = [];
  for (let i = 1; i < samples.length; i++) {
    const [a, b] = [samples[i - 1], samples[i]];
    const seconds = (b.t - a.t) / 1000;
    if (seconds <= 0) continue;
    rates.push({ t: b.t, writes: Math.max(0, b.commit - a.commit) / seconds, orders: Math.max(0, b.orders - a.orders) / seconds });
  }
  const peak = Math.max(10, ...rates.map((r) => Math.max(r.writes, r.orders)));
  const step = niceStep(peak / 4);
  const max = Math.ceil(peak / step) * step;
  const y = (v) => bottom - (v / max) * (bottom - top);

  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  for (let v = 0; v <= max; v += step) {
    g.strokeStyle = color('--line');
    g.beginPath(); g.moveTo(left, y(v)); g.lineTo(right, y(v)); g.stroke();
    g.fillStyle = color('--muted');
    g.textAlign = 'right';
    g.fillText(String(v), left - 6, y(v) + 4);
  }
  g.textAlign = 'center';
  for (let s = 60; s >= 0; s -= 10) g.fillText(s === 0 ? 'now' : `-${s}s`, x(now - s * 1000), height - 6);

  markers.forEach((marker, index) => {
    const mx = x(marker.t);
    if (mx < left) return;
    g.strokeStyle = color(marker.kind === 'kill' ? '--marker-kill' : '--marker-leader');
    g.setLineDash([4, 3]);
    g.beginPath(); g.moveTo(mx, top); g.lineTo(mx, bottom); g.stroke();
    g.setLineDash([]);
    g.fillStyle = g.strokeStyle;
    // Kills labelled on the left of their line, the rest on the right, unless that would leave the chart.
    const width = g.measureText(marker.label).width;
    const onLeft = marker.kind === 'kill' ? mx - 4 - width >= left : mx + 4 + width > right;
    g.textAlign = onLeft ? 'right' : 'left';
    g.fillText(marker.label, mx + (onLeft ? -4 : 4), top + 10 + (index % 3) * 13); // staggered: markers come close together
  });

  // Orders wide and underneath, entries thin on top: with one entry per order the two lines often coincide.
  for (const [series, name, lineWidth] of [['orders', '--orders', 4], ['writes', '--writes', 1.5]]) {
    g.strokeStyle = color(name);
    g.lineWidth = lineWidth;
    g.beginPath();
    rates.filter((r) => r.t >= now - windowMs).forEach((r, i) => (i === 0 ? g.moveTo(x(r.t), y(r[series])) : g.lineTo(x(r.t), y(r[series]))));
    g.stroke();
  }
  return rates.at(-1);
}

function niceStep(raw) {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
}
