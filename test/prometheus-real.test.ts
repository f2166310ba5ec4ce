import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { renderAlertRules } from "../components/observability/alertRules";
import { BUILTIN_CATALOGS } from "../services/load";
import { runProgram } from "../stacks/program";
import { runUnderMocks } from "../tools/mockRun";
import { devConfig } from "./helpers/stackConfigs";

function hasPromtool(): boolean {
  try {
    execFileSync("promtool", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function promtool(args: string[], cwd: string): string {
  try {
    return execFileSync("promtool", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const failure = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(" ")} failed:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`);
  }
}

const series = (name: string, values: string) => ({ series: name, values });

/** Traffic of one service for 20 minutes: `errorsPerMinute` of 100 requests fail, latency in one bucket. */
function traffic(errorsPerMinute: number, latencyBucket: "1" | "2", publishErrorsPerMinute: number, up: 0 | 1) {
  return [
    series('http_requests_total{service="orders",status="200"}', `0+${100 - errorsPerMinute}x20`),
    series('http_requests_total{service="orders",status="500"}', `0+${errorsPerMinute}x20`),
    series('http_request_duration_seconds_bucket{service="orders",le="0.5"}', "0x20"),
    series('http_request_duration_seconds_bucket{service="orders",le="1"}', latencyBucket === "1" ? "0+100x20" : "0x20"),
    series('http_request_duration_seconds_bucket{service="orders",le="2"}', "0+100x20"),
    series('http_request_duration_seconds_bucket{service="orders",le="+Inf"}', "0+100x20"),
    series('rabbitmq_messages_publish_errors_total{service="orders"}', `0+${publishErrorsPerMinute}x20`),
    series('up{job="orders"}', `${up}x20`),
  ];
}

describe("Prometheus config and alert rules with promtool", function () {
  let dir: string;
  before(function () {
    if (!hasPromtool()) {
      console.log("    (skipped: promtool not installed; .ci/run installs Debian's prometheus package)");
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "promtool-"));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  for (const catalog of BUILTIN_CATALOGS) {
    it(`accepts the prometheus.yml and rules the dev program renders for ${catalog}`, async () => {
      const run = await runUnderMocks("dev", devConfig(catalog), () => runProgram(path.join(__dirname, "..")));
      const prometheus = run.resources.find((r) => r.inputs.name === `${catalog}-dev-prometheus`)!;
      const file = (suffix: string) => prometheus.inputs.uploads.find((u: any) => u.file.endsWith(suffix)).content as string;
      const config = parse(file("prometheus.yml"));
      config.rule_files = [path.join(dir, `${catalog}-alerts.yml`)];
      fs.writeFileSync(path.join(dir, `${catalog}-alerts.yml`), file("alerts.yml"));
      fs.writeFileSync(path.join(dir, `${catalog}-prometheus.yml`), stringify(config));
      const output = promtool(["check", "config", `${catalog}-prometheus.yml`], dir);
      assert.match(output, /SUCCESS/);
      assert.match(promtool(["check", "rules", `${catalog}-alerts.yml`], dir), /SUCCESS: \d+ rules found/);
    });
  }

  it("fires each alert when it should and stays quiet otherwise (promtool test rules)", () => {
    fs.writeFileSync(path.join(dir, "alerts.yml"), renderAlertRules(["orders"], { errorRate: 0.05, latencyP95Seconds: 1 }));
    const expect = (alertname: string, labels: Record<string, string>, summary: string, description: string) =>
      ({ eval_time: "15m", alertname, exp_alerts: [{ exp_labels: labels, exp_annotations: { summary, description } }] });
    const quiet = (alertname: string) => ({ eval_time: "15m", alertname, exp_alerts: [] });
    const alerts = ["HighErrorRate", "HighLatency", "RabbitMQPublishErrors", "ServiceDown"];
    fs.writeFileSync(path.join(dir, "alerts.test.yml"), stringify({
      rule_files: ["alerts.yml"],
      evaluation_interval: "1m",
      tests: [
        {
          // 10% errors, p95 of 1.95 s, one publish error a second, target down
          interval: "1m",
          input_series: traffic(10, "2", 60, 0),
          alert_rule_test: [
            expect("HighErrorRate", { severity: "critical", service: "orders" }, "orders: more than 5% of requests fail", "5xx share is 10% over 5 minutes."),
            expect("HighLatency", { severity: "warning", service: "orders" }, "orders: p95 latency above 1s", "p95 latency is 1.95s."),
            expect("RabbitMQPublishErrors", { severity: "critical", service: "orders" }, "orders: publishing to RabbitMQ fails", "1 publish errors per second."),
            expect("ServiceDown", { severity: "critical", service: "orders", job: "orders" }, "orders is down", "Prometheus cannot scrape orders for 1 minute."),
          ],
        },
        {
          // 1% errors (under 5%), p95 under 1 s, no publish errors, target up
          interval: "1m",
          input_series: traffic(1, "1", 0, 1),
          alert_rule_test: alerts.map(quiet),
        },
      ],
    }));
    assert.match(promtool(["test", "rules", "alerts.test.yml"], dir), /SUCCESS/);
  });
});
