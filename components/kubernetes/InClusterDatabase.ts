import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { DatabaseNames, connectionUrl, databaseNames } from "../data/databasePlan";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES, DatabaseEngine, DatabaseEngineSpec } from "../engines";
import { DatabaseEndpoint } from "../platform";
import { mongodReplicaSetArgs, renderMongoUserScript, renderReplicaSetInit, REPLICA_SET_NAME } from "../data/mongoInit";
import { APP_LABEL, HARDENED_CONTAINER, nonRootPod, startupProbe } from "./podSpec";
import { CLICKHOUSE_CONSOLE_LOGGING, CLICKHOUSE_SERVER_FILES, renderClickHouseLogin } from "./clickhouseServerFiles";
import { oneShotJob } from "./oneShotJob";
import { DNS_EGRESS, jobEgressPolicy } from "./networkPolicies";
import { SECRET_CHECKSUM_ANNOTATION, dataChecksum } from "./checksum";
import { NAME_LIMITS, fitName } from "../naming";
import { after } from "../ordering";

/** Every engine but PostgreSQL, which runs on RDS in prod, can run on EKS: each needs a row in CLUSTER_ENGINES. */
export type InClusterEngine = Exclude<DatabaseEngine, "postgres">;

export interface InClusterDatabaseArgs {
  service: string;
  engine: InClusterEngine;
  version: string;
  /** Namespace of the data stores (created by the caller). */
  namespace: string;
  /** Where the service's pods run: the only pods admitted besides the database's own. */
  clientNamespace: string;
  /** An encrypted StorageClass for the data volumes. */
  storageClass: pulumi.Input<string>;
  storageGb: number;
  /** Refuse to delete or replace the members (their claims and volumes stay anyway: Retain). */
  protect: boolean;
  provider: k8s.Provider;
}

type Container = k8s.types.input.core.v1.Container;

/** The passwords the component made, for the engine to put in the Secret its image reads on first start. */
interface FirstStartLogins {
  names: DatabaseNames;
  servicePassword: pulumi.Output<string>;
  adminPassword: pulumi.Output<string>;
  /** Makes a further random secret the engine needs (MongoDB's keyfile). */
  password(purpose: string, length: number): pulumi.Output<string>;
}

/** What an engine's pod parts refer to. */
interface PodInputs {
  image: string;
  names: DatabaseNames;
  credentialsSecret: pulumi.Output<string>;
}

/**
 * What one engine adds to the members' pod around the shared server container (which has the data
 * volume and /tmp writable, its root filesystem read-only): every volume it declares is mounted.
 */
interface EnginePod {
  initContainers?: Container[];
  command?: string[];
  /** The server container's environment, the credentials Secret's keys by reference. */
  env: k8s.types.input.core.v1.EnvVar[];
  mounts: k8s.types.input.core.v1.VolumeMount[];
  volumes: k8s.types.input.core.v1.Volume[];
}

/** What running on EKS adds to the engine table; the StatefulSet around them is shared. */
interface ClusterEngineSpec {
  replicas: number;
  /** The image's own unprivileged user. */
  uid: number;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  urlQuery(database: string): string;
  /** The credentials Secret's keys. */
  credentials(logins: FirstStartLogins): Record<string, pulumi.Input<string>>;
  pod(inputs: PodInputs): EnginePod;
  /** The members form a replica set, which a Job initiates once they run. */
  replicaSet: boolean;
}

type ClusterEngine = DatabaseEngineSpec & ClusterEngineSpec;

/** What one engine's StatefulSet requests: its members and each member's server container (the init containers are smaller). */
export function inClusterDatabaseRequests(engine: InClusterEngine): { members: number; cpu: string; memory: string } {
  const { replicas, resources } = CLUSTER_ENGINES[engine];
  return { members: replicas, cpu: resources.requests.cpu, memory: resources.requests.memory };
}

