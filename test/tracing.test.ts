import { strict as assert } from "assert";
import * as path from "path";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import { runProgram } from "../stacks/program";
import { readPlatformConfig } from "../stacks/config";
import { ValidationError } from "../services/problems";
import { memoryBytes } from "../services/quantities";
import { jaegerValues } from "../components/kubernetes/chartValues";
import { CHARTS } from "../components/kubernetes/PlatformCharts";
import { TRACE_KIB, TRACES_SHARE } from "../components/observability/tracing";
import { devConfig, prodLayers } from "./helpers/stackConfigs";
import { selects } from "./helpers/podMonitors";
import { RecordedResource, ofType, runLayersUnderMocks, runUnderMocks } from "../tools/mockRun";

const projectDir = path.join(__dirname, "..");
const MIB = 1024 ** 2;

/**
 * The all-in-one container's env as chart 3.3.1 renders it (templates/allinone-deploy.yaml:35-50):
 * allInOne.extraEnv, SPAN_STORAGE_TYPE, the storage's env (storage.memory.extraEnv for memory,
 * templates/_helpers.tpl:405-409), then three of its own, COLLECTOR_OTLP_ENABLED among them.
 */
function jaegerChartEnv(values: any): Array<{ name: string; value: string }> {
  return [
    ...(values.allInOne.extraEnv ?? []),
    { name: "SPAN_STORAGE_TYPE", value: values.storage.type },
    ...(values.storage.type === "memory" ? (values.storage.memory?.extraEnv ?? []) : []),
    { name: "COLLECTOR_ZIPKIN_HOST_PORT", value: ":9411" },
    { name: "JAEGER_DISABLED", value: "false" },
    { name: "COLLECTOR_OTLP_ENABLED", value: "true" },
  ];
}

/** How much memory `traces` traces take at TRACE_KIB each, at most TRACES_SHARE of the limit. */
const tracesMemory = (traces: number) => (traces * TRACE_KIB * 1024) / TRACES_SHARE;

/** The env names a value (Jaeger reads `--memory.max-traces` from MEMORY_MAX_TRACES), bounded by `limitBytes`. */
function assertBounded(env: Record<string, string>, limitBytes: number, what: string): number {
  const maxTraces = Number(env.MEMORY_MAX_TRACES);
  assert.ok(maxTraces > 0, `${what}: MEMORY_MAX_TRACES set`);
  assert.ok(tracesMemory(maxTraces) <= limitBytes, `${what}: ${maxTraces} traces fit in ${limitBytes / MIB} MiB`);
  const goLimit = /^(\d+)MiB$/.exec(env.GOMEMLIMIT ?? "");
  assert.ok(goLimit && Number(goLimit[1]) * MIB < limitBytes, `${what}: Go collects before the limit`);
  return maxTraces;
}

