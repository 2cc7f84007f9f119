export { Receiver, type ReceiverOptions, type TraceSink, type RateSource, type ClientStatsSink } from './receiver.js';
export { ENDPOINTS, INFO_ENDPOINTS, type Endpoint, type EndpointHandler } from './endpoints.js';
export { decodeTraces } from './content-type.js';
export { intakeSettings, otlpAddress, receiverHost, type IntakeConfig } from './settings.js';
export { OtlpHttpReceiver } from './otlp-http.js';
export { OtlpGrpcReceiver } from './otlp-grpc.js';
