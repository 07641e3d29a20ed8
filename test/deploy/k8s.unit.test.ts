import { expect } from 'chai';
import {
  CONFIG_PLACEHOLDER,
  loadConfig,
  loadDatabaseConfig,
  SERVICES,
  type ServiceName,
} from '../../core/config/index.js';
import { ConfigError } from '../../core/errors.js';
import {
  composePlatformServices,
  dockerfile,
  expectDeployedConfig,
  expectEntryPoint,
  expectKnownVariables,
  expectMigrationConfig,
  imageEnv,
  isOpsRoute,
} from './deployed-config.js';
import {
  containerEnv,
  loadManifests,
  ofKind,
  patchData,
  resolvePort,
  selects,
  type ConfigMap,
  type Container,
  type Hpa,
  type NetworkPolicy,
  type Pdb,
  type PodMonitor,
  type Service,
  type Workload,
} from './k8s-manifests.js';

/** What an operator puts in the Secrets (the template only holds placeholders). */
const SECRET_SAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgres://payments:s3cret@db.internal:5432/payments',
  PROVIDER_STRIPESIM_WEBHOOK_SECRET: 'whsec_sample',
  PROVIDER_ADYENSIM_HMAC_KEY: '00112233445566778899aabbccddeeff',
  SESSION_TOKEN_SECRET: 'a-sample-session-token-secret-of-32-chars-or-more',
};

