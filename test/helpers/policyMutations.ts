import { T } from "../../policies/types";
import { CheckedRecord } from "../../tools/policyCheck";

/**
 * Single changes to what a program records, the kind a tired engineer makes in a pull request, each
 * with the policy that must catch it; and harmless changes the pack must let through. The mutation
 * suite (test/policy-mutations.test.ts) applies each to the resources the stack files' programs
 * record (bookings: dev, prod-infra, prod) and runs the whole pack over them.
 */
export type StackName = "dev" | "prod-infra" | "prod";

export interface Mutation {
  change: string;
  stack: StackName;
  /** The policy that must report it; undefined for a benign change, which must leave the stack clean. */
  rule?: string;
  apply(program: Program): void;
}

type Path = Array<string | number>;

/** The recorded resources of one stack, with the edits a mutation needs. */
export class Program {
  constructor(readonly records: CheckedRecord[]) {}

  /** Every resource of `type` whose name contains `name`. */
  all(type: string, name = ""): CheckedRecord[] {
    return this.records.filter((r) => r.type === type && r.name.includes(name));
  }

  /** The first resource of `type` whose name contains `name`; throws when none, so an entry cannot go stale unnoticed. */
  get(type: string, name = ""): CheckedRecord {
    const [found] = this.all(type, name);
    if (!found) throw new Error(`the program records no ${type} named like '${name}'`);
    return found;
  }

  /** Declares one more resource, depending on `dependsOn`; its inputs under `secrets` travel as secrets. */
  add(type: string, name: string, inputs: Record<string, any>, dependsOn: CheckedRecord[] = [], secrets: Path[] = []) {
    const record: CheckedRecord = {
      stack: this.records[0].stack,
      type,
      name,
      urn: `urn:pulumi:${this.records[0].stack}::mutation::${type}::${name}`,
      parent: "",
      custom: true,
      dependencies: dependsOn.map((d) => d.urn),
      provider: "",
      inputs,
      wire: {},
      secretPaths: secrets,
    };
    this.records.push(record);
    return record;
  }

  remove(record: CheckedRecord): void {
    this.records.splice(this.records.indexOf(record), 1);
  }
}

/** Marks the input at `path` as a Pulumi secret, as the SDK records a secret output put there. */
export function markSecret(record: CheckedRecord, path: Path): void {
  record.secretPaths = [...(record.secretPaths ?? []), path];
}

/** Drops the secret marks on `path` and under it: the value now travels in plain text. */
export function unmarkSecret(record: CheckedRecord, path: Path): void {
  const under = (p: readonly (string | number)[]) => path.every((key, i) => String(p[i]) === String(key));
  record.secretPaths = (record.secretPaths ?? []).filter((p) => !under(p));
}

/** A @pulumi/rabbitmq Queue's arguments, changed in place. */
function editQueueArguments(r: CheckedRecord, change: (args: Record<string, unknown>) => void): void {
  const args = JSON.parse(r.inputs.settings.argumentsJson);
  change(args);
  r.inputs.settings.argumentsJson = JSON.stringify(args);
}

/** The pod spec of a Deployment, StatefulSet or Job record. */
export const podOf = (r: CheckedRecord): Record<string, any> => r.inputs.spec.template.spec;
/** Its first container. */
export const containerOf = (r: CheckedRecord): Record<string, any> => podOf(r).containers[0];
/** A Docker container's env entry `NAME=...` replaced (or added). */
export function setEnv(r: CheckedRecord, name: string, value: string): void {
  const envs: string[] = r.inputs.envs;
  const at = envs.findIndex((e) => e.startsWith(`${name}=`));
  envs.splice(at < 0 ? envs.length : at, at < 0 ? 0 : 1, `${name}=${value}`);
}
/** The Kong chart release's values. */
const kongValues = (p: Program) => p.get(T.helmRelease, "kong").inputs.values;
/** The Kong declarative config Secret. */
const kongSecret = (p: Program) => p.get(T.secret, "kong-declarative");
/** A policy document (JSON text) edited in place. */
function editDocument(r: CheckedRecord, key: string, edit: (document: any) => void): void {
  const document = JSON.parse(r.inputs[key]);
  edit(document);
  r.inputs[key] = JSON.stringify(document);
}
/** Kong's declarative config edited in place (a YAML text; anchors expand on parse). */
function editKong(p: Program, edit: (config: any) => void): void {
  const { parse, stringify } = require("yaml") as typeof import("yaml");
  const secret = kongSecret(p);
  const config = parse(secret.inputs.stringData["kong.yml"]);
  edit(config);
  secret.inputs.stringData["kong.yml"] = stringify(config);
}
/** A Service's NetworkPolicy. */
const servicePolicy = (p: Program, service = "booking-service") => p.get(T.networkPolicy, `${service}-netpol`);
const defaultDeny = (p: Program) => p.get(T.networkPolicy, "bookings-default-deny");
const IRSA_TRUST = (p: Program) => p.get(T.iamRole, "booking-service-irsa");

