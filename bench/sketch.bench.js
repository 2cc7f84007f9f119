// The stores' sketch codec against sketches-js's own protobuf, in one process, rounds interleaved:
// a latency sketch of 1,000 values (the shape of a busy 10-s stats bucket) and of 10.
//   node bench/sketch.bench.js
import { DDSketch } from '@datadog/sketches-js';
import { decodeSketch, encodeSketch, newSketch } from '../packages/agent/dist/store/sketch-codec.js';

const N = 3000;
function sketch(values) {
  const s = newSketch();
  for (let i = 0; i < values; i++) s.accept(1e5 * Math.exp(Math.random() * 10));
  return s;
}
function time(f) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f();
  return Number(process.hrtime.bigint() - t) / 1e3 / N;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`node ${process.version}: µs per sketch, median of 5 rounds of ${N}`);
for (const values of [1000, 10]) {
  const s = sketch(values);
  const theirs = s.toProto();
  const ours = encodeSketch(s);
  const r = { decodeTheirs: [], decodeOurs: [], encodeTheirs: [], encodeOurs: [] };
  for (let round = 0; round < 5; round++) {
    r.decodeTheirs.push(time(() => DDSketch.fromProto(theirs)));
    r.decodeOurs.push(time(() => decodeSketch(ours)));
    r.encodeTheirs.push(time(() => s.toProto()));
    r.encodeOurs.push(time(() => encodeSketch(s)));
  }
  const [dt, dO, et, eo] = [median(r.decodeTheirs), median(r.decodeOurs), median(r.encodeTheirs), median(r.encodeOurs)];
  console.log(`  ${String(values).padStart(5)} values: decode sketches-js ${dt.toFixed(1)} µs, ours ${dO.toFixed(1)} µs (${(dO / dt).toFixed(2)}x); encode ${et.toFixed(1)} µs, ours ${eo.toFixed(1)} µs (${(eo / et).toFixed(2)}x); bytes ${theirs.length} vs ${ours.length}`);
}
