import { describe, expect, it } from 'vitest';
import { stackFrames } from './stack-frames.js';

/*
 * Stacks as each language's tracer writes error.stack (recorded from dd-trace 5/6, ddtrace 2,
 * dd-java-agent 1, dd-trace-go 1, datadog (Ruby) 2, dd-trace-dotnet 3 and dd-trace-php 1): the
 * frames nearest the raise, without line numbers, so that two occurrences of one bug on other
 * lines, or with other values, make one group.
 */

describe('stack frames for fingerprints', () => {
  it('Node: `at fn (file:line:col)`, anonymous and async frames, runtime frames left out', () => {
    const stack = `Error: card declined for customer c135
    at chargeCard (/app/src/payments.js:41:11)
    at async Checkout.pay (/app/src/checkout.js:88:5)
    at /app/src/routes.js:12:20
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`;
    expect(stackFrames(stack)).toEqual(['chargeCard (/app/src/payments.js)', 'Checkout.pay (/app/src/checkout.js)', '/app/src/routes.js']);
    expect(stackFrames(stack.replace(':41:11', ':57:3'))).toEqual(stackFrames(stack));
  });

  it('Python: the raise is the last frame', () => {
    const stack = `Traceback (most recent call last):
  File "/usr/lib/python3/site-packages/flask/app.py", line 1484, in full_dispatch_request
    rv = self.dispatch_request()
  File "/app/shop/views.py", line 33, in checkout
    charge(order)
  File "/app/shop/payments.py", line 12, in charge
    raise CardDeclined(f"card declined for {order.customer}")
shop.payments.CardDeclined: card declined for c135`;
    expect(stackFrames(stack)).toEqual(['/app/shop/payments.py in charge', '/app/shop/views.py in checkout', '/usr/lib/python3/site-packages/flask/app.py in full_dispatch_request']);
  });

  it('Java: the thrown block, not its causes; the JDK\'s frames left out', () => {
    const stack = `com.example.shop.CardDeclinedException: card declined for customer c135
\tat com.example.shop.Payments.charge(Payments.java:42)
\tat com.example.shop.Checkout.pay(Checkout.java:88)
\tat java.base/java.lang.Thread.run(Thread.java:1583)
Caused by: java.net.SocketTimeoutException: Read timed out
\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)
\tat com.example.shop.Gateway.call(Gateway.java:17)`;
    expect(stackFrames(stack)).toEqual(['com.example.shop.Payments.charge(Payments.java)', 'com.example.shop.Checkout.pay(Checkout.java)']);
  });

  it('Go: function lines and their files, offsets and runtime frames left out', () => {
    const stack = `goroutine 42 [running]:
main.chargeCard(0xc0001a2000, 0x87)
\t/app/payments.go:41 +0x1d5
main.(*Checkout).Pay(...)
\t/app/checkout.go:88 +0x9a
runtime.goexit()
\t/usr/local/go/src/runtime/asm_amd64.s:1700 +0x1`;
    expect(stackFrames(stack)).toEqual(['main.chargeCard /app/payments.go', 'main.(*Checkout).Pay /app/checkout.go']);
    // dd-trace-go's own format: function, then its file.
    expect(stackFrames('main.chargeCard\n\t/app/payments.go:41\nmain.main\n\t/app/main.go:10')).toEqual(['main.chargeCard /app/payments.go', 'main.main /app/main.go']);
    // dd-trace-go v2's error.handling_stack (recorded from e2e/apps/go): the tracer's own frames on top.
    const handling = 'github.com/DataDog/dd-trace-go/v2/ddtrace/tracer.(*Span).setTagErrorLocked\n\t/root/go/pkg/mod/github.com/!data!dog/dd-trace-go/v2@v2.12.0/ddtrace/tracer/span.go:791\n'
      + 'github.com/DataDog/dd-trace-go/v2/ddtrace/tracer.(*Span).Finish\n\t/root/go/pkg/mod/github.com/!data!dog/dd-trace-go/v2@v2.12.0/ddtrace/tracer/span.go:1081\n'
      + 'main.charge\n\t/work/e2e/apps/go/main.go:87\nmain.main.func1\n\t/work/e2e/apps/go/main.go:37\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2286\n'
      + 'runtime.goexit\n\t/usr/local/go/src/runtime/asm_amd64.s:1771';
    expect(stackFrames(handling)).toEqual(['main.charge /work/e2e/apps/go/main.go', 'main.main.func1 /work/e2e/apps/go/main.go', 'net/http.HandlerFunc.ServeHTTP /usr/local/go/src/net/http/server.go']);
  });

  it('Ruby: the first line carries the message; `from` lines follow', () => {
    const stack = `/app/lib/payments.rb:41:in 'charge': card declined for customer c135 (Payments::CardDeclined)
\tfrom /app/lib/checkout.rb:88:in 'block in pay'
\tfrom /app/lib/checkout.rb:80:in 'pay'`;
    expect(stackFrames(stack)).toEqual(['/app/lib/payments.rb in charge', '/app/lib/checkout.rb in block in pay', '/app/lib/checkout.rb in pay']);
    const other = stack.replace('c135', 'c977').replace(':41:', ':43:');
    expect(stackFrames(other)).toEqual(stackFrames(stack));
    expect(stackFrames("/app/lib/payments.rb:41:in `charge'\n/app/lib/checkout.rb:88:in `pay'")).toEqual(['/app/lib/payments.rb in charge', '/app/lib/checkout.rb in pay']);
  });

  it('.NET: with and without file information', () => {
    const stack = `Shop.CardDeclinedException: card declined for customer c135
   at Shop.Payments.Charge(Order order) in /src/Shop/Payments.cs:line 41
   at Shop.Checkout.PayAsync(Int32 orderId) in /src/Shop/Checkout.cs:line 88
   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.Execute()`;
    expect(stackFrames(stack)).toEqual(['Shop.Payments.Charge(Order order) in /src/Shop/Payments.cs', 'Shop.Checkout.PayAsync(Int32 orderId) in /src/Shop/Checkout.cs', 'Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.Execute()']);
  });

  it('PHP: numbered frames, {main} left out', () => {
    const stack = `#0 /var/www/src/Payments.php(41): Shop\\Payments->charge(Object(Shop\\Order))
#1 /var/www/src/Checkout.php(88): Shop\\Payments->chargeCard()
#2 {main}`;
    expect(stackFrames(stack)).toEqual(['/var/www/src/Payments.php Shop\\Payments->charge(Object(Shop\\Order))', '/var/www/src/Checkout.php Shop\\Payments->chargeCard()']);
  });

  it('nothing recognized, nothing taken', () => {
    expect(stackFrames('')).toEqual([]);
    expect(stackFrames('something went wrong')).toEqual([]);
  });
});
