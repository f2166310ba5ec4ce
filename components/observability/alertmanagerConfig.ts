import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { AlertReceivers } from "./alertingSettings";

/** Alertmanager's HTTP port (API, UI, and where Prometheus sends alerts). */
export const ALERTMANAGER_PORT = 9093;

/** The files holding the receivers' secrets, by name in the secrets directory the target mounts. */
export const RECEIVER_SECRET_FILES = {
  slackWebhookUrl: "slack-webhook-url",
  emailPassword: "smtp-password",
  pagerdutyRoutingKey: "pagerduty-routing-key",
} as const;

/** What the rendered config needs of the receivers: no secret value, only whether a secret file exists. */
export interface ReceiverSettings {
  slack?: { channel?: string };
  email?: { to: string[]; from: string; smarthost: string; authUsername?: string; authPassword: boolean };
  pagerduty?: boolean;
}

/** The receivers Alertmanager delivers to; PagerDuty's CloudWatch URL is SNS's, not Alertmanager's. */
export function receiverSettings(receivers: AlertReceivers): ReceiverSettings {
  const { slack, email, pagerduty } = receivers;
  return {
    slack: slack && { channel: slack.channel },
    email: email && {
      to: email.to,
      from: email.from,
      smarthost: email.smarthost,
      authUsername: email.authUsername,
      authPassword: email.authPassword !== undefined,
    },
    pagerduty: pagerduty?.routingKey !== undefined,
  };
}

/** The secret files the config reads, file name -> secret value. */
export function receiverSecretFiles(receivers: AlertReceivers): Record<string, pulumi.Output<string>> {
  const files: Record<string, pulumi.Output<string> | undefined> = {
    [RECEIVER_SECRET_FILES.slackWebhookUrl]: receivers.slack?.webhookUrl,
    [RECEIVER_SECRET_FILES.emailPassword]: receivers.email?.authPassword,
    [RECEIVER_SECRET_FILES.pagerdutyRoutingKey]: receivers.pagerduty?.routingKey,
  };
  return Object.fromEntries(
    Object.entries(files).flatMap(([file, value]) => (value === undefined ? [] : [[file, value]])),
  );
}

/** Receiver names: what a route names, and what a test of the routing tree expects. */
export const RECEIVERS = {
  critical: "critical",
  warning: "warning",
  /** No integration: the alert is visible in Alertmanager's UI and API only (dev without receivers). */
  local: "alertmanager-ui",
  /** Drops what nobody should get: kube-prometheus-stack's always-firing Watchdog, info alerts. */
  discard: "null",
} as const;

/** Timing of notifications: the first after group_wait, changes after group_interval, reminders after repeat_interval. */
export const NOTIFICATION_TIMING = {
  groupWait: "30s",
  groupInterval: "5m",
  repeatInterval: "4h",
  /** A critical alert still firing is repeated sooner. */
  criticalRepeatInterval: "1h",
};

const TITLE =
  '[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] ' +
  "{{ .CommonLabels.alertname }}{{ with .CommonLabels.service }} ({{ . }}){{ end }}";
const TEXT = "{{ range .Alerts }}{{ .Annotations.summary }}: {{ .Annotations.description }}\n{{ end }}";

/**
 * Alertmanager's config: critical alerts to everything configured (PagerDuty, Slack, e-mail),
 * warnings to Slack and e-mail (to PagerDuty when it is the only receiver, as low urgency), grouped
 * by alert and service. A critical alert silences the warnings of the same service. Secrets are read
 * from files in `secretsDir` (RECEIVER_SECRET_FILES), so the config itself holds none. Without any
 * receiver, alerts stay in Alertmanager's UI.
 */
export function alertmanagerConfig(receivers: ReceiverSettings, secretsDir: string): Record<string, unknown> {
  const file = (name: string) => `${secretsDir}/${name}`;
  const slack = receivers.slack && [slackConfig(receivers.slack, file(RECEIVER_SECRET_FILES.slackWebhookUrl))];
  const email = receivers.email && [emailConfig(receivers.email, file(RECEIVER_SECRET_FILES.emailPassword))];
  const pagerduty = receivers.pagerduty && [pagerdutyConfig(file(RECEIVER_SECRET_FILES.pagerdutyRoutingKey))];
  const chat = { ...(slack && { slack_configs: slack }), ...(email && { email_configs: email }) };
  const critical = { ...(pagerduty && { pagerduty_configs: pagerduty }), ...chat };
  const warning = slack || email ? chat : { ...(pagerduty && { pagerduty_configs: pagerduty }) };
  const any = Object.keys(critical).length > 0;
  const criticalReceiver = any ? RECEIVERS.critical : RECEIVERS.local;
  const warningReceiver = any ? RECEIVERS.warning : RECEIVERS.local;
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: warningReceiver,
      group_by: ["alertname", "service"],
      group_wait: NOTIFICATION_TIMING.groupWait,
      group_interval: NOTIFICATION_TIMING.groupInterval,
      repeat_interval: NOTIFICATION_TIMING.repeatInterval,
      routes: [
        { receiver: RECEIVERS.discard, matchers: ['alertname=~"Watchdog|InfoInhibitor"'] },
        { receiver: RECEIVERS.discard, matchers: ['severity="info"'] },
        {
          receiver: criticalReceiver,
          matchers: ['severity="critical"'],
          repeat_interval: NOTIFICATION_TIMING.criticalRepeatInterval,
        },
        { receiver: warningReceiver, matchers: ['severity="warning"'] },
      ],
    },
    receivers: [
      ...(any
        ? [
            { name: RECEIVERS.critical, ...critical },
            { name: RECEIVERS.warning, ...warning },
          ]
        : [{ name: RECEIVERS.local }]),
      { name: RECEIVERS.discard },
    ],
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        // Only alerts about a service: a missing label counts as equal, and would let any critical
        // alert without one silence every warning without one.
        target_matchers: ['severity="warning"', 'service=~".+"'],
        equal: ["service"],
      },
    ],
  };
}

function slackConfig(slack: NonNullable<ReceiverSettings["slack"]>, urlFile: string): Record<string, unknown> {
  return {
    api_url_file: urlFile,
    ...(slack.channel && { channel: slack.channel }),
    send_resolved: true,
    title: TITLE,
    text: TEXT,
  };
}

function emailConfig(email: NonNullable<ReceiverSettings["email"]>, passwordFile: string): Record<string, unknown> {
  return {
    to: email.to.join(", "),
    from: email.from,
    smarthost: email.smarthost,
    ...(email.authUsername && { auth_username: email.authUsername }),
    ...(email.authPassword && { auth_password_file: passwordFile }),
    require_tls: true,
    send_resolved: true,
    headers: { Subject: TITLE },
  };
}

function pagerdutyConfig(keyFile: string): Record<string, unknown> {
  return {
    routing_key_file: keyFile,
    send_resolved: true,
    // Events API v2 severities; PagerDuty's service rules can make warnings low urgency.
    severity: '{{ if eq .CommonLabels.severity "critical" }}critical{{ else }}warning{{ end }}',
    description: TITLE,
  };
}

export function renderAlertmanagerConfig(receivers: ReceiverSettings, secretsDir: string): string {
  // Critical and warning share integrations: written out twice, not as YAML aliases.
  return stringify(alertmanagerConfig(receivers, secretsDir), { aliasDuplicateObjects: false });
}
