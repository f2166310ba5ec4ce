// Prod with Amazon MQ watches its DLQs through the management API (Amazon MQ publishes no queue
// metric for RabbitMQ 4 brokers): json_exporter in the cluster, logged in as a monitoring user that
// may touch no resource, probed by Prometheus once a minute. With the in-cluster broker, Prometheus
// scrapes the nodes' own plugin and no exporter is declared.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as amqp from "amqplib";
import { parse } from "yaml";
import { runProgram, StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { usesBroker } from "../services/validate";
import { IMAGES, QUEUE_DEPTH_EXPORTER, RABBITMQ } from "../components/engines";
import { QUEUE_MONITOR_USER } from "../components/aws/AmazonMqTopology";
import { renderDefinitions } from "../components/messaging/definitions";
import { DEAD_LETTER_SUFFIX, planTopology } from "../components/messaging/topology";
import {
  MANAGEMENT_API_QUEUE_DEPTH,
  QUEUE_DEPTH_MODULE,
  queueListUrl,
  renderQueueDepthExporterConfig,
} from "../components/kubernetes/queueDepthExporterConfig";
import { alertRules } from "../components/observability/alertRules";
import { LayeredRun, isSecretOnWire, ofType, runLayersUnderMocks } from "../tools/mockRun";
import { seedProdRun } from "./helpers/prodRuns";
import { prodLayers } from "./helpers/stackConfigs";
import { freePort, hasRabbitmqServer, RabbitmqNode, startRabbitmq, until } from "./helpers/servers";

const projectDir = path.join(__dirname, "..");
const K = {
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  configMap: "kubernetes:core/v1:ConfigMap",
  service: "kubernetes:core/v1:Service",
  deployment: "kubernetes:apps/v1:Deployment",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  release: "kubernetes:helm.sh/v3:Release",
};
const MQ = {
  provider: "pulumi:providers:rabbitmq",
  vhost: "rabbitmq:index/vHost:VHost",
  user: "rabbitmq:index/user:User",
  permissions: "rabbitmq:index/permissions:Permissions",
  topicPermissions: "rabbitmq:index/topicPermissions:TopicPermissions",
};

/**
 * json_exporter v0.7.0's config keys (config/config.go): a module's fields carry yaml tags; a
 * metric's have none, so gopkg.in/yaml.v2 reads each under its lowercased name (`valuetype`, not
 * `valueType`). An unknown key is ignored silently, so a misspelt one would only show as a missing metric.
 */
const MODULE_KEYS = ["headers", "metrics", "http_client_config", "body", "valid_status_codes"];
const METRIC_KEYS = ["name", "path", "labels", "type", "valuetype", "epochtimestamp", "help", "values"];

const seconds = (duration: string) => Number(/^(\d+)s$/.exec(duration)![1]);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

describe("the queue-depth exporter's config (json_exporter v0.7.0)", () => {
  const config = parse(renderQueueDepthExporterConfig("monitor", "/etc/login/password"));
  const module = config.modules[QUEUE_DEPTH_MODULE];

  it("reads each queue of the list into a gauge labelled vhost and queue, the metric the DLQ alert reads", () => {
    assert.deepEqual(Object.keys(config), ["modules"]);
    for (const key of Object.keys(module)) assert.ok(MODULE_KEYS.includes(key), `module key ${key}`);
    const [metric] = module.metrics;
    for (const key of Object.keys(metric)) assert.ok(METRIC_KEYS.includes(key), `metric key ${key}`);
    assert.equal(metric.type, "object");
    assert.equal(metric.valuetype, "gauge");
    // exporter/util.go MakeMetricName: `<name>_<value key>`.
    assert.deepEqual(
      Object.keys(metric.values).map((key) => `${metric.name}_${key}`),
      [MANAGEMENT_API_QUEUE_DEPTH.metric],
    );
    assert.deepEqual(Object.keys(metric.labels).sort(), ["queue", "vhost"]);
    const rules = alertRules(
      ["orders"],
      { errorRate: 0.05, latencyP95Seconds: 1 },
      {
        jobs: [MANAGEMENT_API_QUEUE_DEPTH.job],
        queueDepth: MANAGEMENT_API_QUEUE_DEPTH,
      },
    ) as any;
    const dlq = rules.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "DeadLetterQueueNotEmpty");
    assert.equal(
      dlq.expr,
      'max by (vhost, queue) (rabbitmq_management_queue_messages{job="queue-depth-exporter",queue=~".+[.]dlq"}) > 0',
    );
  });

  it("logs in with basic auth whose password it reads from a file, never from the config", () => {
    assert.deepEqual(module.http_client_config, {
      basic_auth: { username: "monitor", password_file: "/etc/login/password" },
    });
  });

  it("asks the management API for one vhost's queues, the vhost escaped, only the columns it reads", () => {
    assert.equal(
      queueListUrl("https://b-1.mq.eu-west-1.amazonaws.com", "shop"),
      "https://b-1.mq.eu-west-1.amazonaws.com/api/queues/shop?columns=vhost,name,messages",
    );
    assert.equal(
      queueListUrl("https://b-1.mq.eu-west-1.amazonaws.com/", "/"),
      "https://b-1.mq.eu-west-1.amazonaws.com/api/queues/%2F?columns=vhost,name,messages",
    );
    // Every field the config reads is a requested column.
    const read = [...JSON.stringify(module.metrics).matchAll(/\{ \.(\w+) \}/g)].map((m) => m[1]).sort();
    assert.deepEqual(read, ["messages", "name", "vhost"]);
  });
});

