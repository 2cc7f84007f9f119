// The Node flags the agent starts with by default (`npm start`, and NODE_OPTIONS in
// deploy/Dockerfile): the benchmarks start it the same way, so that they measure the defaults.
// A young generation of 8 MB semi-spaces instead of V8's 16: the same spans/s, 10 MB less peak
// RSS at full load and 50 MB less under overload (bench/README.md, "Young generation").
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=8'];
