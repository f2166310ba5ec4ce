import { strict as assert } from "assert";
import * as k8s from "@pulumi/kubernetes";
import { RecordedResource, ofType, runUnderMocks } from "../tools/mockRun";
import { InClusterDatabase, InClusterEngine } from "../components/kubernetes/InClusterDatabase";

/*
 * The in-cluster databases' containers run with a read-only root filesystem: a write anywhere but
 * a writable volume fails the start. These tables say where each image writes, read from its
 * entrypoint at the catalog's version, and the test holds each pod to exactly those places.
 *
 * ClickHouse 24.8 (the catalog's default): server/24.8.14.39/entrypoint.sh of ClickHouse/docker-library
 * (the image's docker/server/entrypoint.sh at that release), paths from programs/server/config.xml.
 * Running as the image's user 101, not root, it chowns nothing (entrypoint.sh 29-33).
 * MongoDB 7.0: 7.0/docker-entrypoint.sh and 7.0/Dockerfile of docker-library/mongo.
 */

interface Write {
  container: string;
  /** A directory the container writes into. */
  path: string;
  /** Who writes what there, with the lines that do. */
  why: string;
  /** What in the pod keeps the image from writing there: the path then gets no writable volume. */
  avoidedBy?: { how: string; holds(pod: PodView): boolean };
}

const WRITES: Record<InClusterEngine, Write[]> = {
  clickhouse: [
    {
      container: "clickhouse",
      path: "/var/lib/clickhouse",
      why:
        "config.xml path, tmp_path, user_files_path, format_schema_path and access/ all lie under it; " +
        "entrypoint.sh 39-41 and 48 read them, 91-101 and 260 create them, 264 starts the server there, " +
        "which also keeps preprocessed_configs/ under path",
    },
    {
      container: "clickhouse",
      path: "/tmp",
      why: "entrypoint.sh 108-117: manage_clickhouse_user copies users.xml to /tmp to tell whether the default user was changed",
    },
    {
      container: "clickhouse",
      path: "/etc/clickhouse-server/users.d",
      why: "entrypoint.sh 131 and 156 write users.d/default-user.xml (the login of CLICKHOUSE_USER/CLICKHOUSE_PASSWORD, or the default user kept to localhost)",
      avoidedBy: {
        how: "CLICKHOUSE_SKIP_USER_SETUP=1 (entrypoint.sh 126), the login coming from a mounted file",
        holds: (pod) =>
          pod.env("clickhouse", "CLICKHOUSE_SKIP_USER_SETUP") === "1" &&
          pod.filesUnder("clickhouse", "/etc/clickhouse-server/users.d/").some((f) => f.includes("<users>")),
      },
    },
    {
      container: "clickhouse",
      path: "/var/log/clickhouse-server",
      why: "config.xml logger.log and logger.errorlog: the server's log files; entrypoint.sh 42-47 and 92-93 create their directory",
      avoidedBy: {
        how: "a config.d file removing logger.log and logger.errorlog (the server logs to the console instead)",
        holds: (pod) =>
          pod
            .filesUnder("clickhouse", "/etc/clickhouse-server/config.d/")
            .some((f) => /<log remove=/.test(f) && /<errorlog remove=/.test(f) && /<console>1<\/console>/.test(f)),
      },
    },
  ],
  mongodb: [
    {
      container: "mongodb",
      path: "/data/db",
      why:
        "docker-entrypoint.sh 242: mongod's default dbPath (and 332: initdb's log when stdout is not writable); " +
        "Dockerfile 115: HOME=/data/db, where mongosh (the ready command) keeps ~/.mongodb",
    },
    {
      container: "mongodb",
      path: "/tmp",
      why:
        "docker-entrypoint.sh 177-179 and 338: TMPDIR=/tmp holds the first start's temporary mongod's pid file " +
        "(and a parsed --config); mongod's Unix socket /tmp/mongodb-27017.sock",
    },
    {
      container: "keyfile",
      path: "/etc/mongo-keyfile",
      why: "the platform's init container installs the keyfile there, readable by its owner only",
    },
  ],
};

/** A container of the recorded inputs: plain values, Outputs resolved. */
type Container = { name: string } & Record<string, any>;

/** The StatefulSet's pod as the cluster would get it, with the Secrets its volumes name. */
class PodView {
  readonly containers: Container[];
  readonly volumes: Map<string, any>;
  readonly claims: string[];

