import * as grpc from '@grpc/grpc-js';
import type { ByteBudget } from './byte-budget.js';

/*
 * The byte budget for gRPC. grpc-js reads a whole message into memory before a handler sees it,
 * and it reads nothing of a call until the call's first startRead (its stream stays paused, so
 * HTTP/2's flow control holds the sender back). This interceptor delays that first read until
 * the budget grants the largest message the call may send (its size is not known before it is
 * read); once the message is in, what it did not use goes back, and the rest when the call ends.
 * A call the budget cannot take within the wait is refused with RESOURCE_EXHAUSTED before a byte
 * of it is buffered, which the OTLP exporters retry with backoff.
 */

export interface GrpcBudgetOptions {
  budget: ByteBudget;
  /** What a call may hold at most: grpc.max_receive_message_length. */
  maxMessageBytes: number;
  /** How long a call waits for the budget before it is refused. */
  waitMs: number;
  /** Told of each call refused for want of budget. */
  onRefused: () => void;
}

/** What one call holds of the budget. */
class Hold {
  held = 0;
  ended = false;
  constructor(private readonly budget: ByteBudget) {}
  /** Gives back all but `keep` bytes. */
  keep(keep: number): void {
    if (this.held > keep) {
      this.budget.release(this.held - keep);
      this.held = keep;
    }
  }
}

class BudgetedCall extends grpc.ServerInterceptingCall {
  private asked = false;

  constructor(next: grpc.ServerInterceptingCallInterface, private readonly o: GrpcBudgetOptions, private readonly hold = new Hold(o.budget)) {
    super(next, {
      start: (go) => go({
        onReceiveMessage: (message: unknown, pass: (m: unknown) => void) => {
          // The message is in memory now: keep what it takes, give back the rest of the reservation.
          hold.keep(Buffer.isBuffer(message) ? message.length : hold.held);
          pass(message);
        },
        onCancel: () => { hold.ended = true; hold.keep(0); },
      }),
      sendStatus: (status, pass) => { hold.ended = true; hold.keep(0); pass(status); },
    });
  }

  override startRead(): void {
    if (this.asked) {
      super.startRead();
      return;
    }
    this.asked = true;
    void this.o.budget.take(this.o.maxMessageBytes, this.o.waitMs).then((granted) => {
      if (!granted) {
        this.o.onRefused();
        this.sendStatus({ code: grpc.status.RESOURCE_EXHAUSTED, details: `the agent holds as many request bytes as it may (${this.o.budget.limit}); retry later` });
        return;
      }
      this.hold.held = this.o.maxMessageBytes;
      // Cancelled while it waited: nothing will be read, so nothing is held.
      if (this.hold.ended) this.hold.keep(0);
      else super.startRead();
    });
  }
}

export function budgetInterceptor(o: GrpcBudgetOptions): grpc.ServerInterceptor {
  return (_method, call) => new BudgetedCall(call, o);
}
