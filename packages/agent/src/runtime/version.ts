/** This release of ecs-trace; the packages, `ecs-trace --version`, /info and the image tag say the same (version.test.ts). */
export const ECS_TRACE_VERSION = '0.2.0';

/**
 * The version the agent reports to tracers (/info and Datadog-Agent-Version): the Datadog Agent
 * version whose features it has. 7.65.0 is the first with which dd-trace-java computes stats
 * itself (with client_drop_p0s and /v0.6/stats, which this agent serves). It is bare on purpose:
 * dd-trace-java reads any suffix after the patch number as a pre-release of it, so
 * "7.65.0-ecs-trace.0.2.0" turned its client stats off (seen with dd-java-agent 1.68.1). Ours is
 * in /info's git_commit.
 */
export const AGENT_VERSION = '7.65.0';

/** /info's git_commit: which ecs-trace answers. */
export const AGENT_BUILD = `ecs-trace ${ECS_TRACE_VERSION}`;
