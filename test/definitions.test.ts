import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { builtinCatalogPath, loadCatalog } from "../services/load";
import { planTopology } from "../components/messaging/topology";
import { rabbitPasswordHash, renderDefinitions } from "../components/messaging/definitions";

function rabbitmqctl(args: string[], input?: string): string {
  return execFileSync("rabbitmqctl", ["-q", ...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"], timeout: 60000 }).trim();
}

/** Definition import finishes in the background: wait until the last queue exists. */
async function waitForQueues(vhost: string, count: number): Promise<void> {
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    try {
      if (rabbitmqctl(["list_queues", "-p", vhost, "name", "--no-table-headers"]).split("\n").filter(Boolean).length >= count) return;
    } catch { /* vhost not there yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the import did not declare ${count} queues in ${vhost} within 30 s`);
}

function brokerReachable(): boolean {
  try {
    rabbitmqctl(["status"]);
    return true;
  } catch {
    return false;
  }
}

describe("RabbitMQ definitions", () => {
  it("hashes passwords the way RabbitMQ's sha256 scheme checks them", () => {
    const hash = Buffer.from(rabbitPasswordHash("orders", "s3cret"), "base64");
    const [salt, digest] = [hash.subarray(0, 4), hash.subarray(4)];
    assert.equal(digest.toString("hex"), createHash("sha256").update(Buffer.concat([salt, Buffer.from("s3cret")])).digest("hex"));
    assert.equal(rabbitPasswordHash("orders", "s3cret"), rabbitPasswordHash("orders", "s3cret"), "stable across renders");
    assert.notEqual(rabbitPasswordHash("orders", "s3cret"), rabbitPasswordHash("billing", "s3cret"));
  });

  it("carries the whole plan: every queue with its arguments, every binding and user", () => {
    const plan = planTopology(loadCatalog(builtinCatalogPath("erp")));
    const passwords = Object.fromEntries(plan.users.map((u) => [u.service, `pw-${u.service}`]));
    const definitions = renderDefinitions(plan, passwords) as any;
    assert.equal(definitions.queues.length, plan.queues.length);
    assert.equal(definitions.bindings.length, plan.bindings.length);
    assert.deepEqual(definitions.users.map((u: any) => u.name), plan.users.map((u) => u.username));
    const notification = definitions.queues.find((q: any) => q.name === "notification-service.queue");
    assert.equal(notification.arguments["x-max-priority"], 10);
    assert.ok(!JSON.stringify(definitions).includes("pw-sales-service"), "passwords appear only hashed");
    assert.throws(() => renderDefinitions(plan, {}), /no broker password/);
  });

  describe("imported into a real RabbitMQ", function () {
    this.timeout(120000);
    const catalog = loadCatalog(builtinCatalogPath("user-enrichment"));
    // A vhost and users of this run only, on the machine's broker.
    const plan = planTopology({ ...catalog, name: `defcheck-${process.pid}` });
    plan.users.forEach((user) => { user.username = `${user.username}-${process.pid}`; });
    const passwords = Object.fromEntries(plan.users.map((u) => [u.service, `pw-${u.service}-${process.pid}`]));

    before(async function () {
      if (!brokerReachable()) {
        console.log("    (skipped: no local RabbitMQ reachable with rabbitmqctl; .ci/run starts the machine's broker)");
        this.skip();
      }
      // Through stdin: the CLI may run as the broker's user, who cannot read our temp files.
      rabbitmqctl(["import_definitions"], JSON.stringify(renderDefinitions(plan, passwords)));
      await waitForQueues(plan.vhost, plan.queues.length);
    });

    after(function () {
      if (!brokerReachable()) return;
      const ignoreMissing = (args: string[]) => { try { rabbitmqctl(args); } catch { /* already gone */ } };
      ignoreMissing(["delete_vhost", plan.vhost]);
      for (const user of plan.users) ignoreMissing(["delete_user", user.username]);
    });

    it("declares every queue with its arguments and every binding", () => {
      const queues = rabbitmqctl(["list_queues", "-p", plan.vhost, "name", "arguments", "--no-table-headers"]).split("\n");
      assert.equal(queues.length, plan.queues.length);
      const retry = queues.find((line) => line.startsWith("enrichment-service.users.retry.2\t"))!;
      assert.match(retry, /x-message-ttl.*2000/);
      const bindings = rabbitmqctl(["list_bindings", "-p", plan.vhost, "source_name", "destination_name", "routing_key", "--no-table-headers"]).split("\n");
      for (const binding of plan.bindings) {
        assert.ok(bindings.includes(`${binding.source}\t${binding.destination}\t${binding.routingKey}`), JSON.stringify(binding));
      }
    });

    it("lets each service log in with its password, and nobody with another's", () => {
      for (const user of plan.users) {
        rabbitmqctl(["authenticate_user", user.username, passwords[user.service]]);
        assert.throws(() => rabbitmqctl(["authenticate_user", user.username, "wrong-password"]));
      }
      const permissions = rabbitmqctl(["list_permissions", "-p", plan.vhost, "--no-table-headers"]).split("\n");
      const enrichment = plan.users.find((u) => u.service === "enrichment-service")!;
      assert.ok(permissions.includes(`${enrichment.username}\t${enrichment.permissions.configure}\t${enrichment.permissions.write}\t${enrichment.permissions.read}`), permissions.join("\n"));
    });
  });
});
