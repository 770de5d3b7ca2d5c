/**
 * Static checks of the deployment files in deploy/ (Dockerfile, compose, Kubernetes, Grafana). Nothing here
 * needs Docker, a cluster or the network: files are parsed and cross-checked against each other and against
 * the application itself (env defaults from src/config/env.ts, the health server's paths, the metric
 * registry, the shipped routes and policies). Building the image and starting compose were NOT possible on
 * the machine these were written on; see deploy/README.md.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { loadEnv } from '../../../src/config/env.js';
import { loadRoutes } from '../../../src/config/routes.js';
import { parseKeyRing } from '../../../src/config/secrets.js';
import { startHealthServer } from '../../../src/observability/health-server.js';
import { MaskerMetrics } from '../../../src/observability/metrics.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DEPLOY = join(ROOT, 'deploy');
const K8S = join(DEPLOY, 'k8s');

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
function obj(v: unknown, what: string): Obj {
  if (!isObj(v)) throw new Error(`${what}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
}
function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}
function str(v: unknown, what: string): string {
  if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return String(v);
}
const read = (path: string): string => readFileSync(path, 'utf8');

/** Defaults the application applies when nothing is set (the same function `masker run` calls). */
const DEFAULTS = loadEnv({});
const WORKDIR = '/app';

// ---------------------------------------------------------------------------------------------------------
// Dockerfile
// ---------------------------------------------------------------------------------------------------------

interface Instruction { readonly cmd: string; readonly args: string; readonly stage: number }

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined, each tagged with its stage. */
function parseDockerfile(text: string): { instructions: Instruction[]; globalArgs: Map<string, string> } {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1).trim()} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  const instructions: Instruction[] = [];
  const globalArgs = new Map<string, string>();
  let stage = -1;
  for (const l of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(l);
    if (match === null) continue;
    const cmd = (match[1] ?? '').toUpperCase();
    const args = match[2] ?? '';
    if (cmd === 'FROM') stage++;
    if (cmd === 'ARG' && stage === -1) {
      const [name, value] = args.split('=', 2);
      if (name !== undefined && value !== undefined) globalArgs.set(name, value);
    }
    instructions.push({ cmd, args, stage });
  }
  return { instructions, globalArgs };
}

/** `["a", "b"]` exec form → list; shell form → undefined. */
function execForm(args: string): string[] | undefined {
  if (!args.trim().startsWith('[')) return undefined;
  return arr(JSON.parse(args), args).map((a) => str(a, args));
}

/** .dockerignore semantics (moby patternmatcher): last matching pattern wins, `!` re-includes, a pattern
 *  matching a parent folder matches the path, `**` spans folders, `*` does not. */
function dockerIgnore(text: string): (path: string) => boolean {
  const patterns = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const negate = l.startsWith('!');
    const body = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
    let re = '';
    for (let i = 0; i < body.length; i++) {
      const c = body[i] ?? '';
      if (c === '*' && body[i + 1] === '*') {
        if (body[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i += 1; }
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return { negate, re: new RegExp(`^${re}$`) };
  });
  return (path: string): boolean => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of patterns) {
      if (candidates.some((c) => p.re.test(c))) excluded = !p.negate;
    }
    return excluded;
  };
}

function walk(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).flatMap((name) => walk(join(path, name)));
}

const dockerfile = parseDockerfile(read(join(DEPLOY, 'Dockerfile')));
const stages = Math.max(...dockerfile.instructions.map((i) => i.stage)) + 1;
const finalStage = dockerfile.instructions.filter((i) => i.stage === stages - 1);
const isIgnored = dockerIgnore(read(join(ROOT, '.dockerignore')));
const USER_LINE = finalStage.filter((i) => i.cmd === 'USER').at(-1)?.args ?? '';
const IMAGE_UID = Number(USER_LINE.split(':')[0]);

