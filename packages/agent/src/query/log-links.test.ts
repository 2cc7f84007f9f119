import { describe, expect, it } from 'vitest';
import { parseLogLinks } from './log-links.js';

describe('ECS_TRACE_LOG_LINKS', () => {
  it('reads a JSON list of name and URL template; anything else names what is wrong', () => {
    expect(parseLogLinks(undefined)).toEqual([]);
    expect(parseLogLinks('[{"name": "Loki", "url": "https://grafana/explore?q={trace_id}"}]')).toEqual([{ name: 'Loki', url: 'https://grafana/explore?q={trace_id}' }]);
    expect(() => parseLogLinks('[{"name": "Loki"')).toThrow(/^ECS_TRACE_LOG_LINKS is not JSON: /);
    expect(() => parseLogLinks('{"name": "Loki"}')).toThrow('ECS_TRACE_LOG_LINKS: expected a JSON list of {"name", "url"}');
    expect(() => parseLogLinks('[{"name": "Loki", "url": "ftp://x"}]')).toThrow('ECS_TRACE_LOG_LINKS[0].url: expected an http(s) URL template');
    expect(() => parseLogLinks('[{"url": "https://x"}]')).toThrow("ECS_TRACE_LOG_LINKS[0].name: give the link's name");
    expect(() => parseLogLinks('[{"name": "a", "url": "https://x", "target": "_self"}]')).toThrow('ECS_TRACE_LOG_LINKS[0].target: is not a field (name, url)');
  });
});
