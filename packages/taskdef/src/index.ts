export { TaskdefInputError } from './errors.js';
export {
  parseTaskDefinition, normalizeTaskDefinition, parseJson, findContainer, formatTaskDefinition,
  type TaskDefinition, type Container, type ParsedTaskDefinition,
} from './input.js';
export {
  agentTaskDefinition, TRACE_PORT, DEFAULT_AGENT_CONTAINER, DEFAULT_AGENT_FAMILY, DEFAULT_AGENT_IMAGE, DATA_DIR, HOST_CGROUP_PATH, DOCKER_SOCKET,
  type AgentOptions, type PatchResult,
} from './agent.js';
export { healthzCheck } from './health-check.js';
export { patchAppTaskDefinition, DISCOVERY_MODES, type AppOptions, type DiscoveryMode } from './app.js';
export { patchAppForFargate, type FargateOptions } from './fargate.js';
export { shellScript, SHELL_MODES, type ShellMode } from './shell-forms.js';
export { lintTaskDefinition, formatFindings, hasErrors, isAgentContainer, type Finding, type Severity } from './lint.js';
export { registerTaskDefinition, RegisterError, type Registered } from './register.js';
export { daemonService } from './service.js';
export { uiTaskDefinition, uiService, uiTargetGroup, isUiContainer, UI_PORT, DEFAULT_UI_CONTAINER, HEALTH_PATH, type UiOptions, type UiServiceOptions } from './ui.js';
