import { describe, expect, it } from 'vitest';
import { parseTaskDefinition } from './input.js';
import { patchAppTaskDefinition } from './app.js';

describe('parseTaskDefinition', () => {
  it('says where the JSON breaks', () => {
    // V8 quotes the place (and, for some errors, gives the position, turned into line and column).
    expect(() => parseTaskDefinition('{\n  "family": "x",\n  "containerDefinitions": [,]\n}', 'app.json')).toThrow(/^app\.json is not JSON.*: Unexpected token ','.*\[,\]/s);
    expect(() => parseTaskDefinition('{"family": "x",', 'app.json')).toThrow(/^app\.json is not JSON/);
  });

  it('names what is missing from something that is not a task definition', () => {
    expect(() => parseTaskDefinition('[1,2]', 'a.json')).toThrow('a.json is not a task definition: expected a JSON object with family and containerDefinitions');
    expect(() => parseTaskDefinition('{"family": "x"}', 'a.json')).toThrow('containerDefinitions: a.json is not a task definition: it has no containerDefinitions');
    expect(() => parseTaskDefinition('{"family": "x", "containerDefinitions": {}}')).toThrow('containerDefinitions: must be an array of container definitions');
    expect(() => parseTaskDefinition('{"family": "x", "containerDefinitions": [{"image": "a:1"}]}')).toThrow('containerDefinitions[0].name: is missing; every container needs a name');
  });

  it('unwraps describe output, moves its tags, strips output-only fields and nulls, keeps key order', () => {
    const text = JSON.stringify({ taskDefinition: { revision: 3, family: 'x', containerDefinitions: [{ name: 'a', image: 'a:1', links: null }], status: 'ACTIVE', cpu: '256' }, tags: [{ key: 'k', value: 'v' }] });
    const { doc, removed, fromDescribe } = parseTaskDefinition(text);
    expect(fromDescribe).toBe(true);
    expect(removed).toEqual(['revision', 'status', 'containerDefinitions[0].links']);
    expect(JSON.stringify(doc)).toBe('{"family":"x","containerDefinitions":[{"name":"a","image":"a:1"}],"cpu":"256","tags":[{"key":"k","value":"v"}]}');
  });
});

describe('patchAppTaskDefinition refusals', () => {
  const doc = (c: Record<string, unknown>) => parseTaskDefinition(JSON.stringify({ family: 'x', containerDefinitions: [{ name: 'web', image: 'a:1', ...c }] })).doc;

  it('asks for the image entrypoint when the task definition has only a command', () => {
    expect(() => patchAppTaskDefinition(doc({ command: ['node', 'a.js'] }), { container: 'web', discovery: 'launcher' })).toThrow(/^containerDefinitions\[0\]\.entryPoint: is not set, so the image's own ENTRYPOINT runs before command/);
  });

  it('asks for the startup command when neither entryPoint nor command is set', () => {
    expect(() => patchAppTaskDefinition(doc({}), { container: 'web', discovery: 'launcher', imageEntrypoint: [] })).toThrow(/^containerDefinitions\[0\]\.command: the container would run nothing/);
    expect(() => patchAppTaskDefinition(doc({}), { container: 'web', discovery: 'launcher' })).toThrow(/^containerDefinitions\[0\]\.command: neither entryPoint nor command is set/);
  });

  it('removes a fixed DD_AGENT_HOST, which would stop discovery, and says so', () => {
    const { doc: out, notes } = patchAppTaskDefinition(doc({ entryPoint: ['node', 'a.js'], environment: [{ name: 'DD_AGENT_HOST', value: 'localhost' }] }), { container: 'web', discovery: 'launcher' });
    expect(out.containerDefinitions![0]!.environment).toEqual([]);
    expect(notes).toContain('containerDefinitions[0].environment: removed DD_AGENT_HOST="localhost"; a fixed value would stop discovery');
  });
});
