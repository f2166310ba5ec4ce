import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { runProgram, StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { Catalog } from "../services/schema";
import { usesBroker } from "../services/validate";
import {
  LayeredRun,
  RecordedResource,
  isSecretOnWire,
  ofType,
  plaintextOccurrences,
  runLayersUnderMocks,
} from "../tools/mockRun";
import { ALERTING, prodLayers } from "./helpers/stackConfigs";
import { seedProdRun } from "./helpers/prodRuns";
import { POD_MONITOR, targetLabels } from "./helpers/podMonitors";
import { Produced, SERVICE_METRICS, promtoolCheckRules, unproducedReferences } from "./helpers/alertTargets";
import { hasBinary } from "./helpers/servers";
import { defaultRuleJobs, kpsScrapeJobsOnEks } from "./helpers/kpsDefaultRules";

const projectDir = path.join(__dirname, "..");
const RELEASE = "kubernetes:helm.sh/v3:Release";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const RABBITMQ_CLUSTER = "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster";
const SERVICE = "kubernetes:core/v1:Service";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/**
 * The jobs the charts' ServiceMonitors give prod's Prometheus, and what each produces besides `up`.
 * prometheus-operator names a ServiceMonitor's job after the Service, unless `jobLabel` names a label
 * the Service carries.
 */
const CHART_JOBS: Record<string, { release: string; job: string; produces: Produced }> = {
  // kong 2.47.0, templates/servicemonitor.yaml: selects the proxy Service (values.yaml proxy.labels
  // enable-metrics: "true") with `jobLabel: {{ .Release.Name }}`, a label that Service does not carry.
  kong: { release: "kong", job: "kong-kong-proxy", produces: ["kong_"] },
  // kube-prometheus-stack 65.8.1's own exporters: charts/prometheus-node-exporter (jobLabel
  // node-exporter) and charts/kube-state-metrics (the Service kps-kube-state-metrics, jobLabel
  // app.kubernetes.io/name: kube-state-metrics).
  nodeExporter: { release: "kps", job: "node-exporter", produces: ["node_"] },
  kubeStateMetrics: { release: "kps", job: "kube-state-metrics", produces: ["kube_"] },
};

/**
 * The in-cluster broker's ServiceMonitor selects the client Service of its RabbitmqCluster by the
 * label the Cluster Operator gives it, app.kubernetes.io/name: <cluster>, and that Service bears the
 * cluster's name (cluster-operator 2.22.3, internal/metadata/label.go, internal/resource/service.go):
 * prometheus-operator names the job after it, for /metrics and /metrics/detailed alike.
 */
function brokerJobs(run: LayeredRun<StackOutputs>): Array<[string, Produced]> {
  const clusters = new Set(ofType(run.resources, RABBITMQ_CLUSTER).map((c) => c.inputs.metadata.name));
  return ofType(run.resources, SERVICE_MONITOR)
    .map((m) => m.inputs.spec.selector.matchLabels["app.kubernetes.io/name"])
    .filter((service) => clusters.has(service))
    .map((service): [string, Produced] => [service, ["rabbitmq_"]]);
}

const inNamespace = (run: LayeredRun<StackOutputs>, type: string, namespace: string) =>
  ofType(run.resources, type).filter((r) => r.inputs.metadata.namespace === namespace);
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);

/**
 * The queue-depth exporter's ServiceMonitor (Amazon MQ): its scrapes are `/probe`s of json_exporter,
 * which answers each with the metrics of the module the scrape names: one series per value of an
 * object metric, named `<name>_<value key>` (json_exporter v0.7.0, exporter/util.go CreateMetricsList
 * and MakeMetricName), a value metric by its name. The job is the selected Service's name, as for the
 * broker's; what it produces is read from the config file the exporter's pods mount.
 */
