import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { connectionUrl, databaseNames } from "../data/databasePlan";
import { DATABASE_ADMIN_USER, DATABASE_ENGINES } from "../engines";
import { DatabaseEndpoint } from "../platform";
import { mongodReplicaSetArgs, renderMongoUserScript, renderReplicaSetInit, REPLICA_SET_NAME } from "../data/mongoInit";
import { APP_LABEL } from "./ServiceWorkload";
import { oneShotJob } from "./oneShotJob";
import { DNS_EGRESS, jobEgressPolicy } from "./networkPolicies";

export type InClusterEngine = "mongodb" | "clickhouse";

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
  provider: k8s.Provider;
}

/** What running on EKS adds to the engine table; the StatefulSet around them is shared. */
interface ClusterEngineSpec {
  replicas: number;
  /** The image's own unprivileged user. */
  uid: number;
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  urlQuery(database: string): string;
}

const KEYFILE_DIR = "/etc/mongo-keyfile";

const CLUSTER_ENGINES: Record<InClusterEngine, ClusterEngineSpec> = {
  mongodb: {
    replicas: 3,
    uid: 999,
    resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } },
    urlQuery: (database) => `authSource=${database}&replicaSet=${REPLICA_SET_NAME}`,
  },
  clickhouse: {
    replicas: 1,
    uid: 101,
    resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "2Gi" } },
    urlQuery: () => "",
  },
};

