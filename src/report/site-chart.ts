// The seat chart of a licence tier: seats used over a span as a step line,
// the limit across it, and the stretches where the tier is full shaded and
// labelled. Built so that its text never scales with the page: the plot is a
// nested SVG stretched to the width (preserveAspectRatio none, strokes that do
// not scale), while the axis labels sit in SVGs without a viewBox, in CSS
// pixels, placed by percentage of the width. No style attribute anywhere: the
// report's Content-Security-Policy allows only its style sheet.
import { scaleLinear } from 'd3-scale';
import { curveStepAfter, line } from 'd3-shape';
import { DateTime } from 'luxon';
import type { Instant } from '../model/time.js';
import { html } from './site-layout.js';

/** The plot's height in CSS pixels, and room above it and below it for the labels. */
const PLOT = 150;
const TOP = 18;
const BOTTOM = 26;
const HEIGHT = TOP + PLOT + BOTTOM;
/** The plot's width in its own units: x in [0, 1000] is 0–100% of the width. */
const W = 1000;

/** Whole numbers only, at most five of them, from 0 to the top of the scale. */
export function seatTicks(top: number): number[] {
  const y = scaleLinear().domain([0, top]).nice(Math.min(4, top));
  return y.ticks(Math.min(4, top)).filter((v) => Number.isInteger(v));
}

/** Midnights of the first of each month in the zone, strictly inside the span: the x ticks. */
function monthStarts(from: Instant, to: Instant, zone: string): Instant[] {
  const out: Instant[] = [];
  let d = DateTime.fromMillis(from, { zone }).startOf('month').plus({ months: 1 });
  while (d.toMillis() < to) {
    out.push(d.toMillis());
    d = d.plus({ months: 1 });
  }
  return out;
}

/** The stretches of the span where the tier is full: used at or over the seats. */
function fullSpans(steps: { at: Instant; used: number }[], seats: number, to: Instant): [Instant, Instant][] {
  const spans: [Instant, Instant][] = [];
  steps.forEach((s, i) => {
    if (s.used < seats) return;
    const end = steps[i + 1]?.at ?? to;
    const last = spans.at(-1);
    if (last && last[1] === s.at) last[1] = end;
    else spans.push([s.at, end]);
  });
  return spans;
}

const day = (at: Instant, zone: string) => DateTime.fromMillis(at, { zone }).toISODate() ?? '';

/**
 * Seats used of a tier over [from, to), with its own heading (`heading` is
 * its text, `id` the heading's id): a step chart, the limit dashed across,
 * full stretches shaded and labelled "full", and a caption that says in
 * words what the chart shows.
 */
export function seatChart(
  steps: { at: Instant; used: number }[],
  seats: number,
  from: Instant,
  to: Instant,
  zone: string,
  heading: { id: string; text: string },
): string {
  const most = Math.max(seats, ...steps.map((s) => s.used), 1);
  const ticks = seatTicks(most);
  // Headroom above the limit and the highest count, so neither sits on the plot's edge.
  const top = Math.max(most + 1, ticks.at(-1) ?? 1);
  const y = scaleLinear().domain([0, top]).range([PLOT, 0]);
  const xOf = (t: Instant) => ((Math.min(Math.max(t, from), to) - from) / (to - from)) * W;
  const pct = (t: Instant) => `${((xOf(t) / W) * 100).toFixed(2)}%`;
  const points: [number, number][] = [
    ...steps.map((s): [number, number] => [s.at, s.used]),
    [to, steps.at(-1)?.used ?? 0],
  ];
  const path = line<[number, number]>()
    .x(([t]) => xOf(t))
    .y(([, used]) => y(used))
    .curve(curveStepAfter)(points);
  const full = fullSpans(steps, seats, to);
  const limitY = y(seats);
  const shade = full
    .map(
      ([a, b]) =>
        `<rect class="full" x="${xOf(a).toFixed(1)}" y="0" width="${Math.max(xOf(b) - xOf(a), 2).toFixed(1)}" height="${PLOT}"/>`,
    )
    .join('');
  const grid = ticks
    .map((v) => `<line class="grid" x1="0" x2="${W}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`)
    .join('');
  // Wide enough for the longest count at 12 px (a digit is at most 7.5 px wide).
  const axis = Math.ceil(14 + 7.5 * String(ticks.at(-1) ?? 0).length);
  const yLabels = ticks
    .map(
      (v) =>
        `<text class="tick" x="${axis - 6}" y="${(TOP + y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`,
    )
    .join('');
  const xLabels = monthStarts(from, to, zone)
    .map((t) => {
      const share = xOf(t) / W;
      // Labels near an edge hang inwards, so none is cut off at any width.
      const anchor = share < 0.15 ? 'start' : share > 0.85 ? 'end' : 'middle';
      return `<line class="axis" x1="${pct(t)}" x2="${pct(t)}" y1="${TOP + PLOT}" y2="${TOP + PLOT + 4}"/><text class="tick" x="${pct(t)}" y="${HEIGHT - 6}" text-anchor="${anchor}">${day(t, zone)}</text>`;
    })
    .join('');
  const firstFull = full[0];
  const fullLabel = firstFull
    ? (() => {
        const share = xOf(firstFull[0]) / W;
        const anchor = share > 0.85 ? 'end' : 'start';
        return `<text class="full-label" x="${share > 0.85 ? '100%' : pct(firstFull[0])}" dx="${anchor === 'start' ? 4 : -4}" y="${(TOP + limitY - 5).toFixed(1)}" text-anchor="${anchor}">full</text>`;
      })()
    : '';
  const said = full.length
    ? `Full ${full.map(([a, b]) => `from ${day(a, zone)} to ${b >= to ? `${day(to, zone)} or later` : day(b, zone)}`).join(', ')}.`
    : `Never full: at most ${Math.max(...steps.map((s) => s.used), 0)} of ${seats} used.`;
  return `<section class="chart" aria-labelledby="${html(heading.id)}">
<h3 id="${html(heading.id)}">${html(heading.text)}</h3>
<figure>
<div class="plot" role="img" aria-label="${html(`${heading.text}. ${said}`)}">
<svg class="y-axis" width="${axis}" height="${HEIGHT}" aria-hidden="true">${yLabels}</svg>
<svg class="area" height="${HEIGHT}" aria-hidden="true">
<svg x="0" y="${TOP}" width="100%" height="${PLOT}" viewBox="0 0 ${W} ${PLOT}" preserveAspectRatio="none" class="inner">
${shade}${grid}
<path class="used" d="${path ?? ''}" vector-effect="non-scaling-stroke"/>
<line class="limit" x1="0" x2="${W}" y1="${limitY.toFixed(1)}" y2="${limitY.toFixed(1)}" vector-effect="non-scaling-stroke"/>
</svg>
<line class="axis" x1="0" x2="100%" y1="${TOP + PLOT}" y2="${TOP + PLOT}"/>
${fullLabel}${xLabels}
</svg>
</div>
<figcaption>Seats used (solid line) against the limit of ${seats} (dashed)${full.length ? '; shaded where the tier is full' : ''}. ${html(said)}</figcaption>
</figure>
</section>`;
}
