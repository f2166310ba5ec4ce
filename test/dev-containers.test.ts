// Every dev container is finished: a long-running one reports its health through a command its image
// has, every one has a memory limit the plan counts, a one-shot one stops what follows it when it
// fails, and start order follows health. For every seed catalog, both log backends and the options
// that add containers, so a new container cannot land without these.
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import { StackOutputs } from "../stacks/program";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { usesBroker } from "../services/validate";
import { devMemoryPlan, memoryPlanInput } from "../components/docker/memoryPlan";
import { oneShotFailure, stepsCommand } from "../components/docker/hostContainer";
import { DockerSettingsSchema } from "../components/docker/settings";
import { MockRun, RecordedResource, ofType } from "../tools/mockRun";
import { runStack } from "../tools/stackRun";
import { devConfig } from "./helpers/stackConfigs";

const CONTAINER = "docker:index/container:Container";

/**
 * What a healthcheck may call in each image: the first word of its command, by image reference.
 * Each entry is what that image's build puts there (the comment beside each healthcheck cites the
 * Dockerfile); a command the image lacks would keep a healthy program "unhealthy" forever.
 */
const HEALTH_COMMANDS: Array<{ image: RegExp; commands: string[] }> = [
  { image: /^postgres:[\d.]+-alpine@/, commands: ["pg_isready"] },
  { image: /^mongo:/, commands: ["mongosh"] },
  { image: /^clickhouse\/clickhouse-server:[\d.]+-alpine@/, commands: ["wget"] },
  { image: /^rabbitmq:[^@]*-alpine@/, commands: ["rabbitmq-diagnostics"] },
  { image: /^redis:[^@]*-alpine@/, commands: ["redis-cli"] },
  // The -alpine variant only: the default tag is FROM scratch on amd64.
  { image: /^oliver006\/redis_exporter:v[\d.]+-alpine(@|$)/, commands: ["wget"] },
  { image: /^quay\.io\/prometheuscommunity\/postgres-exporter:/, commands: ["wget"] },
  { image: /^kong:/, commands: ["kong"] },
  { image: /^prom\/prometheus:/, commands: ["wget"] },
  // alertmanager v0.27.0 Dockerfile: FROM quay.io/prometheus/busybox-${OS}-${ARCH}.
  { image: /^prom\/alertmanager:/, commands: ["wget"] },
  { image: /^prom\/node-exporter:/, commands: ["wget"] },
  { image: /^grafana\/grafana:/, commands: ["curl", "wget"] },
  { image: /^grafana\/loki:/, commands: ["wget"] },
  { image: /^grafana\/promtail:/, commands: ["wget"] },
  { image: /^jaegertracing\/all-in-one:/, commands: ["wget"] },
  // The Docker Official Images of Elasticsearch, Logstash and Kibana are built from Elastic's Dockerfiles.
  { image: /^((elasticsearch|logstash|kibana):|docker\.elastic\.co\/beats\/filebeat:)/, commands: ["curl"] },
  { image: /^adminer:/, commands: ["wget"] },
  { image: /^ghcr\.io\/joeferner\/redis-commander:/, commands: ["/redis-commander/bin/healthcheck.js"] },
];
/** A service's image is the catalog's, or the reference service's: its command tries wget, then curl. */
const SERVICE_HEALTH_COMMANDS = ["wget"];

const label = (container: RecordedResource, name: string): string | undefined =>
  container.inputs.labels.find((l: { label: string }) => l.label === name)?.value;
const isOneShot = (container: RecordedResource) => container.inputs.mustRun === false;
/** The pulled image's reference (the mocks' image ID is `sha256:` and the name); a local build has none. */
const imageOf = (container: RecordedResource): string => String(container.inputs.image).replace(/^sha256:/, "");

/** The executable a healthcheck runs: exec form's first element, or the shell command's first word. */
function healthCommand(container: RecordedResource): string | undefined {
  const [form, command] = container.inputs.healthcheck?.tests ?? [];
  if (form === "CMD") return command;
  if (form === "CMD-SHELL") return String(command).trim().split(/\s+/)[0];
  return undefined;
}

function allowedHealthCommands(container: RecordedResource): string[] | undefined {
  if (["service", "frontend"].includes(label(container, "platform.component") ?? "")) return SERVICE_HEALTH_COMMANDS;
  return HEALTH_COMMANDS.find((entry) => entry.image.test(imageOf(container)))?.commands;
}

interface DevRun {
  title: string;
  catalog: (typeof BUILTIN_CATALOGS)[number];
  logs: "loki" | "elk";
  /** Docker settings besides the defaults. */
  docker?: Record<string, unknown>;
}

const RUNS: DevRun[] = [
  ...BUILTIN_CATALOGS.flatMap((catalog) =>
    (["loki", "elk"] as const).map((logs) => ({ title: `${catalog}, logs ${logs}`, catalog, logs })),
  ),
  {
    title: "finance with the developer tools",
    catalog: "finance",
    logs: "loki",
    docker: { devTools: { adminer: true, redisCommander: true } },
  },
  {
    title: "bookings with the reference service",
    catalog: "bookings",
    logs: "loki",
    docker: { referenceService: true },
  },
];

