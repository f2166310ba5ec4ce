import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { checkAll, inspectContainers, internalChecks, renderTable } from "../tools/health";
import { freePort } from "./helpers/servers";

/** Local stand-ins for a stack's endpoints: healthy, failing, hanging. */
async function startServer(handler: http.RequestListener): Promise<{ url: string; close(): void }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const emptyDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "no-docker-"));

/** What the Docker CLI says when its engine does not answer. */
const DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";

/**
 * A directory holding a stand-in `docker`: `docker inspect --format F name...` prints each name's
 * line of `states` (as Docker prints the format) and "No such object" for the others; with `fails`,
 * it prints only that and exits 1, as the CLI does without an engine.
 */
function fakeDocker(states: string[], fails?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-docker-"));
  fs.writeFileSync(path.join(dir, "states"), states.map((line) => `${line}\n`).join(""));
  const answer = fails
    ? `echo "${fails}" >&2\nexit 1\n`
    : [
        "shift 3",
        "code=0",
        'for name in "$@"; do',
        '  grep "^/$name " "$(dirname "$0")/states" || { echo "Error: No such object: $name" >&2; code=1; }',
        "done",
        "exit $code",
        "",
      ].join("\n");
  fs.writeFileSync(path.join(dir, "docker"), `#!/bin/sh\n${answer}`);
  fs.chmodSync(path.join(dir, "docker"), 0o755);
  return `${dir}${path.delimiter}/usr/bin${path.delimiter}/bin`;
}