const SECRETS: Mutation[] = [
  {
    change: "a dev database's password set to admin123",
    stack: "dev",
    rule: "no-default-credentials",
    apply: (p) => setEnv(p.get(T.container, "payment-service-db-container"), "POSTGRES_PASSWORD", "admin123"),
  },
  {
    change: "Grafana's admin Secret with admin-password: admin (lower-case key)",
    stack: "prod",
    rule: "no-default-credentials",
    apply: (p) => (p.get(T.secret, "grafana-admin").inputs.stringData["admin-password"] = "admin"),
  },
  {
    change: "kube-prometheus-stack values with grafana.adminPassword: changeme instead of the Secret",
    stack: "prod",
    rule: "no-default-credentials",
    apply: (p) => (p.get(T.helmRelease, "kubePrometheusStack").inputs.values.grafana.adminPassword = "changeme"),
  },
  {
    change: "the RDS admin password generated 8 characters long",
    stack: "prod-infra",
    rule: "no-default-credentials",
    apply: (p) => (p.get(T.randomPassword, "rds-booking-service-admin-password").inputs.length = 8),
  },
  {
    change: "a service's 6-character password in its Secret",
    stack: "prod",
    rule: "no-default-credentials",
    apply: (p) => (p.get(T.secret, "payment-service-secret").inputs.stringData.SMTP_PASSWORD = "s3cret"),
  },
  {
    change: "the RDS master password passed as a plain string",
    stack: "prod-infra",
    rule: "master-passwords-secret",
    apply: (p) => unmarkSecret(p.get(T.rds, "booking-service"), ["password"]),
  },
  {
    change: "an Amazon MQ user's password passed as a plain string",
    stack: "prod-infra",
    rule: "master-passwords-secret",
    apply: (p) => unmarkSecret(p.get(T.mq), ["users"]),
  },
  {
    change: "the ElastiCache AUTH token passed as a plain string",
    stack: "prod-infra",
    rule: "master-passwords-secret",
    apply: (p) => unmarkSecret(p.get(T.elasticache), ["authToken"]),
  },
  {
    change: "a Deployment with DATABASE_URL copied into a plain env value",
    stack: "prod",
    rule: "no-plaintext-secret-env",
    apply: (p) => {
      const url = p.get(T.secret, "booking-service-secret").inputs.stringData.DATABASE_URL;
      containerOf(p.get(T.deployment, "booking-service")).env.push({ name: "DATABASE_URL", value: url });
    },
  },
  {
    change: "a Deployment with API_TOKEN as a plain env value",
    stack: "prod",
    rule: "no-plaintext-secret-env",
    apply: (p) =>
      containerOf(p.get(T.deployment, "payment-service")).env.push({ name: "API_TOKEN", value: "tok_4f9a8e7d" }),
  },
  {
    change: "a random password in a Deployment's env under a name without a keyword (LOGIN_HINT)",
    stack: "prod",
    rule: "no-plaintext-secret-env",
    apply: (p) => {
      const deployment = p.get(T.deployment, "auth-service");
      const env: any[] = containerOf(deployment).env;
      env.push({ name: "LOGIN_HINT", value: "pw0123456789abcdef01234567" });
      markSecret(deployment, ["spec", "template", "spec", "containers", 0, "env", env.length - 1, "value"]);
    },
  },
  {
    change: "the bootstrap Job given PGPASSWORD as a plain env value",
    stack: "prod",
    rule: "no-plaintext-secret-env",
    apply: (p) => {
      const password = p.get(T.secret, "booking-service-bootstrap-credentials").inputs.stringData.PGPASSWORD;
      containerOf(p.get(T.job, "rds-booking-service-bootstrap")).env.push({ name: "PGPASSWORD", value: password });
    },
  },
  {
    change: "the MongoDB StatefulSet given MONGO_INITDB_ROOT_PASSWORD as a plain env value",
    stack: "prod",
    rule: "no-plaintext-secret-env",
    apply: (p) =>
      containerOf(p.get(T.statefulSet, "notification-service-db")).env.push({
        name: "MONGO_INITDB_ROOT_PASSWORD",
        value: "Zq8mW2xR7tLp",
      }),
  },
  {
    change: "a service's Secret turned into a ConfigMap",
    stack: "prod",
    rule: "no-credentials-in-configmaps",
    apply: (p) => {
      const secret = p.get(T.secret, "booking-service-secret");
      secret.type = T.configMap;
      secret.inputs.data = secret.inputs.stringData;
      delete secret.inputs.stringData;
      secret.secretPaths = (secret.secretPaths ?? []).map((path) =>
        path[0] === "stringData" ? ["data", ...path.slice(1)] : path,
      );
    },
  },
  {
    change: "Kong's declarative config (JWT secret, Redis password) moved into a ConfigMap",
    stack: "prod",
    rule: "no-credentials-in-configmaps",
    apply: (p) => {
      const secret = kongSecret(p);
      secret.type = T.configMap;
      secret.inputs.data = secret.inputs.stringData;
      delete secret.inputs.stringData;
      secret.secretPaths = [];
      kongValues(p).dblessConfig = { configMap: "kong-declarative" };
    },
  },
  {
    change:
      "Grafana's logs datasource given the reader's password in kube-prometheus-stack's values (the chart renders them into a ConfigMap)",
    stack: "prod",
    rule: "no-credentials-in-configmaps",
    apply: (p) => {
      const kps = p.get(T.helmRelease, "kubePrometheusStack");
      kps.inputs.values.grafana.additionalDataSources[0].secureJsonData = {
        basicAuthPassword: "pw0123456789abcdef01234567",
      };
      markSecret(kps, ["values", "grafana", "additionalDataSources", 0, "secureJsonData", "basicAuthPassword"]);
    },
  },
  {
    change: "a ConfigMap key Admin-Password (mixed case) holding a password",
    stack: "prod",
    rule: "no-credentials-in-configmaps",
    apply: (p) => (p.get(T.configMap, "rds-ca").inputs.data["Admin-Password"] = "Tr0ub4dor&3xyz"),
  },
  {
    change: "a random password in a ConfigMap under a name without a keyword (LOGIN)",
    stack: "prod",
    rule: "no-credentials-in-configmaps",
    apply: (p) => {
      const map = p.get(T.configMap, "rds-ca");
      map.inputs.data.LOGIN = "pw0123456789abcdef01234567";
      markSecret(map, ["data", "LOGIN"]);
    },
  },
  {
    change: "the gateway's JWT signing secret handed to a service that issues no tokens",
    stack: "prod",
    rule: "gateway-secret-to-issuers",
    apply: (p) => {
      const issuer = p.get(T.secret, "auth-service-secret").inputs.stringData;
      p.get(T.secret, "payment-service-secret").inputs.stringData.GATEWAY_JWT_SECRET =
        issuer.GATEWAY_JWT_SECRET ?? "x".repeat(32);
    },
  },
  {
    change: "the gateway's JWT signing secret in a dev service's env that issues no tokens",
    stack: "dev",
    rule: "gateway-secret-to-issuers",
    apply: (p) => setEnv(p.get(T.container, "payment-service-container"), "GATEWAY_JWT_SECRET", "x".repeat(32)),
  },
];

