/*
 * A task definition of a synthesized template in the shape `ecs-trace taskdef lint` reads (the
 * register-task-definition API's: camelCase keys), so the construct's output is held to the
 * same checks as the generated JSON. Intrinsics become the text they stand for in an example
 * account (123456789012, us-east-1): a `Fn::Sub` of an ECR image is an ECR URI, a `Ref` its name.
 */

const PSEUDO: Record<string, string> = {
  'AWS::AccountId': '123456789012', 'AWS::Region': 'us-east-1', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::Partition': 'aws', 'AWS::StackName': 'stack',
};

/** Maps whose keys are data (log options, labels), not CloudFormation property names. */
const DATA_MAPS = new Set(['Options', 'DockerLabels', 'SecretOptions', 'DriverOpts', 'Labels']);

function resolve(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(resolve);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const arg = o[k];
    if (k === 'Ref') return PSEUDO[arg as string] ?? String(arg);
    if (k === 'Fn::Sub') return String(Array.isArray(arg) ? arg[0] : arg).replace(/\$\{([^}]+)\}/g, (_m, name: string) => PSEUDO[name] ?? name);
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(resolve(p))).join(sep);
    }
    if (k === 'Fn::GetAtt') return (arg as string[]).join('.');
    if (k === 'Fn::Select' || k === 'Fn::Split' || k === 'Fn::ImportValue') return JSON.stringify(arg);
  }
  return Object.fromEntries(keys.map((k) => [k, resolve(o[k])]));
}

function camel(v: unknown, data = false): unknown {
  if (Array.isArray(v)) return v.map((x) => camel(x));
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) =>
    [data ? k : k.charAt(0).toLowerCase() + k.slice(1), DATA_MAPS.has(k) ? camel(x, true) : camel(x)]));
}

/** The task definition `logicalId` of a synthesized template, as `taskdef lint` reads a JSON file. */
export function taskDefinitionOf(template: { Resources: Record<string, { Type: string; Properties?: unknown }> }, logicalId: string): Record<string, unknown> {
  const r = template.Resources[logicalId];
  if (r?.Type !== 'AWS::ECS::TaskDefinition') throw new Error(`${logicalId} is not a task definition of this template`);
  return camel(resolve(r.Properties)) as Record<string, unknown>;
}