const KEYFILE_DIR = "/etc/mongo-keyfile";
/**
 * How long a member may take to answer its ready command: a first start runs the image's
 * initialisation (a server on localhost making the logins, stopped again) before the real server.
 */
const MEMBER_START_SECONDS = 300;
const REPLICA_SET_INIT_JOB = "replica-set-init";

const CLUSTER_ENGINES: Record<InClusterEngine, ClusterEngineSpec> = {
  mongodb: {
    replicas: 3,
    uid: 999,
    resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
    urlQuery: (database) => `authSource=${database}&replicaSet=${REPLICA_SET_NAME}`,
    credentials: ({ names, servicePassword, adminPassword, password }) => ({
      ADMIN_PASSWORD: adminPassword,
      keyfile: password("keyfile", 756),
      "10-service-user.js": servicePassword.apply((pw) =>
        renderMongoUserScript(names.database, names.username, { value: pw }),
      ),
    }),
    pod: mongoMemberPod,
    replicaSet: true,
  },
  clickhouse: {
    replicas: 1,
    uid: 101,
    resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
    urlQuery: () => "",
    credentials: ({ names, servicePassword }) => ({
      CLICKHOUSE_PASSWORD: servicePassword,
      [CLICKHOUSE_SERVER_FILES.login.key]: servicePassword.apply((pw) => renderClickHouseLogin(names.username, pw)),
      [CLICKHOUSE_SERVER_FILES.logging.key]: CLICKHOUSE_CONSOLE_LOGGING,
    }),
    pod: clickhouseServerPod,
    replicaSet: false,
  },
};

/**
 * The service's login and console logging from read-only files, so that the image's entrypoint
 * writes nothing outside the data volume and /tmp: CLICKHOUSE_SKIP_USER_SETUP keeps it from writing
 * users.d/default-user.xml. It still creates CLICKHOUSE_DB on first start, logged in as the service.
 */
function clickhouseServerPod({ names, credentialsSecret }: PodInputs): EnginePod {
  const files = Object.values(CLICKHOUSE_SERVER_FILES);
  return {
    env: [
      { name: "CLICKHOUSE_DB", value: names.database },
      { name: "CLICKHOUSE_USER", value: names.username },
      secretEnv(credentialsSecret, "CLICKHOUSE_PASSWORD"),
      { name: "CLICKHOUSE_SKIP_USER_SETUP", value: "1" },
    ],
    mounts: files.map((file) => ({
      name: "server-files",
      mountPath: file.mountPath,
      subPath: file.key,
      readOnly: true,
    })),
    volumes: [secretFiles("server-files", credentialsSecret, ...files.map((file) => file.key))],
  };
}

/** Keyfile authentication between the members; the first member makes the logins on its first start. */
function mongoMemberPod({ image, credentialsSecret }: PodInputs): EnginePod {
  return {
    // The keyfile must be the owner's only; a Secret volume can't be, so an init container copies it.
    initContainers: [
      {
        name: "keyfile",
        image,
        command: ["sh", "-c", `install -m 400 /secret/keyfile ${KEYFILE_DIR}/keyfile`],
        volumeMounts: [
          { name: "keyfile-secret", mountPath: "/secret", readOnly: true },
          { name: "keyfile", mountPath: KEYFILE_DIR },
        ],
        securityContext: HARDENED_CONTAINER,
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
      },
    ],
    // The first member creates the admin and the service's login on its first start; the others join empty.
    command: [
      "bash",
      "-c",
      `if [ "\${HOSTNAME##*-}" = 0 ]; then export MONGO_INITDB_ROOT_USERNAME=${DATABASE_ADMIN_USER} MONGO_INITDB_ROOT_PASSWORD="$ADMIN_PASSWORD"; fi; ` +
        `exec docker-entrypoint.sh mongod ${mongodReplicaSetArgs(`${KEYFILE_DIR}/keyfile`).join(" ")}`,
    ],
    env: [secretEnv(credentialsSecret, "ADMIN_PASSWORD")],
    // No /data/configdb: only a config server (--configsvr) keeps its data there.
    mounts: [
      { name: "keyfile", mountPath: KEYFILE_DIR, readOnly: true },
      { name: "initdb", mountPath: "/docker-entrypoint-initdb.d", readOnly: true },
    ],
    volumes: [
      { name: "keyfile", emptyDir: { medium: "Memory" } },
      secretFiles("keyfile-secret", credentialsSecret, "keyfile"),
      secretFiles("initdb", credentialsSecret, "10-service-user.js"),
    ],
  };
}

