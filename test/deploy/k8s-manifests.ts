/**
 * Reads k8s/ the way `kubectl apply -k k8s/` would see it, without a cluster: the files
 * kustomization.yaml lists, the Secret template, the Pub/Sub component, and what a container's
 * environment resolves to. Only the fields the deployment tests look at are typed.
 */
import { readdirSync } from 'node:fs';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { readRepoFile } from './deployed-config.js';

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface Probe {
  httpGet: { path: string; port: string | number };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
  };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    serviceAccountName?: string;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
    volumes?: Array<{ name: string; emptyDir?: object }>;
  };
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  /** The file it came from, relative to the repository. */
  source: string;
}

export type Workload = K8sObject & {
  spec: { replicas?: number; selector?: LabelSelector; template: PodTemplate };
};
export type Hpa = K8sObject & {
  spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
};
export type Pdb = K8sObject & { spec: { selector: LabelSelector } };
export type Service = K8sObject & {
  spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> };
};
export type ConfigMap = K8sObject & { data: Record<string, string | null> };
export type Secret = K8sObject & { stringData: Record<string, string> };
export type PodMonitor = K8sObject & {
  spec: { selector: LabelSelector; podMetricsEndpoints: Array<{ port: string; path: string }> };
};
export type NetworkPolicy = K8sObject & {
  spec: { podSelector: LabelSelector; ingress: Array<{ ports: Array<{ port: string | number }> }> };
};

function parseManifests(path: string): K8sObject[] {
  const docs = parseAllDocuments(readRepoFile(path));
  return docs.map((doc, i) => {
    expect(doc.errors, `${path} document ${i}`).to.deep.equal([]);
    const object = doc.toJS() as K8sObject;
    expect(object.kind, `${path} document ${i} has a kind`).to.be.a('string');
    return { ...object, source: path };
  });
}

export interface Manifests {
  kustomization: { namespace: string; resources: string[] };
  /** Everything `kubectl apply -k k8s/` applies. */
  objects: K8sObject[];
  /** k8s/secret.template.yaml: created out of band, so not among `objects`. */
  secretTemplates: Secret[];
  /** The Pub/Sub component's patches. */
  pubsubPatches: K8sObject[];
  /** The .yaml files directly in k8s/. */
  topLevelFiles: string[];
}

export function loadManifests(): Manifests {
  const kustomization = parse(readRepoFile('k8s/kustomization.yaml')) as Manifests['kustomization'];
  const component = parse(readRepoFile('k8s/components/pubsub/kustomization.yaml')) as {
    kind: string;
    patches: Array<{ path: string }>;
  };
  expect(component.kind).to.equal('Component');
  return {
    kustomization,
    objects: kustomization.resources.flatMap((file) => parseManifests(`k8s/${file}`)),
    secretTemplates: parseManifests('k8s/secret.template.yaml') as Secret[],
    pubsubPatches: component.patches.flatMap((p) => parseManifests(`k8s/components/pubsub/${p.path}`)),
    topLevelFiles: readdirSync(new URL('../../k8s/', import.meta.url)).filter((f) => f.endsWith('.yaml')),
  };
}

export function ofKind<T extends K8sObject>(objects: K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as T[];
}

/** Kubernetes label-selector semantics (matchLabels and matchExpressions, ANDed). */
export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In':
        return key in labels && values.includes(labels[key]!);
      case 'NotIn':
        return !(key in labels && values.includes(labels[key]!));
      case 'Exists':
        return key in labels;
      case 'DoesNotExist':
        return !(key in labels);
      default:
        throw new Error(`unknown selector operator ${operator}`);
    }
  });
  return byLabels && byExpressions;
}

/** Strategic-merge of ConfigMap data as kustomize does it: a null value deletes the key. */
export function patchData(
  base: Record<string, string | null>,
  patch: Record<string, string | null>,
): Record<string, string> {
  const merged: Record<string, string | null> = { ...base, ...patch };
  return Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null),
  );
}

/**
 * The environment a container starts with: its envFrom ConfigMaps and Secrets (each must exist),
 * then its own env entries. Also returns which variables came from Secrets.
 */
export function containerEnv(
  container: Container,
  sources: {
    configMaps: Record<string, Record<string, string>>;
    secrets: Record<string, Record<string, string>>;
  },
): { env: Record<string, string>; fromSecrets: string[] } {
  const env: Record<string, string> = {};
  const fromSecrets: string[] = [];
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const data = sources.configMaps[from.configMapRef.name];
      expect(data, `${container.name}: ConfigMap ${from.configMapRef.name}`).to.not.equal(undefined);
      Object.assign(env, data);
    }
    if (from.secretRef) {
      const data = sources.secrets[from.secretRef.name];
      expect(data, `${container.name}: Secret ${from.secretRef.name}`).to.not.equal(undefined);
      Object.assign(env, data);
      fromSecrets.push(...Object.keys(data!));
    }
  }
  for (const { name, value, valueFrom } of container.env ?? []) {
    expect(valueFrom, `${container.name}: ${name} has a plain value`).to.equal(undefined);
    env[name] = value!;
  }
  return { env, fromSecrets };
}

/** The number a probe's port names (a named container port or a number). */
export function resolvePort(container: Container, port: string | number): number | undefined {
  return typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;
}