const CONTAINERS: Mutation[] = [
  {
    change: "a dev database port published on every interface",
    stack: "dev",
    rule: "ports-on-loopback-only",
    apply: (p) => delete p.get(T.container, "payment-service-db-container").inputs.ports[0].ip,
  },
  {
    change: "a dev container privileged",
    stack: "dev",
    rule: "no-privileged-containers",
    apply: (p) => (p.get(T.container, "observability-node-exporter").inputs.privileged = true),
  },
  {
    change: "a dev container on the host network",
    stack: "dev",
    rule: "no-privileged-containers",
    apply: (p) => (p.get(T.container, "observability-node-exporter").inputs.networkMode = "host"),
  },
  {
    change: "a dev image pulled as :latest",
    stack: "dev",
    rule: "pinned-images",
    apply: (p) => (p.get(T.remoteImage, "observability-grafana").inputs.name = "grafana/grafana:latest"),
  },
  {
    change: "a Deployment's image without a tag",
    stack: "prod",
    rule: "pinned-images",
    apply: (p) =>
      (containerOf(p.get(T.deployment, "booking-service")).image =
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/booking-service"),
  },
  {
    change: "a chart version range (~2.47.0)",
    stack: "prod",
    rule: "pinned-images",
    apply: (p) => (p.get(T.helmRelease, "kong").inputs.version = "~2.47.0"),
  },
  {
    change: "the bootstrap Job's image as postgres:latest",
    stack: "prod",
    rule: "pinned-images",
    apply: (p) => (containerOf(p.get(T.job, "rds-booking-service-bootstrap")).image = "postgres:latest"),
  },
  {
    change: "a dev container without a memory limit",
    stack: "dev",
    rule: "container-resource-limits",
    apply: (p) => delete p.get(T.container, "booking-service-container").inputs.memory,
  },
  {
    change: "the MongoDB StatefulSet without limits",
    stack: "prod",
    rule: "container-resource-limits",
    apply: (p) => delete containerOf(p.get(T.statefulSet, "notification-service-db")).resources.limits,
  },
  {
    change: "a Deployment without its readiness probe",
    stack: "prod",
    rule: "health-checks",
    apply: (p) => delete containerOf(p.get(T.deployment, "payment-service")).readinessProbe,
  },
  {
    change: "a long-running dev container without its healthcheck",
    stack: "dev",
    rule: "health-checks",
    apply: (p) => delete p.get(T.container, "booking-service-container").inputs.healthcheck,
  },
];

/** A node agent a tired engineer adds by hand: root, the node's files and processes. */
const nodeAgent = (p: Program) =>
  p.add(T.daemonSet, "node-agent", {
    metadata: { name: "node-agent", namespace: "bookings" },
    spec: {
      template: {
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "agent",
              image: "fluent/fluent-bit:3.1.9",
              resources: { limits: { cpu: "100m", memory: "128Mi" } },
              livenessProbe: { httpGet: { path: "/", port: 2020 } },
              readinessProbe: { httpGet: { path: "/", port: 2020 } },
              securityContext: {
                runAsUser: 0,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
            },
          ],
          volumes: [{ name: "varlog", hostPath: { path: "/var/log" } }],
        },
      },
    },
  });