/** A volume of some of the credentials Secret's keys, each a file of its name. */
function secretFiles(name: string, credentialsSecret: pulumi.Output<string>, ...keys: string[]) {
  return {
    name,
    secret: { secretName: credentialsSecret, items: keys.map((key) => ({ key, path: key })), defaultMode: 0o440 },
  };
}

/** An environment variable of the credentials Secret's key of the same name. */
function secretEnv(credentialsSecret: pulumi.Output<string>, key: string): k8s.types.input.core.v1.EnvVar {
  return { name: key, valueFrom: { secretKeyRef: { name: credentialsSecret, key } } };
}

/** Where the members live; every resource of the component shares the metadata. */
interface MemberLayout {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  /** Selects the members' pods. */
  selector: { matchLabels: Record<string, string> };
  /** The members' stable DNS names through the headless Service. */
  hosts: string[];
}

function memberLayout(service: string, namespace: string, replicas: number): MemberLayout {
  // Names the StatefulSet, its headless Service and, with `-N`, each member's pod and hostname.
  const host = fitName(`${service}-db`, NAME_LIMITS.statefulSet);
  return {
    metadata: { name: host, namespace, labels: { [APP_LABEL]: host, "platform/service": service } },
    selector: { matchLabels: { [APP_LABEL]: host } },
    hosts: Array.from({ length: replicas }, (_, i) => `${host}-${i}.${host}.${namespace}.svc.cluster.local`),
  };
}

/** What the phases below share. */
interface Scope {
  name: string;
  args: InClusterDatabaseArgs;
  names: DatabaseNames;
  engine: ClusterEngine;
  members: MemberLayout;
  k8sOpts: pulumi.CustomResourceOptions;
}

/**
 * A MongoDB or ClickHouse database for one service on EKS, as in dev one server (or replica set)
 * per service: a StatefulSet of the official image with encrypted gp3 volumes, non-root, a
 * headless Service, a PodDisruptionBudget, and NetworkPolicies that admit the service's pods
 * only and let the members reach each other only. MongoDB runs three members with keyfile authentication; a Job initiates the set. The
 * service's login is made by the image on first start (MongoDB: the same init script as dev), or
 * read from a file (ClickHouse). Startup probes give a first start its initialisation's time.
 */
export class InClusterDatabase extends pulumi.ComponentResource {
  readonly hosts: string[];
  readonly port: number;
  readonly database: string;
  readonly username: string;
  /** Resolves once the database accepts the login (after the replica set's initiation). */
  readonly password: pulumi.Output<string>;
  /** Secret. */
  readonly url: pulumi.Output<string>;
  /** What the service connects to. */
  readonly endpoint: DatabaseEndpoint;

