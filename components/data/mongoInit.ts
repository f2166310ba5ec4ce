import { NAME_LIMITS, fitName } from "../naming";

/** The login's password: a value written into the script, or an environment variable mongosh reads at run time. */
export type MongoPassword = { value: string } | { env: string };

/**
 * mongosh script that gives a service its login with readWrite on its own database only, or
 * updates the login when it exists (a re-run changes the password, not the outcome). The login is
 * kept in `userDatabase`: the service's database on MongoDB, `admin` on DocumentDB (which keeps
 * every user there). JSON.stringify quotes every value.
 */
export function renderMongoUserScript(
  database: string,
  username: string,
  password: MongoPassword,
  userDatabase = database,
): string {
  const pwd = "value" in password ? JSON.stringify(password.value) : `process.env[${JSON.stringify(password.env)}]`;
  return [
    `const users = db.getSiblingDB(${JSON.stringify(userDatabase)});`,
    `const login = { pwd: ${pwd}, roles: [{ role: "readWrite", db: ${JSON.stringify(database)} }] };`,
    `if (users.getUser(${JSON.stringify(username)})) users.updateUser(${JSON.stringify(username)}, login);`,
    `else users.createUser({ user: ${JSON.stringify(username)}, pwd: login.pwd, roles: login.roles });`,
    "",
  ].join("\n");
}

export const REPLICA_SET_NAME = "rs0";
/** Where the uploaded keyfile lands, and where mongod reads its copy (mongod requires owner-only mode). */
export const KEYFILE_UPLOAD = "/etc/mongo/keyfile.upload";
const KEYFILE = "/etc/mongo/keyfile";

/** Hostnames of a replica set's three members; the first holds the loopback port and the initial data. */
export function replicaSetMembers(host: string): string[] {
  return [host, ...[2, 3].map((n) => fitName(`${host}-${n}`, NAME_LIMITS.dnsLabel))];
}

/** mongod's arguments in every member: the replica set and internal authentication by keyfile (clients must log in). */
export function mongodReplicaSetArgs(keyfile: string): string[] {
  return ["--replSet", REPLICA_SET_NAME, "--keyFile", keyfile, "--bind_ip_all", "--wiredTigerCacheSizeGB", "0.25"];
}

/**
 * A dev member's command: copy the keyfile with the ownership and mode mongod demands (uploads
 * arrive root-owned, world-readable), then the image's entrypoint, which leaves out --replSet
 * while it creates the first member's users on first start.
 */
export function mongodReplicaSetCommand(): string[] {
  return [
    "bash",
    "-c",
    `install -m 400 -o mongodb -g mongodb ${KEYFILE_UPLOAD} ${KEYFILE} && exec docker-entrypoint.sh mongod ${mongodReplicaSetArgs(KEYFILE).join(" ")}`,
  ];
}

/**
 * mongosh script, run once every member is up, that initiates the replica set unless it already
 * is (re-runs after a member is replaced do nothing). The first member gets the highest priority
 * so the primary stays behind the published port.
 */
export function renderReplicaSetInit(members: string[], port: number): string {
  const config = {
    _id: REPLICA_SET_NAME,
    members: members.map((host, i) => ({ _id: i, host: `${host}:${port}`, priority: i === 0 ? 2 : 1 })),
  };
  return [
    "try {",
    "  rs.status();",
    `  print("replica set ${REPLICA_SET_NAME} already initiated");`,
    "} catch (error) {",
    '  if (error.codeName !== "NotYetInitialized") throw error;',
    `  rs.initiate(${JSON.stringify(config)});`,
    `  print("replica set ${REPLICA_SET_NAME} initiated");`,
    "}",
    "",
  ].join("\n");
}