const POD_SECURITY: Mutation[] = [
  ...(
    [
      [
        "a container runAsUser 0 under a pod-level runAsNonRoot",
        "booking-service",
        (c: any) => (c.securityContext.runAsUser = 0),
      ],
      ["a container privileged", "payment-service", (c: any) => (c.securityContext.privileged = true)],
      [
        "a container with SYS_ADMIN added",
        "auth-service",
        (c: any) => (c.securityContext.capabilities.add = ["SYS_ADMIN"]),
      ],
      [
        "a container no longer dropping ALL capabilities",
        "auth-service",
        (c: any) => delete c.securityContext.capabilities,
      ],
      [
        "a container with seccomp Unconfined",
        "booking-service",
        (c: any) => (c.securityContext.seccompProfile = { type: "Unconfined" }),
      ],
      [
        "a container with a writable root filesystem",
        "notification-service",
        (c: any) => (c.securityContext.readOnlyRootFilesystem = false),
      ],
    ] as Array<[string, string, (c: any) => void]>
  ).map(([change, service, edit]): Mutation => ({
    change: `Deployment: ${change}`,
    stack: "prod",
    rule: "pod-security",
    apply: (p) => edit(containerOf(p.get(T.deployment, service))),
  })),
  ...(
    [
      [
        "hostPath volume",
        (pod: any) => pod.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } }),
      ],
      ["hostPID", (pod: any) => (pod.hostPID = true)],
      ["hostIPC", (pod: any) => (pod.hostIPC = true)],
      ["hostNetwork", (pod: any) => (pod.hostNetwork = true)],
    ] as Array<[string, (pod: any) => void]>
  ).map(([change, edit]): Mutation => ({
    change: `Deployment: pod with ${change}`,
    stack: "prod",
    rule: "pod-security",
    apply: (p) => edit(podOf(p.get(T.deployment, "payment-service"))),
  })),
  {
    change: "StatefulSet: the MongoDB container privileged",
    stack: "prod",
    rule: "pod-security",
    apply: (p) => (containerOf(p.get(T.statefulSet, "notification-service-db")).securityContext.privileged = true),
  },
  {
    change: "Job: the bootstrap container allowed to escalate privileges",
    stack: "prod",
    rule: "pod-security",
    apply: (p) =>
      (containerOf(p.get(T.job, "rds-auth-service-bootstrap")).securityContext.allowPrivilegeEscalation = true),
  },
  {
    change: "DaemonSet: a node agent added, running as root with the node's /var/log",
    stack: "prod",
    rule: "pod-security",
    apply: nodeAgent,
  },
  {
    change: "CronJob: the bootstrap Job made nightly, its container privileged",
    stack: "prod",
    rule: "pod-security",
    apply: (p) => {
      const job = structuredClone(p.get(T.job, "rds-booking-service-bootstrap").inputs);
      job.spec.template.spec.containers[0].securityContext.privileged = true;
      p.add(T.cronJob, "nightly-bootstrap", {
        metadata: { name: "nightly-bootstrap", namespace: job.metadata.namespace },
        spec: { schedule: "0 3 * * *", jobTemplate: { spec: job.spec } },
      });
    },
  },
  {
    change: "a Deployment mounting its service account token",
    stack: "prod",
    rule: "service-account-token-not-mounted",
    apply: (p) => (podOf(p.get(T.deployment, "booking-service")).automountServiceAccountToken = true),
  },
  {
    change: "the bootstrap Job no longer refusing the token (default service account mounts it)",
    stack: "prod",
    rule: "service-account-token-not-mounted",
    apply: (p) => delete podOf(p.get(T.job, "rds-payment-service-bootstrap")).automountServiceAccountToken,
  },
];