function probeJobs(run: LayeredRun<StackOutputs>): Array<[string, Produced]> {
  return ofType(run.resources, SERVICE_MONITOR).flatMap((monitor) => {
    const { namespace } = monitor.inputs.metadata;
    const probes = monitor.inputs.spec.endpoints.filter((e: any) => e.path === "/probe");
    if (probes.length === 0) return [];
    const service = inNamespace(run, SERVICE, namespace).find((s) =>
      matches(monitor.inputs.spec.selector.matchLabels, s.inputs.metadata.labels),
    )!;
    const pod = inNamespace(run, DEPLOYMENT, namespace).find((d) =>
      matches(service.inputs.spec.selector, d.inputs.spec.template.metadata.labels),
    )!.inputs.spec.template.spec;
    const mounted = pod.volumes.flatMap((v: any) => (v.configMap ? [v.configMap.name] : []));
    const configMap = inNamespace(run, CONFIG_MAP, namespace).find((c) => mounted.includes(c.inputs.metadata.name))!;
    const config = parse(configMap.inputs.data["config.yml"]);
    const produced = probes
      .flatMap((endpoint: any) => endpoint.params.module)
      .flatMap((module: string) => config.modules[module].metrics)
      .flatMap((metric: any) =>
        metric.type === "object" ? Object.keys(metric.values).map((key) => `${metric.name}_${key}`) : [metric.name],
      );
    return [[service.inputs.metadata.name, produced] as [string, Produced]];
  });
}

/**
 * What prod's Prometheus scrapes: each service's PodMonitor, the ServiceMonitors of the charts
 * installed, the in-cluster broker's, the queue-depth exporter's on Amazon MQ.
 */
function prodScrapeJobs(run: LayeredRun<StackOutputs>): Map<string, Produced> {
  const releases = new Set(ofType(run.resources, RELEASE).map((r) => r.inputs.name));
  const services = ofType(run.resources, POD_MONITOR).map((m): [string, Produced] => [
    targetLabels(m.inputs).job,
    SERVICE_METRICS,
  ]);
  const charts = Object.values(CHART_JOBS)
    .filter((chart) => releases.has(chart.release))
    .map((chart): [string, Produced] => [chart.job, chart.produces]);
  return new Map([...services, ...charts, ...brokerJobs(run), ...probeJobs(run)]);
}

const rulesOf = (run: LayeredRun<StackOutputs>) =>
  ofType(run.resources, RELEASE).find((r) => r.inputs.name === "kps")!.inputs.values.additionalPrometheusRulesMap
    .platform;
const kpsValues = (run: LayeredRun<StackOutputs>) =>
  ofType(run.resources, RELEASE).find((r) => r.inputs.name === "kps")!.inputs.values;

/** Each default rule's job that no target of the cluster yields, as `<rule file>: <job>`. */
function unscrapedDefaultRuleJobs(values: unknown, chartJobs: Iterable<string>): string[] {
  const scraped = new Set([...chartJobs, ...kpsScrapeJobsOnEks(values)]);
  return [...defaultRuleJobs(values)].flatMap(([file, jobs]) =>
    jobs.filter((job) => !scraped.has(job)).map((job) => `${file}: ${job}`),
  );
}

const alertNames = (rules: any) => new Set<string>(rules.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert)));
const alarmsOf = (run: LayeredRun<StackOutputs>) => ofType(run.resources, ALARM);
const secretValues = [
  ALERTING.slack.webhookUrl,
  ALERTING.email.authPassword,
  ALERTING.pagerduty.routingKey,
  ALERTING.pagerduty.cloudwatchUrl,
];

/** The alarms each store must have, by name after the stack's prefix. */
function expectedAlarms(catalog: Catalog, cacheNodes: number): string[] {
  const rds = catalog.services
    .filter((s) => s.database.kind === "postgres")
    .flatMap((s) => ["cpu", "free-storage", "connections"].map((what) => `rds-${s.name}-${what}`));
  const cache = catalog.services.some((s) => s.cache)
    ? Array.from({ length: cacheNodes }, (_, i) =>
        ["cpu", "memory", "evictions", "connections", "replication-lag"].map((what) => `cache-${i + 1}-${what}`),
      ).flat()
    : [];
  // Amazon MQ publishes no per-queue metrics for RabbitMQ 4: the broker's own alarms only.
  const broker = catalog.services.some(usesBroker) ? ["mq-cpu", "mq-memory", "mq-messages"] : [];
  return [...rds, ...cache, ...broker];
}