  constructor(name: string, args: InClusterDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:kubernetes:InClusterDatabase", name, {}, opts);
    const engine = { ...DATABASE_ENGINES[args.engine], ...CLUSTER_ENGINES[args.engine] };
    const names = databaseNames(args.service);
    const members = memberLayout(args.service, args.namespace, engine.replicas);
    this.hosts = members.hosts;
    this.port = engine.port;
    this.database = names.database;
    this.username = names.username;

    const scope: Scope = { name, args, names, engine, members, k8sOpts: { parent: this, provider: args.provider } };
    const { servicePassword, credentialsSecret, credentialsChecksum } = this.createCredentials(scope);
    const statefulSet = this.createMembers(scope, credentialsSecret, credentialsChecksum);
    this.createDisruptionBudget(scope);
    this.createNetworkPolicy(scope);
    const ready: pulumi.Output<unknown> = engine.replicaSet
      ? this.initiateReplicaSet(scope, credentialsSecret, statefulSet)
      : statefulSet.status;

    // Through `ready`, whatever uses the password waits until the database accepts the login.
    this.password = after(servicePassword, ready);
    this.url = pulumi.secret(
      this.password.apply((pw) =>
        connectionUrl(
          engine.scheme,
          names.username,
          pw,
          this.hosts,
          engine.port,
          names.database,
          engine.urlQuery(names.database),
        ),
      ),
    );
    this.endpoint = {
      location: { kind: "namespace", namespace: args.namespace },
      host: this.hosts[0],
      port: this.port,
      name: this.database,
      username: this.username,
      password: this.password,
      url: this.url,
    };
    this.registerOutputs({ hosts: this.hosts });
  }

  /** The service's and the admin's passwords, and the Secret the image reads them from on first start. */
  private createCredentials({ name, names, engine, members, k8sOpts }: Scope): {
    servicePassword: pulumi.Output<string>;
    credentialsSecret: pulumi.Output<string>;
    credentialsChecksum: pulumi.Output<string>;
  } {
    const password = (purpose: string, length = 32) =>
      new random.RandomPassword(`${name}-${purpose}`, { length, special: false }, { parent: this }).result;
    const servicePassword = password("service-password");
    const adminPassword = password("admin-password");
    const credentials = engine.credentials({ names, servicePassword, adminPassword, password });
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      { metadata: members.metadata, stringData: credentials },
      k8sOpts,
    );
    return { servicePassword, credentialsSecret: secret.metadata.name, credentialsChecksum: dataChecksum(credentials) };
  }

  /** The members: a StatefulSet behind a headless Service that gives each member its DNS name. */
  private createMembers(
    { name, args, names, engine, members, k8sOpts }: Scope,
    credentialsSecret: pulumi.Output<string>,
    credentialsChecksum: pulumi.Output<string>,
  ): k8s.apps.v1.StatefulSet {
    const service = new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata: members.metadata,
        spec: {
          clusterIP: "None",
          selector: members.selector.matchLabels,
          ports: [{ name: "db", port: engine.port }],
          publishNotReadyAddresses: true,
        },
      },
      k8sOpts,
    );
    return new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: members.metadata,
        spec: {
          serviceName: service.metadata.name,
          replicas: engine.replicas,
          podManagementPolicy: "Parallel",
          selector: members.selector,
          template: {
            // The members read the credentials (env, ClickHouse's server files) when they start: a changed one rolls them.
            metadata: {
              labels: members.metadata.labels,
              annotations: { [SECRET_CHECKSUM_ANNOTATION]: credentialsChecksum },
            },
            spec: memberPodSpec(args, engine, members, { image: engine.image(args.version), names, credentialsSecret }),
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: {
                accessModes: ["ReadWriteOnce"],
                storageClassName: args.storageClass,
                resources: { requests: { storage: `${args.storageGb}Gi` } },
              },
            },
          ],
        },
      },
      // Claim templates are immutable: a storageGb change would replace the StatefulSet, every member
      // down at once and back on its old claims. Existing members grow by resizing their claims
      // (README, "Upgrades"); the size here is that of new members and new databases.
      { ...k8sOpts, protect: args.protect, ignoreChanges: ["spec.volumeClaimTemplates"] },
    );
  }

  /** Lets voluntary disruptions take one member at a time, where there are several. */
  private createDisruptionBudget({ name, engine, members, k8sOpts }: Scope): void {
    if (engine.replicas <= 1) return;
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      { metadata: members.metadata, spec: { minAvailable: engine.replicas - 1, selector: members.selector } },
      k8sOpts,
    );
  }

  private createNetworkPolicy({ name, args, engine, members, k8sOpts }: Scope): void {
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: members.metadata,
        spec: {
          podSelector: members.selector,
          policyTypes: ["Ingress", "Egress"],
          // Members talk to each other (replication, elections) and nothing else.
          egress: [DNS_EGRESS, { to: [{ podSelector: members.selector }], ports: [{ port: engine.port }] }],
          ingress: [
            // Its own members and initiation Job, and the service it belongs to.
            {
              from: [{ podSelector: { matchLabels: { "platform/service": args.service } } }],
              ports: [{ port: engine.port }],
            },
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.clientNamespace } },
                  podSelector: { matchLabels: { [APP_LABEL]: args.service } },
                },
              ],
              ports: [{ port: engine.port }],
            },
          ],
        },
      },
      k8sOpts,
    );
  }

  /** A Job that joins the running members into a replica set; its name resolves once the Job has completed. */
  private initiateReplicaSet(
    { name, args, engine, members, k8sOpts }: Scope,
    credentialsSecret: pulumi.Output<string>,
    statefulSet: k8s.apps.v1.StatefulSet,
  ): pulumi.Output<string> {
    const jobName = `${name}-${REPLICA_SET_INIT_JOB}`;
    const script = new k8s.core.v1.ConfigMap(
      jobName,
      { metadata: members.metadata, data: { "replica-set.js": renderReplicaSetInit(members.hosts, engine.port) } },
      k8sOpts,
    );
    // The Job starts once it may reach the members through the namespace's default-deny.
    const egress = jobEgressPolicy(
      jobName,
      {
        namespace: args.namespace,
        job: REPLICA_SET_INIT_JOB,
        service: args.service,
        to: { podSelector: members.selector },
        port: engine.port,
      },
      k8sOpts,
    );
    const job = oneShotJob(
      jobName,
      {
        namespace: args.namespace,
        labels: { "platform/service": args.service },
        job: REPLICA_SET_INIT_JOB,
        image: engine.image(args.version),
        command: [
          "bash",
          "-c",
          `mongosh --quiet --host ${members.hosts[0]} --username ${DATABASE_ADMIN_USER} --password "$ADMIN_PASSWORD" --authenticationDatabase admin --file /init/replica-set.js`,
        ],
        env: [secretEnv(credentialsSecret, "ADMIN_PASSWORD")],
        runAsUser: engine.uid,
        mounts: [{ mountPath: "/init", volume: { configMap: { name: script.metadata.name } } }],
        backoffLimit: 10,
      },
      { ...k8sOpts, dependsOn: [statefulSet, egress] },
    );
    return job.metadata.name;
  }
}

