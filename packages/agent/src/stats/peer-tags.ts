/**
 * The Datadog Agent's default peer tags: `_dd.base_service` and the precursors of its
 * `peer_tags.ini`, sorted (tracers-and-ecs-runtime spec). Client spans, producers and consumers are
 * grouped in stats by the ones they carry, and /info tells tracers the list, so that stats a
 * tracer computes are keyed as the agent's are.
 */
export const DEFAULT_PEER_TAGS: readonly string[] = [
  '_dd.base_service', 'active_record.db.vendor', 'amqp.destination', 'amqp.exchange', 'amqp.queue', 'aws.queue.name', 'aws.s3.bucket',
  'bucketname', 'cassandra.keyspace', 'db.cassandra.contact.points', 'db.couchbase.seed.nodes', 'db.hostname', 'db.instance', 'db.name',
  'db.namespace', 'db.system', 'db.type', 'dns.hostname', 'grpc.host', 'hostname', 'http.host', 'http.server_name', 'messaging.destination',
  'messaging.destination.name', 'messaging.destination.template', 'messaging.kafka.bootstrap.servers', 'messaging.rabbitmq.exchange',
  'messaging.system', 'mongodb.db', 'msmq.queue.path', 'net.peer.name', 'network.destination.ip', 'network.destination.name', 'out.host',
  'peer.hostname', 'peer.service', 'queuename', 'rpc.service', 'rpc.system', 'sequel.db.vendor', 'server.address', 'streamname',
  'tablename', 'topicname',
];

/** The span kinds whose spans are counted in stats even when not top-level. */
export const STATS_SPAN_KINDS: readonly string[] = ['server', 'consumer', 'client', 'producer'];
