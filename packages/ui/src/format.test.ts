import { describe, expect, it } from 'vitest';
import { serviceColour, serviceColours } from './format.js';

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
