import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface NetworkArgs {
  cidr: string;
  /** How many availability zones to spread over (3 in prod). */
  zones: number;
  natGateways: "per-az" | "single";
  /** Key that encrypts the flow logs. */
  kmsKeyArn: pulumi.Input<string>;
  namePrefix: string;
}

/** /20 subnets of a /16: public ones first, private ones from the 8th block on. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const [a, b] = vpcCidr.split("/")[0].split(".").map(Number);
  if (index < 0 || index > 15) throw new Error(`subnet index ${index} does not fit in ${vpcCidr}`);
  return `${a}.${b}.${index * 16}.0/20`;
}

/**
 * VPC over `zones` AZs: a public and a private subnet in each, an internet gateway, NAT per AZ
 * (or one, for cost), private routes through NAT, and VPC flow logs to CloudWatch (KMS).
 */
export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly cidr: string;
  readonly publicSubnetIds: pulumi.Output<string>[];
  readonly privateSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:Network", name, {}, opts);
    const child = { parent: this };
    this.cidr = args.cidr;
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, child).names.apply((names) => {
      if (names.length < args.zones)
        throw new Error(`the region has ${names.length} availability zones, ${args.zones} are needed`);
      return names.slice(0, args.zones);
    });

    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { Name: `${args.namePrefix}-vpc` },
      },
      child,
    );
    this.vpcId = vpc.id;
    const gateway = new aws.ec2.InternetGateway(
      `${name}-igw`,
      { vpcId: vpc.id, tags: { Name: `${args.namePrefix}-igw` } },
      child,
    );
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: gateway.id }],
        tags: { Name: `${args.namePrefix}-public` },
      },
      child,
    );

    this.publicSubnetIds = [];
    this.privateSubnetIds = [];
    const natIds: pulumi.Output<string>[] = [];
    for (let i = 0; i < args.zones; i++) {
      const zone = zones.apply((names) => names[i]);
      const publicSubnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: subnetCidr(args.cidr, i),
          availabilityZone: zone,
          mapPublicIpOnLaunch: false,
          tags: { Name: `${args.namePrefix}-public-${i}`, "kubernetes.io/role/elb": "1" },
        },
        child,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: publicSubnet.id, routeTableId: publicRoutes.id },
        child,
      );
      const privateSubnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: subnetCidr(args.cidr, 8 + i),
          availabilityZone: zone,
          tags: { Name: `${args.namePrefix}-private-${i}`, "kubernetes.io/role/internal-elb": "1" },
        },
        child,
      );
      this.publicSubnetIds.push(publicSubnet.id);
      this.privateSubnetIds.push(privateSubnet.id);

      if (args.natGateways === "per-az" || i === 0) {
        const eip = new aws.ec2.Eip(
          `${name}-nat-${i}`,
          { domain: "vpc", tags: { Name: `${args.namePrefix}-nat-${i}` } },
          child,
        );
        natIds.push(
          new aws.ec2.NatGateway(
            `${name}-nat-${i}`,
            {
              allocationId: eip.id,
              subnetId: publicSubnet.id,
              tags: { Name: `${args.namePrefix}-nat-${i}` },
            },
            { parent: this, dependsOn: [gateway] },
          ).id,
        );
      }
      const privateRoutes = new aws.ec2.RouteTable(
        `${name}-private-rt-${i}`,
        {
          vpcId: vpc.id,
          routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: natIds[natIds.length - 1] }],
          tags: { Name: `${args.namePrefix}-private-${i}` },
        },
        child,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-private-${i}`,
        { subnetId: privateSubnet.id, routeTableId: privateRoutes.id },
        child,
      );
    }

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: `/platform/${args.namePrefix}/vpc-flow-logs`,
        retentionInDays: 90,
        kmsKeyId: args.kmsKeyArn,
      },
      child,
    );
    const flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "vpc-flow-logs.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-flow-logs`,
      {
        role: flowLogRole.id,
        policy: logGroup.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                Resource: `${arn}:*`,
              },
            ],
          }),
        ),
      },
      child,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-logs`,
      {
        vpcId: vpc.id,
        trafficType: "ALL",
        logDestinationType: "cloud-watch-logs",
        logDestination: logGroup.arn,
        iamRoleArn: flowLogRole.arn,
      },
      child,
    );
    this.registerOutputs({ vpcId: this.vpcId });
  }
}