describe(`Jaeger chart ${CHARTS.jaeger.version}: bounded, hardened, OTLP on once`, () => {
  const values = jaegerValues({ memory: "1Gi" }) as any;
  const env = jaegerChartEnv(values);

  it("sets every variable once: the chart turns OTLP on itself", () => {
    const names = env.map((e) => e.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
    assert.equal(env.find((e) => e.name === "COLLECTOR_OTLP_ENABLED")!.value, "true");
  });

  it("keeps as many traces in memory as the memory limit holds, as one replica", () => {
    const { limits, requests } = values.allInOne.resources;
    assert.equal(limits.memory, "1Gi");
    assert.equal(requests.memory, limits.memory, "no overcommit: the traces are the memory");
    assert.ok(limits.cpu && requests.cpu);
    assert.equal(values.storage.type, "memory");
    const maxTraces = assertBounded(Object.fromEntries(env.map((e) => [e.name, e.value])), memoryBytes("1Gi"), "prod");
    assert.ok(maxTraces >= 10000, `${maxTraces}: a useful window`);
    // Each replica would keep its own traces, and the query would see one of them.
    assert.equal(values.allInOne.replicas, 1);
  });

  it("runs non-root, without privileges, on a read-only root filesystem", () => {
    const container = values.allInOne.securityContext;
    assert.deepEqual(
      [container.runAsNonRoot, container.allowPrivilegeEscalation, container.readOnlyRootFilesystem],
      [true, false, true],
    );
    assert.deepEqual(container.capabilities.drop, ["ALL"]);
    assert.equal(values.allInOne.podSecurityContext.seccompProfile.type, "RuntimeDefault");
  });
});

describe("tracing settings", () => {
  const problemsOf = (tracing: unknown): string[] => {
    const config: Record<string, string> = {
      ...devConfig("finance"),
      "platform:observability": JSON.stringify({ tracing }),
    };
    try {
      readPlatformConfig((key) => config[key], "dev", projectDir, Object.keys(config));
    } catch (e) {
      assert.ok(e instanceof ValidationError, String(e));
      return e.problems.map((p) => `${p.path}: ${p.message}`);
    }
    return [];
  };

  it("refuses more traces than the memory holds, and too little memory, naming the field", () => {
    assert.deepEqual(problemsOf({ memory: "1Gi", maxTraces: 100000 }), [
      "platform:observability.tracing.maxTraces: 100000 traces of ~32 KiB do not fit in 50% of tracing.memory 1Gi (16384 do): raise tracing.memory or lower maxTraces",
    ]);
    assert.deepEqual(problemsOf({ memory: "64Mi" }), ["platform:observability.tracing.memory: must be at least 128Mi"]);
    assert.deepEqual(problemsOf({ memory: "2Gi", maxTraces: 20000 }), []);
  });
});

describe("Jaeger on both targets", () => {
  const envOf = (container: RecordedResource): Record<string, string> =>
    Object.fromEntries(
      container.inputs.envs.map((e: string) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
    );

  it("dev: bounds the traces by the memory the profile gives the container, and by maxTraces", async () => {
    for (const [docker, maxTraces] of [
      [{}, undefined],
      [{ profile: "light" }, undefined],
      [{}, 1000],
    ] as const) {
      const config = {
        ...devConfig("finance", docker),
        "platform:observability": JSON.stringify({ tracing: maxTraces ? { maxTraces } : {} }),
      };
      const run = await runUnderMocks("dev", config, () => runProgram(projectDir));
      const jaeger = ofType(run.resources, "docker:index/container:Container").find(
        (c) => c.inputs.name === "finance-dev-jaeger",
      )!;
      const kept = assertBounded(envOf(jaeger), jaeger.inputs.memory * MIB, `dev ${JSON.stringify(docker)}`);
      if (maxTraces) assert.equal(kept, maxTraces);
    }
  });

  it("prod: sizes Jaeger from the stack's tracing settings, and Prometheus scrapes its admin port", async () => {
    const run = await runLayersUnderMocks(
      prodLayers(
        "finance",
        {},
        {
          "platform:observability": JSON.stringify({ tracing: { memory: "2Gi", maxTraces: 20000 } }),
        },
      ),
      () => runProgram(projectDir),
    );
    const releases = ofType(run.resources, "kubernetes:helm.sh/v3:Release");
    const jaeger = releases.find((r) => r.inputs.chart === "jaeger")!;
    const values = jaeger.inputs.values;
    assert.equal(values.allInOne.resources.limits.memory, "2Gi");
    const env = Object.fromEntries(jaegerChartEnv(values).map((e) => [e.name, e.value]));
    assert.equal(assertBounded(env, memoryBytes("2Gi"), "prod"), 20000);

    // The chart labels the all-in-one pod with its name, the release and the component
    // (templates/_helpers.tpl:49-52, allinone-deploy.yaml:23-25); its probes ask the admin port (:83-102).
    const pod = {
      "app.kubernetes.io/name": jaeger.inputs.chart,
      "app.kubernetes.io/instance": jaeger.inputs.name,
      "app.kubernetes.io/component": "all-in-one",
    };
    const monitor = ofType(run.resources, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor").find(
      (m) => m.inputs.metadata.namespace === jaeger.inputs.namespace,
    )!;
    new ServiceMonitor(monitor.inputs as ConstructorParameters<typeof ServiceMonitor>[0]).validate();
    const services = ofType(run.resources, "kubernetes:core/v1:Service").filter(
      (s) =>
        s.inputs.metadata?.namespace === jaeger.inputs.namespace &&
        selects(monitor.inputs.spec.selector, s.inputs.metadata.labels),
    );
    assert.equal(services.length, 1, "the ServiceMonitor selects one Service");
    const [service] = services.map((s) => s.inputs);
    assert.ok(selects({ matchLabels: service.spec.selector }, pod), "which selects the chart's pod");
    assert.equal(service.spec.type, "ClusterIP");
    const [endpoint] = monitor.inputs.spec.endpoints;
    assert.deepEqual(
      service.spec.ports.filter((p: any) => p.name === endpoint.port).map((p: any) => p.targetPort),
      [14269],
      "on Jaeger's admin port",
    );
    assert.equal(endpoint.path, "/metrics");
    const kps = releases.find((r) => r.inputs.chart === "kube-prometheus-stack")!;
    assert.ok(monitor.dependencies.includes(kps.urn), "after the chart that installs its CRD");
  });
});