describe('deploy/Dockerfile', () => {
  it('is multi-stage: npm ci + npm run build in a build stage, npm ci --omit=dev in the runtime stage', () => {
    expect(stages).toBeGreaterThanOrEqual(2);
    const build = dockerfile.instructions.filter((i) => i.stage < stages - 1 && i.cmd === 'RUN').map((i) => i.args);
    expect(build.some((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'))).toBe(true);
    expect(build.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const runtimeRuns = finalStage.filter((i) => i.cmd === 'RUN').map((i) => i.args);
    const ci = runtimeRuns.find((r) => /\bnpm ci\b/.test(r));
    expect(ci).toContain('--omit=dev');
    // The package's `prepare` script runs tsc, a dev dependency: without --ignore-scripts this npm ci fails.
    expect(ci).toContain('--ignore-scripts');
  });

  it('no production dependency needs an install script (so --ignore-scripts loses nothing)', () => {
    // Reviewed: protobufjs' postinstall only prints a version-scheme warning for direct dependents.
    const harmless = new Set(['node_modules/protobufjs']);
    const lock = obj(JSON.parse(read(join(ROOT, 'package-lock.json'))), 'package-lock.json');
    const packages = obj(lock['packages'], 'packages');
    const withScripts = Object.entries(packages)
      .filter(([name, p]) => name !== '' && isObj(p) && p['dev'] !== true && p['hasInstallScript'] === true)
      .map(([name]) => name)
      .filter((name) => !harmless.has(name));
    expect(withScripts, 'review the new install script, then add it to `harmless` or drop --ignore-scripts').toEqual([]);
  });

  it('pins every base image to an exact version (no latest, no bare major)', () => {
    const froms = dockerfile.instructions.filter((i) => i.cmd === 'FROM');
    const stageNames = new Set(froms.map((f) => /\bAS\s+(\S+)/i.exec(f.args)?.[1]).filter((n) => n !== undefined));
    for (const from of froms) {
      let image = from.args.split(/\s+/)[0] ?? '';
      image = image.replace(/^\$\{(\w+)\}$|^\$(\w+)$/, (_, a?: string, b?: string) => dockerfile.globalArgs.get(a ?? b ?? '') ?? '');
      if (stageNames.has(image)) continue;
      expect(image, from.args).toMatch(/^[\w./-]+(:[\w.-]*\d+\.\d+\.\d+[\w.-]*)?(@sha256:[a-f0-9]{64})?$/);
      expect(image, from.args).toMatch(/:\S*\d+\.\d+\.\d+|@sha256:/);
      expect(image).toMatch(/^node:20\./); // package.json engines: node >= 20, the README's Node 20
    }
  });

  it('runs as a non-root user, with a numeric uid Kubernetes can check', () => {
    expect(USER_LINE).toMatch(/^\d+(:\d+)?$/);
    expect(IMAGE_UID).toBeGreaterThan(0);
  });

  it('copies what bin/masker.js needs: dist/, bin/, package.json, node_modules (npm ci in the stage), examples/demo', () => {
    const copies = finalStage.filter((i) => i.cmd === 'COPY' || i.cmd === 'ADD');
    const dests = (pred: (args: string) => boolean): string[] => copies.filter((c) => pred(c.args)).map((c) => c.args);
    expect(dests((a) => /--from=\w+\s+\/app\/dist\s+\.\/dist/.test(a))).toHaveLength(1);
    expect(dests((a) => /^bin\s+\.\/bin$/.test(a))).toHaveLength(1);
    expect(dests((a) => /\bpackage\.json\b/.test(a) && /\bpackage-lock\.json\b/.test(a))).toHaveLength(1);
    expect(dests((a) => /^examples\s+\.\/examples$/.test(a))).toHaveLength(1); // masker demo reads examples/demo/
    const workdir = finalStage.filter((i) => i.cmd === 'WORKDIR').at(-1)?.args;
    expect(workdir).toBe(WORKDIR);
    // bin/masker.js imports ../dist/cli/main.js: dist must sit next to bin under WORKDIR.
    expect(read(join(ROOT, 'bin/masker.js'))).toContain("'../dist/cli/main.js'");
    // examples/demo is located relative to dist/cli/demo/: ../../../examples/demo/ → /app/examples/demo.
    expect(read(join(ROOT, 'src/cli/demo/demo-command.ts'))).toContain("'../../../examples/demo/'");
  });

  it('COPY sources exist and are not excluded by .dockerignore; junk and secrets stay out of the context', () => {
    const sources = dockerfile.instructions
      .filter((i) => (i.cmd === 'COPY' || i.cmd === 'ADD') && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const path = join(ROOT, source);
      expect(existsSync(path), `${source} exists`).toBe(true);
      for (const file of walk(path)) {
        const rel = relative(ROOT, file);
        expect(isIgnored(rel), `${rel} reaches the build context`).toBe(false);
      }
    }
    for (const junk of ['node_modules/kafkajs/package.json', 'dist/cli/main.js', '.git/HEAD', '.stack/logs/kafka.log',
      'deploy/.env', '.env', 'src/.env', 'test/unit/config/routes.test.ts', 'bench/results/x.json', 'coverage/index.html']) {
      expect(isIgnored(junk), `${junk} is excluded`).toBe(true);
    }
  });

  it('starts `node bin/masker.js run`, exposes the metrics port and health-checks /healthz on it', () => {
    expect(execForm(finalStage.find((i) => i.cmd === 'ENTRYPOINT')?.args ?? '')).toEqual(['node', 'bin/masker.js']);
    expect(execForm(finalStage.find((i) => i.cmd === 'CMD')?.args ?? '')).toEqual(['run']);
    const env = finalStage.filter((i) => i.cmd === 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/\bMETRICS_HOST=0\.0\.0\.0\b/);
    expect(env).toMatch(new RegExp(`\\bMETRICS_PORT=${DEFAULTS.METRICS_PORT}\\b`));
    expect(finalStage.find((i) => i.cmd === 'EXPOSE')?.args).toBe(String(DEFAULTS.METRICS_PORT));
    const health = finalStage.find((i) => i.cmd === 'HEALTHCHECK')?.args ?? '';
    expect(health).toContain('/healthz');
    expect(health).toContain(`'${DEFAULTS.METRICS_PORT}'`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The health server really serves the paths the probes use
// ---------------------------------------------------------------------------------------------------------

describe('probe paths against the real health server', () => {
  let server: { port: number; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', metrics: new MaskerMetrics({ defaultMetrics: false }), readiness: () => ({ ready: true }) });
  });
  afterAll(async () => { await server?.close(); });

  it.each(['/healthz', '/readyz', '/metrics'])('%s answers 200', async (path) => {
    const res = await fetch(`http://127.0.0.1:${server?.port ?? 0}${path}`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});

/** Every http path a deploy file probes, so the test above covers them. */
const SERVED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

// ---------------------------------------------------------------------------------------------------------
// docker-compose.yml
// ---------------------------------------------------------------------------------------------------------

const composeText = read(join(DEPLOY, 'docker-compose.yml'));
const compose = obj(parseYaml(composeText, { merge: true }), 'compose');
const services = obj(compose['services'], 'services');
const service = (name: string): Obj => obj(services[name], `service ${name}`);
const envOf = (name: string): Obj => (services[name] === undefined ? {} : isObj(service(name)['environment']) ? obj(service(name)['environment'], name) : {});
const kafkaEnv = envOf('kafka');
const routes = loadRoutes(join(ROOT, 'topics'));

/** listener name → host:port advertised by the kafka service. */
function advertised(): Map<string, string> {
  return new Map(str(kafkaEnv['KAFKA_ADVERTISED_LISTENERS'], 'advertised').split(',').map((l) => {
    const m = /^(\w+):\/\/(.+)$/.exec(l.trim());
    if (m === null) throw new Error(`bad listener ${l}`);
    return [m[1] ?? '', m[2] ?? ''];
  }));
}

describe('deploy/docker-compose.yml', () => {
  it('has Kafka, Schema Registry, Redis, masker and the demo, on pinned images', () => {
    for (const name of ['kafka', 'schema-registry', 'redis', 'masker', 'demo']) expect(services[name], name).toBeDefined();
    expect(service('kafka')['image']).toBe('apache/kafka:3.9.1');
    expect(service('schema-registry')['image']).toMatch(/^confluentinc\/cp-schema-registry:\d+\.\d+\.\d+$/);
    expect(service('redis')['image']).toBe('redis:7-alpine');
    for (const [name, s] of Object.entries(services)) {
      const image = str(obj(s, name)['image'], `${name}.image`);
      expect(image, name).toMatch(/:[\w.-]+$/);
      expect(image, name).not.toMatch(/:latest$/);
    }
  });

  it('builds masker from the repository root with deploy/Dockerfile, for every service running the image', () => {
    const users = Object.entries(services).filter(([, s]) => obj(s, 'service')['image'] === service('masker')['image']);
    expect(users.map(([n]) => n).sort()).toEqual(expect.arrayContaining(['masker', 'demo']));
    for (const [name, s] of users) {
      const build = obj(obj(s, name)['build'], `${name}.build`);
      const context = resolve(DEPLOY, str(build['context'], 'context'));
      expect(context, name).toBe(ROOT);
      expect(existsSync(join(context, str(build['dockerfile'], 'dockerfile'))), name).toBe(true);
    }
  });

  it('runs Kafka as a single KRaft node with replication factor 1 for offsets and transactions, min ISR 1', () => {
    expect(str(kafkaEnv['KAFKA_PROCESS_ROLES'], 'roles').split(',').sort()).toEqual(['broker', 'controller']);
    expect(Number(kafkaEnv['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR'])).toBe(1);
    expect(Number(kafkaEnv['KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR'])).toBe(1);
    expect(Number(kafkaEnv['KAFKA_TRANSACTION_STATE_LOG_MIN_ISR'])).toBe(1);
    expect(kafkaEnv['KAFKA_ZOOKEEPER_CONNECT']).toBeUndefined();
    // Listener wiring: every listener has a protocol, the controller listener is a listener, the quorum
    // voter is this node on the controller port, advertised names are listeners.
    const protocols = new Map(str(kafkaEnv['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP'], 'map').split(',').map((p) => p.split(':') as [string, string]));
    const listeners = new Map(str(kafkaEnv['KAFKA_LISTENERS'], 'listeners').split(',').map((l) => {
      const m = /^(\w+):\/\/[^:]*:(\d+)$/.exec(l.trim());
      return [m?.[1] ?? l, m?.[2] ?? ''];
    }));
    for (const name of listeners.keys()) expect(protocols.has(name), name).toBe(true);
    const controller = str(kafkaEnv['KAFKA_CONTROLLER_LISTENER_NAMES'], 'controller');
    expect(kafkaEnv['KAFKA_CONTROLLER_QUORUM_VOTERS']).toBe(`${kafkaEnv['KAFKA_NODE_ID']}@kafka:${listeners.get(controller)}`);
    for (const [name, hostPort] of advertised()) {
      expect(listeners.get(name), name).toBe(hostPort.split(':')[1]);
      expect(name).not.toBe(controller);
    }
    expect(listeners.has(str(kafkaEnv['KAFKA_INTER_BROKER_LISTENER_NAME'], 'inter-broker'))).toBe(true);
  });

  it('points every client at an advertised Kafka listener, the registry listener and the Redis service', () => {
    const inNetwork = [...advertised().values()].filter((hp) => hp.startsWith('kafka:'));
    expect(inNetwork.length).toBeGreaterThan(0);
    const registryPort = new URL(str(envOf('schema-registry')['SCHEMA_REGISTRY_LISTENERS'], 'listeners')).port;
    expect(inNetwork).toContain(str(envOf('schema-registry')['SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS'], 'sr').replace(/^\w+:\/\//, ''));
    let clients = 0;
    for (const name of Object.keys(services)) {
      const env = envOf(name);
      if (env['KAFKA_BROKERS'] !== undefined) {
        clients++;
        for (const b of str(env['KAFKA_BROKERS'], 'brokers').split(',')) expect(inNetwork, name).toContain(b);
      }
      if (env['SCHEMA_REGISTRY_URL'] !== undefined) {
        const url = new URL(str(env['SCHEMA_REGISTRY_URL'], 'url'));
        expect(url.hostname, name).toBe('schema-registry');
        expect(url.port, name).toBe(registryPort);
      }
      if (env['REDIS_URL'] !== undefined) {
        const url = new URL(str(env['REDIS_URL'], 'url'));
        expect(url.hostname, name).toBe('redis');
        expect(url.port || '6379', name).toBe('6379');
      }
      // Whatever masker-specific values the file sets must pass the application's own validation.
      const known = Object.fromEntries(Object.entries(env).filter(([k, v]) => !k.startsWith('KAFKA_') || k === 'KAFKA_BROKERS').map(([k, v]) => [k, String(v)]));
      if (env['KAFKA_BROKERS'] !== undefined || env['REDIS_URL'] !== undefined) expect(() => loadEnv(known), name).not.toThrow();
    }
    expect(clients).toBeGreaterThanOrEqual(2); // masker and demo at least
    expect(envOf('demo')['KAFKA_BROKERS']).toBeDefined();
    expect(envOf('demo')['SCHEMA_REGISTRY_URL']).toBeDefined();
    expect(envOf('masker')['REDIS_URL']).toBe(envOf('policy-push')['REDIS_URL']);
  });

  it('depends_on only on defined services, with conditions the targets can meet', () => {
    for (const [name, raw] of Object.entries(services)) {
      const deps = obj(raw, name)['depends_on'];
      if (deps === undefined) continue;
      for (const [target, cond] of Object.entries(obj(deps, `${name}.depends_on`))) {
        expect(services[target], `${name} → ${target}`).toBeDefined();
        const condition = obj(cond, `${name} → ${target}`)['condition'];
        const t = service(target);
        if (condition === 'service_healthy') {
          const hc = obj(t['healthcheck'], `${target}.healthcheck`);
          expect(hc['disable'], `${target} healthcheck`).not.toBe(true);
          expect(arr(hc['test'], `${target}.healthcheck.test`).length).toBeGreaterThan(0);
        } else if (condition === 'service_completed_successfully') {
          expect(t['restart'] ?? 'no', `${target} is one-shot`).toBe('no');
        } else {
          expect(condition, `${name} → ${target}`).toBe('service_started');
        }
      }
    }
    const maskerDeps = Object.keys(obj(service('masker')['depends_on'], 'masker.depends_on'));
    expect(maskerDeps).toEqual(expect.arrayContaining(['kafka', 'schema-registry', 'redis']));
  });

  it('creates every route source topic before masker starts (masker run refuses a missing source topic)', () => {
    const init = arr(service('kafka-init')['command'], 'kafka-init.command').map((a) => str(a, 'arg'));
    const created = init.flatMap((a, i) => (a === '--topic' ? [init[i + 1]] : []));
    for (const route of routes) expect(created, route.name).toContain(route.source.topic);
    expect(init).toContain('--if-not-exists');
    expect(obj(obj(service('masker')['depends_on'], 'deps')['kafka-init'], 'kafka-init')['condition']).toBe('service_completed_successfully');
  });

  it('masker: metrics on 0.0.0.0 at the default port, published and health-checked on a served path', () => {
    const env = envOf('masker');
    const port = String(DEFAULTS.METRICS_PORT);
    expect(env['METRICS_HOST']).toBe('0.0.0.0');
    expect(String(env['METRICS_PORT'])).toBe(port);
    const ports = arr(service('masker')['ports'], 'ports').map((p) => str(p, 'port'));
    expect(ports.some((p) => p.endsWith(`:${port}`))).toBe(true);
    const test = arr(obj(service('masker')['healthcheck'], 'hc')['test'], 'test').join(' ');
    const url = /http:\/\/127\.0\.0\.1:(\d+)(\/\w+)/.exec(test);
    expect(url?.[1]).toBe(port);
    expect(SERVED_PATHS.has(url?.[2] ?? '')).toBe(true);
    expect(arr(service('masker')['command'], 'command')).toEqual(['run']);
  });

  it('masker: topics/ and policies/ mounted read-only where `masker run` looks by default', () => {
    const volumes = arr(service('masker')['volumes'], 'volumes').map((v) => str(v, 'volume'));
    for (const dir of ['topics', 'policies']) {
      const mount = volumes.find((v) => v.split(':')[1] === `${WORKDIR}/${dir}`);
      expect(mount, dir).toBeDefined();
      const [host, , mode] = (mount ?? '').split(':');
      expect(resolve(DEPLOY, host ?? '')).toBe(join(ROOT, dir));
      expect(mode).toBe('ro');
    }
    expect(service('masker')['read_only']).toBe(true);
  });

  it('takes MASKER_SECRET from the environment (shell or deploy/.env), never a literal; host ports on loopback', () => {
    expect(envOf('masker')['MASKER_SECRET']).toMatch(/^\$\{MASKER_SECRET:\?[^}]+\}$/);
    for (const name of Object.keys(services)) {
      for (const [k, v] of Object.entries(envOf(name))) {
        if (/SECRET|PASSWORD|SIGNING_KEY/.test(k)) expect(String(v), `${name}.${k}`).toMatch(/^\$\{/);
      }
      for (const p of (service(name)['ports'] as unknown[] | undefined) ?? []) expect(str(p, 'port'), name).toMatch(/^127\.0\.0\.1:/);
    }
    expect(read(join(DEPLOY, '.gitignore'))).toMatch(/^\.env$/m);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Kubernetes
// ---------------------------------------------------------------------------------------------------------

const kustomization = obj(parseYaml(read(join(K8S, 'kustomization.yaml'))), 'kustomization');
const k8sObjects: Obj[] = arr(kustomization['resources'], 'resources').flatMap((file) =>
  parseAllDocuments(read(join(K8S, str(file, 'resource')))).map((doc) => {
    expect(doc.errors, String(file)).toEqual([]);
    return obj(doc.toJS(), String(file));
  }));
const byKind = (kind: string): Obj => {
  const found = k8sObjects.filter((o) => o['kind'] === kind);
  expect(found, kind).toHaveLength(1);
  return found[0] as Obj;
};
const deployment = byKind('Deployment');
const podSpec = obj(obj(obj(deployment['spec'], 'spec')['template'], 'template')['spec'], 'pod spec');
const podLabels = obj(obj(obj(obj(deployment['spec'], 'spec')['template'], 'template')['metadata'], 'meta')['labels'], 'labels');
const container = obj(arr(podSpec['containers'], 'containers')[0], 'container');
const containerEnv = new Map(arr(container['env'], 'env').map((e) => [str(obj(e, 'env')['name'], 'name'), obj(e, 'env')]));
const generators = arr(kustomization['configMapGenerator'], 'configMapGenerator').map((g) => obj(g, 'generator'));
const secretTemplate = obj(parseYaml(read(join(K8S, 'secret.template.yaml'))), 'secret template');

function matchesSelector(selector: Obj, labels: Obj): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
/** Kubernetes memory quantity → bytes (Mi, Gi, M, G, plain). */
function bytes(q: unknown): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(str(q, 'quantity'));
  if (m === null) throw new Error(`bad quantity ${String(q)}`);
  const unit = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, K: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

describe('deploy/k8s', () => {
  it('every object has apiVersion, kind and metadata.name, and no namespace (chosen at apply time)', () => {
    expect(k8sObjects.length).toBeGreaterThanOrEqual(4);
    for (const o of [...k8sObjects, secretTemplate]) {
      expect(o['apiVersion'], JSON.stringify(o)).toMatch(/^([\w.-]+\/)?v\d+(beta\d+)?$/);
      expect(typeof o['kind']).toBe('string');
      const meta = obj(o['metadata'], 'metadata');
      expect(meta['name']).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(meta['namespace']).toBeUndefined();
    }
    expect(kustomization['namespace']).toBeUndefined();
    expect(new Set(k8sObjects.map((o) => o['kind']))).toEqual(new Set(['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler']));
  });

  it('selectors of the Deployment, Service and PDB match the pod labels; the HPA targets the Deployment', () => {
    expect(matchesSelector(obj(obj(obj(deployment['spec'], 's')['selector'], 'sel')['matchLabels'], 'ml'), podLabels)).toBe(true);
    expect(matchesSelector(obj(obj(byKind('Service')['spec'], 's')['selector'], 'sel'), podLabels)).toBe(true);
    expect(matchesSelector(obj(obj(obj(byKind('PodDisruptionBudget')['spec'], 's')['selector'], 'sel')['matchLabels'], 'ml'), podLabels)).toBe(true);
    const target = obj(obj(byKind('HorizontalPodAutoscaler')['spec'], 's')['scaleTargetRef'], 'ref');
    expect(target['kind']).toBe('Deployment');
    expect(target['name']).toBe(obj(deployment['metadata'], 'm')['name']);
  });

  it('probes hit /healthz and /readyz on the metrics port the app listens on (0.0.0.0, default port)', () => {
    const port = DEFAULTS.METRICS_PORT;
    const ports = arr(container['ports'], 'ports').map((p) => obj(p, 'port'));
    const metricsPort = ports.find((p) => p['name'] === 'metrics');
    expect(metricsPort?.['containerPort']).toBe(port);
    expect(containerEnv.get('METRICS_PORT')?.['value']).toBe(String(port));
    expect(containerEnv.get('METRICS_HOST')?.['value']).toBe('0.0.0.0');
    const probe = (name: string): Obj => obj(obj(container[name], name)['httpGet'], `${name}.httpGet`);
    expect(probe('livenessProbe')['path']).toBe('/healthz');
    expect(probe('readinessProbe')['path']).toBe('/readyz');
    for (const name of ['livenessProbe', 'readinessProbe']) expect([port, 'metrics']).toContain(probe(name)['port']);
    const svcPort = obj(arr(obj(byKind('Service')['spec'], 's')['ports'], 'ports')[0], 'port');
    expect([port, 'metrics']).toContain(svcPort['targetPort']);
    const annotations = obj(obj(obj(obj(deployment['spec'], 's')['template'], 't')['metadata'], 'm')['annotations'], 'a');
    expect(annotations['prometheus.io/port']).toBe(String(port));
  });

  it('sizes resources for a ~256 MiB RSS worker, with a heap cap under the limit', () => {
    const resources = obj(container['resources'], 'resources');
    const requests = obj(resources['requests'], 'requests');
    const limits = obj(resources['limits'], 'limits');
    expect(bytes(requests['memory'])).toBeGreaterThanOrEqual(256 * 1024 ** 2);
    expect(bytes(limits['memory'])).toBeGreaterThanOrEqual(bytes(requests['memory']));
    expect(bytes(limits['memory'])).toBeLessThanOrEqual(1024 ** 3);
    expect(requests['cpu']).toBeDefined();
    const heap = /--max-old-space-size=(\d+)/.exec(str(containerEnv.get('NODE_OPTIONS')?.['value'] ?? '', 'NODE_OPTIONS'));
    expect(Number(heap?.[1]) * 1024 ** 2).toBeLessThan(bytes(limits['memory']));
  });

  it('runs non-root (the image uid) with a read-only root filesystem and room for a clean SIGTERM', () => {
    const pod = obj(podSpec['securityContext'], 'pod securityContext');
    expect(pod['runAsNonRoot']).toBe(true);
    expect(pod['runAsUser']).toBe(IMAGE_UID);
    const sc = obj(container['securityContext'], 'securityContext');
    expect(sc['readOnlyRootFilesystem']).toBe(true);
    expect(sc['allowPrivilegeEscalation']).toBe(false);
    expect(obj(sc['capabilities'], 'caps')['drop']).toEqual(['ALL']);
    // Leaving the group + aborting the open transaction; 30 s is the kubelet default, we want more.
    expect(Number(podSpec['terminationGracePeriodSeconds'])).toBeGreaterThanOrEqual(45);
  });

  it('mounts the generated routes/policies ConfigMaps where `masker run` is pointed, and the Secret as a file', () => {
    const volumes = new Map(arr(podSpec['volumes'], 'volumes').map((v) => [str(obj(v, 'v')['name'], 'name'), obj(v, 'v')]));
    const mounts = new Map(arr(container['volumeMounts'], 'mounts').map((m) => [str(obj(m, 'm')['mountPath'], 'path'), obj(m, 'm')]));
    const args = arr(container['args'], 'args').map((a) => str(a, 'arg'));
    expect(args[0]).toBe('run');
    const generatorNames = new Set(generators.map((g) => g['name']));
    for (const [flag, dir] of [['--routes', 'topics'], ['--policies', 'policies']] as const) {
      const path = args[args.indexOf(flag) + 1];
      expect(path).toBe(`${WORKDIR}/${dir}`);
      const mount = mounts.get(path ?? '');
      expect(mount?.['readOnly'], dir).toBe(true);
      const volume = volumes.get(str(mount?.['name'], 'mount name'));
      expect(generatorNames.has(obj(volume?.['configMap'], 'configMap')['name']), dir).toBe(true);
    }
    // The key ring is read from MASKER_SECRET_FILE, a file of the Secret the template defines.
    const secretFile = str(containerEnv.get('MASKER_SECRET_FILE')?.['value'], 'MASKER_SECRET_FILE');
    const secretMount = mounts.get(dirname(secretFile));
    const secretVolume = obj(volumes.get(str(secretMount?.['name'], 'secret mount'))?.['secret'], 'secret volume');
    expect(secretVolume['secretName']).toBe(obj(secretTemplate['metadata'], 'm')['name']);
    const items = arr(secretVolume['items'], 'items').map((i) => obj(i, 'item'));
    expect(items.find((i) => i['path'] === basename(secretFile))?.['key']).toBe('MASKER_SECRET');
    for (const name of ['MASKER_POLICY_VERIFY_KEY', 'REDIS_URL']) {
      const ref = obj(obj(containerEnv.get(name)?.['valueFrom'], 'valueFrom')['secretKeyRef'], 'secretKeyRef');
      expect(ref['name']).toBe(obj(secretTemplate['metadata'], 'm')['name']);
      expect(ref['optional']).toBe(true);
    }
    expect(containerEnv.has('MASKER_SECRET')).toBe(false);
  });

  it('generates the ConfigMaps from copies identical to the shipped topics/ and policies/', () => {
    for (const [name, dir] of [['masker-routes', 'topics'], ['masker-policies', 'policies']] as const) {
      const files = arr(generators.find((g) => g['name'] === name)?.['files'], name).map((f) => str(f, 'file'));
      const shipped = readdirSync(join(ROOT, dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
      expect(files.map((f) => basename(f)).sort(), `${name} lists every ${dir}/ file`).toEqual(shipped);
      for (const f of files) {
        expect(read(join(K8S, f)), `${f} differs from ${dir}/${basename(f)}: cp ${dir}/*.yaml deploy/k8s/config/${dir}/`)
          .toBe(read(join(ROOT, dir, basename(f))));
      }
    }
    // The copies are valid routes (the same loader `masker run` uses).
    expect(loadRoutes(join(K8S, 'config/topics')).map((r) => r.name)).toEqual(routes.map((r) => r.name));
  });

  it('masker.env holds valid, non-secret settings', () => {
    const envFile = str(arr(generators.find((g) => g['name'] === 'masker-env')?.['envs'], 'envs')[0], 'env file');
    const vars = Object.fromEntries(read(join(K8S, envFile)).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).map((l) => {
      const i = l.indexOf('=');
      expect(i, l).toBeGreaterThan(0);
      return [l.slice(0, i), l.slice(i + 1)];
    }));
    expect(vars['KAFKA_BROKERS']).toBeDefined();
    expect(vars['SCHEMA_REGISTRY_URL']).toBeDefined();
    expect(() => loadEnv(vars)).not.toThrow();
    for (const k of Object.keys(vars)) expect(k).not.toMatch(/SECRET|PASSWORD|KEY|REDIS_URL/);
    // envFrom: the env ConfigMap is referenced.
    const envFrom = arr(container['envFrom'], 'envFrom').map((e) => obj(obj(e, 'e')['configMapRef'], 'ref')['name']);
    expect(envFrom).toContain('masker-env');
  });

  it('the Secret is a template: placeholders masker refuses, not applied by the kustomization', () => {
    expect(secretTemplate['kind']).toBe('Secret');
    const data = obj(secretTemplate['stringData'], 'stringData');
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['MASKER_SECRET', 'MASKER_POLICY_VERIFY_KEY']));
    // An unfilled template must never mask with a known key: the placeholder is too short to be accepted.
    expect(() => parseKeyRing(str(data['MASKER_SECRET'], 'placeholder'), 'MASKER_SECRET')).toThrow(/at least 16 bytes/);
    expect(data['MASKER_POLICY_VERIFY_KEY']).toBe('');
    expect(arr(kustomization['resources'], 'resources')).not.toContain('secret.template.yaml');
  });

  it('the HPA says that replicas beyond the source partition count sit idle', () => {
    const text = read(join(K8S, 'hpa.yaml'));
    expect(text).toMatch(/partition/i);
    expect(text).toMatch(/idle/i);
    const spec = obj(byKind('HorizontalPodAutoscaler')['spec'], 'spec');
    expect(Number(spec['maxReplicas'])).toBeGreaterThanOrEqual(Number(spec['minReplicas']));
  });
});

// ---------------------------------------------------------------------------------------------------------
// Grafana
// ---------------------------------------------------------------------------------------------------------

const dashboard = obj(JSON.parse(read(join(DEPLOY, 'grafana/masker-dashboard.json'))), 'dashboard');
const panels = arr(dashboard['panels'], 'panels').map((p) => obj(p, 'panel'));
const exprs = panels.flatMap((p) => ((p['targets'] as unknown[] | undefined) ?? []).map((t) => str(obj(t, 'target')['expr'], 'expr')));

describe('deploy/grafana/masker-dashboard.json', () => {
  const metrics = new MaskerMetrics();
  const registered = new Map(metrics.registry.getMetricsAsArray().map((m) => {
    const labelNames = (m as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
    return [m.name, new Set(labelNames)];
  }));
  /** The registered metric a PromQL name refers to (histogram series carry _bucket/_sum/_count). */
  const metricOf = (name: string): string | undefined =>
    [name, name.replace(/_(bucket|sum|count)$/, '')].find((n) => registered.has(n));

  it('has unique panel ids, a Prometheus datasource variable and panels inside the 24-column grid', () => {
    const ids = panels.map((p) => p['id']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      const g = obj(p['gridPos'], 'gridPos');
      expect(Number(g['x']) + Number(g['w']), String(p['title'])).toBeLessThanOrEqual(24);
      if (p['type'] !== 'row') expect(obj(p['datasource'], 'ds')['uid']).toBe('${datasource}');
    }
    const vars = arr(obj(dashboard['templating'], 't')['list'], 'list').map((v) => obj(v, 'var'));
    expect(vars.find((v) => v['name'] === 'datasource')?.['query']).toBe('prometheus');
  });

  it('queries only metrics the application registers, grouped by labels they have', () => {
    expect(exprs.length).toBeGreaterThan(8);
    for (const expr of exprs) {
      // `a or b` lists alternatives for one series (e.g. a metric prefix change); one must exist.
      const alternatives = expr.split(/\s+or\s+(?!vector)/);
      const ok = alternatives.some((alt) => {
        const names = alt.match(/\bmasker_[a-z0-9_]+/g) ?? [];
        return names.length > 0 && names.every((n) => metricOf(n) !== undefined);
      });
      expect(ok, expr).toBe(true);
      for (const alt of alternatives) {
        const names = (alt.match(/\bmasker_[a-z0-9_]+/g) ?? []).map(metricOf).filter((n) => n !== undefined);
        for (const by of alt.matchAll(/\bby\s*\(([^)]*)\)/g)) {
          for (const label of (by[1] ?? '').split(',').map((l) => l.trim()).filter((l) => l !== '')) {
            const has = names.some((n) => registered.get(n)?.has(label) === true || (label === 'le' && n === 'masker_batch_duration_seconds'));
            expect(has, `${label} in ${alt}`).toBe(true);
          }
        }
      }
    }
  });

  it('covers records in/out/quarantined, masked fields, batch p50/p99, policy version, lag and RSS', () => {
    const all = exprs.join('\n');
    for (const needle of ['masker_records_in_total', 'masker_records_out_total', 'by (route, code) (rate(masker_records_quarantined_total',
      'by (action) (rate(masker_masked_fields_total', 'histogram_quantile(0.5,', 'histogram_quantile(0.99,',
      'masker_batch_duration_seconds_bucket', 'masker_policy_version', 'masker_consumer_lag_records', 'masker_process_resident_memory_bytes']) {
      expect(all, needle).toContain(needle);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// All files: parse, and no secrets
// ---------------------------------------------------------------------------------------------------------

describe('deploy/ as a whole', () => {
  // deploy/local/ (the no-Docker stack) has its own owners and tests; a developer's deploy/.env is git-ignored.
  const files = walk(DEPLOY).filter((f) => !f.startsWith(join(DEPLOY, 'local')) && basename(f) !== '.env');

  it('every YAML and JSON file parses', () => {
    const yamls = files.filter((f) => /\.ya?ml$/.test(f));
    expect(yamls.length).toBeGreaterThanOrEqual(8);
    for (const f of yamls) {
      for (const doc of parseAllDocuments(read(f), { merge: true })) expect(doc.errors, relative(ROOT, f)).toEqual([]);
    }
    for (const f of files.filter((x) => x.endsWith('.json'))) expect(() => JSON.parse(read(f)), relative(ROOT, f)).not.toThrow();
  });

  it('holds no private keys or filled-in secrets', () => {
    for (const f of files) {
      const text = read(f);
      expect(text, relative(ROOT, f)).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
      expect(text, relative(ROOT, f)).not.toMatch(/MASKER_SECRET\s*[:=]\s*["']?(?!REPLACE_ME|\$\{)[A-Za-z0-9+/=_:-]{16,}/);
    }
  });

  it('the deployment READMEs name only metrics the application registers (masker_x_* as a prefix of some)', () => {
    const registered = new Set(new MaskerMetrics().registry.getMetricsAsArray().map((m) => m.name));
    for (const file of [join(DEPLOY, 'README.md'), join(K8S, 'README.md'), join(ROOT, 'README.md')]) {
      // `masker_process_*` and `grep '^masker_records'` name prefixes; anything else a whole metric.
      for (const [, caret = '', name = '', star = ''] of read(file).matchAll(/(\^?)\b(masker_[a-z0-9_]+)(\*?)/g)) {
        const token = `${name}${star}`;
        if (star !== '' || caret !== '') {
          const prefix = name;
          expect([...registered].some((n) => n.startsWith(prefix)), `${relative(ROOT, file)}: ${token}`).toBe(true);
        } else if (!token.endsWith('_') && !/^masker_(audit|quarantine)$/.test(token)) {
          expect(registered.has(token.replace(/_(bucket|sum|count)$/, '')), `${relative(ROOT, file)}: ${token}`).toBe(true);
        }
      }
    }
  });

  it("the deployment README's .dockerignore row lists exactly the allow-list", () => {
    const allowed = read(join(ROOT, '.dockerignore')).split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/\*\*$/, '/'));
    const row = read(join(DEPLOY, 'README.md')).split('\n').find((l) => l.startsWith('| `.dockerignore` |')) ?? '';
    const listed = [...row.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((t) => t !== '.dockerignore' && t !== '.env' && t !== 'npx patch-package');
    expect(new Set(listed)).toEqual(new Set(allowed));
  });

  it('Secret instructions that create the Secret from the command line write the key to no file', () => {
    for (const file of [join(DEPLOY, 'README.md'), join(K8S, 'README.md')]) {
      for (const [block] of read(file).matchAll(/```bash\n[\s\S]*?```/g)) {
        if (!/create secret generic masker-secrets[\s\\]+--from/.test(block)) continue; // the full command, not a reference to it
        expect(block, relative(ROOT, file)).not.toMatch(/(^|[^2<])>\s*\S/m); // no `> file` redirection
        expect(block, relative(ROOT, file)).toMatch(/--from-file=MASKER_SECRET=<\(/);
      }
    }
  });

  it('the deployment README says what was and was not run', () => {
    const text = read(join(DEPLOY, 'README.md'));
    expect(text).toMatch(/not (been )?(built|run|started)/i);
    expect(text).toContain('test/unit/deploy/deploy-files.test.ts');
  });
});