/** The members' pod: the image's own user, hardened containers, spread over the zones. */
function memberPodSpec(
  args: InClusterDatabaseArgs,
  engine: ClusterEngine,
  members: MemberLayout,
  inputs: PodInputs,
): k8s.types.input.core.v1.PodSpec {
  const pod = engine.pod(inputs);
  return {
    automountServiceAccountToken: false,
    securityContext: nonRootPod(engine.uid),
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: members.selector,
      },
    ],
    initContainers: pod.initContainers,
    containers: [serverContainer(args.engine, engine, inputs.image, pod)],
    volumes: [{ name: "tmp", emptyDir: {} }, ...pod.volumes],
  };
}

function serverContainer(name: InClusterEngine, engine: ClusterEngine, image: string, pod: EnginePod): Container {
  return {
    name,
    image,
    command: pod.command,
    ports: [{ name: "db", containerPort: engine.port }],
    env: pod.env,
    startupProbe: startupProbe({ exec: { command: engine.ready }, timeoutSeconds: 5 }, MEMBER_START_SECONDS),
    readinessProbe: { exec: { command: engine.ready }, periodSeconds: 10, timeoutSeconds: 5 },
    livenessProbe: { exec: { command: engine.ready }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 6 },
    resources: engine.resources,
    securityContext: HARDENED_CONTAINER,
    volumeMounts: [{ name: "data", mountPath: engine.dataPath }, { name: "tmp", mountPath: "/tmp" }, ...pod.mounts],
  };
}
