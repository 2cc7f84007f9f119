export { forwardSettings, intakeBaseUrl, type ForwardConfig } from './settings.js';
export { otlpExportSettings, otlpExportUrl, parseOtlpHeaders, type OtlpExportConfig } from './otlp-settings.js';
export { Forwarder, ForwardingWriter, type ForwarderOptions } from './forwarder.js';
export { OtlpExporter, type OtlpExporterOptions } from './otlp-exporter.js';
export type { Outlet } from './outlet.js';
export { encodeAgentPayload, type AgentPayloadInfo } from './agent-payload.js';
export { encodeStatsPayload } from './stats-payload.js';
export { EncoderThread } from './encoder-thread.js';
export { TelemetryForwarder, telemetryIntakeUrl } from './telemetry-forwarder.js';
