import { strict as assert } from "assert";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import {
  RECEIVERS,
  RECEIVER_SECRET_FILES,
  ReceiverSettings,
  renderAlertmanagerConfig,
} from "../components/observability/alertmanagerConfig";
import { freePort, hasBinary, until } from "./helpers/servers";

/** Every receiver kind, as the stack config sets them (the secrets' values go to files). */
const ALL: ReceiverSettings = {
  slack: { channel: "#alerts" },
  email: {
    to: ["oncall@example.com"],
    from: "alerts@example.com",
    smarthost: "smtp.example.com:587",
    authUsername: "alerts",
    authPassword: true,
  },
  pagerduty: true,
};

/** Debian names the server prometheus-alertmanager; upstream's release, alertmanager. */
const ALERTMANAGER = ["alertmanager", "prometheus-alertmanager"].find(hasBinary);

describe("Alertmanager config (amtool, and a running alertmanager)", function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    if (!hasBinary("amtool")) {
      console.log("    (skipped: amtool not installed; .ci/run installs Debian's prometheus-alertmanager package)");
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "alertmanager-"));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, receivers: ReceiverSettings) => {
    fs.writeFileSync(path.join(dir, file), renderAlertmanagerConfig(receivers, path.join(dir, "secrets")));
    return path.join(dir, file);
  };
  const amtool = (...args: string[]) => execFileSync("amtool", args, { encoding: "utf8", stdio: "pipe" }).trim();

  it("accepts the config with every receiver and with none (amtool check-config)", () => {
    for (const [file, receivers] of [
      ["all.yml", ALL],
      ["none.yml", {}],
      ["email.yml", { email: { ...ALL.email!, authUsername: undefined, authPassword: false } }],
    ] as const) {
      assert.match(amtool("check-config", write(file, receivers)), /SUCCESS/, file);
    }
  });

  it("routes critical alerts to the pager and chat, warnings to chat, and drops the heartbeat (amtool config routes test)", () => {
    const routes = (file: string, ...labels: string[]) =>
      amtool("config", "routes", "test", `--config.file=${path.join(dir, file)}`, ...labels);
    write("all.yml", ALL);
    write("none.yml", {});
    write("pager.yml", { pagerduty: true });
    assert.equal(routes("all.yml", "alertname=ServiceDown", "severity=critical", "service=orders"), RECEIVERS.critical);
    assert.equal(routes("all.yml", "alertname=HighLatency", "severity=warning", "service=orders"), RECEIVERS.warning);
    assert.equal(routes("all.yml", "alertname=Watchdog", "severity=none"), RECEIVERS.discard);
    assert.equal(routes("all.yml", "alertname=CPUThrottlingHigh", "severity=info"), RECEIVERS.discard);
    const config = parse(fs.readFileSync(path.join(dir, "all.yml"), "utf8"));
    const receiver = (name: string) => config.receivers.find((r: any) => r.name === name);
    assert.deepEqual(Object.keys(receiver(RECEIVERS.critical)).sort(), [
      "email_configs",
      "name",
      "pagerduty_configs",
      "slack_configs",
    ]);
    assert.deepEqual(Object.keys(receiver(RECEIVERS.warning)).sort(), ["email_configs", "name", "slack_configs"]);
    // Without a receiver, alerts stay in Alertmanager's UI; with PagerDuty alone, warnings page at low urgency.
    assert.equal(routes("none.yml", "severity=critical", "service=orders"), RECEIVERS.local);
    const pager = parse(fs.readFileSync(path.join(dir, "pager.yml"), "utf8"));
    assert.deepEqual(Object.keys(pager.receivers.find((r: any) => r.name === RECEIVERS.warning)).sort(), [
      "name",
      "pagerduty_configs",
    ]);
  });

  describe("a running alertmanager", () => {
    let child: ChildProcess | undefined;
    let server: http.Server | undefined;
    const received: Array<{ path: string; body: any }> = [];
    let api: string;
    const ROUTING_KEY = "0123456789abcdef0123456789abcdef";

    before(async function () {
      if (!ALERTMANAGER) {
        console.log(
          "      (skipped: no alertmanager binary; .ci/run installs Debian's prometheus-alertmanager package)",
        );
        this.skip();
      }
      // The receivers' endpoints: a local server standing in for Slack and PagerDuty.
      server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
          received.push({ path: req.url ?? "", body: JSON.parse(body) });
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        });
      });
      const hookPort = await freePort();
      await new Promise<void>((resolve) => server!.listen(hookPort, "127.0.0.1", resolve));
      const secrets = path.join(dir, "secrets");
      fs.mkdirSync(secrets, { recursive: true });
      fs.writeFileSync(path.join(secrets, RECEIVER_SECRET_FILES.slackWebhookUrl), `http://127.0.0.1:${hookPort}/slack`);
      fs.writeFileSync(path.join(secrets, RECEIVER_SECRET_FILES.pagerdutyRoutingKey), ROUTING_KEY);
      const config = parse(renderAlertmanagerConfig({ slack: {}, pagerduty: true }, secrets));
      // Only for the test: PagerDuty's endpoint here, and no 30 s wait before the first notification.
      for (const receiver of config.receivers)
        for (const pagerduty of receiver.pagerduty_configs ?? [])
          pagerduty.url = `http://127.0.0.1:${hookPort}/pagerduty`;
      Object.assign(config.route, { group_wait: "1s", group_interval: "1s" });
      fs.writeFileSync(path.join(dir, "running.yml"), stringify(config));
      const port = await freePort();
      api = `http://127.0.0.1:${port}/api/v2`;
      child = spawn(
        ALERTMANAGER!,
        [
          `--config.file=${path.join(dir, "running.yml")}`,
          `--storage.path=${path.join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--cluster.listen-address=",
        ],
        { stdio: "ignore" },
      );
      await until("alertmanager ready", 20_000, async () =>
        (await fetch(`http://127.0.0.1:${port}/-/ready`)).ok ? true : undefined,
      );
    });
    after(() => {
      child?.kill();
      server?.close();
    });

    it("delivers a firing alert by severity, and a critical alert silences the warnings of its service", async () => {
      const alert = (alertname: string, severity: string, service: string) => ({
        labels: { alertname, severity, service },
        annotations: { summary: `${service}: ${alertname}`, description: "test" },
        startsAt: new Date().toISOString(),
      });
      const posted = await fetch(`${api}/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([
          alert("ServiceDown", "critical", "orders"),
          alert("HighLatency", "warning", "orders"),
          alert("HighLatency", "warning", "mailer"),
        ]),
      });
      assert.equal(posted.status, 200);
      const titles = (receiver: string) =>
        received
          .filter((r) => r.path === `/${receiver}`)
          .map((r) => r.body.attachments?.[0]?.title ?? r.body.payload.summary);
      await until("both notifications", 20_000, () =>
        titles("slack").length >= 2 && titles("pagerduty").length >= 1 ? true : undefined,
      );
      // Give a wrongly routed or uninhibited notification time to arrive too.
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(titles("slack").sort(), ["[FIRING:1] HighLatency (mailer)", "[FIRING:1] ServiceDown (orders)"]);
      assert.deepEqual(titles("pagerduty"), ["[FIRING:1] ServiceDown (orders)"]);
      const page = received.find((r) => r.path === "/pagerduty")!.body;
      assert.deepEqual([page.routing_key, page.payload.severity], [ROUTING_KEY, "critical"], "the key from its file");
      const alerts = (await (await fetch(`${api}/alerts?filter=alertname="HighLatency"`)).json()) as any[];
      const inhibited = alerts.find((a) => a.labels.service === "orders");
      assert.equal(inhibited.status.state, "suppressed");
      assert.equal(inhibited.status.inhibitedBy.length, 1);
    });
  });
});
