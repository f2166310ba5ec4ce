import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freePort, hasBinary } from "./helpers/servers";
import {
  CLICKHOUSE_CONSOLE_LOGGING,
  CLICKHOUSE_SERVER_FILES,
  renderClickHouseLogin,
} from "../components/kubernetes/clickhouseServerFiles";

/*
 * The files the in-cluster ClickHouse reads (users.d, config.d), merged by the machine's real
 * clickhouse-server over its package's config.xml and users.xml. That is Debian's 18.16: far older
 * than the 24.8 image, but the same merge (a `remove` attribute drops an element; `<clickhouse>`
 * and `<yandex>` roots are one), the same password_sha256_hex, and the same logger settings, so it
 * proves the files do what InClusterDatabase counts on: only the service's login, with the password
 * the service is given, and logs on the console with no log file written.
 */

const PACKAGE_CONFIG = "/etc/clickhouse-server";
const USERNAME = "events_app";
const PASSWORD = "s3cretPassw0rdFromRandom";

describe("ClickHouse server files (the machine's clickhouse-server)", function () {
  this.timeout(60_000);
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  let output = "";

  const query = async (sql: string, user?: string, password?: string): Promise<{ status: number; body: string }> => {
    const credentials: Record<string, string> = user
      ? { "X-ClickHouse-User": user, "X-ClickHouse-Key": password ?? "" }
      : {};
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: sql, headers: credentials });
    return { status: response.status, body: (await response.text()).trim() };
  };

  before(async function () {
    if (!hasBinary("clickhouse-server") || !fs.existsSync(`${PACKAGE_CONFIG}/config.xml`)) {
      console.log("    (skipped: clickhouse-server not installed; .ci/run installs it)");
      this.skip();
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "clickhouse-"));
    port = await freePort();
    // The package's own files, with its data and log directories moved into the test's directory.
    const config = fs
      .readFileSync(`${PACKAGE_CONFIG}/config.xml`, "utf8")
      .replaceAll("/var/lib/clickhouse/", `${dir}/data/`)
      .replaceAll("/var/log/clickhouse-server/", `${dir}/log/`);
    for (const sub of ["conf/config.d", "conf/users.d", "data", "log"])
      fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.writeFileSync(path.join(dir, "conf/config.xml"), config);
    fs.copyFileSync(`${PACKAGE_CONFIG}/users.xml`, path.join(dir, "conf/users.xml"));
    const ports = [`<http_port>${port}</http_port>`, `<tcp_port>${await freePort()}</tcp_port>`];
    ports.push(`<interserver_http_port>${await freePort()}</interserver_http_port>`);
    fs.writeFileSync(path.join(dir, "conf/config.d/ports.xml"), `<yandex>${ports.join("")}</yandex>\n`);
    // Where the pod mounts them, relative to the configuration directory.
    const files = {
      [CLICKHOUSE_SERVER_FILES.logging.mountPath]: CLICKHOUSE_CONSOLE_LOGGING,
      [CLICKHOUSE_SERVER_FILES.login.mountPath]: renderClickHouseLogin(USERNAME, PASSWORD),
    };
    for (const [mountPath, text] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, "conf", path.relative(PACKAGE_CONFIG, mountPath)), text);
    }

    server = spawn("clickhouse-server", [`--config-file=${dir}/conf/config.xml`], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout!.on("data", (d) => (output += d));
    server.stderr!.on("data", (d) => (output += d));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`clickhouse-server exited: ${output}`);
      const ready = await fetch(`http://127.0.0.1:${port}/ping`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`clickhouse-server did not answer: ${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(() => {
    server?.kill("SIGKILL");
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("admits the service's login with its password, and creates its database as the entrypoint does", async () => {
    assert.deepEqual(await query("SELECT 1", USERNAME, PASSWORD), { status: 200, body: "1" });
    assert.equal((await query("CREATE DATABASE IF NOT EXISTS events", USERNAME, PASSWORD)).status, 200);
    assert.equal(
      (await query("SELECT count() FROM system.databases WHERE name = 'events'", USERNAME, PASSWORD)).body,
      "1",
    );
  });

  it("refuses a wrong password and the default user, which the file removes", async () => {
    const wrong = await query("SELECT 1", USERNAME, "not-the-password");
    assert.notEqual(wrong.status, 200);
    assert.match(wrong.body, /password/i);
    const fallback = await query("SELECT 1");
    assert.notEqual(fallback.status, 200);
    assert.match(fallback.body, /\bdefault\b/, "the default user is gone");
  });

  it("logs on the console and writes no log file", async () => {
    await query("SELECT 1", USERNAME, "not-the-password");
    await new Promise((r) => setTimeout(r, 500));
    assert.match(output, /Logging \w+ to console/);
    assert.match(output, /Wrong password for user events_app/);
    assert.deepEqual(fs.readdirSync(path.join(dir, "log")), []);
  });
});
