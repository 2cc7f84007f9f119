/*
 * The newest traces matching a search, without grouping every match: the span index is read
 * newest first through an index on start (page by page, each twice the last) and the first
 * `limit` distinct trace ids are kept, which is the same answer as grouping by trace and ordering
 * by the latest match, and stops as soon as it has them. A day of a service on 10M spans was a
 * GROUP BY over all of its index rows (bench/ui-api.bench.js). A search whose matches are a few
 * traces with very many spans each would read on and on: past MAX_SCANNED rows the backend's
 * grouping query answers instead.
 */

const FIRST_PAGE = 256;
const MAX_SCANNED = 100_000;

/** `page(offset, count)`: trace ids of matching index rows, newest first. */
export async function newestTraceIds(
  limit: number,
  page: (offset: number, count: number) => Promise<bigint[]> | bigint[],
  grouped: () => Promise<bigint[]> | bigint[],
): Promise<bigint[]> {
  const ids = new Set<bigint>();
  let offset = 0;
  let count = Math.max(FIRST_PAGE, limit * 4);
  while (ids.size < limit) {
    if (offset >= MAX_SCANNED) return grouped();
    const rows = await page(offset, count);
    for (const id of rows) {
      ids.add(id);
      if (ids.size === limit) break;
    }
    if (rows.length < count) break;
    offset += count;
    count *= 2;
  }
  return [...ids];
}
