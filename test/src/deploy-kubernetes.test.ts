/**
 * deploy/kubernetes: the Kustomize tree's references, `make-pki.sh` run for real, and the
 * containers' args and env through the planes' parsers, naming certificates that carry those
 * identities.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { parseConfigText } from '@spooky/config';
import { parseSettings } from '../../controlplane/src/settings/settings.ts';
import { parseFlags } from '../../dataplane/src/bootstrap/flags.ts';
import { expandKubeVars, loadKustomization, parseEnvFile, sansOf } from './harness/deploy-manifests.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');

describe('deploy/kubernetes', () => {
  const base = join(DEPLOY, 'kubernetes', 'base');
  const dev = join(DEPLOY, 'kubernetes', 'overlays', 'dev');
  const tree = loadKustomization(dev);
  // biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; each property read is asserted on.
  type Doc = Record<string, any>;
  const docs = tree.resources as Doc[];
  const byKind = (kind: string) => docs.filter((d) => d['kind'] === kind);
  const named = (kind: string, name: string) => byKind(kind).find((d) => d['metadata']?.['name'] === name);
  const workloads = () => byKind('StatefulSet');

  test('every resource has apiVersion, kind and a name; the dev overlay includes the base and a namespace', () => {
    assert.ok(tree.kustomizations.some((k) => k.dir === base));
    for (const doc of docs) assert.ok(doc['apiVersion'] && doc['kind'] && doc['metadata']?.['name'], JSON.stringify(doc).slice(0, 80));
    const ns = tree.kustomizations.find((k) => k.dir === dev)?.doc['namespace'];
    assert.ok(named('Namespace', String(ns)), `namespace ${ns} is created`);
    assert.ok(named('StatefulSet', 'spooky-controlplane')?.spec.volumeClaimTemplates?.length === 1, 'the control plane has a PVC for SQLite');
    assert.equal(named('StatefulSet', 'spooky-controlplane')?.spec.replicas, 1);
    assert.ok(named('PodDisruptionBudget', 'spooky-dataplane'));
  });

  test('selectors, Services, ports, probes, mounts, ConfigMaps and Secrets all refer to things that exist', () => {
    const configMaps = new Set(tree.generated.filter((g) => g.kind === 'ConfigMap').map((g) => g.name));
    const secrets = new Set(tree.generated.filter((g) => g.kind === 'Secret').map((g) => g.name));
    // ConfigMaps read committed files; the Secrets' files are what make-pki.sh writes (checked below).
    for (const gen of tree.generated.filter((g) => g.kind === 'ConfigMap')) {
      for (const [key, file] of gen.files) assert.ok(existsSync(file), `${gen.name}: ${key} from ${file}`);
    }
    for (const w of workloads()) {
      const name = w['metadata'].name as string;
      const labels = w['spec'].template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(w['spec'].selector.matchLabels as Record<string, string>)) assert.equal(labels[k], v, `${name}: selector matches the pod labels`);
      const governing = named('Service', w['spec'].serviceName);
      assert.equal(governing?.['spec'].clusterIP, 'None', `${name}: serviceName is a headless Service`);
      const pod = w['spec'].template.spec;
      const volumes = new Set<string>([...pod.volumes.map((v: Doc) => v['name']), ...(w['spec'].volumeClaimTemplates ?? []).map((t: Doc) => t['metadata'].name)]);
      for (const v of pod.volumes as Doc[]) {
        if (v['secret']) assert.ok(secrets.has(v['secret'].secretName), `${name}: Secret ${v['secret'].secretName} is generated`);
        if (v['configMap']) assert.ok(configMaps.has(v['configMap'].name), `${name}: ConfigMap ${v['configMap'].name}`);
      }
      for (const c of pod.containers as Doc[]) {
        for (const m of c['volumeMounts'] as Doc[]) assert.ok(volumes.has(m['name']), `${name}: mount ${m['name']} is a volume`);
        for (const e of (c['envFrom'] ?? []) as Doc[]) assert.ok(configMaps.has(e['configMapRef'].name), `${name}: envFrom ${e['configMapRef'].name}`);
        const ports = new Set((c['ports'] as Doc[]).map((p) => p['name']));
        for (const probe of [c['livenessProbe'], c['readinessProbe']]) assert.ok(probe && ports.has(probe.httpGet.port), `${name}: probe on a named port`);
        assert.equal(c['securityContext'].allowPrivilegeEscalation, false);
        assert.equal(pod.securityContext.runAsNonRoot, true);
      }
    }
    for (const svc of byKind('Service')) {
      const selected = workloads().filter((w) => Object.entries(svc['spec'].selector).every(([k, v]) => w['spec'].template.metadata.labels[k] === v));
      assert.equal(selected.length, 1, `Service ${svc['metadata'].name} selects one workload`);
      const ports = (selected[0]?.['spec'].template.spec.containers[0].ports ?? []) as Doc[];
      for (const p of svc['spec'].ports as Doc[]) {
        assert.ok(ports.some((cp) => cp['name'] === p['targetPort'] && cp['protocol'] === p['protocol']), `Service ${svc['metadata'].name}: ${p['targetPort']}/${p['protocol']}`);
      }
    }
    const dpService = named('Service', 'spooky-dataplane');
    assert.deepEqual(((dpService?.['spec'].ports ?? []) as Doc[]).map((p) => p['protocol']).sort(), ['TCP', 'UDP']);
    const pdb = named('PodDisruptionBudget', 'spooky-dataplane');
    assert.equal(pdb?.['spec'].selector.matchLabels['app.kubernetes.io/name'], 'spooky-dataplane');
  });

  test('data plane: /live and /ready probes, a preStop delay and a grace period longer than preStop + drain + 10 s', () => {
    const pod = named('StatefulSet', 'spooky-dataplane')?.['spec'].template.spec;
    const c = pod.containers[0];
    assert.equal(c.livenessProbe.httpGet.path, '/live');
    assert.equal(c.readinessProbe.httpGet.path, '/ready');
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    const drainS = Number(c.args[c.args.indexOf('--drain-timeout-ms') + 1]) / 1000;
    assert.ok(pod.terminationGracePeriodSeconds >= preStop + drainS + 10, `${pod.terminationGracePeriodSeconds} s >= ${preStop} + ${drainS} + 10`);
  });

  test('make-pki.sh issues every file the Secrets read; the container args and env are accepted by the planes and name those certificates', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-k8s-pki-'));
    try {
      const out = spawnSync('sh', [join(dev, 'make-pki.sh'), dir], { env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(out.status, 0, out.stderr);
      assert.equal(out.stdout.trim(), `pki and tokens in ${dir}`);
      const secretFile = (secret: string, key: string): string => {
        const file = tree.generated.find((g) => g.name === secret)?.files.get(key);
        assert.ok(file, `${secret} has ${key}`);
        return join(dir, file.slice(file.indexOf('/pki/') + 5));
      };
      for (const gen of tree.generated.filter((g) => g.kind === 'Secret')) for (const key of gen.files.keys()) assert.ok(existsSync(secretFile(gen.name, key)), `${gen.name}/${key}`);
      // Mounted Secret files: mountPath/key → the file make-pki.sh wrote.
      const mounted = (pod: Doc, c: Doc, path: string): string => {
        const m = (c['volumeMounts'] as Doc[]).find((vm) => path.startsWith(`${vm['mountPath']}/`));
        const volume = (pod['volumes'] as Doc[]).find((v) => v['name'] === m?.['name']);
        assert.ok(volume?.['secret'], `${path} is in a Secret mount`);
        return secretFile(volume['secret'].secretName, path.slice(String(m?.['mountPath']).length + 1));
      };
      const cpPod = named('StatefulSet', 'spooky-controlplane')?.['spec'].template.spec;
      const cpEnv = parseEnvFile(readFileSync(join(base, 'controlplane.env'), 'utf8'));
      const cp = parseSettings(cpPod.containers[0].args ?? [], cpEnv);
      assert.ok(cp.grpcTls && cp.httpTls, 'REST over TLS and gRPC over mutual TLS');
      const cpCert = mounted(cpPod, cpPod.containers[0], cp.grpcTls.certFile);
      mounted(cpPod, cpPod.containers[0], cp.tokensFile);
      assert.ok(cp.dbPath.startsWith(`${cpPod.containers[0].volumeMounts.find((m: Doc) => m['name'] === 'data').mountPath}/`), 'the store is on the PVC');

      const dpSet = named('StatefulSet', 'spooky-dataplane');
      const dpPod = dpSet?.['spec'].template.spec;
      const c = dpPod.containers[0];
      for (let ordinal = 0; ordinal < 2; ordinal++) {
        const vars: Record<string, string> = { POD_NAME: `spooky-dataplane-${ordinal}` };
        for (const e of c.env as Doc[]) if (e['value'] !== undefined) vars[e['name']] = expandKubeVars(e['value'], vars);
        const flags = parseFlags((c.args as string[]).map((a) => expandKubeVars(a, vars)), 2, vars);
        assert.ok(flags.ok && flags.settings.mode === 'control-plane', flags.ok ? '' : flags.error);
        if (flags.settings.mode !== 'control-plane' || !flags.settings.controlTls) throw new Error('mutual TLS expected');
        const cpHost = flags.settings.controlPlane.split(':')[0] as string;
        assert.ok(named('Service', cpHost), `--control-plane ${cpHost} is a Service`);
        assert.match(sansOf(cpCert), new RegExp(`DNS:${cpHost}(,|$)`));
        const nodeCert = mounted(dpPod, c, flags.settings.controlTls.certFile);
        mounted(dpPod, c, flags.settings.controlTls.keyFile);
        assert.equal(sansOf(nodeCert), `URI:spiffe://spooky/scope/${flags.settings.scope}/node/spooky-dataplane-${ordinal}`);
      }
      const yaml = readFileSync(join(dev, 'spooky.yaml'), 'utf8');
      const config = parseConfigText(yaml);
      assert.ok(config.ok, JSON.stringify(config));
      const listenerCert = /cert: (\S+)/.exec(yaml)?.[1] ?? '';
      assert.ok(existsSync(mounted(dpPod, c, listenerCert)), `the generation's listener certificate ${listenerCert} is mounted`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
