import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { AlertReceivers } from "../observability/alertingSettings";
import { ManagedStores, StoreAlarm, storeAlarms } from "./storeAlarms";

export interface ManagedStoreAlarmsArgs {
  namePrefix: string;
  /** The platform key, which encrypts the topic. */
  kmsKeyArn: pulumi.Input<string>;
  /** Where alarms go: the e-mail addresses and PagerDuty's CloudWatch integration (validation requires one). */
  alerting: AlertReceivers;
  stores: ManagedStores;
}

/**
 * CloudWatch alarms on the managed stores (RDS, ElastiCache, DocumentDB, Amazon MQ; thresholds in
 * storeAlarms.ts), publishing their alarms and recoveries to one SNS topic encrypted with the
 * platform key, to which the stack's receivers subscribe: each e-mail address (which confirms by
 * mail), and PagerDuty's Amazon CloudWatch integration URL (which confirms by itself).
 */
export class ManagedStoreAlarms extends pulumi.ComponentResource {
  readonly topicArn: pulumi.Output<string>;

  constructor(name: string, args: ManagedStoreAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:ManagedStoreAlarms", name, {}, opts);
    const topic = this.createTopic(name, args);
    this.subscribe(name, topic, args.alerting);
    for (const alarm of storeAlarms(args.stores)) this.createAlarm(name, args.namePrefix, alarm, topic);
    this.topicArn = topic.arn;
    this.registerOutputs({ topicArn: this.topicArn });
  }

  /** The topic, which CloudWatch alarms of this account alone may publish to, over TLS. */
  private createTopic(name: string, args: ManagedStoreAlarmsArgs): aws.sns.Topic {
    const topic = new aws.sns.Topic(
      `${name}-topic`,
      { name: `${args.namePrefix}-store-alarms`, kmsMasterKeyId: args.kmsKeyArn },
      { parent: this },
    );
    const account = aws.getCallerIdentityOutput({}, { parent: this }).accountId;
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: topic.arn,
        policy: pulumi.all([topic.arn, account]).apply(([arn, accountId]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CloudWatchAlarms",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: arn,
                Condition: { StringEquals: { "aws:SourceAccount": accountId } },
              },
              {
                Sid: "TlsOnly",
                Effect: "Deny",
                Principal: "*",
                Action: "sns:Publish",
                Resource: arn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          }),
        ),
      },
      { parent: this },
    );
    return topic;
  }

  private subscribe(name: string, topic: aws.sns.Topic, alerting: AlertReceivers): void {
    for (const [i, address] of (alerting.email?.to ?? []).entries()) {
      new aws.sns.TopicSubscription(
        `${name}-email-${i + 1}`,
        { topic: topic.arn, protocol: "email", endpoint: address },
        { parent: this },
      );
    }
    const pagerduty = alerting.pagerduty?.cloudwatchUrl;
    if (pagerduty) {
      new aws.sns.TopicSubscription(
        `${name}-pagerduty`,
        { topic: topic.arn, protocol: "https", endpoint: pagerduty, endpointAutoConfirms: true },
        { parent: this },
      );
    }
  }

  private createAlarm(name: string, prefix: string, alarm: StoreAlarm, topic: aws.sns.Topic): void {
    const source =
      "query" in alarm.metric
        ? {
            metricQueries: [
              { id: "q1", expression: alarm.metric.query, period: alarm.periodSeconds, returnData: true },
            ],
          }
        : {
            namespace: alarm.metric.namespace,
            metricName: alarm.metric.name,
            dimensions: alarm.metric.dimensions,
            statistic: alarm.metric.statistic,
            period: alarm.periodSeconds,
          };
    new aws.cloudwatch.MetricAlarm(
      `${name}-${alarm.name}`,
      {
        name: `${prefix}-${alarm.name}`,
        alarmDescription: alarm.description,
        ...source,
        comparisonOperator: alarm.comparison,
        threshold: alarm.threshold,
        evaluationPeriods: alarm.periods,
        treatMissingData: alarm.missingData,
        alarmActions: [topic.arn],
        okActions: [topic.arn],
      },
      { parent: this },
    );
  }
}
