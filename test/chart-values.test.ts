import { strict as assert } from "assert";
import { kongValues, lokiValues } from "../components/kubernetes/chartValues";
import { CHARTS } from "../components/kubernetes/PlatformCharts";
import { lokiRetentionProblems } from "./helpers/lokiRetention";

/**
 * What the pinned charts make of our values, read from their templates (rendered offline with
 * helm-template while writing this); each function names the template lines it stands for.
 */

interface KongListenBlock {
  enabled: boolean;
  servicePort: number;
  containerPort: number;
  overrideServiceTargetPort?: number;
}

/** Kong 2.47.0's proxy http and tls blocks: the chart's defaults (values.yaml:302-320) under ours. */
function kongProxyBlocks(values: any): { http: KongListenBlock; tls: KongListenBlock } {
  return {
    http: { enabled: true, servicePort: 80, containerPort: 8000, ...values.proxy.http },
    tls: { enabled: true, servicePort: 443, containerPort: 8443, ...values.proxy.tls },
  };
}

/**
 * KONG_PROXY_LISTEN (templates/_helpers.tpl:1060 sets it from "kong.listen", :277-325): one listener
 * per enabled block, the tls block's with `ssl`. Disabled blocks listen nowhere.
 */
function kongProxyListeners(values: any): Array<{ port: number; ssl: boolean }> {
  const { http, tls } = kongProxyBlocks(values);
  return [
    ...(http.enabled ? [{ port: http.containerPort, ssl: false }] : []),
    ...(tls.enabled ? [{ port: tls.containerPort, ssl: true }] : []),
  ];
}

/**
 * The proxy Service's ports ("kong.service", templates/_helpers.tpl:211-231): the http block's unless
 * its servicePort is 0, targeting its containerPort; the tls block's, targeting overrideServiceTargetPort
 * when set, else its containerPort.
 */
function kongProxyServicePorts(values: any): Array<{ port: number; targetPort: number }> {
  const { http, tls } = kongProxyBlocks(values);
  return [
    ...(http.enabled && http.servicePort !== 0 ? [{ port: http.servicePort, targetPort: http.containerPort }] : []),
    ...(tls.enabled ? [{ port: tls.servicePort, targetPort: tls.overrideServiceTargetPort ?? tls.containerPort }] : []),
  ];
}

/** KONG_PORT_MAPS ("kong.port_maps", templates/_helpers.tpl:331-346): servicePort:containerPort of the enabled blocks. */
function kongPortMaps(values: any): string[] {
  const { http, tls } = kongProxyBlocks(values);
  return [
    ...(http.enabled && http.servicePort !== 0 ? [`${http.servicePort}:${http.containerPort}`] : []),
    ...(tls.enabled ? [`${tls.servicePort}:${tls.containerPort}`] : []),
  ];
}

describe(`Kong chart ${CHARTS.kong.version}: the load balancer reaches a listener`, () => {
  const values = kongValues(
    "arn:aws:acm:eu-west-1:123456789012:certificate/gateway",
    "kong-declarative",
    { owner: "platform-team" },
    "checksum",
  );
  const proxy = values.proxy as { annotations: Record<string, string> };

  it("exposes 443 only, terminating TLS at the NLB and forwarding plain TCP", () => {
    const ports = kongProxyServicePorts(values);
    assert.deepEqual(
      ports.map((p) => p.port),
      [443],
      "no plain port (80) faces out",
    );
    assert.equal(proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-ssl-ports"], "443");
    assert.equal(proxy.annotations["service.beta.kubernetes.io/aws-load-balancer-backend-protocol"], "tcp");
  });

  it("forwards 443 to a port in KONG_PROXY_LISTEN that speaks plain HTTP, as the NLB sends it", () => {
    const [https] = kongProxyServicePorts(values);
    const listeners = kongProxyListeners(values);
    assert.deepEqual(
      listeners.filter((l) => l.port === https.targetPort),
      [{ port: https.targetPort, ssl: false }],
      `443 targets ${https.targetPort}; Kong listens on ${JSON.stringify(listeners)}`,
    );
    // Kong reports the port clients used (X-Forwarded-Port) from these maps.
    assert.ok(kongPortMaps(values).includes(`443:${https.targetPort}`));
  });
});

/**
 * The Loki config chart 6.18.0 renders from our values (values.yaml `loki.config`, :121 on), as far as
 * retention goes: common from loki.commonConfig over the chart's (path_prefix /var/loki, :315-316;
 * rendered at :157-159), limits_config (:164-166), schema_config (:192-194) and compactor (:243-245)
 * as given.
 */
function lokiChartConfig(values: any): Record<string, unknown> {
  const { loki } = values;
  return {
    common: { path_prefix: "/var/loki", ...loki.commonConfig },
    limits_config: loki.limits_config,
    schema_config: loki.schemaConfig,
    compactor: loki.compactor,
  };
}

describe(`Loki chart ${CHARTS.loki.version}: log retention applies`, () => {
  it("enables the compactor's retention with a delete request store, on the single binary's volume", () => {
    const values = lokiValues("gp3-encrypted") as any;
    assert.notEqual(values.singleBinary.persistence.enabled, false);
    // templates/single-binary/statefulset.yaml:189-191 mounts the `storage` claim at /var/loki.
    assert.deepEqual(lokiRetentionProblems(lokiChartConfig(values), "/var/loki"), []);
    assert.equal((lokiChartConfig(values).common as any).path_prefix, "/var/loki", "Loki's data on that volume too");
  });

  it("gives the chart's ServiceMonitor no Service without metrics: no gateway, no canary", () => {
    const values = lokiValues("gp3-encrypted") as any;
    assert.equal(values.monitoring.serviceMonitor.enabled, true);
    // templates/monitoring/servicemonitor.yaml selects every Service of the release (its name and
    // instance labels, unless labelled prometheus.io/service-monitor: "false"): with the gateway
    // (templates/gateway/service-gateway.yaml) that is nginx's port, which serves no /metrics.
    assert.equal(values.gateway.enabled, false);
    // Without the gateway the canary would talk to the single binary ("loki.host", templates/_helpers.tpl:686-693);
    // it is off, and the `helm test` Pod that requires it (templates/validate.yaml) too.
    assert.deepEqual([values.lokiCanary.enabled, values.test.enabled], [false, false]);
  });

  it("the check finds what Loki 3 would refuse or ignore", () => {
    assert.deepEqual(
      lokiRetentionProblems(
        {
          limits_config: { retention_period: "168h" },
          schema_config: { configs: [{ from: "2024-01-01", object_store: "filesystem", index: { period: "24h" } }] },
        },
        "/var/loki",
      ),
      [
        "compactor.retention_enabled is not true",
        "compactor.delete_request_store is not set",
        "compactor.working_directory is not on the volume at /var/loki",
      ],
    );
  });
});
