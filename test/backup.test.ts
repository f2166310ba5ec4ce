import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { databaseTargets } from "../tools/backup";
import { hasBinary } from "./helpers/servers";

const PORT = process.env.PGPORT ?? "5432";
const psql = (user: string, database: string, sql: string): string =>
  execFileSync(
    "psql",
    ["-h", "127.0.0.1", "-p", PORT, "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-qtA", "-c", sql],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  ).trim();

function serverReachable(): boolean {
  try {
    return hasBinary("pg_dump") && psql("postgres", "postgres", "select 1") === "1";
  } catch {
    return false;
  }
}

describe("dev backup and restore (tools/backup.ts)", () => {
  it("takes the PostgreSQL databases from connectionStrings and says why the others are left out", () => {
    const { targets, skipped } = databaseTargets({
      orders: { database: "postgresql://orders_app:p%40ss@127.0.0.1:15432/orders?sslmode=disable" },
      notes: { database: "mongodb://notes_app:x@127.0.0.1:15433/notes?authSource=notes" },
      gateway: {},
    });
    assert.deepEqual(targets, [
      {
        service: "orders",
        host: "127.0.0.1",
        port: "15432",
        database: "orders",
        username: "orders_app",
        password: "p@ss",
      },
    ]);
    assert.deepEqual(Object.keys(skipped), ["notes"]);
    assert.match(skipped.notes, /mongodb is not PostgreSQL/);
  });

  describe("against a real PostgreSQL server through its loopback port", function () {
    const suffix = `${process.pid}`;
    const services = ["orders", "invoices"].map((name) => ({
      name,
      database: `bk_${name}_${suffix}`,
      username: `bk_${name}_${suffix}_app`,
    }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "backup-"));
    const outputs = path.join(dir, "outputs.json");
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ["--require", "tsx/cjs", "tools/backup.ts", ...args, "--outputs", outputs], {
        cwd: path.join(__dirname, ".."),
        encoding: "utf8",
      });

    before(function () {
      if (!serverReachable()) {
        console.log("    (skipped: no pg_dump or no PostgreSQL on 127.0.0.1; .ci/run installs and starts them)");
        this.skip();
      }
      const connectionStrings: Record<string, { database?: string }> = {
        notes: { database: "mongodb://n:x@127.0.0.1:27017/notes" },
      };
      for (const s of services) {
        psql("postgres", "postgres", `CREATE ROLE ${s.username} LOGIN PASSWORD 'secret-${suffix}'`);
        psql("postgres", "postgres", `CREATE DATABASE ${s.database} OWNER ${s.username}`);
        psql(
          s.username,
          s.database,
          `CREATE TABLE items (id int PRIMARY KEY, label text); INSERT INTO items VALUES (1, '${s.name} one'), (2, '${s.name} two')`,
        );
        connectionStrings[s.name] = {
          database: `postgresql://${s.username}:secret-${suffix}@127.0.0.1:${PORT}/${s.database}?sslmode=disable`,
        };
      }
      fs.writeFileSync(outputs, JSON.stringify({ connectionStrings }));
    });
    after(function () {
      if (!serverReachable()) return;
      for (const s of services) {
        psql("postgres", "postgres", `DROP DATABASE IF EXISTS ${s.database}`);
        psql("postgres", "postgres", `DROP ROLE IF EXISTS ${s.username}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("dumps every service database, then restores each one's content after it was changed", () => {
      const dumped = cli("backup", "dev", "--dir", path.join(dir, "backups"));
      assert.equal(dumped.status, 0, dumped.stderr);
      assert.match(dumped.stdout, /skipped notes: mongodb is not PostgreSQL/);
      const [folder] = fs.readdirSync(path.join(dir, "backups")).map((f) => path.join(dir, "backups", f));
      const manifest = JSON.parse(fs.readFileSync(path.join(folder, "manifest.json"), "utf8"));
      assert.deepEqual(manifest.dumps, { orders: "orders.dump", invoices: "invoices.dump" });
      assert.equal(fs.statSync(folder).mode & 0o777, 0o700, "dumps hold the data: the folder is the owner's only");

      const [orders, invoices] = services;
      psql(orders.username, orders.database, "DROP TABLE items");
      psql(
        invoices.username,
        invoices.database,
        "INSERT INTO items VALUES (3, 'added later'); UPDATE items SET label = 'changed' WHERE id = 1",
      );

      const restored = cli("restore", "dev", folder);
      assert.equal(restored.status, 0, restored.stderr);
      assert.match(restored.stdout, /2 database\(s\) restored/);
      for (const s of services)
        assert.equal(
          psql(s.username, s.database, "SELECT string_agg(label, ',' ORDER BY id) FROM items"),
          `${s.name} one,${s.name} two`,
        );
    });

    it("refuses a backup whose services the stack does not have, before touching any database", () => {
      const foreign = path.join(dir, "foreign");
      fs.mkdirSync(foreign);
      fs.writeFileSync(
        path.join(foreign, "manifest.json"),
        JSON.stringify({ stack: "other", createdAt: "", dumps: { payments: "payments.dump" }, skipped: {} }),
      );
      const refused = cli("restore", "dev", foreign);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /stack 'dev' has no PostgreSQL database for payments/);
    });
  });
});
