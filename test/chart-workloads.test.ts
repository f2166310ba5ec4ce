// Every container the platform's charts render (test/helpers/chartRenders.ts, from `helm template` at
// the pinned versions) is sized from one table (components/kubernetes/chartSizes.ts) and runs an image
// of the engine table (components/engines.ts, IMAGES); `npm run plan` adds the sizes up.
import { strict as assert } from "assert";
import * as path from "path";
import { runProgram, StackOutputs } from "../stacks/program";
import { IMAGES } from "../components/engines";
import { platformChartSizes } from "../components/kubernetes/chartValues";
import { ChartSizes, ContainerSize, chartRequests, valueAt, withSizes } from "../components/kubernetes/chartSizes";
import { LayeredRun, ofType, runLayersUnderMocks } from "../tools/mockRun";
import { deployPlan, renderDeployPlan } from "../tools/deployPlan";
import { CHART_RENDERS } from "./helpers/chartRenders";
import { prodLayers } from "./helpers/stackConfigs";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const RABBITMQ_CLUSTER = "kubernetes:rabbitmq.com/v1beta1:RabbitmqCluster";
const TRACING_MEMORY = "1Gi";
const sizes = platformChartSizes(TRACING_MEMORY);

/** `docker.io/` is what a reference without a registry means. */
const normalised = (image: string) => image.replace(/^docker\.io\//, "");

/**
 * The table's image a rendered one is: the same reference, or, where the chart drops the tag when
 * given a digest (Loki, Jaeger, Bitnami), the same name and digest.
 */
function tableImage(rendered: string): string | undefined {
  return Object.values(IMAGES).find(
    (image) => normalised(image) === normalised(rendered) || image.replace(/:[^:/@]+@/, "@") === normalised(rendered),
  );
}

/** Both prod stacks that between them install every chart (and the in-cluster broker): Loki and the broker, and ELK. */
const RUNS = [
  { label: "erp, Loki, in-cluster broker", layers: prodLayers("erp", { broker: { mode: "in-cluster" } }) },
  {
    label: "bookings, ELK",
    layers: prodLayers("bookings", {}, { "platform:observability": JSON.stringify({ logs: "elk" }) }),
  },
];

const tableContainers = (chart: ChartSizes) =>
  Object.entries(chart).flatMap(([workload, { containers }]) =>
    Object.entries(containers).map(([container, { values }]) => ({ workload, container, values })),
  );

describe("platform chart workloads", () => {
  it("the sizes table names exactly the containers each chart renders, at the values path the chart reads", () => {
    assert.deepEqual(Object.keys(sizes).sort(), Object.keys(CHART_RENDERS).sort());
    for (const [release, rendered] of Object.entries(CHART_RENDERS)) {
      const table = tableContainers(sizes[release]);
      // A rendered container that the table lacks shares the path of one it has (an init container).
      for (const r of rendered.filter((c) => typeof c.resources === "string")) {
        assert.ok(
          table.some((t) => t.workload === r.workload && t.values === r.resources),
          `${release}: ${r.workload}/${r.container} reads ${String(r.resources)}, which the table does not set`,
        );
      }
      for (const t of table) {
        assert.ok(
          rendered.some((r) => r.workload === t.workload && r.container === t.container && r.resources === t.values),
          `${release}: the table sizes ${t.workload}/${t.container} at ${t.values}, which the chart does not render`,
        );
      }
    }
  });

  for (const { label, layers } of RUNS) {
    describe(label, function () {
      this.timeout(120000);
      let run: LayeredRun<StackOutputs>;
      before(async () => {
        run = await runLayersUnderMocks(layers, () => runProgram(path.join(__dirname, "..")));
      });
      /** The charts' releases with their values, and the in-cluster broker's RabbitmqCluster with its spec. */
      const releases = () => [
        ...ofType(run.resources, RELEASE).map((r) => ({ name: r.inputs.name, values: r.inputs.values })),
        ...ofType(run.resources, RABBITMQ_CLUSTER).map((r) => ({
          name: r.inputs.metadata.name,
          values: r.inputs.spec,
        })),
      ];

      it("gives every container requests and limits of CPU and memory, the table's", () => {
        for (const { name, values } of releases()) {
          for (const { workload, container, values: at } of tableContainers(sizes[name])) {
            const resources = valueAt(values, at) as ContainerSize;
            assert.deepEqual(
              resources,
              sizes[name][workload].containers[container].size,
              `${name}: ${workload}/${container}`,
            );
            for (const kind of ["requests", "limits"] as const)
              assert.ok(resources[kind].cpu && resources[kind].memory, `${name}: ${workload}/${container} ${kind}`);
          }
        }
      });

      it("runs every rendered container on an image of the engine table", () => {
        const names = releases().map((r) => r.name);
        assert.ok(names.includes("kps") && names.includes("kong") && names.includes("jaeger"));
        for (const { name, values } of releases()) {
          for (const { workload, container, image } of CHART_RENDERS[name]) {
            const rendered = image(values);
            assert.ok(tableImage(rendered), `${name}: ${workload}/${container} runs ${rendered}, not an IMAGES entry`);
          }
        }
      });

      it("npm run plan adds up the table's requests of the charts installed, DaemonSets per node", () => {
        const plan = deployPlan(run.platform.resources, sizes);
        const installed = releases().map((r) => r.name);
        const expected = { fixed: { cpu: 0, memoryBytes: 0 }, perNode: { cpu: 0, memoryBytes: 0 } };
        for (const name of installed) {
          // The table's own sizes, not the values: the plan must read back what the table set.
          const table = chartRequests(sizes[name], withSizes({}, sizes[name]));
          for (const part of ["fixed", "perNode"] as const) {
            expected[part].cpu += table[part].cpu;
            expected[part].memoryBytes += table[part].memoryBytes;
          }
        }
        assert.ok(expected.perNode.cpu > 0 && expected.fixed.memoryBytes > 0);
        assert.equal(plan.platformRequests!.fixed.cpu.toFixed(3), expected.fixed.cpu.toFixed(3));
        assert.equal(plan.platformRequests!.fixed.memoryBytes, expected.fixed.memoryBytes);
        assert.deepEqual(plan.platformRequests!.perNode, expected.perNode);
        assert.ok(renderDeployPlan("prod", plan).some((line) => line.startsWith("platform charts request ")));
      });
    });
  }

  it("the check finds an image that is not the table's, and resources the chart would not read", () => {
    assert.equal(tableImage("docker.io/grafana/loki:3.2.0"), undefined, "a tag alone is not the pinned image");
    assert.equal(tableImage(`docker.io/grafana/loki@${IMAGES.loki.split("@")[1]}`), IMAGES.loki);
    const values = withSizes({}, sizes.kps);
    delete (values as any).grafana.sidecar.resources;
    assert.throws(() => chartRequests(sizes.kps, values), /grafana\.sidecar\.resources/);
  });
});
