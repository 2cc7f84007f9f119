import type { FastifySchemaValidationError } from 'fastify';
import { ERROR_STATUSES, type ErrorStatus, type StatsQuery, type TraceQuery } from '../store/index.js';
import type { ApiGroupField } from './api-types.js';

/*
 * Query parameters, checked at the edge: each route declares its querystring as a JSON schema
 * (fastify validates and coerces it before the handler runs), and the few rules a schema cannot
 * say (dates, ranges) are checked here. Every failure is a 400 whose message names the parameter.
 */

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

export const MAX_LIMIT = 1000;
const MAX_POINTS = 1500;
export const GROUP_FIELDS: readonly ApiGroupField[] = ['resource', 'name', 'service', 'env', 'version', 'httpStatusCode', 'spanKind'];

const text = { type: 'string' } as const;
const bool = { type: 'string', enum: ['true', 'false', '1', '0', ''] } as const;
const number = (minimum: number, maximum: number) => ({ type: 'number', minimum, maximum }) as const;

const RANGE = { start: text, end: text } as const;

export const servicesQuerySchema = { type: 'object', properties: { ...RANGE } } as const;

export const tracesQuerySchema = {
  type: 'object',
  properties: {
    ...RANGE, q: text, service: text, env: text, resource: text, name: text, error: bool,
    minDurationMs: number(0, 1e12), maxDurationMs: number(0, 1e12), limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT }, cursor: text, matched: bool,
  },
} as const;

export const analyticsQuerySchema = {
  type: 'object', required: ['groupBy'],
  properties: { ...RANGE, q: text, groupBy: { type: 'string', minLength: 1 }, minDurationMs: number(0, 1e12), maxDurationMs: number(0, 1e12) },
} as const;
export interface AnalyticsParams extends RangeParams { q?: string; groupBy: string; minDurationMs?: number; maxDurationMs?: number }

export const facetsQuerySchema = {
  type: 'object', required: ['keys'],
  properties: { ...RANGE, q: text, keys: { type: 'string', pattern: '^[^,]+(,[^,]+){0,7}$' }, minDurationMs: number(0, 1e12), maxDurationMs: number(0, 1e12) },
} as const;
export interface FacetsParams extends RangeParams { q?: string; keys: string; minDurationMs?: number; maxDurationMs?: number }

export const suggestQuerySchema = { type: 'object', properties: { ...RANGE, q: text, key: text, prefix: text } } as const;
export interface SuggestParams extends RangeParams { q?: string; key?: string; prefix?: string }

export const errorsQuerySchema = { type: 'object', properties: { ...RANGE, service: text, env: text, version: text, status: { type: 'string', enum: [...ERROR_STATUSES] } } } as const;

export const statsQuerySchema = {
  type: 'object',
  properties: {
    ...RANGE, service: text, env: text, version: text, resource: text, name: text, topLevel: bool, countsOnly: bool,
    step: number(10, 86_400 * 30), groupBy: { type: 'string', enum: [...GROUP_FIELDS] },
  },
} as const;

export interface RangeParams { start?: string; end?: string }
export interface TracesParams extends RangeParams {
  q?: string; service?: string; env?: string; resource?: string; name?: string; error?: string;
  minDurationMs?: number; maxDurationMs?: number; limit?: number;
  /** With each trace, the span of it that met the query (a resource page's requests, not their roots'). */
  matched?: string;
  /** Where the page before stopped (search-walk.ts). */
  cursor?: string;
}
export interface ErrorsParams extends RangeParams { service?: string; env?: string; version?: string; status?: ErrorStatus }
export interface StatsParams extends RangeParams {
  service?: string; env?: string; version?: string; resource?: string; name?: string; topLevel?: string; countsOnly?: string; step?: number; groupBy?: ApiGroupField;
}

interface SchemaLike { minimum?: number; maximum?: number; enum?: readonly string[]; type?: string }

/**
 * The message for a value the schema refused, in the API's words (`limit: "5000" is not a number
 * from 1 to 1000`). Needs ajv's `verbose` option, which puts the value and its schema on the error.
 */
