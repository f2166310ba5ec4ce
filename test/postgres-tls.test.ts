// The prod DATABASE_URL's TLS query (RDS_POSTGRES_TLS) against a real PostgreSQL that serves a
// certificate from a CA of the test's own, standing in for RDS and Amazon's CA bundle: libpq and
// node-postgres (the reference service's client, which reads the URL the same way) connect only
// with the right bundle and the right host name.
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { RDS_CA_PATH, RDS_POSTGRES_TLS } from "../components/aws/rdsTrust";
import { connectionUrl } from "../components/data/databasePlan";
import { hasBinary } from "./helpers/servers";
import { PostgresCluster, canRunPostgresCluster, nodePostgres, startPostgresCluster } from "./helpers/postgres";

/** A CA and a certificate it signs for `localhost`; the keys stay in `dir`. */
function issueCertificates(dir: string, name: string): { ca: string; cert: string; key: string } {
  const file = (f: string) => path.join(dir, `${name}-${f}`);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore" });
  openssl(
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${name} test CA`],
    ...["-keyout", file("ca.key"), "-out", file("ca.pem")],
  );
  openssl(
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
    ...["-keyout", file("server.key"), "-out", file("server.csr")],
  );
  fs.writeFileSync(file("san.ext"), "subjectAltName=DNS:localhost\n");
  openssl(
    ...["x509", "-req", "-in", file("server.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key")],
    ...["-CAcreateserial", "-days", "1", "-extfile", file("san.ext"), "-out", file("server.pem")],
  );
  return { ca: file("ca.pem"), cert: file("server.pem"), key: file("server.key") };
}

describe("the prod PostgreSQL URL's TLS on a real server (libpq, node-postgres)", function () {
  this.timeout(60000);
  let cluster: PostgresCluster;
  let trusted: string;
  let stranger: string;

  before(async function () {
    if (!canRunPostgresCluster() || !hasBinary("openssl")) {
      console.log(
        "    (skipped: PostgreSQL server binaries, psql, openssl or runuser missing; .ci/run installs postgresql)",
      );
      this.skip();
    }
    cluster = await startPostgresCluster({
      hostAuth: "trust",
      prepare: (dir) => {
        const server = issueCertificates(dir, "rds");
        trusted = server.ca;
        stranger = issueCertificates(dir, "stranger").ca;
        fs.chmodSync(server.key, 0o600);
        return { ssl: "on", ssl_cert_file: server.cert, ssl_key_file: server.key };
      },
    });
  });

  after(() => cluster?.stop());

  /** The service's URL with the bundle at `ca`, for the server named `host`. */
  const urlFor = (host: string, ca: string) =>
    connectionUrl("postgresql", "postgres", "unused", host, cluster.port, "postgres", RDS_POSTGRES_TLS).replace(
      RDS_CA_PATH,
      ca,
    );

  /** What psql says for that URL. */
  const connect = (host: string, ca: string): string => {
    const url = urlFor(host, ca);
    try {
      return execFileSync("psql", [url, "-tAc", "select ssl from pg_stat_ssl where pid = pg_backend_pid()"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      }).trim();
    } catch (e) {
      return String((e as { stderr?: string }).stderr ?? e);
    }
  };

  it("connects over TLS with the bundle that signed the server's certificate, by the certificate's host name", () => {
    assert.equal(connect("localhost", trusted), "t");
  });

  it("refuses a server whose certificate another CA signed (verify-full checks the chain)", () => {
    assert.match(connect("localhost", stranger), /certificate verify failed/);
  });

  it("refuses a host name the certificate does not name (verify-full checks the name)", () => {
    assert.match(connect("127.0.0.1", trusted), /does not match host name|server certificate for/);
  });

  it("node-postgres reads the same URL the same way: TLS with that bundle, and refuses another CA or host name", async function () {
    const pg = nodePostgres();
    if (!pg) {
      console.log("      (skipped: reference-service's dependencies not installed; .ci/run installs them)");
      return this.skip();
    }
    const query = async (host: string, ca: string) => {
      const client = new pg.Client({ connectionString: urlFor(host, ca), connectionTimeoutMillis: 5000 });
      try {
        await client.connect();
        return (await client.query("select ssl from pg_stat_ssl where pid = pg_backend_pid()")).rows[0].ssl;
      } catch (e) {
        return String((e as Error).message);
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    assert.equal(await query("localhost", trusted), true);
    assert.match(
      String(await query("localhost", stranger)),
      /self-signed certificate in certificate chain|unable to verify/,
    );
    assert.match(
      String(await query("127.0.0.1", trusted)),
      /Hostname\/IP does not match|IP: 127\.0\.0\.1 is not in the cert/,
    );
  });
});