const NETWORK_POLICIES: Mutation[] = [
  {
    change: "the default-deny turned allow-all (ingress: [{}])",
    stack: "prod",
    rule: "network-policy-per-namespace",
    apply: (p) => (defaultDeny(p).inputs.spec.ingress = [{}]),
  },
  {
    change: "the default-deny for Ingress only (egress open)",
    stack: "prod",
    rule: "network-policy-per-namespace",
    apply: (p) => (defaultDeny(p).inputs.spec.policyTypes = ["Ingress"]),
  },
  {
    change: "the default-deny of the data namespace removed",
    stack: "prod",
    rule: "network-policy-per-namespace",
    apply: (p) => p.remove(p.get(T.networkPolicy, "data-default-deny")),
  },
  {
    change: "a service's ingress rule without from (every source)",
    stack: "prod",
    rule: "network-policy-ingress-restricted",
    apply: (p) => delete servicePolicy(p).inputs.spec.ingress[0].from,
  },
  {
    change: "a service's ingress from 0.0.0.0/0",
    stack: "prod",
    rule: "network-policy-ingress-restricted",
    apply: (p) =>
      servicePolicy(p).inputs.spec.ingress.push({
        from: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
        ports: [{ port: 8001 }],
      }),
  },
  {
    change: "a service's ingress from every namespace",
    stack: "prod",
    rule: "network-policy-ingress-restricted",
    apply: (p) => (servicePolicy(p).inputs.spec.ingress[0].from = [{ namespaceSelector: {} }]),
  },
  {
    change: "a service given egress to 0.0.0.0/0:443 its catalog never declared",
    stack: "prod",
    rule: "internet-egress-declared",
    apply: (p) =>
      servicePolicy(p, "auth-service").inputs.spec.egress.push({
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
        ports: [{ port: 443 }],
      }),
  },
  {
    change: "an egress rule without to (every destination)",
    stack: "prod",
    rule: "internet-egress-declared",
    apply: (p) => delete servicePolicy(p, "auth-service").inputs.spec.egress[1].to,
  },
  {
    change: "egress to 0.0.0.0/0 no longer leaving out the metadata range",
    stack: "prod",
    rule: "internet-egress-declared",
    apply: (p) => {
      const rule = servicePolicy(p, "payment-service").inputs.spec.egress.find(
        (e: any) => e.to?.[0]?.ipBlock?.cidr === "0.0.0.0/0",
      );
      rule.to[0].ipBlock.except = rule.to[0].ipBlock.except.filter((c: string) => c !== "169.254.0.0/16");
    },
  },
  {
    change: "the default StorageClass without encryption",
    stack: "prod",
    rule: "encrypted-storage-classes",
    apply: (p) => (p.get(T.storageClass).inputs.parameters.encrypted = "false"),
  },
  {
    change: "a service's HPA minimum raised to 3 and its PodDisruptionBudget dropped",
    stack: "prod",
    rule: "pdb-for-replicated-pods",
    apply: (p) => {
      p.get(T.hpa, "payment-service").inputs.spec.minReplicas = 3;
      p.remove(p.get(T.pdb, "payment-service"));
    },
  },
];

const GATEWAY: Mutation[] = [
  {
    change: "a route without its jwt plugin",
    stack: "prod",
    rule: "gateway-routes-protected",
    apply: (p) =>
      editKong(p, (config) => {
        const route = config.services[0].routes[0];
        route.plugins = route.plugins.filter((plugin: any) => plugin.name !== "jwt");
      }),
  },
  {
    change: "rate limits counted per Kong (policy local) under autoscaling",
    stack: "prod",
    rule: "gateway-routes-protected",
    apply: (p) =>
      editKong(p, (config) =>
        config.services
          .flatMap((s: any) => s.routes)
          .forEach((route: any) =>
            route.plugins
              .filter((plugin: any) => plugin.name === "rate-limiting")
              .forEach((plugin: any) => (plugin.config = { minute: 60, policy: "local" })),
          ),
      ),
  },
  {
    change: "Kong's config moved to another key of its Secret (the policy would find nothing)",
    stack: "prod",
    rule: "gateway-routes-protected",
    apply: (p) => {
      const data = kongSecret(p).inputs.stringData;
      data["config.yml"] = data["kong.yml"];
      delete data["kong.yml"];
    },
  },
  {
    change: "the dev gateway's bootstrap without its config upload (the policy would find nothing)",
    stack: "dev",
    rule: "gateway-routes-protected",
    apply: (p) => (p.get(T.container, "gateway-bootstrap").inputs.uploads = []),
  },
  {
    change: "the proxy's ACM certificate annotation removed (plain HTTP on the public port)",
    stack: "prod",
    rule: "gateway-tls-only",
    apply: (p) => delete kongValues(p).proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-cert"],
  },
  {
    change: "the proxy's HTTP listener exposed on port 80 beside TLS on 443",
    stack: "prod",
    rule: "gateway-tls-only",
    apply: (p) => (kongValues(p).proxy.http.servicePort = 80),
  },
  {
    change: "the load balancer's TLS policy ELBSecurityPolicy-2016-08 (TLS 1.0)",
    stack: "prod",
    rule: "gateway-tls-policy",
    apply: (p) =>
      (kongValues(p).proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"] =
        "ELBSecurityPolicy-2016-08"),
  },
  {
    change: "the load balancer's TLS policy annotation removed (AWS's default allows TLS 1.0)",
    stack: "prod",
    rule: "gateway-tls-policy",
    apply: (p) =>
      delete kongValues(p).proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy"],
  },
  {
    change: "Kong's Admin API enabled (the chart makes it a NodePort)",
    stack: "prod",
    rule: "gateway-admin-private",
    apply: (p) => (kongValues(p).admin = { enabled: true }),
  },
  {
    change: "Kong's Admin API as a LoadBalancer",
    stack: "prod",
    rule: "gateway-admin-private",
    apply: (p) => (kongValues(p).admin = { enabled: true, type: "LoadBalancer", http: { enabled: true } }),
  },
  {
    change: "Kong Manager back at the chart's default (a NodePort Service on 8002/8445)",
    stack: "prod",
    rule: "no-exposed-services",
    apply: (p) => delete kongValues(p).manager,
  },
];

const ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess";

