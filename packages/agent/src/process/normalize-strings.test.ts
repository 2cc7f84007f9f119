import { describe, expect, it } from 'vitest';
import { normalizeMetricName, normalizeTag, normalizeTagValue, truncateUtf8 } from './normalize-strings.js';

// Cases from the Datadog Agent's own normalize tests, so that our output matches theirs.
describe('normalizeTag', () => {
  const dogs = 'a' + '🐶'.repeat(799) + 'b';
  const cases: [string, string][] = [
    ['#test_starting_hash', 'test_starting_hash'],
    ['TestCAPSandSuch', 'testcapsandsuch'],
    ['Test Conversion Of Weird !@#$%^&**() Characters', 'test_conversion_of_weird_characters'],
    ['$#weird_starting', 'weird_starting'],
    ['allowed:c0l0ns', 'allowed:c0l0ns'],
    ['1love', 'love'],
    ['ünicöde', 'ünicöde'],
    ['ünicöde:metäl', 'ünicöde:metäl'],
    ['Data🐨dog🐶 繋がっ⛰てて', 'data_dog_繋がっ_てて'],
    [' spaces   ', 'spaces'],
    [' #hashtag!@#spaces #__<>#  ', 'hashtag_spaces'],
    [':testing', ':testing'],
    ['_foo', 'foo'],
    [':::test', ':::test'],
    ['contiguous_____underscores', 'contiguous_underscores'],
    ['foo_', 'foo'],
    ['\u017Fodd_\u017Fcase\u017F', '\u017Fodd_\u017Fcase\u017F'],
    ['', ''],
    [' ', ''],
    ['ok', 'ok'],
    ['™Ö™Ö™™Ö™', 'ö_ö_ö'],
    ['AlsO:ök', 'also:ök'],
    [':still_ok', ':still_ok'],
    ['___trim', 'trim'],
    ['12.:trim@', ':trim'],
    ['12.:trim@@', ':trim'],
    ['fun:ky__tag/1', 'fun:ky_tag/1'],
    ['fun:ky@tag/2', 'fun:ky_tag/2'],
    ['fun:ky@@@tag/3', 'fun:ky_tag/3'],
    ['tag:1/2.3', 'tag:1/2.3'],
    ['---fun:k####y_ta@#g/1_@@#', 'fun:k_y_ta_g/1'],
    ['AlsO:œ#@ö))œk', 'also:œ_ö_œk'],
    ['test\ufffd\ufffdaaa', 'test_aaa'],
    ['test\ufffd\ufffd', 'test'],
    ['a'.repeat(888), 'a'.repeat(200)],
    [dogs, 'a'],
    ['a\ufffd', 'a'],
    ['a\ufffd\ufffdb', 'a_b'],
    ['A' + '0'.repeat(197) + ' ' + '0'.repeat(12), 'a' + '0'.repeat(197) + '_0'],
  ];
  it.each(cases)('%j -> %j', (input, out) => expect(normalizeTag(input)).toBe(out));
});

describe('normalizeTagValue (services)', () => {
  const cases: [string, string][] = [
    ['good', 'good'],
    ['127.0.0.1', '127.0.0.1'],
    ['127.site.platform-db-replica1', '127.site.platform-db-replica1'],
    ['hyphenated-service-name', 'hyphenated-service-name'],
    ['🐨animal-db🐶', '_animal-db'],
    ['🐨1animal-db🐶', '_1animal-db'],
    ['1🐨1animal-db🐶', '1_1animal-db'],
    ['bad$service', 'bad_service'],
    ['Too$Long$.'.repeat(10), 'too_long_.'.repeat(10)],
  ];
  it.each(cases)('%j -> %j', (input, out) => expect(normalizeTagValue(input)).toBe(out));
});

describe('normalizeMetricName (span names)', () => {
  it('matches the agent', () => {
    expect(normalizeMetricName('good')).toBe('good');
    expect(normalizeMetricName('bad-name')).toBe('bad_name');
    expect(normalizeMetricName(truncateUtf8('Too-Long-.'.repeat(11), 100))).toBe('Too_Long.'.repeat(10));
    expect(normalizeMetricName('  /users get!!')).toBe('users_get');
    expect(normalizeMetricName('web.request')).toBe('web.request');
    expect(normalizeMetricName('a_.b')).toBe('a.b');
    expect(normalizeMetricName('a._b')).toBe('a.b');
    expect(normalizeMetricName('123')).toBeUndefined();
    expect(normalizeMetricName('')).toBeUndefined();
  });
});

describe('truncateUtf8', () => {
  it('cuts at a character boundary', () => {
    expect(truncateUtf8('ab', 5)).toBe('ab');
    expect(truncateUtf8('aé', 2)).toBe('a');
    expect(truncateUtf8('a🐶b', 4)).toBe('a');
    expect(truncateUtf8('a🐶b', 5)).toBe('a🐶');
  });
});
