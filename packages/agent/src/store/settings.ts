import type { Setting } from '../runtime/index.js';

export interface StoreConfig {
  store: string;
  storePasswordFile: string | undefined;
  dataDir: string;
  retentionMs: number;
  writerThread: boolean;
  maxDiskBytes: number;
}

export const storeSettings: Setting<StoreConfig>[] = [
  { key: 'storePasswordFile', env: ['ECS_TRACE_STORE_PASSWORD_FILE'], flag: 'store-password-file', type: 'string', default: undefined, description: 'A file holding the PostgreSQL or ClickHouse password (an ECS secret mounted as a file), when the URL (and, for PostgreSQL, `PGPASSWORD`) holds none.' },
  { key: 'store', env: ['ECS_TRACE_STORE'], flag: 'store', type: 'string', default: 'sqlite', description: '`sqlite`: the embedded store in the data directory; or a `postgres://` URL: one PostgreSQL for a whole cluster (payloads acknowledged once it has committed them; the password is never logged); or a `clickhouse://user@host:8123/database` URL (`clickhouses://` or `https://` for TLS, as ClickHouse Cloud; port 8443): ClickHouse, for clusters past one PostgreSQL; or `none`: keep nothing, only forward to Datadog (needs `DD_API_KEY`).' },
  { key: 'dataDir', env: ['ECS_TRACE_DATA_DIR'], flag: 'data-dir', type: 'string', default: './data', description: 'Directory of the embedded store.' },
  { key: 'retentionMs', env: ['ECS_TRACE_RETENTION'], flag: 'retention', type: 'duration', default: '72h', description: 'How long traces are kept (e.g. `30m`, `72h`, `7d`).' },
  { key: 'writerThread', env: ['ECS_TRACE_WRITER_THREAD'], flag: 'writer-thread', type: 'boolean', default: 'false', description: 'Commit to the embedded store on a second thread while intake decodes the next payload (and, unless `DD_APM_DECODERS` is set, two payloads at once): about 1.12x intake with a core to spare (70k against 62k spans/s), but under overload with large payloads fewer accepted, and about 1.4x the peak RSS (206 against 146 MB) (bench/README.md); off unless asked for.' },
  { key: 'maxDiskBytes', env: ['ECS_TRACE_MAX_DISK'], flag: 'max-disk', type: 'bytes', default: '2GB', description: 'Disk the store may use; the oldest traces go first when over (e.g. `500MB`, `2GB`; `0`: no limit).' },
];

/** Which backend the configuration names. */
export function storeKind(config: Pick<StoreConfig, 'store'>): 'sqlite' | 'postgres' | 'clickhouse' | 'none' {
  if (config.store === 'none') return 'none';
  if (/^postgres(ql)?:\/\//.test(config.store)) return 'postgres';
  if (/^(clickhouses?|https?):\/\//.test(config.store)) return 'clickhouse';
  return 'sqlite';
}

/** A store the agents of a cluster share (reached over the network, written through a local spool). */
export const sharedStore = (config: Pick<StoreConfig, 'store'>): boolean => storeKind(config) === 'postgres' || storeKind(config) === 'clickhouse';

/** The store URL with its password masked, for logs and messages. */
export function maskedStoreUrl(url: string): string {
  return url.replace(/^((?:postgres(?:ql)?|clickhouses?|https?):\/\/[^:/@]*:)[^@]*@/, '$1***@');
}