  constructor(
    statefulSet: RecordedResource,
    private readonly secrets: RecordedResource[],
  ) {
    const pod = statefulSet.inputs.spec.template.spec;
    this.containers = [...(pod.initContainers ?? []), ...pod.containers];
    this.volumes = new Map((pod.volumes ?? []).map((v: any) => [v.name, v]));
    this.claims = statefulSet.inputs.spec.volumeClaimTemplates.map((c: any) => c.metadata.name);
  }

  container(name: string): any {
    const found = this.containers.find((c) => c.name === name);
    assert.ok(found, `a container ${name}`);
    return found;
  }

  env(container: string, name: string): string | undefined {
    return this.container(container).env?.find((e: any) => e.name === name)?.value;
  }

  /** Paths the container can write: its mounts of a claim or an emptyDir that are not read-only. */
  writable(container: string): string[] {
    return this.container(container)
      .volumeMounts.filter(
        (m: any) => !m.readOnly && (this.claims.includes(m.name) || this.volumes.get(m.name)?.emptyDir),
      )
      .map((m: any) => m.mountPath);
  }

  /** The contents of the files mounted from Secrets under a directory. */
  filesUnder(container: string, dir: string): string[] {
    return this.container(container)
      .volumeMounts.filter((m: any) => m.mountPath.startsWith(dir))
      .flatMap((m: any) => {
        const secret = this.volumes.get(m.name)?.secret;
        const data = this.secrets.find((s) => s.inputs.metadata.name === secret?.secretName)?.inputs.stringData;
        const key = m.subPath ?? m.mountPath.slice(dir.length);
        return data && key in data ? [data[key] as string] : [];
      });
  }
}

async function memberPod(engine: InClusterEngine): Promise<PodView> {
  const run = await runUnderMocks("components", {}, () => {
    const provider = new k8s.Provider("k", { kubeconfig: "{}" });
    return new InClusterDatabase("events-db", {
      service: "events",
      engine,
      version: engine === "mongodb" ? "7.0" : "24.8",
      namespace: "data",
      clientNamespace: "shop",
      storageClass: "gp3-encrypted",
      storageGb: 20,
      protect: true,
      provider,
    });
  });
  const [statefulSet] = ofType(run.resources, "kubernetes:apps/v1:StatefulSet");
  return new PodView(statefulSet, ofType(run.resources, "kubernetes:core/v1:Secret"));
}

describe("in-cluster databases: where the images write", () => {
  for (const engine of Object.keys(WRITES) as InClusterEngine[]) {
    describe(engine, () => {
      let pod: PodView;
      before(async () => {
        pod = await memberPod(engine);
      });

      it("runs every container, init containers too, on a read-only root filesystem", () => {
        assert.deepEqual(
          pod.containers.map((c: any) => [c.name, c.securityContext?.readOnlyRootFilesystem]),
          pod.containers.map((c) => [c.name, true]),
        );
        assert.deepEqual(
          [...new Set(WRITES[engine].map((w) => w.container))].sort(),
          pod.containers.map((c) => c.name).sort(),
          "the table covers every container",
        );
      });

      for (const write of WRITES[engine]) {
        const title = write.avoidedBy
          ? `keeps ${write.container} from writing ${write.path}: ${write.avoidedBy.how}`
          : `lets ${write.container} write ${write.path}`;
        it(title, () => {
          const covered = pod.writable(write.container).some((p) => write.path === p || write.path.startsWith(`${p}/`));
          if (write.avoidedBy) {
            assert.ok(write.avoidedBy.holds(pod), `${write.why}, unless ${write.avoidedBy.how}`);
            assert.ok(!covered, "and gives it no writable volume there");
          } else {
            assert.ok(covered, `${write.path} is on a writable volume: ${write.why}`);
          }
        });
      }

      it("gives each container no writable place the table does not name", () => {
        for (const container of pod.containers.map((c) => c.name)) {
          const needed = WRITES[engine].filter((w) => w.container === container && !w.avoidedBy).map((w) => w.path);
          assert.deepEqual(pod.writable(container).sort(), needed.sort(), container);
        }
      });

      it("mounts every volume it declares, and declares every volume it mounts", () => {
        const mounted = new Set(pod.containers.flatMap((c: any) => c.volumeMounts.map((m: any) => m.name)));
        const declared = [...pod.volumes.keys(), ...pod.claims];
        assert.deepEqual(
          declared.filter((v) => !mounted.has(v)),
          [],
          "declared, mounted by no container",
        );
        assert.deepEqual(
          [...mounted].filter((v) => !declared.includes(v)),
          [],
          "mounted, declared nowhere",
        );
      });
    });
  }
});
