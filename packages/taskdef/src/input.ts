import type { ContainerDefinition, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { TaskdefInputError } from './errors.js';

/*
 * Task definitions come in the two shapes AWS users hold: a register-task-definition
 * --cli-input-json file, or describe-task-definition output ({taskDefinition, tags}). The second
 * is unwrapped and stripped of what register-task-definition rejects client-side: output-only
 * fields and JSON nulls (ecs-spec 6.4).
 */

export type TaskDefinition = RegisterTaskDefinitionCommandInput;
export type Container = ContainerDefinition;

/** The top-level keys register-task-definition accepts (botocore's model). */
export const REGISTER_KEYS = new Set([
  'family', 'taskRoleArn', 'executionRoleArn', 'networkMode', 'containerDefinitions', 'volumes', 'placementConstraints',
  'requiresCompatibilities', 'cpu', 'memory', 'tags', 'pidMode', 'ipcMode', 'proxyConfiguration', 'inferenceAccelerators',
  'ephemeralStorage', 'runtimePlatform', 'enableFaultInjection',
]);
/** Fields describe-task-definition returns that register-task-definition rejects. */
export const OUTPUT_ONLY_KEYS = new Set([
  'taskDefinitionArn', 'revision', 'status', 'requiresAttributes', 'compatibilities', 'registeredAt', 'registeredBy',
  'deregisteredAt', 'deleteRequestedAt',
]);
/** Service-level settings people paste into task definitions. */
export const SERVICE_KEYS = new Set(['schedulingStrategy', 'networkConfiguration', 'desiredCount', 'launchType', 'serviceName', 'cluster', 'loadBalancers']);

export interface ParsedTaskDefinition {
  doc: TaskDefinition;
  /** What was taken out to make the input registrable, as JSON paths. */
  removed: string[];
  /** The input was describe-task-definition output. */
  fromDescribe: boolean;
}

/** Line and column of a JSON.parse error position, for the message. */
function where(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return '';
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return ` at line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const msg = (err as Error).message;
    throw new TaskdefInputError('', `${source} is not JSON${where(text, msg)}: ${msg.replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

function stripNulls(value: unknown, path: string, removed: string[]): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((v, i) => {
      if (v === null) removed.push(`${path}[${i}]`);
      else out.push(stripNulls(v, `${path}[${i}]`, removed));
    });
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (v === null) removed.push(p);
      else out[k] = stripNulls(v, p, removed);
    }
    return out;
  }
  return value;
}

/** Parses and normalizes; throws TaskdefInputError naming the field for anything that is not a task definition. */
export function parseTaskDefinition(text: string, source = 'the input'): ParsedTaskDefinition {
  return normalizeTaskDefinition(parseJson(text, source), source);
}

export function normalizeTaskDefinition(input: unknown, source = 'the input'): ParsedTaskDefinition {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TaskdefInputError('', `${source} is not a task definition: expected a JSON object with family and containerDefinitions`);
  }
  let raw = input as Record<string, unknown>;
  const removed: string[] = [];
  let fromDescribe = false;
  if ('taskDefinition' in raw && typeof raw['taskDefinition'] === 'object' && raw['taskDefinition'] !== null) {
    // describe-task-definition output: the tags (with --include TAGS) move into the register input.
    fromDescribe = true;
    const tags = raw['tags'];
    raw = { ...(raw['taskDefinition'] as Record<string, unknown>) };
    if (Array.isArray(tags) && tags.length > 0) raw['tags'] = tags;
  }
  if ('ContainerDefinitions' in raw || 'Family' in raw) {
    throw new TaskdefInputError('ContainerDefinitions', `${source} uses CloudFormation's PascalCase keys; ecs-trace reads the register-task-definition shape (family, containerDefinitions)`);
  }
  if (!('containerDefinitions' in raw)) {
    throw new TaskdefInputError('containerDefinitions', `${source} is not a task definition: it has no containerDefinitions`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (OUTPUT_ONLY_KEYS.has(k)) {
      removed.push(k);
      continue;
    }
    out[k] = v;
  }
  const doc = stripNulls(out, '', removed) as Record<string, unknown>;
  const containers = doc['containerDefinitions'];
  if (!Array.isArray(containers)) throw new TaskdefInputError('containerDefinitions', 'must be an array of container definitions');
  containers.forEach((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new TaskdefInputError(`containerDefinitions[${i}]`, 'must be an object');
    const name = (c as Record<string, unknown>)['name'];
    if (typeof name !== 'string' || name === '') throw new TaskdefInputError(`containerDefinitions[${i}].name`, 'is missing; every container needs a name');
  });
  return { doc: doc as unknown as TaskDefinition, removed, fromDescribe };
}

/** The container named `name`, or an error listing the names there are. */
export function findContainer(doc: TaskDefinition, name: string): { container: Container; index: number } {
  const containers = doc.containerDefinitions ?? [];
  const index = containers.findIndex((c) => c.name === name);
  if (index < 0) {
    const names = containers.map((c) => JSON.stringify(c.name)).join(', ') || 'none';
    throw new TaskdefInputError('containerDefinitions', `no container named ${JSON.stringify(name)}; the containers are ${names}`);
  }
  return { container: containers[index]!, index };
}

/** The task definition's one container, when it has one; otherwise an error that lists them. */
export function onlyContainer(doc: TaskDefinition): { container: Container; index: number } {
  const containers = doc.containerDefinitions ?? [];
  if (containers.length === 1) return { container: containers[0]!, index: 0 };
  const names = containers.map((c) => JSON.stringify(c.name)).join(', ') || 'none';
  throw new TaskdefInputError('containerDefinitions', `${containers.length === 0 ? 'has no container' : `has ${containers.length} containers (${names})`}: say which one with --container`);
}

/** JSON as register-task-definition --cli-input-json takes it. */
export function formatTaskDefinition(doc: unknown): string {
  return JSON.stringify(doc, null, 2) + '\n';
}
