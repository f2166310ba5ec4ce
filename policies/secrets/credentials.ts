import { parse as parseYaml } from "yaml";

/** Node's global (the pack runs on Node; it installs no @types/node). */
declare function atob(base64: string): string;

/** A Secret's `data` value as text. */
export function fromBase64(value: unknown): string {
  return atob(String(value));
}

/** The seeds' examples of what must never ship. */
export const DEFAULT_CREDENTIALS = new Set([
  "admin",
  "admin123",
  "password",
  "guest",
  "changeme",
  "secret",
  "root",
  "postgres",
  "kong",
  "redis123",
  "123456",
]);

/** Shorter than this, a password is weak whoever chose it (generated ones are longer: defaultCredentials.ts). */
export const MINIMUM_PASSWORD_LENGTH = 12;

/** A word of a name that says the value is a credential (PGPASSWORD and SMTP_PASSWORDS too). */
const CREDENTIAL_WORD = /^(PASS|PWD)$|(PASSWORD|PASSWD|SECRET|TOKEN|APIKEY|CREDENTIAL)S?$/;
/** Words before KEY that make it a credential: API_KEY, PRIVATE_KEY, AWS_SECRET_ACCESS_KEY, ... */
const KEY_QUALIFIERS = new Set(["API", "PRIVATE", "ACCESS", "SECRET", "AUTH", "SIGNING", "ENCRYPTION", "MASTER"]);
/**
 * Words after the credential word that make the name a setting about a credential, not the
 * credential: TOKEN_TTL_SECONDS, PASSWORD_MIN_LENGTH, AWS_SECRET_NAME, JWT_SECRET_FILE, secretName.
 */
const SETTING_WORDS = new Set([
  ...["TTL", "SECONDS", "SECS", "MINUTES", "HOURS", "DAYS", "MS", "EXPIRY", "EXPIRES", "EXPIRATION", "LIFETIME"],
  ...["LENGTH", "LEN", "MIN", "MAX", "COUNT", "NAME", "ARN", "ID", "PATH", "FILE", "DIR", "REF", "KEY"],
  ...["HEADER", "TYPE", "ALGORITHM", "ALG", "ISSUER", "AUDIENCE", "ENABLED", "POLICY", "ROTATION", "VERSION"],
]);

/** A name's words, upper-cased: `adminPassword`, `admin-password` and `ADMIN_PASSWORD` all give ADMIN, PASSWORD. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.toUpperCase());
}

/**
 * The word that makes a name a credential's, case-insensitively (PASSWORD for `admin-password`), or
 * undefined: no such word, a setting about a credential (TOKEN_TTL_SECONDS), or a reference to one
 * (existingSecret).
 */
function credentialWord(name: string): string | undefined {
  const parts = words(name);
  if (parts.includes("EXISTING")) return undefined;
  const at = parts.reduce(
    (last, word, i) =>
      CREDENTIAL_WORD.test(word) || (word === "KEY" && KEY_QUALIFIERS.has(parts[i - 1] ?? "")) ? i : last,
    -1,
  );
  return at >= 0 && !parts.slice(at + 1).some((word) => SETTING_WORDS.has(word)) ? parts[at] : undefined;
}

export function namesCredential(name: string): boolean {
  return credentialWord(name) !== undefined;
}

/** A password proper, which must be long enough (a token or key is as long as its issuer made it). */
export function namesPassword(name: string): boolean {
  return /^(PASS|PWD)$|(PASSWORD|PASSWD)S?$/.test(credentialWord(name) ?? "");
}

/** A name for a login, which must not be a well-known one such as guest. */
export function namesUser(name: string): boolean {
  return /^(USER|USERNAME|LOGIN)$/.test(words(name).pop() ?? "");
}

/** A number, a duration, a flag or nothing: no credential, whatever the name says. */
function isTrivial(value: string): boolean {
  return value.trim() === "" || /^(true|false|yes|no|on|off|-?\d+(\.\d+)?[a-z]{0,2})$/i.test(value.trim());
}

/**
 * A reference the program that reads the file resolves from its environment or a file, not the
 * value: `$VAR`, `${VAR}` (Grafana's provisioning, Logstash, Kong), `$__env{VAR}`, `$__file{/path}`.
 */
function isReference(value: string): boolean {
  return /^\$([A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_.]*\}|__(env|file)\{[^}]+\})$/.test(value.trim());
}

/** A URL carrying a password (`scheme://user:password@host`). */
function hasUrlPassword(value: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^\s/@:]*:[^\s/@]+@/i.test(value);
}

function hasPrivateKey(value: string): boolean {
  return /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value);
}

/** Why a named value is a credential, or undefined: a Pulumi secret, a URL with a password, a private key, or a credential's name on a real value. */
export function credentialReason(name: string, value: unknown, secret: boolean): string | undefined {
  if (secret) return "a Pulumi secret";
  if (typeof value !== "string") return undefined;
  if (hasUrlPassword(value)) return "a URL with a password";
  if (hasPrivateKey(value)) return "a private key";
  if (namesCredential(name) && !isTrivial(value) && !isReference(value)) return "a credential";
  return undefined;
}

/** String leaves of a structure with their key paths. */
export function leaves(value: unknown, path: Array<string | number> = []): Array<[Array<string | number>, string]> {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => leaves(v, [...path, i]));
  if (value && typeof value === "object")
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, [...path, k]));
  return [];
}

/**
 * Credentials in a structured document (a YAML or JSON config file): leaves under a key that names
 * a credential (`jwt_secrets[0].key`, `smtp.password`) unless their own key names a setting.
 */
export function credentialsInDocument(text: string): string[] {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch {
    return [];
  }
  if (!document || typeof document !== "object") return [];
  return leaves(document)
    .filter(([path, value]) => {
      const keys = path.filter((key): key is string => typeof key === "string");
      const own = keys[keys.length - 1] ?? "";
      const settingKey = words(own).some((word) => SETTING_WORDS.has(word) && word !== "KEY");
      return !isTrivial(value) && !isReference(value) && !settingKey && keys.some(namesCredential);
    })
    .map(([path]) => path.join("."));
}

/** A Docker container's `NAME=value` env entries as pairs. */
export function envPairs(envs: unknown): Array<[string, string]> {
  return (Array.isArray(envs) ? envs : [])
    .filter((e): e is string => typeof e === "string")
    .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]);
}
