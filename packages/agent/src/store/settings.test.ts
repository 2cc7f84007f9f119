import { describe, expect, it } from 'vitest';
import { maskedStoreUrl, storeKind } from './settings.js';

describe('the store setting', () => {
  it('names the backend by the URL', () => {
    expect(storeKind({ store: 'sqlite' })).toBe('sqlite');
    expect(storeKind({ store: 'postgres://db.internal/traces' })).toBe('postgres');
    expect(storeKind({ store: 'postgresql://db.internal/traces?sslmode=verify-full' })).toBe('postgres');
    expect(storeKind({ store: 'clickhouse://ecs@ch.internal:8123/traces' })).toBe('clickhouse');
    expect(storeKind({ store: 'https://abc.eu-west-1.aws.clickhouse.cloud:8443/traces' })).toBe('clickhouse');
  });

  it('never shows the password of a store URL', () => {
    expect(maskedStoreUrl('postgres://ecs:s3cr3t@db.internal:5432/traces?sslmode=require')).toBe('postgres://ecs:***@db.internal:5432/traces?sslmode=require');
    expect(maskedStoreUrl('postgresql://ecs@db.internal/traces')).toBe('postgresql://ecs@db.internal/traces');
    expect(maskedStoreUrl('https://default:pa55@abc.clickhouse.cloud:8443/traces')).toBe('https://default:***@abc.clickhouse.cloud:8443/traces');
  });
});
