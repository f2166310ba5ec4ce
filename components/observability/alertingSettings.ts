import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { Problem, error } from "../../services/problems";

const emailAddress = z.string().regex(/^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/, "must be an e-mail address");

/**
 * Where alerts go, on every target (`platform:alerting`). The URL, password and keys are secrets:
 * set them with `pulumi config set --secret --path 'platform:alerting.<field>' <value>`.
 */
export const AlertingSettingsSchema = z
  .object({
    slack: z
      .object({
        /** A Slack incoming webhook (secret). */
        webhookUrl: z.string().regex(/^https:\/\/\S+$/, "must be the https URL of a Slack incoming webhook"),
        /** The webhook's own channel unless set. */
        channel: z
          .string()
          .regex(/^[#@]?[a-z0-9._-]{1,80}$/, "must be a Slack channel such as #alerts")
          .optional(),
      })
      .strict()
      .optional(),
    email: z
      .object({
        to: z.array(emailAddress).min(1, "must list at least one address"),
        from: emailAddress,
        /** The SMTP relay, host:port; Alertmanager requires STARTTLS. */
        smarthost: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port of an SMTP server"),
        authUsername: z.string().min(1).optional(),
        /** Secret. */
        authPassword: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    pagerduty: z
      .object({
        /** Integration key of a PagerDuty Events API v2 integration, which Alertmanager pages (secret). */
        routingKey: z
          .string()
          .regex(/^[0-9A-Za-z]{32}$/, "must be the 32-character integration key of an Events API v2 integration")
          .optional(),
        /**
         * Integration URL of a PagerDuty Amazon CloudWatch integration, which the managed stores'
         * CloudWatch alarms page through SNS (secret).
         */
        cloudwatchUrl: z
          .string()
          .regex(
            /^https:\/\/events\.pagerduty\.com\/\S+$/,
            "must be the https://events.pagerduty.com/... URL of an Amazon CloudWatch integration",
          )
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type AlertingSettings = z.output<typeof AlertingSettingsSchema>;

/** The receivers as components get them: every secret wrapped as a Pulumi secret. */
export interface AlertReceivers {
  slack?: { webhookUrl: pulumi.Output<string>; channel?: string };
  email?: {
    to: string[];
    from: string;
    smarthost: string;
    authUsername?: string;
    authPassword?: pulumi.Output<string>;
  };
  pagerduty?: { routingKey?: pulumi.Output<string>; cloudwatchUrl?: pulumi.Output<string> };
}

/** Wraps the secrets of plaintext settings (read from the stack config) as Pulumi secrets. */
export function alertReceivers(settings: AlertingSettings): AlertReceivers {
  const secret = (value: string | undefined) => (value === undefined ? undefined : pulumi.secret(value));
  const { slack, email, pagerduty } = settings;
  return {
    slack: slack && { webhookUrl: pulumi.secret(slack.webhookUrl), channel: slack.channel },
    email: email && { ...email, authPassword: secret(email.authPassword) },
    pagerduty: pagerduty && {
      routingKey: secret(pagerduty.routingKey),
      cloudwatchUrl: secret(pagerduty.cloudwatchUrl),
    },
  };
}

/**
 * How a target delivers alerts: Alertmanager (Prometheus' alerts, both targets) or SNS (the managed
 * stores' CloudWatch alarms, prod's infrastructure layer). Each reaches only some receivers.
 */
export type AlertDelivery = "alertmanager" | "sns";

const FIELD = "platform:alerting";

/** The fields that give a delivery a receiver, as a user sets them. */
const RECEIVER_FIELDS: Record<AlertDelivery, string[]> = {
  alertmanager: [`${FIELD}.slack.webhookUrl`, `${FIELD}.email (to, from, smarthost)`, `${FIELD}.pagerduty.routingKey`],
  // SNS delivers to e-mail and HTTPS endpoints that confirm themselves; Slack's webhooks do not.
  sns: [`${FIELD}.email.to`, `${FIELD}.pagerduty.cloudwatchUrl`],
};

function reaches(settings: AlertingSettings, delivery: AlertDelivery): boolean {
  return delivery === "alertmanager"
    ? Boolean(settings.slack || settings.email || settings.pagerduty?.routingKey)
    : Boolean(settings.email || settings.pagerduty?.cloudwatchUrl);
}

/**
 * The receivers must be usable, and a stack that must page someone (prod) must have one its
 * delivery reaches. Dev may have none: its alerts stay in the local Alertmanager's UI.
 */
export function alertingProblems(settings: AlertingSettings, delivery: AlertDelivery, required: boolean): Problem[] {
  const problems: Problem[] = [];
  const email = settings.email;
  if (email && (email.authUsername === undefined) !== (email.authPassword === undefined)) {
    problems.push(error(`${FIELD}.email`, "set authUsername and authPassword together (or neither, for a relay)"));
  }
  if (required && !reaches(settings, delivery)) {
    const fields = RECEIVER_FIELDS[delivery];
    problems.push(
      error(
        FIELD,
        `no receiver: alerts would reach nobody; set ${fields.slice(0, -1).join(", ")} or ${fields.at(-1)} ` +
          "(secrets with pulumi config set --secret --path)",
      ),
    );
  }
  return problems;
}
