import { changed, DEPLOYMENT, goodPod, Props, resource, RuleCase } from "./fixtures";

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const VPC = "10.20.0.0/16";
/** A service's policy as the platform writes it for two hosts and one range. */
export const goodEgressPolicy = {
  metadata: {
    name: "payments",
    namespace: "shop",
    annotations: { "platform/egress-hosts": "api.stripe.com:443,smtp.sendgrid.net:587", "platform/vpc-cidr": VPC },
  },
  spec: {
    podSelector: { matchLabels: { app: "payments" } },
    policyTypes: ["Ingress", "Egress"],
    ingress: [
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kong" } } }],
        ports: [{ port: 8000 }],
      },
    ],
    egress: [
      { to: [{ namespaceSelector: {} }], ports: [{ port: 53, protocol: "UDP" }] },
      {
        to: [
          {
            ipBlock: {
              cidr: "0.0.0.0/0",
              except: [VPC, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
            },
          },
        ],
        ports: [{ port: 443 }, { port: 587 }],
      },
      { to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ port: 8443 }] },
    ],
  },
};
const egressPolicy = (change: (p: any) => void) => changed(goodEgressPolicy, change);
const internetRule = (p: any) => p.spec.egress[1];
const without = (range: string) => (p: any) => {
  internetRule(p).to[0].ipBlock.except = internetRule(p).to[0].ipBlock.except.filter((r: string) => r !== range);
};

/** Each way a policy can open the internet wrongly, with exactly what the policy must say about it. */
export const BAD_EGRESS: Array<{ why: string; props: Props; says: string[] }> = [
  {
    why: "no hosts named",
    props: egressPolicy((p) => delete p.metadata.annotations["platform/egress-hosts"]),
    says: [
      "egress to 0.0.0.0/0 without the platform/egress-hosts annotation naming its hosts",
      "egress to 0.0.0.0/0 on port 443, which no host in platform/egress-hosts uses",
      "egress to 0.0.0.0/0 on port 587, which no host in platform/egress-hosts uses",
    ],
  },
  {
    why: "a port no host uses",
    props: egressPolicy((p) => internetRule(p).ports.push({ port: 22 })),
    says: ["egress to 0.0.0.0/0 on port 22, which no host in platform/egress-hosts uses"],
  },
  {
    why: "every port",
    props: egressPolicy((p) => delete internetRule(p).ports),
    says: ["egress to 0.0.0.0/0 on every port"],
  },
  {
    why: "the metadata range reachable",
    props: egressPolicy(without("169.254.0.0/16")),
    says: ["egress to 0.0.0.0/0 does not leave out 169.254.0.0/16"],
  },
  {
    why: "an RFC 1918 range reachable",
    props: egressPolicy(without("172.16.0.0/12")),
    says: ["egress to 0.0.0.0/0 does not leave out 172.16.0.0/12"],
  },
  {
    why: "the VPC reachable",
    props: egressPolicy(without(VPC)),
    says: [`egress to 0.0.0.0/0 does not leave out ${VPC}`],
  },
  {
    why: "no VPC named",
    props: egressPolicy((p) => delete p.metadata.annotations["platform/vpc-cidr"]),
    says: ["egress to 0.0.0.0/0 without the platform/vpc-cidr annotation naming the VPC"],
  },
  {
    why: "IPv6 everywhere without hosts",
    props: egressPolicy((p) => {
      delete p.metadata.annotations;
      p.spec.egress = [{ to: [{ ipBlock: { cidr: "::/0" } }], ports: [{ port: 443 }] }];
    }),
    says: [
      "egress to ::/0 without the platform/egress-hosts annotation naming its hosts",
      "egress to ::/0 on port 443, which no host in platform/egress-hosts uses",
    ],
  },
  {
    why: "a rule without peers, which reaches everything",
    props: egressPolicy((p) => (p.spec.egress = [{ ports: [{ port: 443 }] }])),
    says: [VPC, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"].map(
      (range) => `egress to 0.0.0.0/0 does not leave out ${range}`,
    ),
  },
];

const DENY_ALL = {
  metadata: { name: "default-deny", namespace: "shop" },
  spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
};
const SG = "aws:ec2/securityGroup:SecurityGroup";