const IAM: Mutation[] = [
  {
    change: "the EKS node role given AdministratorAccess",
    stack: "prod-infra",
    rule: "iam-no-admin-policies",
    apply: (p) => {
      const role = p.get(T.iamRole, "eks-node-role");
      p.add(T.iamRolePolicyAttachment, "node-admin", { policyArn: ADMINISTRATOR, role: "node" }, [role]);
    },
  },
  {
    change: "the pull-request preview role given AdministratorAccess instead of ReadOnlyAccess",
    stack: "prod-infra",
    rule: "iam-no-admin-policies",
    apply: (p) => (p.get(T.iamRolePolicyAttachment, "github-preview").inputs.policyArn = ADMINISTRATOR),
  },
  {
    change: "a service's IRSA role with IAMFullAccess in managedPolicyArns",
    stack: "prod",
    rule: "iam-no-admin-policies",
    apply: (p) => (IRSA_TRUST(p).inputs.managedPolicyArns = ["arn:aws:iam::aws:policy/IAMFullAccess"]),
  },
  {
    change: "the runner's inline policy with Action * on Resource *",
    stack: "prod-infra",
    rule: "iam-no-wildcard-actions",
    apply: (p) =>
      editDocument(p.get(T.iamRolePolicy, "runner-policy"), "policy", (d) =>
        d.Statement.push({ Effect: "Allow", Action: "*", Resource: "*" }),
      ),
  },
  {
    change: "the workload boundary (a managed policy) allowing iam:* on every resource",
    stack: "prod-infra",
    rule: "iam-no-wildcard-actions",
    apply: (p) =>
      editDocument(p.get(T.iamPolicy, "workload-boundary"), "policy", (d) =>
        d.Statement.push({ Sid: "Debug", Effect: "Allow", Action: ["iam:*"], Resource: "*" }),
      ),
  },
  {
    change: "a service role with an inline policy of s3:* on every bucket",
    stack: "prod",
    rule: "iam-no-wildcard-actions",
    apply: (p) =>
      (IRSA_TRUST(p).inputs.inlinePolicies = [
        {
          name: "uploads",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
          }),
        },
      ]),
  },
  {
    change: "an IRSA trust without its sub condition (any pod of the cluster may assume it)",
    stack: "prod",
    rule: "iam-trust-scoped",
    apply: (p) =>
      editDocument(IRSA_TRUST(p), "assumeRolePolicy", (d) => {
        const equals = d.Statement[0].Condition.StringEquals;
        for (const key of Object.keys(equals)) if (key.endsWith(":sub")) delete equals[key];
      }),
  },
  {
    change: "an IRSA trust without its aud condition",
    stack: "prod",
    rule: "iam-trust-scoped",
    apply: (p) =>
      editDocument(IRSA_TRUST(p), "assumeRolePolicy", (d) => {
        const equals = d.Statement[0].Condition.StringEquals;
        for (const key of Object.keys(equals)) if (key.endsWith(":aud")) delete equals[key];
      }),
  },
  {
    change: "the GitHub deploy role's trust without conditions",
    stack: "prod-infra",
    rule: "iam-trust-scoped",
    apply: (p) =>
      editDocument(p.get(T.iamRole, "github-deploy"), "assumeRolePolicy", (d) => delete d.Statement[0].Condition),
  },
  {
    change: "the backup role assumable by any AWS principal",
    stack: "prod-infra",
    rule: "iam-trust-scoped",
    apply: (p) =>
      editDocument(
        p.get(T.iamRole, "backup-role"),
        "assumeRolePolicy",
        (d) => (d.Statement[0].Principal = { AWS: "*" }),
      ),
  },
  {
    change: "the platform key's policy letting principal * decrypt",
    stack: "prod-infra",
    rule: "kms-key-policy-scoped",
    apply: (p) =>
      editDocument(p.get(T.kmsKey), "policy", (d) =>
        d.Statement.push({ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }),
      ),
  },
  {
    change: "the platform key without rotation",
    stack: "prod-infra",
    rule: "kms-key-rotation",
    apply: (p) => (p.get(T.kmsKey).inputs.enableKeyRotation = false),
  },
  {
    change: "an ECR repository with mutable tags",
    stack: "prod-infra",
    rule: "ecr-hardened",
    apply: (p) => (p.get(T.ecrRepository, "booking-service").inputs.imageTagMutability = "MUTABLE"),
  },
  {
    change: "an ECR repository without scan on push",
    stack: "prod-infra",
    rule: "ecr-hardened",
    apply: (p) => (p.get(T.ecrRepository, "payment-service").inputs.imageScanningConfiguration.scanOnPush = false),
  },
];

const NETWORK: Mutation[] = [
  {
    change: "an ec2 SecurityGroupRule admitting SSH from 0.0.0.0/0",
    stack: "prod-infra",
    rule: "no-open-ingress",
    apply: (p) =>
      p.add(T.securityGroupRule, "runner-ssh", {
        type: "ingress",
        protocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrBlocks: ["0.0.0.0/0"],
        securityGroupId: "sg-runner",
      }),
  },
  {
    change: "an ingress rule of protocol -1 (all ports) from 0.0.0.0/0 written with ports 443",
    stack: "prod-infra",
    rule: "no-open-ingress",
    apply: (p) =>
      Object.assign(p.get(T.ingressRule, "rds-sg-5432").inputs, {
        ipProtocol: "-1",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        referencedSecurityGroupId: undefined,
      }),
  },
  {
    change: "PostgreSQL opened to ::/0 in a group's inline ingress",
    stack: "prod-infra",
    rule: "no-open-ingress",
    apply: (p) =>
      (p.get(T.securityGroup, "rds-sg").inputs.ingress = [
        { protocol: "tcp", fromPort: 5432, toPort: 5432, ipv6CidrBlocks: ["::/0"] },
      ]),
  },
  {
    change: "the node group given SSH access without source security groups",
    stack: "prod-infra",
    rule: "node-remote-access-restricted",
    apply: (p) => (p.get(T.nodeGroup).inputs.remoteAccess = { ec2SshKey: "ops" }),
  },
];

