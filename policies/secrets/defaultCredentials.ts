import { containersOf, WORKLOADS } from "../kubernetes/workloads";
import { ResourceRule } from "../rule";
import { T } from "../types";
import {
  DEFAULT_CREDENTIALS,
  envPairs,
  fromBase64,
  leaves,
  MINIMUM_PASSWORD_LENGTH,
  namesCredential,
  namesPassword,
  namesUser,
} from "./credentials";

/** What a generated password is at least as long as. */
const GENERATED_PASSWORD_LENGTH = 16;

/** Every named value a resource sets that could be a credential: env, Secret data, chart values, master passwords. */
function namedValues(props: Record<string, any>, type: string): Array<[string, unknown]> {
  if (type === T.container) return envPairs(props.envs);
  if (type === T.secret)
    return [
      ...Object.entries(props.stringData ?? {}),
      ...Object.entries(props.data ?? {}).map(([k, v]): [string, unknown] => [k, fromBase64(v)]),
    ];
  if (type === T.helmRelease)
    return leaves(props.values).map(([path, value]) => [String(path[path.length - 1]), value]);
  if (type === T.mq)
    return (props.users ?? []).flatMap((u: any): Array<[string, unknown]> => [
      ["username", u.username],
      ["password", u.password],
    ]);
  if (WORKLOADS.includes(type))
    return containersOf(props, type).flatMap(({ container }) =>
      (container.env ?? []).map((e: any): [string, unknown] => [e.name, e.value]),
    );
  return [
    ["password", props.password],
    ["masterPassword", props.masterPassword],
    ["authToken", props.authToken],
  ];
}

export const noDefaultCredentials: ResourceRule = {
  kind: "resource",
  name: "no-default-credentials",
  description: `No default or weak credentials anywhere (admin/admin123, guest, changeme, ... in env, Secrets, chart values, master passwords; a password shorter than ${MINIMUM_PASSWORD_LENGTH} characters), and generated passwords of at least ${GENERATED_PASSWORD_LENGTH} characters.`,
  severity: "critical",
  remediation: "Generate the value with @pulumi/random or set it with `pulumi config set --secret`",
  types: [
    T.container,
    T.secret,
    T.helmRelease,
    T.rds,
    T.rdsCluster,
    T.docdb,
    T.mq,
    T.elasticache,
    T.randomPassword,
    ...WORKLOADS,
  ],
  check: (props, type) => {
    if (type === T.randomPassword)
      return (props.length ?? 0) < GENERATED_PASSWORD_LENGTH
        ? [`generates ${props.length ?? "unset"}-character passwords`]
        : [];
    return namedValues(props, type).flatMap(([name, value]) => {
      if (typeof value !== "string") return [];
      if (
        (namesCredential(name) && DEFAULT_CREDENTIALS.has(value.toLowerCase())) ||
        (namesUser(name) && value.toLowerCase() === "guest")
      )
        return [`${name} holds a default credential`];
      return namesPassword(name) && value.length > 0 && value.length < MINIMUM_PASSWORD_LENGTH
        ? [`${name} is shorter than ${MINIMUM_PASSWORD_LENGTH} characters`]
        : [];
    });
  },
};