/**
 * A MongoDB or ClickHouse database for one service on EKS, as in dev one server (or replica set)
 * per service: a StatefulSet of the official image with encrypted gp3 volumes, non-root, a
 * headless Service, a PodDisruptionBudget, and NetworkPolicies that admit the service's pods
 * only and let the members reach each other only. MongoDB runs three members with keyfile authentication; a Job initiates the set. The
 * service's login is made by the image on first start (MongoDB: the same init script as dev).
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
    const k8sOpts = { parent: this, provider: args.provider };
    const names = databaseNames(args.service);
    const host = `${args.service}-db`;
    const labels = { [APP_LABEL]: host, "platform/service": args.service };
    const metadata = { name: host, namespace: args.namespace, labels };
    this.hosts = Array.from(
      { length: engine.replicas },
      (_, i) => `${host}-${i}.${host}.${args.namespace}.svc.cluster.local`,
    );
    this.port = engine.port;
    this.database = names.database;
    this.username = names.username;

    const password = (purpose: string, length = 32) =>
      new random.RandomPassword(`${name}-${purpose}`, { length, special: false }, { parent: this }).result;
    const servicePassword = password("service-password");
    const adminPassword = password("admin-password");
    const isMongo = args.engine === "mongodb";
    const credentials = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata,
        stringData: isMongo
          ? {
              ADMIN_PASSWORD: adminPassword,
              keyfile: password("keyfile", 756),
              "10-service-user.js": servicePassword.apply((pw) =>
                renderMongoUserScript(names.database, names.username, { value: pw }),
              ),
            }
          : {
              CLICKHOUSE_DB: names.database,
              CLICKHOUSE_USER: names.username,
              CLICKHOUSE_PASSWORD: servicePassword,
              CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT: "0",
            },
      },
      k8sOpts,
    );

    const service = new k8s.core.v1.Service(
      `${name}-headless`,
      {
        metadata,
        spec: {
          clusterIP: "None",
          selector: { [APP_LABEL]: host },
          ports: [{ name: "db", port: engine.port }],
          publishNotReadyAddresses: true,
        },
      },
      k8sOpts,
    );

    const hardened = {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    };
    const scratch = [{ name: "tmp", mountPath: "/tmp" }];
    const mongo = isMongo
      ? {
          // The keyfile must be the owner's only; a Secret volume can't be, so an init container copies it.
          initContainers: [
            {
              name: "keyfile",
              image: engine.image(args.version),
              command: ["sh", "-c", `install -m 400 /secret/keyfile ${KEYFILE_DIR}/keyfile`],
              volumeMounts: [
                { name: "credentials", mountPath: "/secret", readOnly: true },
                { name: "keyfile", mountPath: KEYFILE_DIR },
              ],
              securityContext: hardened,
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
          mounts: [
            { name: "keyfile", mountPath: KEYFILE_DIR, readOnly: true },
            { name: "initdb", mountPath: "/docker-entrypoint-initdb.d", readOnly: true },
            { name: "configdb", mountPath: "/data/configdb" },
          ],
          volumes: [
            { name: "keyfile", emptyDir: { medium: "Memory" } },
            {
              name: "initdb",
              secret: {
                secretName: credentials.metadata.name,
                items: [{ key: "10-service-user.js", path: "10-service-user.js" }],
              },
            },
            { name: "configdb", emptyDir: {} },
          ],
        }
      : undefined;

    const statefulSet = new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata,
        spec: {
          serviceName: service.metadata.name,
          replicas: engine.replicas,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: { [APP_LABEL]: host } },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: engine.uid,
                runAsGroup: engine.uid,
                fsGroup: engine.uid,
                seccompProfile: { type: "RuntimeDefault" },
              },
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "topology.kubernetes.io/zone",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: { [APP_LABEL]: host } },
                },
              ],
              initContainers: mongo?.initContainers,
              containers: [
                {
                  name: args.engine,
                  image: engine.image(args.version),
                  command: mongo?.command,
                  ports: [{ name: "db", containerPort: engine.port }],
                  ...(isMongo
                    ? {
                        env: [
                          {
                            name: "ADMIN_PASSWORD",
                            valueFrom: { secretKeyRef: { name: credentials.metadata.name, key: "ADMIN_PASSWORD" } },
                          },
                        ],
                      }
                    : { envFrom: [{ secretRef: { name: credentials.metadata.name } }] }),
                  readinessProbe: { exec: { command: engine.ready }, periodSeconds: 10, timeoutSeconds: 5 },
                  livenessProbe: {
                    exec: { command: engine.ready },
                    initialDelaySeconds: 60,
                    periodSeconds: 20,
                    timeoutSeconds: 5,
                    failureThreshold: 6,
                  },
                  resources: engine.resources,
                  securityContext: hardened,
                  volumeMounts: [{ name: "data", mountPath: engine.dataPath }, ...scratch, ...(mongo?.mounts ?? [])],
                },
              ],
              volumes: [
                { name: "credentials", secret: { secretName: credentials.metadata.name, defaultMode: 0o440 } },
                { name: "tmp", emptyDir: {} },
                ...(mongo?.volumes ?? []),
              ],
            },
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
      k8sOpts,
    );

    if (engine.replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        {
          metadata,
          spec: { minAvailable: engine.replicas - 1, selector: { matchLabels: { [APP_LABEL]: host } } },
        },
        k8sOpts,
      );
    }
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata,
        spec: {
          podSelector: { matchLabels: { [APP_LABEL]: host } },
          policyTypes: ["Ingress", "Egress"],
          // Members talk to each other (replication, elections) and nothing else.
          egress: [
            DNS_EGRESS,
            { to: [{ podSelector: { matchLabels: { [APP_LABEL]: host } } }], ports: [{ port: engine.port }] },
          ],
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

    let ready: pulumi.Output<unknown> = statefulSet.status;
    if (isMongo) {
      const script = new k8s.core.v1.ConfigMap(
        `${name}-replica-set-init`,
        {
          metadata,
          data: { "replica-set.js": renderReplicaSetInit(this.hosts, engine.port) },
        },
        k8sOpts,
      );
      const job = oneShotJob(
        `${name}-replica-set-init`,
        {
          namespace: args.namespace,
          labels: { "platform/service": args.service },
          job: "replica-set-init",
          image: engine.image(args.version),
          command: [
            "bash",
            "-c",
            `mongosh --quiet --host ${this.hosts[0]} --username ${DATABASE_ADMIN_USER} --password "$ADMIN_PASSWORD" --authenticationDatabase admin --file /init/replica-set.js`,
          ],
          env: [
            {
              name: "ADMIN_PASSWORD",
              valueFrom: { secretKeyRef: { name: credentials.metadata.name, key: "ADMIN_PASSWORD" } },
            },
          ],
          runAsUser: engine.uid,
          mounts: [{ mountPath: "/init", volume: { configMap: { name: script.metadata.name } } }],
          backoffLimit: 10,
        },
        { ...k8sOpts, dependsOn: [statefulSet] },
      );
      jobEgressPolicy(
        `${name}-replica-set-init`,
        {
          namespace: args.namespace,
          job: "replica-set-init",
          service: args.service,
          to: { podSelector: { matchLabels: { [APP_LABEL]: host } } },
          port: engine.port,
        },
        k8sOpts,
      );
      ready = job.metadata.name;
    }

    // Through `ready`, whatever uses the password waits until the database accepts the login.
    this.password = pulumi.all([servicePassword, ready]).apply(([pw]) => pw);
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
}
