import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { NAME_LIMITS, logicalName } from "../naming";

export interface OneShotJobArgs {
  namespace: pulumi.Input<string>;
  /** Labels of the Job and its pod. */
  labels: Record<string, string>;
  /** The pod's `platform/job` label: what NetworkPolicies select the Job's pods by. */
  job: string;
  image: string;
  command: string[];
  env?: k8s.types.input.core.v1.EnvVar[];
  /** A Secret whose keys become the container's environment. */
  envFromSecret?: pulumi.Input<string>;
  /** The image's own unprivileged user. */
  runAsUser: number;
  /** Read-only mounts; `/tmp` is always a writable scratch directory (HOME for clients that keep state). */
  mounts?: Array<{ mountPath: string; volume: Omit<k8s.types.input.core.v1.Volume, "name"> }>;
  backoffLimit?: number;
}

/**
 * A Job that runs one client command to completion (a database bootstrap, a replica set's
 * initiation), hardened like the workloads: non-root, read-only root filesystem, no privilege
 * escalation, no capabilities, no service account token. Kept an hour after it finishes.
 */
export function oneShotJob(name: string, args: OneShotJobArgs, opts: pulumi.CustomResourceOptions): k8s.batch.v1.Job {
  const mounts = args.mounts ?? [];
  return new k8s.batch.v1.Job(
    // Pulumi names the Job after its logical name (a fresh name on each replacement).
    logicalName(name, NAME_LIMITS.job, "kubernetes"),
    {
      metadata: { namespace: args.namespace, labels: args.labels },
      spec: {
        backoffLimit: args.backoffLimit ?? 6,
        ttlSecondsAfterFinished: 3600,
        template: {
          metadata: { labels: { ...args.labels, "platform/job": args.job } },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: args.runAsUser,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: args.job,
                image: args.image,
                command: args.command,
                env: [...(args.env ?? []), { name: "HOME", value: "/tmp" }],
                envFrom: args.envFromSecret ? [{ secretRef: { name: args.envFromSecret } }] : undefined,
                volumeMounts: [
                  ...mounts.map((m, i) => ({ name: `mount-${i}`, mountPath: m.mountPath, readOnly: true })),
                  { name: "tmp", mountPath: "/tmp" },
                ],
                resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  privileged: false,
                  capabilities: { drop: ["ALL"] },
                },
              },
            ],
            volumes: [...mounts.map((m, i) => ({ name: `mount-${i}`, ...m.volume })), { name: "tmp", emptyDir: {} }],
          },
        },
      },
    },
    opts,
  );
}
