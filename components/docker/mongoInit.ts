/**
 * mongosh script the mongo image runs once on first start (docker-entrypoint-initdb.d):
 * the service's login with readWrite on its own database only. JSON.stringify quotes every value.
 */
export function renderMongoUserScript(database: string, username: string, password: string): string {
  return [
    `const target = db.getSiblingDB(${JSON.stringify(database)});`,
    `target.createUser({ user: ${JSON.stringify(username)}, pwd: ${JSON.stringify(password)}, roles: [{ role: "readWrite", db: ${JSON.stringify(database)} }] });`,
    "",
  ].join("\n");
}

export const REPLICA_SET_NAME = "rs0";
/** Where the uploaded keyfile lands, and where mongod reads its copy (mongod requires owner-only mode). */
export const KEYFILE_UPLOAD = "/etc/mongo/keyfile.upload";
const KEYFILE = "/etc/mongo/keyfile";

/** Hostnames of a replica set's three members; the first holds the loopback port and the initial data. */
export function replicaSetMembers(host: string): string[] {
  return [host, `${host}-2`, `${host}-3`];
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
  return ["bash", "-c", `install -m 400 -o mongodb -g mongodb ${KEYFILE_UPLOAD} ${KEYFILE} && exec docker-entrypoint.sh mongod ${mongodReplicaSetArgs(KEYFILE).join(" ")}`];
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