describe("prod alerts (aws target, under mocks)", () => {
  for (const name of BUILTIN_CATALOGS) {
    describe(`catalog ${name}`, () => {
      const catalog = loadCatalog(builtinCatalogPath(name));
      let run: LayeredRun<StackOutputs>;
      before(async () => {
        run = await seedProdRun(name);
      });

      it("alerts only on jobs prod's Prometheus scrapes and metrics they produce, in rules promtool accepts", function () {
        const rules = rulesOf(run);
        const kong = ofType(run.resources, RELEASE).find((r) => r.inputs.name === "kong")!.inputs;
        assert.equal(kong.values.serviceMonitor.enabled, true, "Kong's ServiceMonitor, which CHART_JOBS names");
        assert.deepEqual(
          unproducedReferences(
            rules.groups.flatMap((g: any) => g.rules),
            prodScrapeJobs(run),
          ),
          [],
        );
        const alerts = alertNames(rules);
        assert.ok(alerts.has("InfrastructureDown") && alerts.has("ServiceDown"));
        for (const alert of ["RedisDown", "PostgresDown"]) assert.ok(!alerts.has(alert), alert);
        // Amazon MQ has no rabbitmq_prometheus and publishes no queue metric for RabbitMQ 4: the
        // exporter reading its management API feeds the DLQ alert, and is watched itself.
        const dlq = rules.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "DeadLetterQueueNotEmpty");
        assert.equal(dlq !== undefined, catalog.services.some(usesBroker));
        if (dlq) {
          assert.match(
            dlq.expr,
            /^max by \(vhost, queue\) \(rabbitmq_management_queue_messages\{job="queue-depth-exporter",/,
          );
          const down = rules.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "InfrastructureDown");
          assert.match(
            down.expr,
            /queue-depth-exporter/,
            "a blind exporter (the broker unreachable, a refused login) alerts",
          );
        }
        if (!hasBinary("promtool")) {
          console.log("      (promtool skipped: not installed; .ci/run installs Debian's prometheus package)");
          return;
        }
        assert.match(promtoolCheckRules(rules), /SUCCESS: \d+ rules found/);
      });

      it("renders no default rule of kube-prometheus-stack on a job an EKS cluster cannot have", () => {
        const values = kpsValues(run);
        assert.deepEqual(unscrapedDefaultRuleJobs(values, prodScrapeJobs(run).keys()), []);
        assert.deepEqual([...new Set([...defaultRuleJobs(values).values()].flat())].sort(), [
          "apiserver",
          "kps-kube-prometheus-stack-alertmanager",
          "kps-kube-prometheus-stack-operator",
          "kps-kube-prometheus-stack-prometheus",
          "kube-state-metrics",
          "kubelet",
          "node-exporter",
        ]);
      });

      it("watches each managed store with CloudWatch alarms that publish to an encrypted topic the receivers subscribe to", () => {
        const prefix = `${name}-prod`;
        const alarms = alarmsOf(run);
        assert.deepEqual(
          alarms.map((a) => a.inputs.name).sort(),
          expectedAlarms(catalog, 3)
            .map((alarm) => `${prefix}-${alarm}`)
            .sort(),
        );
        assert.ok(
          alarms.every((a) => a.stack === "prod-infra"),
          "the layer that owns the stores",
        );
        const [topic] = ofType(run.resources, "aws:sns/topic:Topic");
        assert.equal(topic.inputs.kmsMasterKeyId, `arn:aws:kms:eu-west-1:123456789012:key/${name}-key`);
        const topicArn = `arn:aws:sns:eu-west-1:123456789012:${topic.name}`;
        for (const alarm of alarms) {
          assert.deepEqual([alarm.inputs.alarmActions, alarm.inputs.okActions], [[topicArn], [topicArn]]);
        }
        assertDimensions(run, alarms);
        const subscriptions = ofType(run.resources, "aws:sns/topicSubscription:TopicSubscription");
        assert.deepEqual(
          subscriptions.map((s) => [s.inputs.protocol, s.inputs.endpoint]).sort(),
          [
            ["email", ALERTING.email.to[0]],
            ["email", ALERTING.email.to[1]],
            ["https", ALERTING.pagerduty.cloudwatchUrl],
          ].sort(),
        );
        const pagerduty = subscriptions.find((s) => s.inputs.protocol === "https")!;
        assert.ok(isSecretOnWire(pagerduty.wire.endpoint), "PagerDuty's integration URL stays secret");
        assert.equal(pagerduty.inputs.endpointAutoConfirms, true);
        const policy = JSON.parse(ofType(run.resources, "aws:sns/topicPolicy:TopicPolicy")[0].inputs.policy);
        assert.deepEqual(policy.Statement[0].Principal, { Service: "cloudwatch.amazonaws.com" });
        // An encrypted topic takes alarms only if CloudWatch may use its key.
        const key = JSON.parse(ofType(run.resources, "aws:kms/key:Key")[0].inputs.policy);
        const cloudwatch = key.Statement.find((s: any) => s.Principal?.Service === "cloudwatch.amazonaws.com");
        assert.deepEqual(cloudwatch.Action, ["kms:Decrypt", "kms:GenerateDataKey*"]);
      });

      it("gives kube-prometheus-stack's Alertmanager the rendered config, the receivers' secrets in a Secret of their own", () => {
        const kps = ofType(run.resources, RELEASE).find((r) => r.inputs.name === "kps")!;
        // kube-prometheus-stack 65.8.1: templates/alertmanager/secret.yaml renders no config with
        // useExistingSecret; templates/alertmanager/alertmanager.yaml passes configSecret and secrets
        // to the Alertmanager resource, whose operator mounts each secret at /etc/alertmanager/secrets/<name>/.
        const { useExistingSecret, configSecret, secrets } = kps.inputs.values.alertmanager.alertmanagerSpec;
        assert.deepEqual(
          { useExistingSecret, configSecret, secrets },
          { useExistingSecret: true, configSecret: "alertmanager-platform", secrets: ["alertmanager-receivers"] },
        );
        const secret = (secretName: string) =>
          ofType(run.platform.resources, "kubernetes:core/v1:Secret").find(
            (s) => s.inputs.metadata.name === secretName,
          )!;
        const config = secret("alertmanager-platform");
        const receivers = secret("alertmanager-receivers");
        for (const s of [config, receivers]) {
          assert.equal(s.inputs.metadata.namespace, "monitoring");
          assert.ok(kps.dependencies.includes(s.urn), `${s.inputs.metadata.name} exists before the chart`);
        }
        const rendered = config.inputs.stringData["alertmanager.yaml"];
        const files = [...rendered.matchAll(/_file: (\S+)/g)].map((m: RegExpMatchArray) => m[1]).sort();
        assert.deepEqual(
          files,
          ["pagerduty-routing-key", "slack-webhook-url", "slack-webhook-url", "smtp-password", "smtp-password"].map(
            (file) => `/etc/alertmanager/secrets/alertmanager-receivers/${file}`,
          ),
        );
        assert.deepEqual(receivers.inputs.stringData, {
          "slack-webhook-url": ALERTING.slack.webhookUrl,
          "smtp-password": ALERTING.email.authPassword,
          "pagerduty-routing-key": ALERTING.pagerduty.routingKey,
        });
        assert.deepEqual(plaintextOccurrences(run.resources, secretValues), []);
        assert.equal(parse(rendered).receivers[0].name, "critical");
        amtoolCheckConfig(rendered);
      });
    });
  }

  it("would find the control plane's default rules that the chart renders on its own", () => {
    const chartJobs = Object.values(CHART_JOBS).map((chart) => chart.job);
    assert.deepEqual(unscrapedDefaultRuleJobs({}, chartJobs), [
      "etcd.yaml: kube-etcd",
      "kube-scheduler.rules.yaml: kube-scheduler",
      "kubernetes-system-scheduler.yaml: kube-scheduler",
      "kubernetes-system-controller-manager.yaml: kube-controller-manager",
      "kubernetes-system-kube-proxy.yaml: kube-proxy",
    ]);
  });

  it("keeps the dead-letter rule on Prometheus where the broker runs in the cluster, and no broker alarm", async () => {
    const run = await runLayersUnderMocks(prodLayers("erp", { broker: { mode: "in-cluster" } }), () =>
      runProgram(projectDir),
    );
    const rules = rulesOf(run);
    assert.deepEqual(
      unproducedReferences(
        rules.groups.flatMap((g: any) => g.rules),
        prodScrapeJobs(run),
      ),
      [],
    );
    const dlq = rules.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === "DeadLetterQueueNotEmpty");
    assert.match(dlq.expr, /rabbitmq_detailed_queue_messages\{job="rabbitmq",/);
    const monitor = ofType(run.resources, SERVICE_MONITOR).find((m) => m.inputs.metadata.namespace === "messaging")!;
    assert.ok(
      monitor.inputs.spec.endpoints.some((e: any) => e.path === "/metrics/detailed"),
      "the ServiceMonitor serves the queues' depth",
    );
    assert.deepEqual(
      alarmsOf(run).filter((a) => a.inputs.name.includes("-mq-")),
      [],
    );
  });

  it("watches DocumentDB's CPU, connections and replica lag when MongoDB runs there", async () => {
    const run = await runLayersUnderMocks(
      prodLayers("bookings", { mongodb: { mode: "documentdb", instances: 2 } }),
      () => runProgram(projectDir),
    );
    const docdb = alarmsOf(run).filter((a) => a.inputs.name.includes("-docdb-"));
    assert.deepEqual(
      docdb.map((a) => [a.inputs.name, a.inputs.namespace, a.inputs.metricName, a.inputs.dimensions]),
      [
        ["bookings-prod-docdb-cpu", "AWS/DocDB", "CPUUtilization", { DBClusterIdentifier: "bookings-prod-docdb" }],
        [
          "bookings-prod-docdb-connections",
          "AWS/DocDB",
          "DatabaseConnections",
          { DBClusterIdentifier: "bookings-prod-docdb" },
        ],
        [
          "bookings-prod-docdb-replica-lag",
          "AWS/DocDB",
          "DBClusterReplicaLagMaximum",
          { DBClusterIdentifier: "bookings-prod-docdb" },
        ],
      ],
    );
    const [cluster] = ofType(run.resources, "aws:docdb/cluster:Cluster");
    assert.equal(cluster.inputs.clusterIdentifier, "bookings-prod-docdb", "the dimension names the cluster made");
  });
});

