import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** Egress to the cluster's DNS, which every pod that connects by name needs. */
export const DNS_EGRESS: k8s.types.input.networking.v1.NetworkPolicyEgressRule = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
  ports: [
    { port: 53, protocol: "UDP" },
    { port: 53, protocol: "TCP" },
  ],
};

/** Denies all ingress and egress in a namespace; other policies then open what each pod needs. */
export function defaultDenyPolicy(
  name: string,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name: "default-deny", namespace },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    opts,
  );
}

export interface JobEgressArgs {
  namespace: pulumi.Input<string>;
  /** The Job pods' `platform/job` label. */
  job: string;
  /** Narrows the policy to one service's Jobs (their `platform/service` label) where several share a namespace. */
  service?: string;
  /** What the Job talks to: a managed store's CIDR, or the pods of a database. */
  to: k8s.types.input.networking.v1.NetworkPolicyPeer;
  port: number;
}

/**
 * Lets the pods of one kind of Job resolve names and reach `port` on `to`, and nothing else, in a
 * namespace that denies by default.
 */
export function jobEgressPolicy(
  name: string,
  args: JobEgressArgs,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  return new k8s.networking.v1.NetworkPolicy(
    name,
    {
      metadata: { name: args.service ? `${args.service}-${args.job}` : args.job, namespace: args.namespace },
      spec: {
        podSelector: {
          matchLabels: { "platform/job": args.job, ...(args.service ? { "platform/service": args.service } : {}) },
        },
        policyTypes: ["Ingress", "Egress"],
        egress: [DNS_EGRESS, { to: [args.to], ports: [{ port: args.port }] }],
      },
    },
    opts,
  );
}