describe("dev containers (under mocks)", () => {
  for (const devRun of RUNS) {
    describe(devRun.title, () => {
      const catalog = loadCatalog(builtinCatalogPath(devRun.catalog));
      // ELK needs more than the default budget; the budget check itself is config.test.ts's.
      const docker = { memoryBudget: "16Gi", ...devRun.docker };
      let run: MockRun<StackOutputs>;
      let containers: RecordedResource[];
      let byUrn: Map<string, RecordedResource>;
      before(async () => {
        const config = {
          ...devConfig(devRun.catalog, docker),
          "platform:observability": JSON.stringify({ logs: devRun.logs }),
        };
        run = await runStack([{ stack: "dev", config }]);
        containers = ofType(run.resources, CONTAINER);
        byUrn = new Map(containers.map((c) => [c.urn, c]));
      });
      const named = (suffix: string) => containers.find((c) => c.inputs.name === `${devRun.catalog}-dev-${suffix}`);
      const dependenciesOf = (container: RecordedResource) =>
        container.dependencies.flatMap((urn) => (byUrn.has(urn) ? [byUrn.get(urn)!] : []));

      it("gives every long-running container a healthcheck that calls a command its image has", () => {
        for (const container of containers.filter((c) => !isOneShot(c))) {
          const name = container.inputs.name;
          const allowed = allowedHealthCommands(container);
          assert.ok(allowed, `${name}: no entry for image ${imageOf(container)} in HEALTH_COMMANDS; add what it ships`);
          const command = healthCommand(container);
          assert.ok(command, `${name} has no healthcheck`);
          assert.ok(allowed.includes(command), `${name} calls ${command}, which ${imageOf(container)} lacks`);
          assert.ok(container.inputs.healthcheck.interval && container.inputs.healthcheck.retries > 0, name);
        }
      });

      it("gives every container a memory limit, each counted in the plan the budget check and `containers` output use", () => {
        for (const container of containers)
          assert.ok(container.inputs.memory > 0, `${container.inputs.name}: no memory`);
        const settings = DockerSettingsSchema.parse(docker);
        const plan = devMemoryPlan(catalog, memoryPlanInput(settings, devRun.logs));
        const declared = containers.map((c) => ({ name: c.inputs.name, mib: c.inputs.memory, oneShot: isOneShot(c) }));
        const planned = plan.map((p) => ({
          name: `${devRun.catalog}-dev-${p.container}`,
          mib: p.mib,
          oneShot: p.oneShot === true,
        }));
        const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
        assert.deepEqual(declared.sort(byName), planned.sort(byName));
        assert.deepEqual(
          [...run.result.containers!].sort(byName),
          planned.map(({ name, oneShot }) => ({ name, oneShot })),
        );
      });

      it("runs a one-shot container once, waits for its exit, and creates what needs it only after it", () => {
        for (const oneShot of containers.filter(isOneShot)) {
          const { name, restart, attach, logs, wait } = oneShot.inputs;
          assert.deepEqual([restart, attach, logs, wait], ["no", true, true, undefined], name);
          const after = containers.filter((c) => dependenciesOf(c).includes(oneShot));
          assert.ok(after.length > 0, `nothing waits for ${name}`);
        }
      });

      it("creates each service after its database, the cache and the broker report healthy", () => {
        const cacheNodes = containers.filter((c) => label(c, "platform.cache.role"));
        const broker = named("rabbitmq");
        for (const service of catalog.services) {
          const waitsFor = dependenciesOf(named(service.name)!);
          const needs = [
            ...(service.database.kind === "none" ? [] : [databaseReady(service.name)]),
            ...(service.cache ? cacheNodes : []),
            ...(usesBroker(service) ? [broker!] : []),
          ];
          for (const needed of needs) {
            assert.ok(waitsFor.includes(needed), `${service.name} waits for ${needed.inputs.name}`);
            assert.ok(needed.inputs.wait || isOneShot(needed), `${needed.inputs.name} is waited for until healthy`);
          }
        }
      });

      /** The healthy server, or for MongoDB the one-shot initiation after every healthy member. */
      function databaseReady(service: string): RecordedResource {
        const server = named(`${service}-db`)!;
        const init = named(`${service}-db-init`);
        if (!init) return server;
        const members = dependenciesOf(init).filter((c) => label(c, "platform.component") === "database");
        assert.equal(members.length, 3, `${service}: the initiation waits for the three members`);
        for (const member of members) assert.equal(member.inputs.wait, true, member.inputs.name);
        return init;
      }

      it("bootstraps Kong's schema after its database is healthy, and starts Kong after the bootstrap", () => {
        const bootstrap = named("kong-bootstrap");
        if (!bootstrap) return;
        const database = named("kong-db")!;
        assert.equal(database.inputs.wait, true);
        assert.ok(dependenciesOf(bootstrap).includes(database));
        assert.ok(dependenciesOf(named("kong")!).includes(bootstrap));
      });
    });
  }
});

describe("one-shot containers", () => {
  it("end at the first failing step, naming it in one last line with its exit code", () => {
    const [shell, flag, script] = stepsCommand("demo-init", [
      { label: "first step", run: "echo first" },
      { label: "second step", run: "(exit 3)" },
      { label: "third step", run: "echo third" },
    ]);
    const result = spawnSync(shell, [flag, script], { encoding: "utf8" });
    assert.equal(result.status, 3);
    assert.equal(result.stdout, "first\n");
    assert.equal(result.stderr, "demo-init: second step failed (exit 3)\n");
    assert.equal(spawnSync(shell, [flag, stepsCommand("ok", [{ label: "a", run: "true" }])[2]]).status, 0);
  });

  it("fail the update with the container's name, exit code and last log line, and pass on 0", () => {
    assert.equal(oneShotFailure("kong-bootstrap", 0, "done\n"), undefined);
    assert.equal(
      oneShotFailure(
        "kong-bootstrap",
        1,
        "Error: connection refused\nkong-bootstrap: schema migrations failed (exit 1)\n",
      ),
      "kong-bootstrap exited with code 1: kong-bootstrap: schema migrations failed (exit 1)",
    );
    assert.equal(oneShotFailure("shop-db-init", undefined, ""), "shop-db-init exited with code unknown");
  });
});
