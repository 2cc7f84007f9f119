export { forwardSettings, intakeBaseUrl, type ForwardConfig } from './settings.js';
export { Forwarder, ForwardingWriter, type ForwarderOptions } from './forwarder.js';
export { encodeAgentPayload, type AgentPayloadInfo } from './agent-payload.js';
export { encodeStatsPayload } from './stats-payload.js';
