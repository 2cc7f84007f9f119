/**
 * A payload that cannot be decoded. The receiver answers it with 400 and this message, which
 * names the trace, span and field where decoding stopped so the sender can find the bad value.
 */
export class PayloadDecodeError extends Error {
  override readonly name = 'PayloadDecodeError';
}
