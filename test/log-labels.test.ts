import { strict as assert } from "assert";
import * as path from "path";
import { parse } from "yaml";
import { runProgram, StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { LogsBackend } from "../components/observability/grafanaProvisioning";
import { devConfig, prodLayers, ROOMY_NODE_GROUP } from "./helpers/stackConfigs";
import {
  PodTemplate,
  dockerContainerMeta,
  filebeatDockerEvent,
  filebeatKubernetesEvent,
  kubernetesPodMeta,
  logstashAddedFields,
  lokiStreamMatchers,
  luceneTerms,
  promtailChartPodRules,
  promtailLabels,
} from "./helpers/logPipelines";
import { MockRun, RecordedResource, ofType, runLayersUnderMocks, runUnderMocks } from "../tools/mockRun";

/**
 * Every log panel of every generated dashboard filters on labels (Loki) or fields (Elasticsearch) that
 * the log pipeline of its target gives the lines of the service the panel is for: the pipeline's
 * rendered rules applied to the service's container (dev) or pod (prod), as the shipper sees it.
 */

const projectDir = path.join(__dirname, "..");
const CONTAINER = "docker:index/container:Container";
const RELEASE = "kubernetes:helm.sh/v3:Release";

type Labels = Record<string, string>;
/** What the pipeline of a target and backend gives each line of a service. */
type Pipeline = (service: string) => Labels;

/** The query of each service's log panel, by service, from the dashboards the program declared. */
function logQueries(
  dashboardFiles: Record<string, string>,
  services: string[],
  logs: LogsBackend,
): Map<string, string> {
  return new Map(
    services.map((service) => {
      const dashboard = JSON.parse(dashboardFiles[`service-${service}.json`]);
      const logPanels = dashboard.panels.filter((p: any) => p.type === "logs");
      assert.equal(logPanels.length, 1, `${service}: one log panel`);
      const [target] = logPanels[0].targets;
      assert.equal(target.datasource.type, logs === "loki" ? "loki" : "elasticsearch");
      return [service, logs === "loki" ? target.expr : target.query];
    }),
  );
}

/** Each service's log panel asks for what its lines carry. */
function assertPanelsMatch(queries: Map<string, string>, logs: LogsBackend, pipeline: Pipeline): void {
  for (const [service, query] of queries) {
    const wanted = logs === "loki" ? lokiStreamMatchers(query) : luceneTerms(query);
    const carried = pipeline(service);
    for (const [label, value] of Object.entries(wanted))
      assert.equal(
        carried[label],
        value,
        `${service}: panel filters ${label}="${value}"; its lines carry ${JSON.stringify(carried)}`,
      );
  }
}

const uploaded = (container: RecordedResource, file: string): string =>
  container.inputs.uploads.find((u: any) => u.file === file).content;

/** Dev: the service's container as Docker describes it, and the files of the stack's other containers. */
function devPipeline(run: MockRun<StackOutputs>, prefix: string, logs: LogsBackend): Pipeline {
  const containers = ofType(run.resources, CONTAINER);
  const container = (host: string) => containers.find((c) => c.inputs.name === `${prefix}-${host}`)!;
  const labelsOf = (host: string): Labels =>
    Object.fromEntries(container(host).inputs.labels.map((l: any) => [l.label, l.value]));
  if (logs === "loki") {
    const [job] = parse(uploaded(container("promtail"), "/etc/promtail/config.yml")).scrape_configs;
    return (service) => {
      const labels = labelsOf(service);
      // Docker's label filters are ANDed: the container must carry every one.
      for (const filter of job.docker_sd_configs[0].filters[0].values) {
        const [label, value] = filter.split("=");
        assert.equal(labels[label], value, `${service}: Promtail's discovery keeps it (${filter})`);
      }
      return promtailLabels(dockerContainerMeta(`${prefix}-${service}`, labels), job.relabel_configs);
    };
  }
  const filebeat = parse(uploaded(container("filebeat"), "/usr/share/filebeat/filebeat.yml"));
  const pipeline = uploaded(container("logstash"), "/usr/share/logstash/pipeline/logstash.conf");
  const [template] = filebeat["filebeat.autodiscover"].providers[0].templates;
  return (service) => {
    const event = filebeatDockerEvent(labelsOf(service));
    for (const { equals } of template.condition.and) {
      const [field, value] = Object.entries(equals as Labels)[0];
      // The autodiscover provider's event: docker.container.labels, de-dotted as the processor's.
      const label = field.replace(/^docker\.container\.labels\./, "");
      assert.equal((event.container as any).labels[label], value, `${service}: Filebeat collects it (${field})`);
    }
    return logstashAddedFields(pipeline, event);
  };
}

/** Prod: the service's pod template from its Deployment, and the log charts' values. */
function prodPipeline(run: MockRun<StackOutputs>, logs: LogsBackend): Pipeline {
  const releaseValues = (chart: string) =>
    ofType(run.resources, RELEASE).find((r) => r.inputs.chart === chart)!.inputs.values;
  const podOf = (service: string): PodTemplate => {
    const deployment = ofType(run.resources, "kubernetes:apps/v1:Deployment").find(
      (d) => d.inputs.metadata.name === service,
    )!.inputs;
    return {
      namespace: deployment.metadata.namespace,
      controller: deployment.metadata.name,
      labels: deployment.spec.template.metadata.labels,
      container: deployment.spec.template.spec.containers[0].name,
    };
  };
  if (logs === "loki") {
    const rules = promtailChartPodRules(releaseValues("promtail"));
    return (service) => promtailLabels(kubernetesPodMeta(podOf(service)), rules);
  }
  const filebeat = parse(releaseValues("filebeat").daemonset.filebeatConfig["filebeat.yml"]);
  const pipeline = releaseValues("logstash").logstashPipeline["logstash.conf"];
  const collected: string[] = filebeat["filebeat.autodiscover"].providers[0].templates[0].condition.or.map(
    (c: any) => c.equals["kubernetes.namespace"],
  );
  return (service) => {
    const pod = podOf(service);
    assert.ok(collected.includes(pod.namespace), `${service}: Filebeat collects namespace ${pod.namespace}`);
    return logstashAddedFields(pipeline, filebeatKubernetesEvent(pod));
  };
}

const dashboardsOfDev = (run: MockRun<unknown>, prefix: string): Record<string, string> => {
  const grafana = ofType(run.resources, CONTAINER).find((c) => c.inputs.name === `${prefix}-grafana`)!;
  return Object.fromEntries(grafana.inputs.uploads.map((u: any) => [path.basename(u.file), u.content]));
};

/** Grafana's link from a span to its logs asks for the span's service.name (the service's name) under a label its lines carry. */
function assertTraceLinksMatch(run: MockRun<unknown>, prefix: string, services: string[], pipeline: Pipeline): void {
  const grafana = ofType(run.resources, CONTAINER).find((c) => c.inputs.name === `${prefix}-grafana`)!;
  const { datasources } = parse(uploaded(grafana, "/etc/grafana/provisioning/datasources/platform.yaml"));
  const { tags } = datasources.find((d: any) => d.type === "jaeger").jsonData.tracesToLogsV2;
  assert.ok(tags?.length > 0, "explicit tags: Grafana's defaults ask for labels such as service_name");
  for (const service of services)
    for (const { key, value } of tags) {
      assert.equal(key, "service.name", "the span attribute OTEL_SERVICE_NAME sets");
      assert.equal(pipeline(service)[value], service, `${service}: its lines carry ${value}`);
    }
}

const dashboardsOfProd = (run: MockRun<unknown>): Record<string, string> =>
  Object.assign(
    {},
    ...ofType(run.resources, "kubernetes:core/v1:ConfigMap")
      .filter((c) => c.inputs.metadata.labels?.grafana_dashboard === "1")
      .map((c) => c.inputs.data),
  );

describe("log panels filter on what each target's log pipeline sets", () => {
  for (const name of BUILTIN_CATALOGS) {
    const services = loadCatalog(builtinCatalogPath(name)).services.map((s) => s.name);
    for (const logs of ["loki", "elk"] as const) {
      const observability = { "platform:observability": JSON.stringify({ logs }) };

      it(`dev, ${logs} (${name})`, async () => {
        // ELK beside the larger catalogs needs more than the default budget: a machine that has it says so.
        const config = { ...devConfig(name, { memoryBudget: "16Gi" }), ...observability };
        const run = await runUnderMocks("dev", config, () => runProgram(projectDir));
        const prefix = `${name}-dev`;
        const pipeline = devPipeline(run, prefix, logs);
        assertPanelsMatch(logQueries(dashboardsOfDev(run, prefix), services, logs), logs, pipeline);
        assertTraceLinksMatch(run, prefix, services, pipeline);
      });

      it(`prod, ${logs} (${name})`, async () => {
        const run = await runLayersUnderMocks(prodLayers(name, { eks: ROOMY_NODE_GROUP }, observability), () =>
          runProgram(projectDir),
        );
        assertPanelsMatch(logQueries(dashboardsOfProd(run), services, logs), logs, prodPipeline(run, logs));
      });
    }
  }

  it("labels only the catalog's pods with a service on prod: another namespace's program is not one", async () => {
    const run = await runLayersUnderMocks(prodLayers("erp"), () => runProgram(projectDir));
    const rules = promtailChartPodRules(
      ofType(run.resources, RELEASE).find((r) => r.inputs.chart === "promtail")!.inputs.values,
    );
    const kong = promtailLabels(
      kubernetesPodMeta({
        namespace: "kong",
        controller: "kong-kong",
        labels: { "app.kubernetes.io/name": "kong", "app.kubernetes.io/instance": "kong" },
        container: "proxy",
      }),
      rules,
    );
    assert.equal(kong.service, undefined);
    // The chart's own labels stay as they were.
    assert.deepEqual([kong.namespace, kong.app, kong.job, kong.container], ["kong", "kong", "kong/kong", "proxy"]);
  });
});
