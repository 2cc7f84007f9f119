import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { obfuscateSql } from './sql.js';

/*
 * A larger share of the Datadog Agent's own SQL obfuscation cases (pkg/obfuscate/sql_test.go:
 * TestSQLQuantizer's tail, TestCanObfuscateAutoVacuum, TestKeepSQLAlias off, the dollar-quoted,
 * regex-operator and negative-number cases, TestMultipleProcess, TestSQLErrors as
 * "Non-parsable SQL query"), each with the output the Agent gives in its default (legacy) mode.
 * The match rate is printed; every case is also its own test.
 */

const AGENT_CASES = JSON.parse(readFileSync(new URL('./testdata/agent-sql-cases.json', import.meta.url), 'utf8')) as [string, string][];

describe('the Datadog Agent\'s SQL cases', () => {
  it('match rate', () => {
    const misses = AGENT_CASES.filter(([input, expected]) => obfuscateSql(input) !== expected);
    console.log(`SQL obfuscation matches the Datadog Agent on ${AGENT_CASES.length - misses.length}/${AGENT_CASES.length} of its cases`);
    expect(misses.map(([input]) => input)).toEqual([]);
  });

  it.each(AGENT_CASES)('%s', (input, expected) => {
    expect(obfuscateSql(input)).toBe(expected);
  });
});
