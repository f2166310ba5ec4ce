import { IMAGES } from "../engines";
import { Problem, warning } from "../../services/problems";

/**
 * The Kubernetes Cluster Autoscaler's identity on AWS: its service account assumes a role of its own
 * (IRSA), made by the infrastructure layer (the platform layer's deploy runner may only make roles
 * under the workload boundary, which has no Auto Scaling action). The Helm release that runs it is
 * the platform layer's (AwsPlatform.ts), where the cluster's provider is.
 */

/** Where the chart's Deployment and service account live (the release's namespace and `rbac.serviceAccount.name`). */
export const CLUSTER_AUTOSCALER_NAMESPACE = "kube-system";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
/** The subject of its service account's tokens, which the role's trust names. */
export const CLUSTER_AUTOSCALER_SUBJECT = `system:serviceaccount:${CLUSTER_AUTOSCALER_NAMESPACE}:${CLUSTER_AUTOSCALER_SERVICE_ACCOUNT}`;

/**
 * The tag EKS puts on a managed node group's Auto Scaling group, with the value `owned`, for
 * auto-discovery ("Amazon EKS tags managed node group resources so that they are configured to use
 * the Kubernetes Cluster Autoscaler": https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html;
 * beside it `k8s.io/cluster-autoscaler/enabled`).
 */
export function clusterOwnershipTag(clusterName: string): string {
  return `k8s.io/cluster-autoscaler/${clusterName}`;
}

/**
 * The autoscaler's AWS README, "Full Cluster Autoscaler Features Policy (Recommended)" (ASG
 * auto-discovery): read-only Describe/Get actions on every resource (they name no resource to
 * restrict), and the two write actions only on the Auto Scaling groups tagged as this cluster's
 * (the README's advice: "using tag based conditionals"), so that it can never resize another
 * cluster's nodes or any other group in the account.
 * https://github.com/kubernetes/autoscaler/blob/cluster-autoscaler-1.35.0/cluster-autoscaler/cloudprovider/aws/README.md
 */
export const CLUSTER_AUTOSCALER_READ_ACTIONS = [
  "autoscaling:DescribeAutoScalingGroups",
  "autoscaling:DescribeAutoScalingInstances",
  "autoscaling:DescribeLaunchConfigurations",
  "autoscaling:DescribeScalingActivities",
  "ec2:DescribeImages",
  "ec2:DescribeInstanceTypes",
  "ec2:DescribeLaunchTemplateVersions",
  "ec2:GetInstanceTypesFromInstanceRequirements",
  "eks:DescribeNodegroup",
];
export const CLUSTER_AUTOSCALER_WRITE_ACTIONS = [
  "autoscaling:SetDesiredCapacity",
  "autoscaling:TerminateInstanceInAutoScalingGroup",
];

/** The policy document of the autoscaler's role for `clusterName`. */
export function clusterAutoscalerPolicy(clusterName: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      { Sid: "Discover", Effect: "Allow", Action: CLUSTER_AUTOSCALER_READ_ACTIONS, Resource: "*" },
      {
        Sid: "ScaleThisClustersGroups",
        Effect: "Allow",
        Action: CLUSTER_AUTOSCALER_WRITE_ACTIONS,
        Resource: "*",
        Condition: { StringEquals: { [`aws:ResourceTag/${clusterOwnershipTag(clusterName)}`]: "owned" } },
      },
    ],
  });
}

/** The Kubernetes minor the pinned autoscaler is built for: its tag `v<major>.<minor>.<patch>`. */
export const CLUSTER_AUTOSCALER_MINOR = /:v(\d+\.\d+)\./.exec(IMAGES.clusterAutoscaler)![1];

/**
 * A warning when the cluster runs another Kubernetes minor than the autoscaler's: its README
 * recommends "the latest Cluster Autoscaler release that corresponds to the minor version of
 * Kubernetes that their cluster is running", since it is tested only against that one
 * (https://github.com/kubernetes/autoscaler/blob/cluster-autoscaler-1.35.0/cluster-autoscaler/README.md#releases).
 * A warning, not an error: a stack still on an older minor keeps deploying while it upgrades.
 */
export function autoscalerVersionProblems(eksVersion: string, field: string): Problem[] {
  if (eksVersion === CLUSTER_AUTOSCALER_MINOR) return [];
  return [
    warning(
      field,
      `the Cluster Autoscaler is pinned for Kubernetes ${CLUSTER_AUTOSCALER_MINOR} (IMAGES.clusterAutoscaler, CHARTS.clusterAutoscaler) but the cluster runs ${eksVersion}: pin the autoscaler release and chart of ${eksVersion} along with the version`,
    ),
  ];
}
