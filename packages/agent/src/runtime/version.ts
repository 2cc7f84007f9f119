/** The version the agent reports to tracers: a Datadog Agent version they enable features by, then ours. */
export const AGENT_VERSION = '7.60.0-ecs-trace.0.1.0';
