/** This release of ecs-trace; the packages, `ecs-trace --version`, /info and the image tag say the same (version.test.ts). */
export const ECS_TRACE_VERSION = '0.2.0';

/** The version the agent reports to tracers: a Datadog Agent version they enable features by, then ours. */
export const AGENT_VERSION = `7.60.0-ecs-trace.${ECS_TRACE_VERSION}`;
