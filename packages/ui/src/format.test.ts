import { describe, expect, it } from 'vitest';
import { activeSeconds, serviceColour, serviceColours } from './format.js';

describe('service colours', () => {
  it('gives the services of one trace a colour each while the palette lasts', () => {
    // Three names that hash to one colour of the twelve.
    const same = ['gateway', 'orders-postgres', 'notifications'];
    expect(new Set(same.map(serviceColour)).size).toBe(1);
    const colour = serviceColours(same);
    expect(new Set(same.map(colour)).size).toBe(3);
    const many = Array.from({ length: 12 }, (_, i) => `service-${i}`);
    expect(new Set(many.map(serviceColours(many))).size).toBe(12);
  });

  it('keeps a service\'s usual colour unless one before it took it', () => {
    expect(serviceColours(['checkout'])('checkout')).toBe(serviceColour('checkout'));
    const colour = serviceColours(['gateway', 'orders-postgres']);
    expect(colour('gateway')).toBe(serviceColour('gateway'));
    expect(colour('somewhere-else')).toBe(serviceColour('somewhere-else'));
  });
});

describe('request rates', () => {
  const hour = { start: 1_700_000_000_000, end: 1_700_003_600_000 };
  it('are over the time a service was seen in the range, not the whole range', () => {
    // 120 requests from a service that started 2 minutes before the range's end: 1/s, not 0.03.
    expect(120 / activeSeconds(hour, String(BigInt(hour.end - 120_000) * 1_000_000n))).toBe(1);
    // Seen before the range began: the whole range.
    expect(activeSeconds(hour, String(BigInt(hour.start - 5_000) * 1_000_000n))).toBe(3600);
    expect(activeSeconds(hour)).toBe(3600);
    // Seen only at the end: never more than a request a second per request.
    expect(activeSeconds(hour, String(BigInt(hour.end) * 1_000_000n))).toBe(1);
  });
});
