import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { checkAll, internalChecks, renderTable } from "../tools/health";
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

  const run = (outputs: unknown): Promise<{ code: number; stdout: string }> => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "health-")), "outputs.json");
    fs.writeFileSync(file, JSON.stringify(outputs));
    return new Promise((resolve) =>
      execFile(
        process.execPath,
        ["--require", "tsx/cjs", "tools/health.ts", "dev", "--outputs", file, "--timeout", "2000"],
        { cwd: path.join(__dirname, "..") },
        (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
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
