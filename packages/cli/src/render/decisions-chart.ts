/**
 * An inline SVG chart of access decisions per purpose over time: one row per purpose,
 * one column per period, each bar split into allowed (bottom) and denied (top). One
 * scale for the whole chart so rows compare. Every bar carries a `<title>` with its
 * numbers; the table next to the chart holds the same numbers for screen readers.
 */
import type { TrailSummary } from '../summary/trail-summary';
import { esc } from './html';

const LABEL_W = 200;
const ROW_H = 44;
const BAR_MAX_H = 32;
const AXIS_H = 34;
const PLOT_W = 720;
const ALLOW = '#2563eb';
const DENY = '#c2410c';

/** The chart as an `<svg>` string; `undefined` when there is no decision to draw. */
export function decisionsChart(s: TrailSummary, maxRows = 10): string | undefined {
  if (s.byPurpose.length === 0 || s.byPeriod.length === 0) return undefined;
  const purposes = s.byPurpose.slice(0, maxRows).map((p) => p.purpose);
  const rest = s.byPurpose.slice(maxRows).map((p) => p.purpose);
  const rows = rest.length > 0 ? [...purposes, `${rest.length} other purpose${rest.length === 1 ? '' : 's'}`] : purposes;
  const cellOf = (period: TrailSummary['byPeriod'][number], row: number): { allow: number; deny: number } => {
    if (row < purposes.length) return period.purposes[purposes[row]!] ?? { allow: 0, deny: 0 };
    const c = { allow: 0, deny: 0 };
    for (const p of rest) {
      c.allow += period.purposes[p]?.allow ?? 0;
      c.deny += period.purposes[p]?.deny ?? 0;
    }
    return c;
  };
  const n = s.byPeriod.length;
  const max = Math.max(1, ...s.byPeriod.flatMap((p) => rows.map((_, r) => { const c = cellOf(p, r); return c.allow + c.deny; })));
  const step = PLOT_W / n;
  const barW = Math.max(2, Math.min(48, step * 0.7));
  const width = LABEL_W + PLOT_W + 48;
  const height = rows.length * ROW_H + AXIS_H;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="chart-title chart-desc" font-family="system-ui, sans-serif" font-size="13">`,
    `<title id="chart-title">Access decisions per purpose, by ${esc(s.by)}</title>`,
    `<desc id="chart-desc">${esc(`${rows.length} purposes over ${n} ${s.by}${n === 1 ? '' : 's'}; the tallest bar is ${max} decisions. Blue: allowed, orange: denied. The table "Decisions by purpose" holds the same numbers.`)}</desc>`,
  );
  rows.forEach((label, r) => {
    const base = r * ROW_H + ROW_H - 6;
    out.push(`<g>`);
    out.push(`<text x="${LABEL_W - 12}" y="${base - 10}" text-anchor="end" fill="#1b2430">${esc(label.length > 26 ? `${label.slice(0, 25)}…` : label)}</text>`);
    out.push(`<line x1="${LABEL_W}" x2="${LABEL_W + PLOT_W}" y1="${base + 0.5}" y2="${base + 0.5}" stroke="#d9dee5"/>`);
    s.byPeriod.forEach((p, i) => {
      const c = cellOf(p, r);
      if (c.allow + c.deny === 0) return;
      const x = LABEL_W + i * step + (step - barW) / 2;
      const ha = (c.allow / max) * BAR_MAX_H;
      const hd = (c.deny / max) * BAR_MAX_H;
      const tip = `${label}, ${p.period}: ${c.allow} allowed, ${c.deny} denied`;
      out.push(`<g><title>${esc(tip)}</title>`);
      if (c.allow > 0) out.push(`<rect x="${x.toFixed(1)}" y="${(base - ha).toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(1, ha).toFixed(1)}" fill="${ALLOW}"/>`);
      if (c.deny > 0) out.push(`<rect x="${x.toFixed(1)}" y="${(base - ha - hd).toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(1, hd).toFixed(1)}" fill="${DENY}"/>`);
      out.push(`</g>`);
    });
    out.push(`</g>`);
  });
  // Period labels: at most about eight, evenly spread, always the first and the last.
  const every = Math.max(1, Math.ceil(n / 8));
  const axisY = rows.length * ROW_H + 20;
  s.byPeriod.forEach((p, i) => {
    // Every `every`-th label, and the last one unless a regular label sits too close to it.
    if (i === n - 1 ? false : i % every !== 0 || n - 1 - i < every) return;
    const x = LABEL_W + i * step + step / 2;
    out.push(`<text x="${x.toFixed(1)}" y="${axisY}" text-anchor="middle" fill="#4f5b6b" font-size="12">${esc(p.period)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}