const DATA_STORES: Mutation[] = [
  ...(
    [
      ["publicly accessible", "publiclyAccessible", true],
      ["unencrypted", "storageEncrypted", false],
      ["with 1 day of backups", "backupRetentionPeriod", 1],
      ["single-AZ", "multiAz", false],
      ["without deletion protection", "deletionProtection", false],
    ] as Array<[string, string, unknown]>
  ).map(([change, key, value]): Mutation => ({
    change: `an RDS instance ${change}`,
    stack: "prod-infra",
    rule: "rds-hardened",
    apply: (p) => (p.get(T.rds, "auth-service").inputs[key] = value),
  })),
  {
    change: "rds.force_ssl 0",
    stack: "prod-infra",
    rule: "rds-force-ssl",
    apply: (p) => (p.get(T.rdsParameters).inputs.parameters[0].value = "0"),
  },
  {
    change: "an RDS instance deleted without a final snapshot",
    stack: "prod-infra",
    rule: "final-snapshots",
    apply: (p) => (p.get(T.rds, "payment-service").inputs.skipFinalSnapshot = true),
  },
  {
    change: "a DocumentDB cluster added without encryption or audit logs",
    stack: "prod-infra",
    rule: "documentdb-hardened",
    apply: (p) =>
      p.add(
        T.docdb,
        "notes",
        { backupRetentionPeriod: 7, deletionProtection: true, masterPassword: "pw0123456789abcdef" },
        [],
        [["masterPassword"]],
      ),
  },
  {
    change: "ElastiCache without encryption in transit",
    stack: "prod-infra",
    rule: "elasticache-hardened",
    apply: (p) => (p.get(T.elasticache).inputs.transitEncryptionEnabled = false),
  },
  {
    change: "the Amazon MQ broker publicly accessible",
    stack: "prod-infra",
    rule: "mq-not-public",
    apply: (p) => (p.get(T.mq).inputs.publiclyAccessible = true),
  },
  {
    change: "the EKS API endpoint public without CIDRs",
    stack: "prod-infra",
    rule: "eks-hardened",
    apply: (p) => Object.assign(p.get(T.eks).inputs.vpcConfig, { endpointPublicAccess: true, publicAccessCidrs: [] }),
  },
  {
    change: "the vpc-cni add-on without its network policy agent",
    stack: "prod-infra",
    rule: "network-policies-enforced",
    apply: (p) =>
      (p.get(T.eksAddon, "vpc-cni").inputs.configurationValues = JSON.stringify({ enableNetworkPolicy: "false" })),
  },
  {
    change: "the provider's default tags without owner",
    stack: "prod-infra",
    rule: "required-tags",
    apply: (p) => {
      const provider = p.get(T.awsProvider);
      const tags = JSON.parse(provider.inputs.defaultTags);
      delete tags.tags.owner;
      provider.inputs.defaultTags = JSON.stringify(tags);
    },
  },
  {
    change: "an S3 bucket added without a public access block",
    stack: "prod-infra",
    rule: "s3-private",
    apply: (p) => p.add(T.bucket, "exports", {}),
  },
  {
    change: "a CloudFront distribution added that allows plain HTTP",
    stack: "prod-infra",
    rule: "cdn-hardened",
    apply: (p) =>
      p.add(T.distribution, "assets", {
        webAclId: "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x",
        origins: [{ originId: "assets", originAccessControlId: "oac" }],
        defaultCacheBehavior: { viewerProtocolPolicy: "allow-all" },
        viewerCertificate: { cloudfrontDefaultCertificate: true },
      }),
  },
  {
    change: "a consumer queue without its dead-letter exchange",
    stack: "prod",
    rule: "consumer-queues-have-dlq",
    apply: (p) => (p.get(T.queue, "q-payment-service.reservations").inputs.settings.argumentsJson = "{}"),
  },
  {
    change: "a consumer queue declared as a classic queue, not replicated across the broker's nodes",
    stack: "prod",
    rule: "quorum-queues",
    apply: (p) =>
      editQueueArguments(p.get(T.queue, "q-payment-service.reservations"), (args) => delete args["x-queue-type"]),
  },
  {
    change: "a retry queue handing its messages back at most once",
    stack: "dev",
    rule: "quorum-queues",
    apply: (p) =>
      editQueueArguments(p.get(T.queue, "q-payment-service.reservations.retry.1"), (args) => {
        args["x-dead-letter-strategy"] = "at-most-once";
      }),
  },
  {
    change: "two dev databases owned by one login",
    stack: "dev",
    rule: "own-database-role",
    apply: (p) => (p.get(T.pgDatabase, "payment-service").inputs.owner = "booking_service_app"),
  },
];