/** No cluster runs here: check the manifests `kubectl apply -k k8s/` applies against the code. */
describe('k8s/ manifests', () => {
  const manifests = loadManifests();
  const { objects } = manifests;
  const deployments = ofKind<Workload>(objects, 'Deployment');
  const [job, ...otherJobs] = ofKind<Workload>(objects, 'Job');
  const hpas = ofKind<Hpa>(objects, 'HorizontalPodAutoscaler');
  const [configMap] = ofKind<ConfigMap>(objects, 'ConfigMap');
  const baseData = patchData(configMap!.data, {});
  const workloads = [...deployments, job!];
  const containers = (w: Workload) => w.spec.template.spec.containers;

  function envOf(container: Container, options: { configData?: Record<string, string>; samples: boolean }) {
    const secrets = Object.fromEntries(
      manifests.secretTemplates.map((s) => [
        s.metadata.name,
        options.samples
          ? Object.fromEntries(Object.keys(s.stringData).map((k) => [k, SECRET_SAMPLES[k]!]))
          : s.stringData,
      ]),
    );
    const configMaps = { [configMap!.metadata.name]: options.configData ?? baseData };
    return containerEnv(container, { configMaps, secrets });
  }
  /** The configuration the container's process loads: image ENV, then what the manifests give it. */
  const configOf = (container: Container) => loadConfig(imageEnv(envOf(container, { samples: true }).env));
  const serviceOf = (d: Workload) => d.metadata.name as ServiceName;

  it('applies every manifest in k8s/ but the Secret template, each parsing into objects', () => {
    expect(manifests.kustomization.namespace).to.equal('payments');
    expect(otherJobs).to.deep.equal([]);
    expect([...manifests.kustomization.resources, 'secret.template.yaml'].sort()).to.deep.equal(
      [...manifests.topLevelFiles].filter((f) => f !== 'kustomization.yaml').sort(),
    );
    expect(
      objects.filter((o) => o.kind === 'Secret'),
      'no Secret is applied',
    ).to.deep.equal([]);
    for (const object of objects) expect(object.metadata.name, object.source).to.be.a('string');
  });

  it('deploys each service but the dev-only simulator in its own Deployment, selected with SERVICES', () => {
    expect(deployments.map(serviceOf).sort()).to.deep.equal(SERVICES.filter((s) => s !== 'simulator').sort());
    for (const deployment of deployments) {
      expect(containers(deployment), deployment.metadata.name).to.have.length(1);
      const { env } = envOf(containers(deployment)[0]!, { samples: true });
      expect(env.SERVICES, deployment.metadata.name).to.equal(deployment.metadata.name);
    }
  });

  it('gives every process only variables loadConfig reads, with values it accepts', () => {
    expectKnownVariables('k8s/config.yaml', Object.keys(configMap!.data));
    for (const secret of manifests.secretTemplates) {
      expectKnownVariables(`Secret ${secret.metadata.name}`, Object.keys(secret.stringData));
      for (const key of Object.keys(secret.stringData))
        expect(SECRET_SAMPLES, `sample value for ${key}`).to.have.property(key);
    }
    for (const deployment of deployments) {
      const { env } = envOf(containers(deployment)[0]!, { samples: true });
      expectDeployedConfig(`Deployment ${deployment.metadata.name}`, env, {
        broker: 'kafka',
        services: [serviceOf(deployment)],
      });
    }
    expectMigrationConfig('migration Job', envOf(containers(job!)[0]!, { samples: true }).env);
  });

  it('mounts the gateway secrets in the gateway only; secrets never sit in the ConfigMap', () => {
    for (const workload of workloads) {
      const { fromSecrets } = envOf(containers(workload)[0]!, { samples: true });
      const expected =
        workload.metadata.name === 'gateway'
          ? [
              'DATABASE_URL',
              'PROVIDER_ADYENSIM_HMAC_KEY',
              'PROVIDER_STRIPESIM_WEBHOOK_SECRET',
              'SESSION_TOKEN_SECRET',
            ]
          : ['DATABASE_URL'];
      expect(fromSecrets.sort(), workload.metadata.name).to.deep.equal(expected);
    }
    for (const key of Object.keys(SECRET_SAMPLES)) expect(configMap!.data).to.not.have.property(key);
  });

  it('refuses to start on the unedited Secret template: every value is a placeholder', () => {
    for (const secret of manifests.secretTemplates)
      for (const [key, value] of Object.entries(secret.stringData))
        expect(value, `${secret.metadata.name}.${key}`).to.contain(CONFIG_PLACEHOLDER);
    for (const deployment of deployments) {
      const { env } = envOf(containers(deployment)[0]!, { samples: false });
      expect(() => loadConfig(imageEnv(env)), deployment.metadata.name).to.throw(ConfigError, /placeholder/);
    }
    const { env } = envOf(containers(job!)[0]!, { samples: false });
    expect(() => loadDatabaseConfig(imageEnv(env)), 'migration Job').to.throw(ConfigError, /placeholder/);
  });

  it('switches every process to Pub/Sub with the pubsub component', () => {
    const [configPatch, ...rest] = ofKind<ConfigMap>(manifests.pubsubPatches, 'ConfigMap');
    expect(rest).to.deep.equal([]);
    expect(configPatch!.metadata.name).to.equal(configMap!.metadata.name);
    for (const patch of manifests.pubsubPatches) {
      const target = objects.find((o) => o.kind === patch.kind && o.metadata.name === patch.metadata.name);
      expect(target, `${patch.source} patches an existing ${patch.kind}`).to.not.equal(undefined);
    }
    const patched = patchData(configMap!.data, configPatch!.data);
    expect(patched.PUBSUB_PROJECT_ID).to.contain(CONFIG_PLACEHOLDER);
    const configData = { ...patched, PUBSUB_PROJECT_ID: 'payments-prod' };
    for (const deployment of deployments) {
      const { env } = envOf(containers(deployment)[0]!, { configData, samples: true });
      expectDeployedConfig(`Pub/Sub ${deployment.metadata.name}`, env, {
        broker: 'pubsub',
        services: [serviceOf(deployment)],
      });
    }
  });

  it('probes /readyz and /healthz on the port the service listens on', () => {
    for (const deployment of deployments) {
      const container = containers(deployment)[0]!;
      const config = configOf(container);
      const name = deployment.metadata.name;
      expect(
        container.ports?.map((p) => p.containerPort),
        name,
      ).to.deep.equal([config.http.port]);
      const probes = {
        '/readyz': [container.readinessProbe],
        '/healthz': [container.livenessProbe, container.startupProbe],
      };
      for (const [path, list] of Object.entries(probes)) {
        expect(isOpsRoute(path), path).to.equal(true);
        for (const probe of list) {
          expect(probe?.httpGet.path, `${name} probe`).to.equal(path);
          expect(resolvePort(container, probe!.httpGet.port), `${name} ${path} port`).to.equal(
            config.http.port,
          );
        }
      }
    }
  });

  it('runs the image compose builds from the Dockerfile, non-root on a read-only filesystem', () => {
    const composeImages = new Set(composePlatformServices().map(([, s]) => s.image));
    expect(composeImages.size).to.equal(1);
    expect(dockerfile().user).to.equal('node');
    for (const workload of workloads) {
      const name = workload.metadata.name;
      const pod = workload.spec.template.spec;
      // USER node is a name: runAsNonRoot needs a numeric runAsUser to be verifiable by the kubelet.
      expect(pod.securityContext?.runAsNonRoot, name).to.equal(true);
      expect(pod.securityContext?.runAsUser, name).to.be.a('number').and.above(0);
      for (const container of pod.containers) {
        expect(composeImages.has(container.image), `${name} image ${container.image}`).to.equal(true);
        expect(container.securityContext, name).to.deep.include({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
        });
        expect(container.securityContext?.capabilities?.drop, name).to.deep.equal(['ALL']);
        // tsx writes its compile cache to the temp dir: the one writable (emptyDir) path.
        const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${name} /tmp`).to.not.equal(
          undefined,
        );
      }
    }
    for (const deployment of deployments) {
      const container = containers(deployment)[0]!;
      expect(container.command, 'Deployments run the Dockerfile CMD').to.equal(undefined);
      expect(container.args).to.equal(undefined);
    }
    expectEntryPoint('Dockerfile CMD', dockerfile().cmd);
  });

  it('sets requests and limits everywhere, one PDB per Deployment, HPAs on real Deployments', () => {
    for (const workload of workloads)
      for (const container of containers(workload))
        for (const bound of ['requests', 'limits'] as const)
          expect(container.resources?.[bound], `${workload.metadata.name} ${bound}`).to.have.all.keys(
            'cpu',
            'memory',
          );
    const pdbs = ofKind<Pdb>(objects, 'PodDisruptionBudget');
    for (const deployment of deployments) {
      const labels = deployment.spec.template.metadata.labels;
      expect(selects(deployment.spec.selector!, labels), deployment.metadata.name).to.equal(true);
      const covering = pdbs.filter((p) => selects(p.spec.selector, labels));
      expect(covering, `PDBs of ${deployment.metadata.name}`).to.have.length(1);
      const others = deployments.filter((d) => d !== deployment);
      for (const other of others)
        expect(selects(covering[0]!.spec.selector, other.spec.template.metadata.labels)).to.equal(false);
    }
    expect(hpas.map((h) => h.spec.scaleTargetRef.name).sort()).to.deep.equal(['gateway', 'processor']);
    for (const hpa of hpas) {
      const target = deployments.find((d) => d.metadata.name === hpa.spec.scaleTargetRef.name);
      expect(hpa.spec.scaleTargetRef.kind).to.equal('Deployment');
      expect(target, hpa.metadata.name).to.not.equal(undefined);
      // A replicas field would reset the HPA's choice on every apply.
      expect(target!.spec.replicas, `${hpa.metadata.name} replicas`).to.equal(undefined);
      expect(hpa.spec.minReplicas).to.be.at.least(2).and.at.most(hpa.spec.maxReplicas);
    }
  });

  it('never scales the processor beyond the partitions of its topics', () => {
    const processor = deployments.find((d) => d.metadata.name === 'processor')!;
    const config = configOf(containers(processor)[0]!);
    if (config.broker.kind !== 'kafka') throw new Error('the base deploys Kafka');
    const hpa = hpas.find((h) => h.spec.scaleTargetRef.name === 'processor')!;
    expect(hpa.spec.maxReplicas).to.be.at.most(config.broker.partitions);
    const dispatcher = deployments.find((d) => d.metadata.name === 'webhook-dispatcher')!;
    expect(dispatcher.spec.replicas).to.be.at.most(config.broker.partitions);
  });

  it('gives every process time to drain: grace period above preStop delay + SHUTDOWN_TIMEOUT_MS', () => {
    for (const deployment of deployments) {
      const container = containers(deployment)[0]!;
      const { shutdownTimeoutMs } = configOf(container);
      const preStop = container.lifecycle?.preStop?.exec?.command;
      const preStopMs = preStop ? Number(/^sleep$/.test(preStop[0]!) ? preStop[1] : NaN) * 1000 : 0;
      const graceMs = deployment.spec.template.spec.terminationGracePeriodSeconds! * 1000;
      // 5 s of margin to close the HTTP server and the database pool after the broker drained.
      expect(graceMs - preStopMs - shutdownTimeoutMs, deployment.metadata.name).to.be.at.least(5000);
    }
    const gateway = deployments.find((d) => d.metadata.name === 'gateway')!;
    expect(
      containers(gateway)[0]!.lifecycle?.preStop,
      'gateway leaves the Service before SIGTERM',
    ).to.not.equal(undefined);
  });

  it('migrates first: the Job runs the real entry point, and it and what it needs are the pre-deploy phase', () => {
    const command = containers(job!)[0]!.command!;
    expect(expectEntryPoint('migration Job', command)).to.equal('bin/migrate.ts');
    const composeMigrate = composePlatformServices().find(([name]) => name === 'migrate')![1];
    expect(command).to.deep.equal(composeMigrate.command);
    const preDeploy = objects.filter((o) => o.metadata.labels?.['deploy-phase'] === 'pre-deploy');
    expect(preDeploy.map((o) => `${o.kind}/${o.metadata.name}`).sort()).to.deep.equal([
      'ConfigMap/payments-platform-config',
      'Job/migrate',
      'Namespace/payments',
      'ServiceAccount/payments-platform',
    ]);
    expect(job!.spec.template.spec.serviceAccountName).to.equal('payments-platform');
  });

  it('scrapes /metrics of every service pod (not the Job) and exposes the gateway on real ports', () => {
    const [monitor] = ofKind<PodMonitor>(objects, 'PodMonitor');
    for (const workload of workloads) {
      const labels = workload.spec.template.metadata.labels;
      expect(selects(monitor!.spec.selector, labels), workload.metadata.name).to.equal(workload !== job);
    }
    for (const endpoint of monitor!.spec.podMetricsEndpoints) {
      expect(isOpsRoute(endpoint.path), endpoint.path).to.equal(true);
      for (const deployment of deployments)
        expect(resolvePort(containers(deployment)[0]!, endpoint.port), deployment.metadata.name).to.be.a(
          'number',
        );
    }
    const services = ofKind<Service>(objects, 'Service');
    expect(services.map((s) => s.metadata.name)).to.deep.equal(['gateway']);
    const gateway = deployments.find((d) => d.metadata.name === 'gateway')!;
    expect(
      selects({ matchLabels: services[0]!.spec.selector }, gateway.spec.template.metadata.labels),
    ).to.equal(true);
    for (const port of services[0]!.spec.ports)
      expect(resolvePort(containers(gateway)[0]!, port.targetPort)).to.be.a('number');
    for (const policy of ofKind<NetworkPolicy>(objects, 'NetworkPolicy')) {
      const selected = deployments.filter((d) =>
        selects(policy.spec.podSelector, d.spec.template.metadata.labels),
      );
      expect(selected, policy.metadata.name).to.not.deep.equal([]);
      for (const port of policy.spec.ingress.flatMap((rule) => rule.ports))
        for (const deployment of selected)
          expect(resolvePort(containers(deployment)[0]!, port.port), policy.metadata.name).to.be.a('number');
    }
  });
});
