import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

/*
 * Where the agents keep what they store: each host's own embedded store (SQLite on the host's
 * Docker volume), or one PostgreSQL for the cluster, given as a secret holding its URL or made
 * here as an RDS instance. A shared store is what lets the UI run as a service of its own.
 */

export type EcsTraceStore =
  | { readonly kind: 'embedded' }
  | { readonly kind: 'postgres'; readonly url: secretsmanager.ISecret; readonly connections?: ec2.IConnectable }
  | { readonly kind: 'database'; readonly props: DatabaseProps };

export interface DatabaseProps {
  /** Default: db.t4g.medium. */
  readonly instanceType?: ec2.InstanceType;
  /** Default: true (a standby in another zone: an outage of one zone loses nothing acknowledged). */
  readonly multiAz?: boolean;
  /** GiB; default 100, growing to 1000. */
  readonly allocatedStorage?: number;
  /** Default: PostgreSQL 16.13. */
  readonly engineVersion?: rds.PostgresEngineVersion;
  /** Default: RETAIN with deletion protection: traces are not dropped by a stack update. */
  readonly removalPolicy?: RemovalPolicy;
}

export const EcsTraceStore = {
  /** Each agent's own store on its host (the default): no UI service, each host's UI through ECS Exec. */
  embedded: (): EcsTraceStore => ({ kind: 'embedded' }),
  /** An existing PostgreSQL: a secret holding its `postgres://` URL (with the password). */
  postgres: (url: secretsmanager.ISecret, connections?: ec2.IConnectable): EcsTraceStore => ({ kind: 'postgres', url, ...(connections ? { connections } : {}) }),
  /** A PostgreSQL made for it on RDS, its password generated into Secrets Manager. */
  database: (props: DatabaseProps = {}): EcsTraceStore => ({ kind: 'database', props }),
};

export const DATABASE_NAME = 'ecs_trace';
const DATABASE_USER = 'ecs_trace';

/** How a container reaches the store: environment and secrets, and what must be let in to it. */
export interface StoreAccess {
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  /** What a task must be allowed to connect to (the database's security group), if known. */
  readonly connections?: ec2.IConnectable;
  readonly port?: number;
  readonly shared: boolean;
  readonly database?: rds.DatabaseInstance;
}

/** Makes what the store needs (the RDS instance) and says how the agents and the UI reach it. */
export function storeAccess(scope: Construct, store: EcsTraceStore, vpc: ec2.IVpc): StoreAccess {
  switch (store.kind) {
    case 'embedded':
      return { environment: {}, secrets: {}, shared: false };
    case 'postgres':
      return {
        environment: {}, secrets: { ECS_TRACE_STORE: ecs.Secret.fromSecretsManager(store.url) }, shared: true,
        ...(store.connections ? { connections: store.connections, port: 5432 } : {}),
      };
    case 'database': {
      const p = store.props;
      const removalPolicy = p.removalPolicy ?? RemovalPolicy.RETAIN;
      const database = new rds.DatabaseInstance(scope, 'Database', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: p.engineVersion ?? rds.PostgresEngineVersion.VER_16_13 }),
        instanceType: p.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
        databaseName: DATABASE_NAME,
        multiAz: p.multiAz ?? true,
        allocatedStorage: p.allocatedStorage ?? 100,
        maxAllocatedStorage: Math.max(1000, p.allocatedStorage ?? 100),
        storageType: rds.StorageType.GP3,
        storageEncrypted: true,
        backupRetention: Duration.days(7),
        deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
        removalPolicy,
        // TLS from every client, as the agent's pg client offers it.
        parameters: { 'rds.force_ssl': '1' },
        enablePerformanceInsights: true,
        cloudwatchLogsExports: ['postgresql'],
      });
      const secret = database.secret!;
      // The generated secret itself (database.secret is its attachment to the instance).
      acknowledge(database.node.findChild('Secret'), 'databaseSecretRotation');
      acknowledge(database, 'databasePort');
      return {
        // The URL without the password: PGPASSWORD (from the generated secret) is how pg takes it.
        environment: { ECS_TRACE_STORE: `postgres://${DATABASE_USER}@${database.dbInstanceEndpointAddress}:${database.dbInstanceEndpointPort}/${DATABASE_NAME}?sslmode=no-verify` },
        secrets: { PGPASSWORD: ecs.Secret.fromSecretsManager(secret, 'password') },
        connections: database,
        port: 5432,
        shared: true,
        database,
      };
    }
  }
}
