import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readPlatformConfig } from "../stacks/config";
import { ValidationError } from "../services/problems";

const projectDir = path.join(__dirname, "..");

function read(values: Record<string, unknown>, stack = "dev") {
  const config = Object.fromEntries(Object.entries(values).map(([k, v]) => [`platform:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
  return readPlatformConfig((key) => config[key], stack, projectDir);
}

function problemsOf(values: Record<string, unknown>): string[] {
  try {
    read(values);
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail("expected a ValidationError");
}

describe("stack config", () => {
  it("selects a built-in catalog and fills defaults", () => {
    const { config, warnings } = read({ target: "docker", catalog: "bookings" });
    assert.equal(config.catalog.name, "bookings");
    assert.equal(config.environment, "dev");
    assert.equal(config.docker.namePrefix, "bookings-dev");
    assert.equal(config.docker.hostPorts.databaseBase, 15432);
    assert.equal(config.docker.hostPorts.amqp, undefined);
    assert.equal(config.docker.images.kong, "kong:3.9.1");
    assert.equal(config.cache.mode, "sentinel");
    assert.equal(config.gateway.database, "postgres");
    assert.equal(config.observability.logs, "loki");
    assert.deepEqual(warnings, []);
  });

  it("loads a user's catalog file relative to the project", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "catalog-"));
    const file = path.join(dir, "mine.yaml");
    fs.writeFileSync(file, [
      "name: mine",
      "services:",
      "  - { name: api, image: me/api:2.1.0, port: 9000, resources: { cpu: 100m, memory: 64Mi }, build: { context: ./api } }",
    ].join("\n"));
    const { config } = read({ target: "docker", catalogFile: path.relative(projectDir, file) });
    assert.equal(config.catalog.services[0].name, "api");
    assert.equal(config.catalog.services[0].build!.context, path.join(dir, "api"));
  });

  it("names the missing or unknown keys, all in one error", () => {
    const problems = problemsOf({ catalog: "nope", docker: { hostPorts: { databaseBase: 80 }, colour: "red" }, cache: { mode: "cluster" } });
    const has = (re: RegExp) => assert.ok(problems.some((p) => re.test(p)), `${re} not in\n${problems.join("\n")}`);
    has(/^platform:target: must be 'docker'/);
    has(/^platform:catalog: must be one of bookings, erp, finance, reservei, user-enrichment/);
    has(/^platform:docker.hostPorts.databaseBase: /);
    has(/^platform:docker: .*colour/);
    has(/^platform:cache.mode: /);
  });

  it("requires exactly one of catalog and catalogFile", () => {
    assert.ok(problemsOf({ target: "docker" }).some((p) => /exactly one of platform:catalog/.test(p)));
    assert.ok(problemsOf({ target: "docker", catalog: "erp", catalogFile: "x.yaml" }).some((p) => /exactly one of platform:catalog/.test(p)));
  });

  it("reports an unreadable catalog file by its config key", () => {
    const problems = problemsOf({ target: "docker", catalogFile: "does/not/exist.yaml" });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^platform:catalogFile \(does\/not\/exist.yaml\): cannot read catalog file .*ENOENT/);
  });

  it("checks image overrides, secrets and ports against the catalog", () => {
    const problems = problemsOf({
      target: "docker",
      catalog: "finance",
      images: { "ghost-service": "x/y:1", "auth-service": "auth:latest-ish" },
      serviceSecrets: { "ai-service": { OPENAI_KEY: "typo" } },
      docker: { hostPorts: { rabbitmqManagement: 8002 } },
    });
    const has = (re: RegExp) => assert.ok(problems.some((p) => re.test(p)), `${re} not in\n${problems.join("\n")}`);
    has(/^platform:images.ghost-service: unknown service 'ghost-service'/);
    has(/^platform:serviceSecrets.ai-service.OPENAI_KEY: service 'ai-service' declares no config secret/);
    has(/^platform:serviceSecrets.ai-service.OPENAI_API_KEY: missing: run pulumi config set --secret --path/);
    has(/^platform:docker.hostPorts.rabbitmqManagement: host port 8002 \(RabbitMQ management\) clashes with service transaction-service/);
  });

  it("rejects an implicit latest tag in an image override", () => {
    const problems = problemsOf({ target: "docker", catalog: "erp", images: { "auth-service": "erp/auth" } });
    assert.deepEqual(problems, ["platform:images.auth-service: must be an image with an explicit tag or digest"]);
  });

  it("catches database ports that run into a service port", () => {
    const problems = problemsOf({ target: "docker", catalog: "bookings", docker: { hostPorts: { databaseBase: 8000 } } });
    assert.ok(problems.some((p) => /host port 8001 \(service booking-service\)|host port 8001 \(database of .*\) clashes with service booking-service/.test(p)), problems.join("\n"));
  });

  it("accepts the config secrets a catalog declares", () => {
    const { config } = read({
      target: "docker", catalog: "reservei",
      serviceSecrets: { "notification-service": { SMTP_PASSWORD: "s" }, "ai-service": { OPENAI_API_KEY: "k" } },
    });
    assert.equal(config.serviceSecrets["ai-service"].OPENAI_API_KEY, "k");
  });
});