export const NETWORK_CASES: Record<string, RuleCase> = {
  "network-policy-per-namespace": {
    bad: [
      {
        why: "no default-deny in two namespaces",
        resources: [
          resource(DEPLOYMENT, goodPod, "orders"),
          resource("kubernetes:apps/v1:StatefulSet", { metadata: { name: "orders-db", namespace: "data" } }, "db"),
        ],
        says: [
          "namespace shop of orders has no default-deny NetworkPolicy",
          "namespace data of orders-db has no default-deny NetworkPolicy",
        ],
      },
      {
        why: "a default-deny turned allow-all, another open for egress",
        resources: [
          resource(DEPLOYMENT, goodPod, "orders"),
          resource("kubernetes:batch/v1:Job", { metadata: { namespace: "jobs" } }, "migrate"),
          resource(
            NETPOL,
            changed(DENY_ALL, (p) => (p.spec.ingress = [{}])),
            "allow-all",
          ),
          resource(
            NETPOL,
            { metadata: { namespace: "jobs" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
            "ingress-only",
          ),
        ],
        says: [
          "namespace shop of orders has no default-deny NetworkPolicy",
          "namespace jobs of migrate has no default-deny NetworkPolicy",
        ],
      },
    ],
    good: [{ why: "a default-deny", resources: [resource(DEPLOYMENT, goodPod), resource(NETPOL, DENY_ALL)] }],
  },
  "network-policy-ingress-restricted": {
    bad: [
      {
        why: "every source, the internet, every namespace",
        resources: [
          resource(
            NETPOL,
            changed(goodEgressPolicy, (p) =>
              p.spec.ingress.push(
                { ports: [{ port: 8000 }] },
                { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }] },
                { from: [{ namespaceSelector: {} }] },
              ),
            ),
          ),
        ],
        says: [
          "ingress rule 1 admits every source (no from)",
          "ingress rule 2 admits 0.0.0.0/0",
          "ingress rule 2 admits ::/0",
          "ingress rule 3 admits every namespace",
        ],
      },
    ],
    good: [
      {
        why: "named namespaces and pods; pods of a label in any namespace; a deny-all",
        resources: [
          resource(NETPOL, goodEgressPolicy, "a"),
          resource(
            NETPOL,
            changed(
              goodEgressPolicy,
              (p) =>
                (p.spec.ingress = [
                  { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "prometheus" } } }] },
                ]),
            ),
            "b",
          ),
          resource(NETPOL, DENY_ALL, "c"),
        ],
      },
    ],
  },
  "internet-egress-declared": {
    bad: BAD_EGRESS.map(({ why, props, says }) => ({ why, resources: [resource(NETPOL, props)], says })),
    good: [
      {
        why: "declared hosts, a known range, IPv6 to declared ports",
        resources: [
          resource(NETPOL, goodEgressPolicy, "a"),
          resource(
            NETPOL,
            {
              metadata: { name: "orders" },
              spec: { egress: [{ to: [{ ipBlock: { cidr: "203.0.113.0/24" } }], ports: [{ port: 443 }] }] },
            },
            "b",
          ),
          resource(
            NETPOL,
            egressPolicy((p) => (p.spec.egress = [{ to: [{ ipBlock: { cidr: "::/0" } }], ports: [{ port: 443 }] }])),
            "c",
          ),
        ],
      },
    ],
  },
  "no-open-ingress": {
    bad: [
      {
        why: "PostgreSQL, SSH and all traffic (even written as port 443) from the internet",
        resources: [
          resource(
            SG,
            { ingress: [{ protocol: "tcp", fromPort: 5432, toPort: 5432, cidrBlocks: ["0.0.0.0/0"] }] },
            "a",
          ),
          resource(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            { type: "ingress", protocol: "tcp", fromPort: 0, toPort: 1024, ipv6CidrBlocks: ["::/0"] },
            "b",
          ),
          resource(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            { ipProtocol: "-1", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
            "c",
          ),
        ],
        says: [
          "ingress of tcp port 5432 open to the internet (0.0.0.0/0)",
          "ingress of tcp ports 0-1024 (remote login: 22) open to the internet (::/0)",
          "ingress of all traffic open to the internet (0.0.0.0/0)",
        ],
      },
    ],
    good: [
      {
        why: "HTTPS from anywhere, the rest from a group; egress rules are not ingress",
        resources: [
          resource(SG, {
            ingress: [
              { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] },
              { protocol: "tcp", fromPort: 5432, toPort: 5432, securityGroups: ["sg-1"] },
            ],
          }),
          resource(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            { type: "egress", protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
            "b",
          ),
        ],
      },
    ],
  },
  "node-remote-access-restricted": {
    bad: [
      {
        why: "SSH without source groups",
        resources: [resource("aws:eks/nodeGroup:NodeGroup", { remoteAccess: { ec2SshKey: "ops" } })],
        says: ["remote access (SSH) is open to the internet: no source security groups"],
      },
    ],
    good: [
      {
        why: "no remote access; SSH from a group",
        resources: [
          resource("aws:eks/nodeGroup:NodeGroup", {}, "a"),
          resource(
            "aws:eks/nodeGroup:NodeGroup",
            { remoteAccess: { ec2SshKey: "ops", sourceSecurityGroupIds: ["sg-bastion"] } },
            "b",
          ),
        ],
      },
    ],
  },
};
