import { stringify } from "yaml";
import { changed, resource, RuleCase } from "./fixtures";

const SECRET = "kubernetes:core/v1:Secret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SERVICE = "kubernetes:core/v1:Service";
const CONTAINER = "docker:index/container:Container";

const kong = (routePlugins: string[], tags: string[]) =>
  stringify({
    services: [
      { name: "orders", routes: [{ name: "orders-0", tags, plugins: routePlugins.map((name) => ({ name })) }] },
    ],
  });
/** A DB-less Kong config in the Secret a chart release runs with `replicas` pods at most. */
export const kongFleet = (name: string, replicas: number, config: Record<string, unknown>) => [
  resource(SECRET, { metadata: { name, namespace: "kong" }, stringData: { "kong.yml": stringify(config) } }, name),
  resource(
    RELEASE,
    {
      chart: "kong",
      namespace: "kong",
      values: { dblessConfig: { secret: name }, autoscaling: { enabled: true, minReplicas: 2, maxReplicas: replicas } },
    },
    `${name}-release`,
  ),
];
/** One authenticated route limited with `limit`, guarded by jwt and key-auth falling back to `anonymous`. */
export const kongConfig = (limit: Record<string, unknown>, consumers: unknown[] = [], anonymous?: string) => ({
  services: [
    {
      name: "orders",
      routes: [
        {
          name: "orders-0",
          tags: ["authenticated"],
          plugins: [
            { name: "rate-limiting", config: { minute: 60, limit_by: "consumer", ...limit } },
            { name: "jwt", config: anonymous ? { anonymous } : {} },
            { name: "key-auth", config: anonymous ? { anonymous } : {} },
          ],
        },
      ],
    },
  ],
  consumers,
});
const REFUSED = { username: "anonymous", plugins: [{ name: "request-termination", config: { status_code: 401 } }] };
const REDIS = { policy: "redis", redis: { host: "master.cache.amazonaws.com", port: 6379, ssl: true } };
/** A Kong container of the dev stack, with the config uploaded or not. */
const kongContainer = (uploads: unknown[]) => resource(CONTAINER, { envs: ["KONG_DATABASE=off"], uploads }, "gateway");

