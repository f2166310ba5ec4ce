// The files the in-cluster ClickHouse server reads besides its image's own, as plain text: checked without a program.
import { sha256 } from "./checksum";

/** The official image's configuration directory: config.xml and users.xml, merged with config.d/ and users.d/. */
export const CLICKHOUSE_CONFIG_DIR = "/etc/clickhouse-server";

/** Each file's name, the key of the Secret that holds it and its path in the server's container. */
export const CLICKHOUSE_SERVER_FILES = {
  login: { key: "service-user.xml", mountPath: `${CLICKHOUSE_CONFIG_DIR}/users.d/service-user.xml` },
  logging: { key: "console-logging.xml", mountPath: `${CLICKHOUSE_CONFIG_DIR}/config.d/console-logging.xml` },
} as const;

/**
 * The service's login as the image's entrypoint would write it into users.d (entrypoint.sh,
 * manage_clickhouse_user), but from a read-only file and with the password's SHA-256 only: the
 * default user removed, the service's user reachable from the network, access management off.
 * A user defined in users.d has every privilege but managing others, so it can create its database.
 */
export function renderClickHouseLogin(username: string, password: string): string {
  const hash = sha256(password);
  return [
    "<clickhouse>",
    "  <users>",
    '    <default remove="remove"/>',
    `    <${username}>`,
    "      <profile>default</profile>",
    "      <quota>default</quota>",
    "      <networks><ip>::/0</ip></networks>",
    `      <password_sha256_hex>${hash}</password_sha256_hex>`,
    "      <access_management>0</access_management>",
    `    </${username}>`,
    "  </users>",
    "</clickhouse>",
    "",
  ].join("\n");
}

/**
 * Logs on the console only: the image's config.xml logs to files under /var/log/clickhouse-server
 * (up to ten of 1000M each, and not on stdout without a terminal), which the cluster's log
 * collection never reads and which would need a writable directory. `remove` drops the element
 * from the merged configuration (ConfigProcessor::mergeRecursive), so the entrypoint finds no log
 * directory to create either.
 */
export const CLICKHOUSE_CONSOLE_LOGGING = [
  "<clickhouse>",
  "  <logger>",
  '    <log remove="remove"/>',
  '    <errorlog remove="remove"/>',
  "    <console>1</console>",
  "  </logger>",
  "</clickhouse>",
  "",
].join("\n");
