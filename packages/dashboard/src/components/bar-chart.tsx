import { useEffect, useId, useRef, useState } from 'react';

export interface Bar {
  /** Shown under the bar (shortened when crowded) and in its tooltip. */
  label: string;
  value: number;
}

/** Round numbers for the axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

const HEIGHT = 220;
const PAD = { top: 12, right: 8, bottom: 28 };
/** Roughly the width of one axis-label character at 11 px. */
const CHAR_PX = 6.8;

/**
 * A hand-drawn SVG bar chart, drawn at the container's real width (measured) so its text keeps
 * its size on a phone. Each bar has a tooltip, and a visually hidden table carries the same
 * numbers for screen readers.
 */
export function BarChart({ title, bars, format }: { title: string; bars: Bar[]; format: (value: number) => string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  const titleId = useId();
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w && w > 0) setWidth(Math.floor(w));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const top = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const tickLabels = ticks.map((t) => format(top * t));
  // The axis is as wide as its longest label, so small amounts ($0.000375) are never clipped.
  const left = Math.ceil(Math.max(...tickLabels.map((l) => l.length)) * CHAR_PX) + 12;
  const plotW = Math.max(10, width - left - PAD.right);
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = bars.length > 0 ? plotW / bars.length : plotW;
  const barW = Math.max(1, Math.min(40, slot * 0.7));
  // Label every k-th bar so labels (about 36 px each) never overlap.
  const every = Math.max(1, Math.ceil(36 / slot));

  return (
    <figure className="chart" ref={ref}>
      <svg width={width} height={HEIGHT} role="img" aria-labelledby={titleId} className="chart-svg">
        <title id={titleId}>{title}</title>
        {ticks.map((t, i) => {
          const y = PAD.top + plotH - t * plotH;
          return (
            <g key={t}>
              <line x1={left} x2={left + plotW} y1={y} y2={y} className="chart-grid" />
              <text x={left - 6} y={y + 4} textAnchor="end" className="chart-axis">
                {tickLabels[i]}
              </text>
            </g>
          );
        })}
        {bars.map((b, i) => {
          const h = top > 0 ? (b.value / top) * plotH : 0;
          const x = left + i * slot + (slot - barW) / 2;
          return (
            <g key={b.label}>
              <rect x={x} y={PAD.top + plotH - h} width={barW} height={Math.max(0, h)} className="chart-bar" rx={2}>
                <title>{`${b.label}: ${format(b.value)}`}</title>
              </rect>
              {i % every === 0 ? (
                <text x={x + barW / 2} y={HEIGHT - 10} textAnchor="middle" className="chart-axis">
                  {b.label.length === 10 ? b.label.slice(8) : b.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <table className="sr-only">
        <caption>{title}</caption>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td>{format(b.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
