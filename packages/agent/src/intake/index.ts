import type { OtlpGrpcOptions, OtlpGrpcReceiver } from './otlp-grpc.js';

export { Receiver, type ReceiverOptions, type TraceSink, type RateSource, type ClientStatsSink, type TelemetrySink, type RemoteConfigSink } from './receiver.js';
export { ENDPOINTS, infoEndpoints, type Endpoint, type EndpointHandler } from './endpoints.js';
export { decodeTraces } from './content-type.js';
export { intakeSettings, otlpAddress, receiverHost, type IntakeConfig } from './settings.js';
export { OtlpHttpReceiver } from './otlp-http.js';
export { ByteBudget } from './byte-budget.js';
export type { OtlpGrpcReceiver, OtlpGrpcOptions };

/** The OTLP/gRPC intake, loaded when it is turned on: @grpc/grpc-js costs about 9 MB of memory. */
export async function otlpGrpcReceiver(o: OtlpGrpcOptions): Promise<OtlpGrpcReceiver> {
  return new (await import('./otlp-grpc.js')).OtlpGrpcReceiver(o);
}
