// The seat chart's numbers, without a browser: whole-number ticks whatever the
// limit, "full" wherever the line sits on it, and no style attribute (the
// report's Content-Security-Policy would drop it).
import { describe, expect, it } from 'vitest';
import { seatChart, seatTicks } from '../../src/report/site-chart.js';

const DAY = 86_400_000;
const FROM = Date.parse('2026-12-15T00:00:00Z');
const TO = FROM + 90 * DAY;
const heading = { id: 'chart-x', text: 'Seats of x, next 90 days' };

describe('the seat chart', () => {
  it.each([1, 2, 3, 5, 7, 10, 12, 99, 1000, 12_345])(
    'ticks a %i-seat tier in whole numbers from 0',
    (seats) => {
      const ticks = seatTicks(seats);
      expect(ticks[0]).toBe(0);
      expect(ticks.every(Number.isInteger)).toBe(true);
      expect(ticks.length).toBeGreaterThanOrEqual(2);
      expect(ticks.length).toBeLessThanOrEqual(seats + 1);
      expect(ticks.at(-1)!).toBeGreaterThanOrEqual(Math.min(seats, 4));
    },
  );

  it('labels a 1-seat tier 0 and 1 and says where it is full', () => {
    const svg = seatChart(
      [
        { at: FROM, used: 1 },
        { at: FROM + 10 * DAY, used: 0 },
        { at: FROM + 40 * DAY, used: 1 },
      ],
      1,
      FROM,
      TO,
      'UTC',
      heading,
    );
    const yAxis = /<svg class="y-axis"[^>]*>(.*?)<\/svg>/s.exec(svg)![1]!;
    expect([...yAxis.matchAll(/>(\d+)<\/text>/g)].map((m) => m[1])).toEqual(['0', '1']);
    expect(svg.match(/<rect class="full"/g)).toHaveLength(2);
    expect(svg).toContain('>full</text>');
    expect(svg).toContain('Full from 2026-12-15 to 2026-12-25, from 2027-01-24 to 2027-03-15 or later.');
    expect(svg).toContain('<h3 id="chart-x">Seats of x, next 90 days</h3>');
    expect(svg).not.toContain('style=');
    expect(svg).not.toMatch(/\d\.\d+<\/text>/);
  });

  it('makes room for a long count on its axis', () => {
    const svg = seatChart([{ at: FROM, used: 9000 }], 12_345, FROM, TO, 'UTC', heading);
    const width = Number(/<svg class="y-axis" width="(\d+)"/.exec(svg)![1]);
    expect(width).toBeGreaterThanOrEqual(14 + 7.5 * 5);
    expect(svg).toContain('Never full: at most 9000 of 12345 used.');
  });
});
