import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

/** A security group that admits `ports` from the cluster's nodes only, and opens nothing else. */
export function nodesOnlySecurityGroup(name: string, args: {
  description: string;
  vpcId: pulumi.Input<string>;
  nodeSecurityGroupId: pulumi.Input<string>;
  ports: number[];
}, opts: pulumi.CustomResourceOptions): aws.ec2.SecurityGroup {
  return new aws.ec2.SecurityGroup(name, {
    description: args.description,
    vpcId: args.vpcId,
    ingress: args.ports.map((port) => ({
      protocol: "tcp", fromPort: port, toPort: port, securityGroups: [args.nodeSecurityGroupId], description: `${port} from EKS nodes`,
    })),
    // Managed data stores answer; they open no connections of their own.
    egress: [],
  }, opts);
}