/** The exporter's objects in a prod run, by kind. */
function exporterObjects(run: LayeredRun<StackOutputs>) {
  const deployment = ofType(run.resources, K.deployment).find(
    (d) => d.inputs.spec.template.spec.containers[0].image === IMAGES.jsonExporter,
  );
  const namespace = deployment?.inputs.metadata.namespace;
  const here = (type: string) => ofType(run.resources, type).filter((r) => r.inputs.metadata.namespace === namespace);
  return { deployment, namespace, here };
}

describe("prod with Amazon MQ: the queue-depth exporter (under mocks)", () => {
  for (const name of BUILTIN_CATALOGS) {
    const catalog = loadCatalog(builtinCatalogPath(name));
    if (!catalog.services.some(usesBroker)) continue;
    describe(`catalog ${name}`, () => {
      let run: LayeredRun<StackOutputs>;
      before(async () => {
        run = await seedProdRun(name);
      });

      it("logs in as a user tagged monitoring only, whose one permission entry on the vhost matches no resource", () => {
        const provider = ofType(run.resources, MQ.provider)[0];
        const [monitor] = ofType(run.resources, MQ.user).filter((u) => (u.inputs.tags ?? []).length > 0);
        assert.deepEqual([monitor.inputs.name, monitor.inputs.tags], [QUEUE_MONITOR_USER, ["monitoring"]]);
        assert.ok(monitor.provider.startsWith(`${provider.urn}::`), "declared on Amazon MQ through its management API");
        assert.ok(isSecretOnWire(monitor.wire.password));
        const own = (type: string) => ofType(run.resources, type).filter((p) => p.inputs.user === QUEUE_MONITOR_USER);
        assert.deepEqual(
          own(MQ.permissions).map((p) => [p.inputs.vhost, p.inputs.permissions]),
          [[planTopology(catalog).vhost, { configure: "^$", write: "^$", read: "^$" }]],
        );
        assert.deepEqual(own(MQ.topicPermissions), []);
        // The services' logins keep no tag: none of them reaches the management API.
        assert.equal(ofType(run.resources, MQ.user).length, planTopology(catalog).users.length + 1);
      });

      it("runs json_exporter by digest, once, hardened, its password from a Secret file", () => {
        const { deployment, here } = exporterObjects(run);
        assert.ok(deployment, "the exporter's Deployment");
        const { spec } = deployment.inputs;
        const pod = spec.template.spec;
        const [container] = pod.containers;
        assert.equal(spec.replicas, 1);
        assert.match(container.image, /^quay\.io\/prometheuscommunity\/json-exporter:v0\.7\.0@sha256:[a-f0-9]{64}$/);
        assert.equal(pod.automountServiceAccountToken, false);
        assert.deepEqual(
          [pod.securityContext.runAsNonRoot, pod.securityContext.runAsUser, pod.securityContext.seccompProfile.type],
          [true, QUEUE_DEPTH_EXPORTER.uid, "RuntimeDefault"],
        );
        assert.deepEqual(container.securityContext, {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          privileged: false,
          capabilities: { drop: ["ALL"] },
        });
        assert.ok(container.resources.limits.cpu && container.resources.limits.memory);
        assert.ok(container.livenessProbe && container.readinessProbe);
        const mountOf = (volume: Record<string, any>) =>
          container.volumeMounts.find((m: any) => m.name === volume.name).mountPath;
        const configVolume = pod.volumes.find((v: any) => v.configMap);
        const loginVolume = pod.volumes.find((v: any) => v.secret);
        assert.deepEqual(container.args, [`--config.file=${mountOf(configVolume)}/config.yml`]);
        const configMap = here(K.configMap).find((c) => c.inputs.metadata.name === configVolume.configMap.name)!;
        const config = parse(configMap.inputs.data["config.yml"]);
        const auth = config.modules[QUEUE_DEPTH_MODULE].http_client_config.basic_auth;
        assert.deepEqual(auth, { username: QUEUE_MONITOR_USER, password_file: `${mountOf(loginVolume)}/password` });
        const secret = here(K.secret).find((s) => s.inputs.metadata.name === loginVolume.secret.secretName)!;
        assert.ok(isSecretOnWire(secret.wire.stringData), "the Secret's data stays a Pulumi secret");
        assert.ok(run.generatedSecrets.includes(secret.inputs.stringData.password));
      });

      it("lets in Prometheus only and out DNS and HTTPS in the VPC only, in a namespace that denies the rest", () => {
        const { deployment, here } = exporterObjects(run);
        const podLabels = deployment!.inputs.spec.template.metadata.labels;
        const policies = here(K.networkPolicy);
        const deny = policies.find((p) => p.inputs.metadata.name === "default-deny")!;
        assert.deepEqual(deny.inputs.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const own = policies.filter((p) => p !== deny && matches(p.inputs.spec.podSelector.matchLabels, podLabels));
        assert.equal(own.length, 1);
        const { spec } = own[0].inputs;
        assert.deepEqual(spec.policyTypes, ["Ingress", "Egress"]);
        assert.deepEqual(spec.ingress, [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
                podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
              },
            ],
            ports: [{ port: QUEUE_DEPTH_EXPORTER.port }],
          },
        ]);
        const vpc = ofType(run.resources, "aws:ec2/vpc:Vpc")[0].inputs.cidrBlock;
        assert.deepEqual(spec.egress.slice(1), [
          { to: [{ ipBlock: { cidr: vpc } }], ports: [{ port: RABBITMQ.managedManagementPort }] },
        ]);
        assert.deepEqual(
          spec.egress[0].to,
          [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
          "DNS",
        );
      });

      it("is probed once a minute by a ServiceMonitor Prometheus reads, for the vhost's queues on the broker's management API", () => {
        const { deployment, namespace, here } = exporterObjects(run);
        const [service] = here(K.service);
        const [monitor] = here(K.serviceMonitor);
        assert.equal(service.inputs.spec.type, "ClusterIP");
        assert.ok(matches(service.inputs.spec.selector, deployment!.inputs.spec.template.metadata.labels));
        assert.ok(matches(monitor.inputs.spec.selector.matchLabels, service.inputs.metadata.labels));
        // prometheus-operator names the job after the Service: the alert's job.
        assert.equal(service.inputs.metadata.name, MANAGEMENT_API_QUEUE_DEPTH.job);
        const [endpoint] = monitor.inputs.spec.endpoints;
        assert.ok(service.inputs.spec.ports.some((p: any) => p.name === endpoint.port));
        assert.equal(endpoint.path, "/probe");
        assert.ok(seconds(endpoint.interval) >= 60, "Amazon MQ: queue metrics at one minute or longer");
        assert.ok(seconds(endpoint.scrapeTimeout) < seconds(endpoint.interval));
        const managementUrl = ofType(run.resources, MQ.provider)[0].inputs.endpoint;
        assert.deepEqual(endpoint.params, {
          module: [QUEUE_DEPTH_MODULE],
          target: [queueListUrl(managementUrl, planTopology(catalog).vhost)],
        });
        const kps = ofType(run.resources, K.release).find((r) => r.inputs.name === "kps")!;
        assert.ok(monitor.dependencies.includes(kps.urn), "after the ServiceMonitor CRD");
        // kube-prometheus-stack 65.8.1, templates/prometheus/prometheus.yaml lines 161-176: with
        // serviceMonitorSelectorNilUsesHelmValues false and no selectors of ours, it renders
        // `serviceMonitorSelector: {}` and `serviceMonitorNamespaceSelector: {}`, every
        // ServiceMonitor of every namespace, this one in `${namespace}` included.
        const spec = kps.inputs.values.prometheus.prometheusSpec;
        assert.equal(spec.serviceMonitorSelectorNilUsesHelmValues, false, namespace);
        assert.equal(spec.serviceMonitorSelector, undefined);
        assert.equal(spec.serviceMonitorNamespaceSelector, undefined);
      });
    });
  }

  it("declares no exporter and no monitoring user where the broker runs in the cluster", async () => {
    const run = await runLayersUnderMocks(prodLayers("erp", { broker: { mode: "in-cluster" } }), () =>
      runProgram(projectDir),
    );
    assert.equal(exporterObjects(run).deployment, undefined);
    assert.deepEqual(ofType(run.resources, MQ.user), []);
    const probes = ofType(run.resources, K.serviceMonitor).filter((m) =>
      m.inputs.spec.endpoints.some((e: any) => e.path === "/probe"),
    );
    assert.deepEqual(probes, []);
  });
});