/** Insecure changes, each with the policy that must catch it. */
export const INSECURE: Mutation[] = [
  ...SECRETS,
  ...CONTAINERS,
  ...POD_SECURITY,
  ...NETWORK_POLICIES,
  ...GATEWAY,
  ...IAM,
  ...NETWORK,
  ...DATA_STORES,
];

/** Changes that look alarming to a name-matching policy but are not: the pack must stay silent. */
export const BENIGN: Mutation[] = [
  {
    change: "Grafana's logs datasource naming the variable its container reads the reader's password from",
    stack: "prod",
    apply: (p) => {
      const grafana = p.get(T.helmRelease, "kubePrometheusStack").inputs.values.grafana;
      grafana.additionalDataSources[0].secureJsonData = { basicAuthPassword: "${GRAFANA_LOGS_READER_PASSWORD}" };
      grafana.envValueFrom = {
        GRAFANA_LOGS_READER_PASSWORD: { secretKeyRef: { name: "grafana-logs-reader", key: "password" } },
      };
    },
  },
  {
    change: "a catalog env TOKEN_TTL_SECONDS: 900",
    stack: "prod",
    apply: (p) =>
      containerOf(p.get(T.deployment, "auth-service")).env.push({ name: "TOKEN_TTL_SECONDS", value: "900" }),
  },
  {
    change: "a catalog env PASSWORD_MIN_LENGTH: 12",
    stack: "prod",
    apply: (p) =>
      containerOf(p.get(T.deployment, "auth-service")).env.push({ name: "PASSWORD_MIN_LENGTH", value: "12" }),
  },
  {
    change: "a catalog env AWS_SECRET_NAME naming a Secrets Manager secret",
    stack: "prod",
    apply: (p) =>
      containerOf(p.get(T.deployment, "payment-service")).env.push({
        name: "AWS_SECRET_NAME",
        value: "bookings/payment/stripe",
      }),
  },
  {
    change: "a DATABASE_URL without a password (IAM authentication)",
    stack: "prod",
    apply: (p) =>
      containerOf(p.get(T.deployment, "payment-service")).env.push({
        name: "DATABASE_URL",
        value:
          "postgresql://payment_service_app@payments.abc.eu-west-1.rds.amazonaws.com:5432/payment_service?sslmode=verify-full",
      }),
  },
  {
    change: "a chart pinned as v1.16.1",
    stack: "prod",
    apply: (p) => (p.get(T.helmRelease, "jaeger").inputs.version = "v1.16.1"),
  },
  {
    change: "a chart pinned to the pre-release 2.47.0-rc.1",
    stack: "prod",
    apply: (p) => (p.get(T.helmRelease, "kong").inputs.version = "2.47.0-rc.1"),
  },
  {
    change: "a third party's 12-character SMTP password from a config secret in a service's Secret",
    stack: "prod",
    apply: (p) => (p.get(T.secret, "notification-service-secret").inputs.stringData.SMTP_PASSWORD = "k7#Lm2pQ9xZw"),
  },
  {
    change: "a third party's 12-character SMTP password from a config secret in a dev container",
    stack: "dev",
    apply: (p) => setEnv(p.get(T.container, "notification-service-container"), "SMTP_PASSWORD", "k7#Lm2pQ9xZw"),
  },
  {
    change: "a ConfigMap of settings about credentials (TOKEN_TTL_SECONDS, passwordKey, AWS_SECRET_NAME)",
    stack: "prod",
    apply: (p) =>
      Object.assign(p.get(T.configMap, "rds-ca").inputs.data, {
        TOKEN_TTL_SECONDS: "900",
        "settings.yaml": "grafana:\n  passwordKey: admin-password\n  existingSecret: grafana-admin\n",
        AWS_SECRET_NAME: "bookings/payment/stripe",
      }),
  },
  {
    change: "egress to a known partner range on one port",
    stack: "prod",
    apply: (p) =>
      servicePolicy(p, "auth-service").inputs.spec.egress.push({
        to: [{ ipBlock: { cidr: "203.0.113.0/24" } }],
        ports: [{ port: 8443 }],
      }),
  },
  {
    change: "Kong's Admin API enabled as a ClusterIP Service",
    stack: "prod",
    apply: (p) => (kongValues(p).admin = { enabled: true, type: "ClusterIP" }),
  },
  {
    change: "a container adding NET_BIND_SERVICE",
    stack: "prod",
    apply: (p) =>
      (containerOf(p.get(T.deployment, "booking-service")).securityContext.capabilities.add = ["NET_BIND_SERVICE"]),
  },
  {
    change: "a security group rule admitting HTTPS (TCP 443) from 0.0.0.0/0",
    stack: "prod-infra",
    apply: (p) =>
      p.add(T.securityGroupRule, "public-https", {
        type: "ingress",
        protocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrBlocks: ["0.0.0.0/0"],
        securityGroupId: "sg-lb",
      }),
  },
];
