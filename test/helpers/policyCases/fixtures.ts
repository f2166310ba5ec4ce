import { PolicyResource } from "@pulumi/policy";
import { SecretPaths, WithSecretPaths } from "../../../policies/rules";

export type Props = Record<string, any>;
export type Resource = PolicyResource & WithSecretPaths;

/**
 * What one policy says about resources that break it (exactly those messages, without the
 * remediation the pack appends) and that it says nothing about resources that keep it.
 */
export interface RuleCase {
  bad: Array<{ why: string; resources: Resource[]; says: string[] }>;
  good: Array<{ why: string; resources: Resource[] }>;
}

/** A resource as the engine presents it; `secretPaths` as the offline check adds them. */
export function resource(
  type: string,
  props: Props,
  name = "r",
  extra: { dependencies?: PolicyResource[]; secretPaths?: SecretPaths } = {},
): Resource {
  return {
    type,
    props,
    urn: `urn:pulumi:test::p::${type}::${name}`,
    name,
    opts: {},
    dependencies: extra.dependencies ?? [],
    propertyDependencies: {},
    ...(extra.secretPaths ? { secretPaths: extra.secretPaths } : {}),
  } as unknown as Resource;
}

/** A deep copy of `value` with `change` applied. */
export function changed<T>(value: T, change: (copy: any) => void): T {
  const copy = structuredClone(value);
  change(copy);
  return copy;
}

/** A Deployment as the ServiceWorkload writes it: every check of the pack holds. */
export const goodPod = {
  metadata: { name: "orders", namespace: "shop" },
  spec: {
    replicas: 1,
    template: {
      metadata: { labels: { app: "orders" } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "orders",
            image: "repo/orders:1.2.3",
            env: [
              { name: "LOG_LEVEL", value: "info" },
              { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "orders", key: "p" } } },
            ],
            resources: { limits: { cpu: "500m", memory: "256Mi" } },
            livenessProbe: { httpGet: { path: "/health" } },
            readinessProbe: { httpGet: { path: "/ready" } },
            securityContext: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
      },
    },
  },
};

/** The good Deployment with `change` applied. */
export const pod = (change: (p: any) => void) => changed(goodPod, change);
/** The first container of a Deployment's props. */
export const firstContainer = (p: any) => p.spec.template.spec.containers[0];

export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