/** The proxy values kongValues writes: NLB TLS on 443 with the ACM certificate, TLS 1.2+. */
const ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-";
const goodValues = {
  admin: { enabled: false },
  manager: { enabled: false },
  proxy: {
    type: "LoadBalancer",
    annotations: {
      [`${ANNOTATION}ssl-cert`]: "arn:aws:acm:eu-west-1:1:certificate/x",
      [`${ANNOTATION}ssl-ports`]: "443",
      [`${ANNOTATION}ssl-negotiation-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    },
    http: { enabled: true, servicePort: 443, containerPort: 8000 },
    tls: { enabled: false },
  },
};
const kongRelease = (change: (values: any) => void, name = "kong") =>
  resource(RELEASE, { chart: "kong", values: changed(goodValues, change) }, name);

export const GATEWAY_CASES: Record<string, RuleCase> = {
  "gateway-routes-protected": {
    bad: [
      {
        why: "a route without auth, a route without a rate limit",
        resources: [
          resource(SECRET, { stringData: { "kong.yml": kong(["rate-limiting"], ["authenticated"]) } }, "a"),
          resource(
            CONTAINER,
            { uploads: [{ file: "/kong/declarative/kong.yml", content: kong(["jwt"], ["authenticated"]) }] },
            "b",
          ),
        ],
        says: ["route orders-0 is not public and has no auth plugin", "route orders-0 has no rate limit"],
      },
      {
        why: "six Kongs each counting alone: six times the limit (policy local, or unset: Kong's default)",
        resources: kongFleet(
          "local-counters",
          6,
          kongConfig({ policy: "local" }, [
            { username: "a", plugins: [{ name: "rate-limiting", config: { minute: 5 } }] },
          ]),
        ),
        says: [
          "rate limit of route orders-0 counts per Kong (policy local) while up to 6 Kongs run this config, each allowing the whole limit",
          "rate limit of consumer a counts per Kong (policy local) while up to 6 Kongs run this config, each allowing the whole limit",
        ],
      },
      {
        why: "a failed credential passes as a consumer nothing refuses",
        resources: kongFleet("open-anonymous", 2, kongConfig(REDIS, [{ username: "anonymous" }], "anonymous")),
        says: [
          "route orders-0 lets requests without a valid credential through as consumer anonymous, which nothing refuses",
        ],
      },
      {
        why: "the config out of the key the release reads, and Kong containers without an upload: nothing to check",
        resources: [
          resource(
            SECRET,
            { metadata: { name: "kong-declarative", namespace: "kong" }, stringData: { "config.yml": "{}" } },
            "s",
          ),
          resource(
            RELEASE,
            { chart: "kong", namespace: "kong", values: { dblessConfig: { secret: "kong-declarative" } } },
            "kong",
          ),
          kongContainer([]),
          resource(
            RELEASE,
            { chart: "kong", namespace: "edge", values: { env: { database: "postgres" } } },
            "db-backed",
          ),
        ],
        says: [
          "gateway release db-backed reads no DB-less config (dblessConfig): its routes cannot be checked",
          "gateway release kong reads Secret kong-declarative, which holds no kong.yml: its routes cannot be checked",
          "gateway container gateway runs Kong, but no container uploads a kong.yml: its routes cannot be checked",
        ],
      },
      {
        why: "a config inline in the release's values, counted per Kong",
        resources: [
          resource(
            RELEASE,
            {
              chart: "kong",
              values: { replicaCount: 3, dblessConfig: { config: stringify(kongConfig({ policy: "local" })) } },
            },
            "inline",
          ),
        ],
        says: [
          "rate limit of route orders-0 counts per Kong (policy local) while up to 3 Kongs run this config, each allowing the whole limit",
        ],
      },
    ],
    good: [
      {
        why: "auth and limits; a public route; shared counters; one Kong counting alone; a ConfigMap the release reads",
        resources: [
          resource(SECRET, { stringData: { "kong.yml": kong(["rate-limiting", "jwt"], ["authenticated"]) } }, "a"),
          resource(SECRET, { stringData: { "kong.yml": kong(["rate-limiting"], ["public"]) } }, "b"),
          ...kongFleet("shared-counters", 6, kongConfig(REDIS, [REFUSED], "anonymous")),
          kongContainer([{ file: "/kong/declarative/kong.yml", content: stringify(kongConfig({ policy: "local" })) }]),
          resource(
            "kubernetes:core/v1:ConfigMap",
            { metadata: { name: "kong-map", namespace: "edge" }, data: { "kong.yml": stringify(kongConfig(REDIS)) } },
            "m",
          ),
          resource(
            RELEASE,
            { chart: "kong", namespace: "edge", values: { dblessConfig: { configMap: "kong-map" } } },
            "edge",
          ),
        ],
      },
    ],
  },
  "gateway-secret-to-issuers": {
    bad: [
      {
        why: "a non-issuer's Secret and container",
        resources: [
          resource(SECRET, {
            metadata: { name: "hotel-service", labels: { "app.kubernetes.io/name": "hotel-service" } },
            stringData: { GATEWAY_JWT_SECRET: "from-a-random-password", DB_PASSWORD: "x" },
          }),
          resource(CONTAINER, {
            name: "shop-dev-catalog",
            envs: ["PORT=8000", "GATEWAY_JWT_SECRET=from-a-random-password"],
            labels: [{ label: "platform.service", value: "catalog" }],
          }),
        ],
        says: [
          "hotel-service holds GATEWAY_JWT_SECRET but is not a marked token issuer",
          "shop-dev-catalog holds GATEWAY_JWT_SECRET but is not a marked token issuer",
        ],
      },
    ],
    good: [
      {
        why: "the marked issuer; a Secret without it",
        resources: [
          resource(SECRET, {
            metadata: { name: "auth-service", labels: { "platform/issues-tokens": "true" } },
            stringData: { GATEWAY_JWT_SECRET: "x" },
          }),
          resource(SECRET, { metadata: { name: "hotel-service" }, stringData: { DB_PASSWORD: "x" } }),
          resource(CONTAINER, {
            name: "shop-dev-auth",
            envs: ["GATEWAY_JWT_SECRET=from-a-random-password"],
            labels: [{ label: "platform.issues-tokens", value: "true" }],
          }),
        ],
      },
    ],
  },
  "gateway-tls-only": {
    bad: [
      {
        why: "no certificate; HTTP on a port the load balancer does not encrypt; the chart's defaults (HTTP on 80)",
        resources: [
          kongRelease((v) => delete v.proxy.annotations[`${ANNOTATION}ssl-cert`], "a"),
          kongRelease((v) => (v.proxy.http.servicePort = 80), "b"),
          resource(RELEASE, { chart: "kong", values: {} }, "c"),
        ],
        says: [
          "the LoadBalancer proxy serves plain HTTP on port 443: no ACM certificate (aws-load-balancer-ssl-cert)",
          "the LoadBalancer proxy serves plain HTTP on port 80: not among aws-load-balancer-ssl-ports (443)",
          "the LoadBalancer proxy serves plain HTTP on port 80: no ACM certificate (aws-load-balancer-ssl-cert)",
        ],
      },
    ],
    good: [
      {
        why: "TLS on every port; an internal proxy; HTTP off; another chart",
        resources: [
          kongRelease(() => undefined, "a"),
          kongRelease((v) => delete v.proxy.annotations[`${ANNOTATION}ssl-ports`], "b"),
          kongRelease((v) => (v.proxy = { type: "ClusterIP" }), "c"),
          kongRelease((v) => (v.proxy.http.servicePort = 0), "d"),
          resource(RELEASE, { chart: "loki", values: {} }, "e"),
        ],
      },
    ],
  },
  "gateway-tls-policy": {
    bad: [
      {
        why: "an old policy; none named (AWS's default)",
        resources: [
          kongRelease(
            (v) => (v.proxy.annotations[`${ANNOTATION}ssl-negotiation-policy`] = "ELBSecurityPolicy-TLS-1-1-2017-01"),
            "a",
          ),
          kongRelease((v) => delete v.proxy.annotations[`${ANNOTATION}ssl-negotiation-policy`], "b"),
        ],
        says: [
          "the load balancer negotiates with ELBSecurityPolicy-TLS-1-1-2017-01, which allows TLS below 1.2",
          "the load balancer negotiates with ELBSecurityPolicy-2016-08, which allows TLS below 1.2",
        ],
      },
    ],
    good: [
      {
        why: "the TLS13-1-2 family, TLS 1.3 only",
        resources: [
          kongRelease(() => undefined, "a"),
          kongRelease(
            (v) =>
              (v.proxy.annotations[`${ANNOTATION}ssl-negotiation-policy`] = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"),
            "b",
          ),
          kongRelease(
            (v) => (v.proxy.annotations[`${ANNOTATION}ssl-negotiation-policy`] = "ELBSecurityPolicy-TLS13-1-3-2021-06"),
            "c",
          ),
        ],
      },
    ],
  },
  "gateway-admin-private": {
    bad: [
      {
        why: "the chart's NodePort; a LoadBalancer with an Ingress",
        resources: [
          kongRelease((v) => (v.admin = { enabled: true }), "a"),
          kongRelease((v) => (v.admin = { enabled: true, type: "LoadBalancer", ingress: { enabled: true } }), "b"),
        ],
        says: [
          "the Admin API is a NodePort Service",
          "the Admin API is a LoadBalancer Service",
          "the Admin API has an Ingress",
        ],
      },
    ],
    good: [
      {
        why: "off; a ClusterIP",
        resources: [
          kongRelease(() => undefined, "a"),
          kongRelease((v) => (v.admin = { enabled: true, type: "ClusterIP" }), "b"),
        ],
      },
    ],
  },
  "no-exposed-services": {
    bad: [
      {
        why: "Kong Manager at the chart's default; Enterprise's admin and portals; Grafana as a LoadBalancer; a NodePort Service",
        resources: [
          kongRelease((v) => delete v.manager, "with-manager"),
          kongRelease((v) => ((v.enterprise = { enabled: true }), (v.admin = { enabled: true })), "enterprise"),
          resource(
            RELEASE,
            { name: "kps", chart: "kube-prometheus-stack", values: { grafana: { service: { type: "LoadBalancer" } } } },
            "kps",
          ),
          resource(
            SERVICE,
            { metadata: { name: "grafana", namespace: "monitoring" }, spec: { type: "NodePort" } },
            "np",
          ),
        ],
        says: [
          "release with-manager (chart kong) renders its manager Service as NodePort (the chart's default type)",
          "release enterprise (chart kong) renders its admin Service as NodePort (the chart's default type)",
          "release enterprise (chart kong) renders its portal Service as NodePort (the chart's default type)",
          "release enterprise (chart kong) renders its portalapi Service as NodePort (the chart's default type)",
          "release kps (chart kube-prometheus-stack) sets grafana.service.type LoadBalancer",
          "Service monitoring/grafana is of type NodePort",
        ],
      },
    ],
    good: [
      {
        why: "the gateway's release and the proxy Service the program reads back; a ClusterIP; Grafana's default Service",
        resources: [
          kongRelease(() => undefined),
          resource(
            SERVICE,
            { metadata: { name: "kong-kong-proxy", namespace: "kong" }, spec: { type: "LoadBalancer" } },
            "proxy",
          ),
          resource(SERVICE, { metadata: { name: "orders", namespace: "shop" }, spec: { type: "ClusterIP" } }, "orders"),
          resource(
            RELEASE,
            { name: "kps", chart: "kube-prometheus-stack", values: { grafana: { service: {} } } },
            "kps",
          ),
        ],
      },
    ],
  },
};
