/*
 * The frames of an error's stack, as error tracking fingerprints them: each frame as its file and
 * function, without line and column numbers, addresses or offsets (which change with every
 * release), the frame that raised the error first. Each tracer writes `error.stack` in its
 * language's own format:
 *   Node     `    at handler (/app/server.js:10:5)`, `    at /app/server.js:10:5`, `    at async fn (file:///app/x.mjs:3:1)`
 *   Python   `  File "/app/app.py", line 10, in handler` (most recent call last: the raise is the last frame)
 *   Java     `\tat com.example.Shop.pay(Shop.java:42)`, `Caused by: ...` (the first block is the one thrown)
 *   Go       `main.handler(0x1, ...)` or `main.handler` then `\t/app/main.go:42 +0x1d`; dd-trace-go v2
 *            writes `error.handling_stack` (where the span recorded the error) when the error has none
 *   Ruby     `/app/shop.rb:10:in 'pay'`, `from /app/shop.rb:10:in `block in pay'` (the first line may carry the message)
 *   .NET     `   at Shop.Pay(Int32 amount) in /src/Shop.cs:line 42`, `   at Shop.Pay(Int32 amount)`
 *   PHP      `#0 /var/www/shop.php(10): Shop->pay()`, `#1 {main}`
 * Frames of the runtime itself (node:internal, <frozen importlib>) are left out: they say where
 * the runtime was, not where the bug is.
 */

const FRAMES = 3;

type Parser = (lines: string[]) => string[] | undefined;

const node: Parser = (lines) => {
  const frames = lines.map((l) => /^\s*at (?:async )?(?:(.+?) \((.+?)(?::\d+)?(?::\d+)?\)|(.+?)(?::\d+)?(?::\d+)?)$/.exec(l)).filter((m) => m !== null);
  if (frames.length === 0) return undefined;
  return frames.map((m) => (m![3] !== undefined ? m![3] : `${m![1]} (${m![2]})`))
    .filter((f) => !/\bnode:internal\/|\(node:|^node:/.test(f));
};

const python: Parser = (lines) => {
  const frames = lines.map((l) => /^\s*File "(.+)", line \d+, in (.+)$/.exec(l)).filter((m) => m !== null).map((m) => `${m![1]} in ${m![2]}`);
  if (frames.length === 0) return undefined;
  // Most recent call last.
  return frames.reverse().filter((f) => !f.startsWith('<frozen '));
};

const java: Parser = (lines) => {
  const frames: string[] = [];
  for (const l of lines) {
    if (/^\s*Caused by:/.test(l) && frames.length > 0) break;
    const m = /^\s*at ([\w$.<>/]+)\((?:([\w$-]+\.(?:java|kt|scala|groovy|clj))(?::\d+)?|Native Method|Unknown Source)\)$/.exec(l);
    if (m) frames.push(m[2] !== undefined ? `${m[1]}(${m[2]})` : m[1]!);
  }
  return frames.length > 0 ? frames.filter((f) => !/^(java\.|jdk\.|sun\.)/.test(f)) : undefined;
};

const dotnet: Parser = (lines) => {
  // No space before the arguments (Node's `at fn (file)` has one).
  const frames = lines.map((l) => /^\s*at ([^\s(]+\(.*?\))(?: in (.+?):line \d+)?\s*$/.exec(l)).filter((m) => m !== null)
    .map((m) => (m![2] !== undefined ? `${m![1]} in ${m![2]}` : m![1]!));
  return frames.length > 0 ? frames.filter((f) => !f.startsWith('System.Runtime.')) : undefined;
};

const go: Parser = (lines) => {
  const frames: string[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const file = /^\s+(\/\S+\.go|\S+\.go):\d+(?: \+0x[0-9a-f]+)?$/.exec(lines[i + 1]!);
    if (!file) continue;
    const fn = lines[i]!.trim().replace(/\([^()]*\)$/, '');
    if (fn === '' || fn.startsWith('goroutine ')) continue;
    frames.push(`${fn} ${file[1]}`);
    i++;
  }
  // dd-trace-go's own frames top its `error.handling_stack` (the span recording the error).
  return frames.length > 0 ? frames.filter((f) => !/^runtime\./.test(f) && !f.startsWith('github.com/DataDog/dd-trace-go/v2/ddtrace/tracer.')) : undefined;
};

const ruby: Parser = (lines) => {
  const frames = lines.map((l) => /^\s*(?:from )?(\S+?\.rb):\d+:in [`'](.+?)'(?::|$)/.exec(l)).filter((m) => m !== null)
    .map((m) => `${m![1]} in ${m![2]!.replace(/^block \(\d+ levels\) in /, 'block in ')}`);
  return frames.length > 0 ? frames : undefined;
};

const php: Parser = (lines) => {
  const frames = lines.map((l) => /^#\d+ (?:(.+?)\(\d+\): )?(.+)$/.exec(l.trim())).filter((m) => m !== null && m[2] !== '{main}')
    .map((m) => (m![1] !== undefined ? `${m![1]} ${m![2]}` : m![2]!));
  return frames.length > 0 ? frames : undefined;
};

// The most specific formats first: a Java or .NET `at` line would pass for Node's otherwise.
const PARSERS: Parser[] = [python, php, ruby, java, dotnet, go, node];

/** The stack's frames nearest the raise, at most `n`, in the form fingerprints use; [] when none is recognized. */
export function stackFrames(stack: string, n = FRAMES): string[] {
  if (stack === '') return [];
  const lines = stack.split(/\r?\n/);
  for (const parse of PARSERS) {
    const frames = parse(lines);
    if (frames !== undefined && frames.length > 0) return frames.slice(0, n);
  }
  return [];
}
