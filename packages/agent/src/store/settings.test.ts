import { describe, expect, it } from 'vitest';
import { maskedStoreUrl, storeKind } from './settings.js';

describe('the store setting', () => {
  it('names the backend by the URL', () => {
    expect(storeKind({ store: 'sqlite' })).toBe('sqlite');
    expect(storeKind({ store: 'postgres://db.internal/traces' })).toBe('postgres');
    expect(storeKind({ store: 'postgresql://db.internal/traces?sslmode=verify-full' })).toBe('postgres');
  });

  it('never shows the password of a store URL', () => {
    expect(maskedStoreUrl('postgres://ecs:s3cr3t@db.internal:5432/traces?sslmode=require')).toBe('postgres://ecs:***@db.internal:5432/traces?sslmode=require');
    expect(maskedStoreUrl('postgresql://ecs@db.internal/traces')).toBe('postgresql://ecs@db.internal/traces');
  });
});
