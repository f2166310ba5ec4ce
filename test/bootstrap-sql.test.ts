import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { renderBootstrapSql } from "../components/data/bootstrapSql";
import { databaseNames } from "../components/data/databasePlan";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";

const PG = [
  "-h",
  "127.0.0.1",
  "-p",
  process.env.PGPORT ?? "5432",
  "-U",
  process.env.PGUSER ?? "postgres",
  "-v",
  "ON_ERROR_STOP=1",
  "-qtA",
];

function psql(args: string[], input?: string): string {
  return execFileSync("psql", [...PG, ...args], { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] }).trim();
}

function serverReachable(): boolean {
  try {
    return psql(["-d", "postgres", "-c", "select 1"]) === "1";
  } catch {
    return false;
  }
}

/** Skips the suite where no server answers; afterwards drops what it created. */
function onRealServer(suite: Mocha.Suite, created: Array<{ database?: string; username: string }>): void {
  suite.beforeAll(function () {
    if (!serverReachable()) {
      console.log("    (skipped: no PostgreSQL on 127.0.0.1; .ci/run starts the machine's server)");
      this.skip();
    }
  });
  suite.afterAll(function () {
    if (!serverReachable()) return;
    for (const { database, username } of created) {
      if (database) psql(["-d", "postgres", "-c", `DROP DATABASE IF EXISTS ${database}`]);
      psql(["-d", "postgres", "-c", `DROP ROLE IF EXISTS ${username}`]);
    }
  });
}

describe("database bootstrap SQL", () => {
  it("renders an idempotent script with the password as a psql variable", () => {
    const sql = renderBootstrapSql(databaseNames("orders"), ["pgcrypto", "uuid-ossp"]);
    assert.match(sql, /PASSWORD :'password';/);
    assert.match(sql, /WHERE NOT EXISTS \(SELECT FROM pg_roles WHERE rolname = 'orders_app'\)\\gexec/);
    assert.match(sql, /CREATE EXTENSION IF NOT EXISTS "uuid-ossp";/);
    assert.match(sql, /REVOKE ALL ON DATABASE orders FROM PUBLIC;/);
  });

  it("refuses identifiers that would need quoting", () => {
    assert.throws(() => renderBootstrapSql({ database: "orders; drop", username: "x" }, []), /unsafe SQL identifier/);
    assert.throws(() => renderBootstrapSql(databaseNames("orders"), ['pgcrypto"; --']), /unsafe extension name/);
  });

  describe("on a real PostgreSQL server", function () {
    const service = `bootstrap-check-${process.pid}`;
    const names = databaseNames(service);
    const other = `${names.database}_other`;
    onRealServer(this, [names, { username: other }]);

    it("creates the login and database, and a second run changes nothing but the password", () => {
      const sql = renderBootstrapSql(names, ["pgcrypto", "citext"]);
      psql(["-d", "postgres", "-v", "password=first-Pass1"], sql);
      psql(["-d", "postgres", "-v", "password=second-Pass2"], sql);

      const role = psql([
        "-d",
        "postgres",
        "-c",
        `select rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolconnlimit from pg_roles where rolname = '${names.username}'`,
      ]);
      assert.equal(role, "t|f|f|f|f|f|100");
      const owner = psql([
        "-d",
        "postgres",
        "-c",
        `select pg_get_userbyid(datdba) from pg_database where datname = '${names.database}'`,
      ]);
      assert.equal(owner, names.username);
      const extensions = psql([
        "-d",
        names.database,
        "-c",
        "select string_agg(extname, ',' order by extname) from pg_extension where extname in ('pgcrypto','citext')",
      ]);
      assert.equal(extensions, "citext,pgcrypto");
      const password = psql([
        "-d",
        "postgres",
        "-c",
        `select rolpassword is not null from pg_authid where rolname = '${names.username}'`,
      ]);
      assert.equal(password, "t");
    });

    it("leaves other roles without CONNECT on the service's database", () => {
      psql(["-d", "postgres", "-c", `CREATE ROLE ${other} LOGIN`]);
      const can = (role: string) =>
        psql(["-d", "postgres", "-c", `select has_database_privilege('${role}', '${names.database}', 'CONNECT')`]);
      assert.equal(can(other), "f");
      assert.equal(can(names.username), "t");
      // and the owner's login really gets in, while the other is turned away
      assert.equal(psql(["-d", names.database, "-U", names.username, "-c", "select current_user"]), names.username);
      assert.throws(
        () => psql(["-d", names.database, "-U", other, "-c", "select 1"]),
        /permission denied for database/,
      );
    });
  });

  describe("every PostgreSQL service of every catalog, on a real server", function () {
    this.timeout(120000);
    const suffix = `_${process.pid}`;
    const created: Array<{ database: string; username: string }> = [];
    onRealServer(this, created);

    for (const catalogName of BUILTIN_CATALOGS) {
      it(`${catalogName}: each login uses its own database and cannot get into another's`, () => {
        const available = new Set(
          psql(["-d", "postgres", "-c", "select name from pg_available_extensions"]).split("\n"),
        );
        const services = loadCatalog(builtinCatalogPath(catalogName)).services.filter(
          (s) => s.database.kind === "postgres",
        );
        const logins = services.map((service) => {
          const names = databaseNames(`${catalogName}-${service.name}`);
          const scoped = { database: `${names.database}${suffix}`, username: `${names.database}${suffix}_app` };
          created.push(scoped);
          const extensions = service.database.kind === "postgres" ? service.database.extensions : [];
          const missing = extensions.filter((e) => !available.has(e));
          if (missing.length)
            console.log(
              `      ${service.name}: extension(s) ${missing.join(", ")} not installed on this server, left out`,
            );
          psql(
            ["-d", "postgres", "-v", `password=${service.name}-Pass1`],
            renderBootstrapSql(
              scoped,
              extensions.filter((e) => available.has(e)),
            ),
          );
          return scoped;
        });
        for (const login of logins) {
          assert.equal(
            psql([
              "-d",
              login.database,
              "-U",
              login.username,
              "-c",
              "create table t(id int); insert into t values (1); select count(*) from t",
            ]),
            "1",
          );
          for (const other of logins.filter((l) => l !== login)) {
            assert.throws(
              () => psql(["-d", other.database, "-U", login.username, "-c", "select 1"]),
              /permission denied for database/,
              `${login.username} got into ${other.database}`,
            );
          }
        }
        console.log(
          `      ${logins.length} logins, ${logins.length * (logins.length - 1)} foreign connections refused`,
        );
      });
    }
  });
});
