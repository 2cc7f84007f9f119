/** This release of ecs-trace; the packages, `ecs-trace --version`, /info and the image tag say the same (version.test.ts). */
export const ECS_TRACE_VERSION = '0.2.0';

/**
 * The version the agent reports to tracers: a Datadog Agent version they enable features by, then
 * ours. 7.65.0 is the first with which dd-trace-java computes stats itself (with
 * client_drop_p0s and /v0.6/stats, which this agent serves).
 */
export const AGENT_VERSION = `7.65.0-ecs-trace.${ECS_TRACE_VERSION}`;