describe("health command (tools/health.ts) against local servers", () => {
  let healthy: Awaited<ReturnType<typeof startServer>>;
  let failing: Awaited<ReturnType<typeof startServer>>;
  let hanging: Awaited<ReturnType<typeof startServer>>;
  let closedPort: number;
  const requested: string[] = [];
  before(async () => {
    healthy = await startServer((req, res) => {
      requested.push(req.url!);
      res.writeHead(req.url === "/health" ? 200 : 404).end();
    });
    failing = await startServer((_req, res) => res.writeHead(503).end("unavailable"));
    hanging = await startServer(() => {
      /* never answers */
    });
    closedPort = await freePort();
  });
  after(() => [healthy, failing, hanging].forEach((s) => s.close()));

  it("calls a 2xx up and names why anything else is down", async () => {
    const results = await checkAll(
      [
        { name: "orders", url: `${healthy.url}/health` },
        { name: "wrong path", url: `${healthy.url}/nope` },
        { name: "grafana", url: `${failing.url}/api/health` },
        { name: "prometheus", url: `${hanging.url}/-/ready` },
        { name: "jaeger", url: `http://127.0.0.1:${closedPort}/` },
      ],
      // Long enough for a first fetch on a loaded 2-core machine; the hanging server still runs it out.
      2000,
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.up, r.detail]),
      [
        ["orders", true, "HTTP 200"],
        ["wrong path", false, "HTTP 404"],
        ["grafana", false, "HTTP 503"],
        ["prometheus", false, "no answer in 2000 ms"],
        ["jaeger", false, "ECONNREFUSED"],
      ],
    );
    assert.ok(requested.includes("/health"));
    const table = renderTable(results).split("\n");
    assert.match(table[0], /^\s+name\s+url\s+result\s+ms$/);
    assert.match(table[1], /^up\s+orders\s+http:\/\/127\.0\.0\.1:\d+\/health\s+HTTP 200\s+\d+$/);
    assert.match(table[5], /^DOWN\s+jaeger\s/);
  });

  /** The command on a saved outputs file; `PATH` decides which `docker` it finds (the default: none). */
  const run = (outputs: unknown, PATH = emptyDir()): Promise<{ code: number; stdout: string; stderr: string }> => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "health-")), "outputs.json");
    fs.writeFileSync(file, JSON.stringify(outputs));
    return new Promise((resolve) =>
      execFile(
        process.execPath,
        ["--require", "tsx/cjs", "tools/health.ts", "dev", "--outputs", file, "--timeout", "2000"],
        {
          cwd: path.join(__dirname, ".."),
          env: { ...process.env, PATH, PLATFORM_DEBUG: "", npm_lifecycle_event: "health" },
        },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
      ),
    );
  };

  it("exits 0 when every check of the stack output is up, 1 when one is down, 2 without checks", async () => {
    const up = await run({ healthChecks: [{ name: "orders", url: `${healthy.url}/health` }] });
    assert.equal(up.code, 0, up.stdout);
    assert.match(up.stdout, /all 1 healthy/);
    const down = await run({
      healthChecks: [
        { name: "orders", url: `${healthy.url}/health` },
        { name: "rabbitmq management", url: `${failing.url}/` },
      ],
    });
    assert.equal(down.code, 1);
    assert.match(down.stdout, /DOWN\s+rabbitmq management\s+\S+\s+HTTP 503/);
    assert.match(down.stdout, /1 of 2 down/);
    assert.equal((await run({ serviceUrls: {} })).code, 2);
  });

  const containers = [
    { name: "shop-dev-grafana", oneShot: false },
    { name: "shop-dev-promtail", oneShot: false },
    { name: "shop-dev-kong-bootstrap", oneShot: true },
    { name: "shop-dev-orders-db-init", oneShot: true },
    { name: "shop-dev-jaeger", oneShot: false },
    { name: "shop-dev-gone", oneShot: false },
  ];
  const STATES = [
    "/shop-dev-grafana running 0 healthy",
    "/shop-dev-promtail running 0 unhealthy",
    "/shop-dev-kong-bootstrap exited 0 none",
    "/shop-dev-orders-db-init exited 1 none",
    "/shop-dev-jaeger exited 137 unhealthy",
  ];

  it("asks Docker for every container: long-running ones must be healthy, one-shot ones exited 0", async () => {
    const docker = fakeDocker(STATES);
    const saved = process.env.PATH;
    process.env.PATH = docker;
    try {
      assert.deepEqual(
        inspectContainers(containers).map((c) => [c.name, c.up, c.state]),
        [
          ["shop-dev-grafana", true, "healthy"],
          ["shop-dev-promtail", false, "unhealthy"],
          ["shop-dev-kong-bootstrap", true, "exited 0"],
          ["shop-dev-orders-db-init", false, "exited 1"],
          ["shop-dev-jaeger", false, "exited (exit 137)"],
          ["shop-dev-gone", false, "missing"],
        ],
      );
    } finally {
      process.env.PATH = saved;
    }
    const { code, stdout } = await run(
      { healthChecks: [{ name: "orders", url: `${healthy.url}/health` }], containers },
      docker,
    );
    assert.equal(code, 1, stdout);
    assert.match(stdout, /^up\s+shop-dev-grafana\s+healthy$/m);
    assert.match(stdout, /^DOWN\s+shop-dev-promtail\s+unhealthy$/m);
    assert.match(stdout, /^up\s+shop-dev-kong-bootstrap\s+exited 0$/m);
    assert.match(stdout, /^DOWN\s+shop-dev-gone\s+missing$/m);
    assert.match(stdout, /4 of 7 down/);
    const allUp = await run(
      { healthChecks: [{ name: "orders", url: `${healthy.url}/health` }], containers: containers.slice(0, 1) },
      docker,
    );
    assert.equal(allUp.code, 0, allUp.stdout);
    assert.match(allUp.stdout, /all 2 healthy/);
  });

  it("says in one line, with a hint, that Docker is missing or not answering, and probes nothing", async () => {
    const outputs = { healthChecks: [{ name: "orders", url: `${healthy.url}/health` }], containers };
    const missing = await run(outputs);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, "");
    assert.match(missing.stderr, /^health: 'docker' is not installed\n {2}hint: install Docker .*\n$/);
    const stopped = await run(outputs, fakeDocker([], DAEMON_DOWN));
    assert.equal(stopped.code, 2);
    assert.match(
      stopped.stderr,
      /^health: docker cannot inspect the stack's containers: Cannot connect to the Docker daemon.*\n {2}hint: start Docker/,
    );
  });

  it("lists how to check each prod service inside the cluster, from the services output", () => {
    assert.deepEqual(
      internalChecks({
        orders: {
          publicUrls: [],
          internalUrl: "http://orders.shop.svc.cluster.local:8000",
          healthCheck: "kubectl -n shop ...",
        },
        web: {
          url: "http://127.0.0.1:8080",
          internalUrl: "http://web:8080",
          healthUrl: "http://127.0.0.1:8080/health",
        },
      }),
      ["  orders: kubectl -n shop ..."],
    );
    assert.deepEqual(internalChecks(undefined), []);
  });
});
