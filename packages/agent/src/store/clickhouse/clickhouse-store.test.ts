import { describe } from 'vitest';
import { componentsAvailable } from '../../../../../e2e/components.js';
import { storeConformance } from '../conformance.js';
import { ClickHouseStore } from './clickhouse-store.js';
import { DAY_NS } from './migrations.js';
import { engineMissing, engineTransport } from './test-engine.js';

/* The conformance suite on ClickHouse's own engine (chdb, in process). */

const ready = componentsAvailable(engineMissing(), 'the ClickHouse store tests');

describe.skipIf(!ready)('ClickHouse', () => {
  storeConformance('ClickHouse', () => ClickHouseStore.open({ transport: engineTransport() }), { sizeRetention: false, retentionPartitionNs: DAY_NS, getTraces: true });
});