export function schemaErrorMessage(errors: FastifySchemaValidationError[]): string {
  const e = errors[0] as (FastifySchemaValidationError & { data?: unknown; parentSchema?: SchemaLike }) | undefined;
  if (!e) return 'invalid query';
  if (e.keyword === 'required') return `${String(e.params['missingProperty'])}: required`;
  const name = e.instancePath.replace(/^\//, '') || 'query';
  if (Array.isArray(e.data)) return `${name}: give it once`;
  // As the user wrote it (a coerced number is quoted like the rest).
  const value = JSON.stringify(String(e.data));
  const schema = e.parentSchema ?? {};
  if (schema.enum !== undefined) {
    const allowed = schema.enum.filter((v) => v !== '');
    return allowed.every((v) => ['true', 'false', '1', '0'].includes(v)) ? `${name}: ${value} is not true or false` : `${name}: ${value} is not one of ${allowed.join(', ')}`;
  }
  if (schema.type === 'integer') return `${name}: ${value} is not a whole number from ${schema.minimum} to ${schema.maximum}`;
  if (schema.type === 'number') return `${name}: ${value} is not a number from ${schema.minimum} to ${schema.maximum}`;
  return `${name}: ${e.message ?? 'invalid'}`;
}

/** Dates later than this are refused rather than overflowing (year 9999). */
const MAX_TIME_MS = 253_402_300_799_999;

/** A time as epoch milliseconds or an ISO 8601 date; returned in ns. */
export function parseTime(name: string, raw: string | undefined): bigint | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(ms)) throw new QueryError(`${name}: "${raw}" is not a time; use epoch milliseconds or an ISO 8601 date`);
  if (ms > MAX_TIME_MS) throw new QueryError(`${name}: "${raw}" is after the year 9999`);
  return BigInt(ms) * 1_000_000n;
}

export function flag(raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  return raw === 'true' || raw === '1';
}

export function parseRange(p: RangeParams): { start?: bigint; end?: bigint } {
  const start = parseTime('start', p.start);
  const end = parseTime('end', p.end);
  if (start !== undefined && end !== undefined && end <= start) throw new QueryError('end must be after start');
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}

export function toTraceQuery(p: TracesParams): TraceQuery {
  const query: TraceQuery = { limit: p.limit ?? 50, ...parseRange(p) };
  if (p.name) query.name = p.name;
  if (p.maxDurationMs !== undefined) query.maxDurationNs = Math.round(p.maxDurationMs * 1e6);
  if (p.service) query.service = p.service;
  if (p.env) query.env = p.env;
  if (p.resource) query.resource = p.resource;
  const error = flag(p.error);
  if (error !== undefined) query.error = error;
  if (p.minDurationMs !== undefined) query.minDurationNs = Math.round(p.minDurationMs * 1e6);
  return query;
}

/** The range and duration bounds of a query over spans (analytics, facets): the rest is its q. */
export function toSpanQuery(p: RangeParams & { minDurationMs?: number; maxDurationMs?: number }): TraceQuery {
  const picked: TracesParams = {};
  if (p.start !== undefined) picked.start = p.start;
  if (p.end !== undefined) picked.end = p.end;
  if (p.minDurationMs !== undefined) picked.minDurationMs = p.minDurationMs;
  if (p.maxDurationMs !== undefined) picked.maxDurationMs = p.maxDurationMs;
  return toTraceQuery(picked);
}

/** A stats query; the default range is the last hour, the default step fits ~60 points. */
export function toStatsQuery(p: StatsParams, nowNs: bigint): { query: StatsQuery; stepNs: bigint; groupBy?: ApiGroupField } {
  const end = parseTime('end', p.end) ?? nowNs;
  const start = parseTime('start', p.start) ?? end - 3_600_000_000_000n;
  if (end <= start) throw new QueryError('end must be after start');
  let stepNs = p.step !== undefined ? BigInt(Math.round(p.step)) * 1_000_000_000n : (end - start) / 60n;
  // Whole multiples of the 10-s buckets.
  stepNs = stepNs < 10_000_000_000n ? 10_000_000_000n : stepNs - (stepNs % 10_000_000_000n);
  if ((end - start) / stepNs > BigInt(MAX_POINTS)) throw new QueryError(`step: too small for this range (at most ${MAX_POINTS} points)`);
  const query: StatsQuery = { start, end };
  for (const k of ['service', 'env', 'version', 'resource', 'name'] as const) if (p[k]) query[k] = p[k];
  if (flag(p.topLevel)) query.topLevel = true;
  if (flag(p.countsOnly)) query.countsOnly = true;
  // Counts by one field are summed in the store: a day of rows never leaves it.
  if (query.countsOnly && p.groupBy) query.sumBy = p.groupBy;
  return { query, stepNs, ...(p.groupBy ? { groupBy: p.groupBy } : {}) };
}
