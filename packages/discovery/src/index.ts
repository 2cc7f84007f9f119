export {
  resolveAgentHost, imdsEndpointFrom, isFargate, parseOrder, DiscoveryConfigError, DISCOVERY_SOURCES,
  type AgentHostResolution, type Attempt, type DiscoverySource, type ResolveOptions,
} from './resolve.js';
export { planLaunch, runApp, exitLike, type LaunchPlan, type RunOptions, type AppExit } from './launcher.js';
export { asIpAddress, hostPort } from './ip.js';