describe("the monitoring login on a real RabbitMQ (the machine's rabbitmq-server, its management plugin)", function () {
  this.timeout(120_000);
  const CATALOG = "user-enrichment";
  const plan = planTopology(loadCatalog(builtinCatalogPath(CATALOG)));
  const DLQ = plan.queues.find((q) => q.name.endsWith(DEAD_LETTER_SUFFIX))!.name;
  const admin = { username: "check-admin", password: `pw-admin-${process.pid}`, tags: ["administrator"] };
  const monitorPassword = `pw-monitor-${process.pid}`;
  let node: RabbitmqNode | undefined;
  let managementUrl = "";

  const api = (method: string, apiPath: string, login: { username: string; password: string }, body?: unknown) =>
    fetch(`${managementUrl}${apiPath}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}`,
        "content-type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const asMonitor = () =>
    fetch(queueListUrl(managementUrl, plan.vhost), {
      headers: { authorization: `Basic ${Buffer.from(`${QUEUE_MONITOR_USER}:${monitorPassword}`).toString("base64")}` },
    });

  before(async function () {
    if (!hasRabbitmqServer()) {
      console.log("    (skipped: no rabbitmq-server here; .ci/run installs it)");
      this.skip();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "queue-monitor-"));
    const definitions = path.join(dir, "definitions.json");
    const passwords = Object.fromEntries(plan.users.map((u) => [u.service, `pw-${u.service}`]));
    fs.writeFileSync(definitions, JSON.stringify(renderDefinitions(plan, passwords, admin)));
    const port = await freePort();
    node = await startRabbitmq({
      enabledPlugins: "[rabbitmq_management].",
      config: [
        `management.tcp.port = ${port}`,
        "management.tcp.ip = 127.0.0.1",
        // Queue statistics every second rather than five: the test waits for them.
        "collect_statistics_interval = 1000",
        `load_definitions = ${definitions}`,
      ].join("\n"),
    });
    managementUrl = `http://127.0.0.1:${port}`;
    await until("the management API answers", 30_000, async () =>
      (await api("GET", "/api/overview", admin)).ok ? true : undefined,
    );
    // The monitor as the program declares it on Amazon MQ, through the same API calls as the provider.
    const run = await seedProdRun(CATALOG);
    const user = ofType(run.resources, MQ.user).find((u) => u.inputs.name === QUEUE_MONITOR_USER)!;
    const permission = ofType(run.resources, MQ.permissions).find((p) => p.inputs.user === QUEUE_MONITOR_USER)!;
    const created = await api("PUT", `/api/users/${QUEUE_MONITOR_USER}`, admin, {
      password: monitorPassword,
      tags: user.inputs.tags.join(","),
    });
    assert.ok(created.ok, await created.text());
    const granted = await api(
      "PUT",
      `/api/permissions/${encodeURIComponent(permission.inputs.vhost)}/${QUEUE_MONITOR_USER}`,
      admin,
      permission.inputs.permissions,
    );
    assert.ok(granted.ok, await granted.text());
  });

  after(async () => {
    await node?.stop();
  });

  it("lists every queue of the vhost with its depth, what the exporter's config reads", async () => {
    const connection = await amqp.connect(
      `amqp://${admin.username}:${admin.password}@127.0.0.1:${node!.amqpPort}/${encodeURIComponent(plan.vhost)}`,
    );
    const channel = await connection.createConfirmChannel();
    for (const body of ["dead", "deader"]) channel.sendToQueue(DLQ, Buffer.from(body));
    await channel.waitForConfirms();
    await connection.close();
    const queues = await until("the DLQ's depth in the management API", 30_000, async () => {
      const response = await asMonitor();
      assert.equal(response.status, 200, await response.clone().text());
      const list = (await response.json()) as Array<Record<string, unknown>>;
      return list.find((q) => q.name === DLQ)?.messages === 2 ? list : undefined;
    });
    assert.deepEqual(queues.map((q) => q.name).sort(), plan.queues.map((q) => q.name).sort());
    for (const queue of queues) {
      assert.deepEqual(Object.keys(queue).sort(), ["messages", "name", "vhost"], "the columns asked for");
      assert.equal(queue.vhost, plan.vhost);
      assert.equal(typeof queue.messages, "number");
    }
  });

  it("would see none of them without its permission entry on the vhost: the tag alone is not enough", async () => {
    const tagOnly = { username: "check-tag-only", password: `pw-tag-only-${process.pid}` };
    assert.ok((await api("PUT", `/api/users/${tagOnly.username}`, admin, { ...tagOnly, tags: "monitoring" })).ok);
    const response = await fetch(queueListUrl(managementUrl, plan.vhost), {
      headers: { authorization: `Basic ${Buffer.from(`${tagOnly.username}:${tagOnly.password}`).toString("base64")}` },
    });
    assert.equal(response.status, 401);
  });

  it("can neither read, publish nor configure anything of the vhost over AMQP", async () => {
    const connection = await amqp.connect(
      `amqp://${QUEUE_MONITOR_USER}:${monitorPassword}@127.0.0.1:${node!.amqpPort}/${encodeURIComponent(plan.vhost)}`,
    );
    connection.on("error", () => undefined);
    // The broker closes the channel with 403 ACCESS_REFUSED; amqplib emits that on the channel and rejects what waited.
    const refused = async (what: string, attempt: (channel: amqp.ConfirmChannel) => Promise<unknown>) => {
      const channel = await connection.createConfirmChannel();
      let closedWith = "";
      channel.on("error", (error: Error) => (closedWith = error.message));
      await assert.rejects(attempt(channel), Error, what);
      assert.match(closedWith, /ACCESS_REFUSED/, what);
    };
    try {
      await refused("consume a dead letter", (channel) => channel.get(DLQ));
      await refused("publish", async (channel) => {
        channel.sendToQueue(DLQ, Buffer.from("x"));
        await channel.waitForConfirms();
      });
      await refused("delete a queue", (channel) => channel.deleteQueue(DLQ));
    } finally {
      await connection.close().catch(() => undefined);
    }
  });
});