/** Each alarm names a store the stack made, by the identifier AWS publishes its metrics under. */
function assertDimensions(run: LayeredRun<StackOutputs>, alarms: RecordedResource[]): void {
  const rdsIdentifiers = new Set(ofType(run.resources, "aws:rds/instance:Instance").map((i) => i.inputs.identifier));
  const groups = ofType(run.resources, "aws:elasticache/replicationGroup:ReplicationGroup").map((g) => g.inputs);
  const brokers = ofType(run.resources, "aws:mq/broker:Broker").map((b) => b.inputs.brokerName);
  for (const alarm of alarms.map((a) => a.inputs)) {
    const dimensions = alarm.dimensions ?? {};
    if (alarm.namespace === "AWS/RDS") assert.ok(rdsIdentifiers.has(dimensions.DBInstanceIdentifier), alarm.name);
    if (alarm.namespace === "AWS/ElastiCache") {
      // ElastiCache names a group's member clusters <group>-001, -002... (cluster mode disabled).
      const [group] = groups;
      assert.match(
        dimensions.CacheClusterId,
        new RegExp(`^${group.replicationGroupId}-00[1-${group.numCacheClusters}]$`),
      );
    }
    if (alarm.namespace === "AWS/AmazonMQ") {
      assert.deepEqual(brokers, [dimensions.Broker], alarm.name);
      // RabbitMQ 4 brokers publish broker metrics only: a Queue dimension would never see data.
      assert.deepEqual(Object.keys(dimensions), ["Broker"], alarm.name);
    }
    if (alarm.metricQueries) {
      // Node metrics: Amazon MQ picks the nodes' names, so a Metrics Insights query takes the worst node.
      assert.equal(alarm.metricQueries.length, 1);
      assert.match(
        alarm.metricQueries[0].expression,
        new RegExp(`FROM SCHEMA\\("AWS/AmazonMQ", Broker, Node\\) WHERE Broker = '${brokers[0]}'$`),
      );
    }
  }
}

/** `amtool check-config` over a rendered config, when amtool is installed. */
function amtoolCheckConfig(config: string): void {
  if (!hasBinary("amtool")) {
    console.log("      (amtool skipped: not installed; .ci/run installs Debian's prometheus-alertmanager package)");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "amtool-"));
  try {
    fs.writeFileSync(path.join(dir, "alertmanager.yml"), config);
    const output = execFileSync("amtool", ["check-config", "alertmanager.yml"], { cwd: dir, encoding: "utf8" });
    assert.match(output, /SUCCESS/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
