import { emptySpan, type Span } from '@ecs-trace/protocol';
import { describe, expect, it } from 'vitest';
import { FilterConfigError, parseCsv, TraceFilters, type FilterSettings } from './filters.js';

const NONE: FilterSettings = { ignoreResources: '', tagsRequire: '', tagsReject: '', tagsRegexRequire: '', tagsRegexReject: '', replaceTags: '' };
const root = (resource: string, meta: Record<string, string> = {}, metrics: Record<string, number> = {}): Span => ({ ...emptySpan(), traceId: 1n, spanId: 1n, resource, meta: { ...meta }, metrics: { ...metrics } });

describe('DD_APM_IGNORE_RESOURCES', () => {
  it('reads CSV with double quotes', () => {
    expect(parseCsv('GET /healthcheck,"(GET|POST) /ping, twice",  ^SELECT 1$ ')).toEqual(['GET /healthcheck', '(GET|POST) /ping, twice', '^SELECT 1$']);
  });

  it('drops chunks whose root resource matches anywhere', () => {
    const f = new TraceFilters({ ...NONE, ignoreResources: 'GET /health,"(POST|PUT) /ping"' });
    expect(f.reject(root('GET /healthcheck'))).toBe('ignore_resources');
    expect(f.reject(root('PUT /ping'))).toBe('ignore_resources');
    expect(f.reject(root('GET /users'))).toBeUndefined();
  });
});

describe('DD_APM_FILTER_TAGS_*', () => {
  it('requires and rejects by key or key:value, space-separated or JSON', () => {
    const f = new TraceFilters({ ...NONE, tagsRequire: 'env:prod team', tagsReject: '["http.url:http://localhost/health"]' });
    expect(f.reject(root('r', { env: 'prod', team: 'a' }))).toBeUndefined();
    expect(f.reject(root('r', { env: 'staging', team: 'a' }))).toBe('filter_tags');
    expect(f.reject(root('r', { env: 'prod' }))).toBe('filter_tags');
    expect(f.reject(root('r', { env: 'prod', team: 'a', 'http.url': 'http://localhost/health' }))).toBe('filter_tags');
  });

  it('matches values as regular expressions in the REGEX variants', () => {
    const f = new TraceFilters({ ...NONE, tagsRegexReject: 'http.useragent:(?i)bot' });
    expect(f.reject(root('r', { 'http.useragent': 'GoogleBOT/2.1' }))).toBe('filter_tags');
    expect(f.reject(root('r', { 'http.useragent': 'Mozilla' }))).toBeUndefined();
  });
});

describe('DD_APM_REPLACE_TAGS', () => {
  it('rewrites a tag, every tag, or the resource', () => {
    const f = new TraceFilters({ ...NONE, replaceTags: JSON.stringify([
      { name: 'http.url', pattern: 'token=[^&]*', repl: 'token=?' },
      { name: 'resource.name', pattern: '/users/\\d+', repl: '/users/{id}' },
      { name: '*', pattern: 'secret-(\\w+)', repl: 'hidden-${1}' },
    ]) });
    const s = root('GET /users/42', { 'http.url': 'http://h/a?token=abc&x=1', note: 'secret-sauce' });
    f.rewrite(s);
    expect(s.resource).toBe('GET /users/{id}');
    expect(s.meta).toEqual({ 'http.url': 'http://h/a?token=?&x=1', note: 'hidden-sauce' });
  });

  it('moves a metric to meta when the rewrite makes it a string', () => {
    const f = new TraceFilters({ ...NONE, replaceTags: '[{"name": "account.id", "pattern": "\\\\d+", "repl": "?"}]' });
    const s = root('r', {}, { 'account.id': 12345 });
    f.rewrite(s);
    expect(s.metrics).not.toHaveProperty('account.id');
    expect(s.meta['account.id']).toBe('?');
  });

  it('names the variable when the value is wrong', () => {
    expect(() => new TraceFilters({ ...NONE, replaceTags: '[{"pattern": "a"}]' })).toThrow(new FilterConfigError('DD_APM_REPLACE_TAGS[0]: "name" is required'));
    expect(() => new TraceFilters({ ...NONE, replaceTags: '{' })).toThrow(/^DD_APM_REPLACE_TAGS: not JSON/);
    expect(() => new TraceFilters({ ...NONE, ignoreResources: '(unclosed' })).toThrow(/^DD_APM_IGNORE_RESOURCES: "\(unclosed" is not a valid regular expression/);
  });
});
