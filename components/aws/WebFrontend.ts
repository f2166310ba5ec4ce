import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { MANAGED_POLICIES, assetFiles, gatewayPathPatterns, renderSpaRewrite, wafRules } from "./webFrontendConfig";

export interface WebFrontendArgs {
  namePrefix: string;
  /** The gateway's DNS name, covered by its load balancer's certificate: the API origin. */
  gatewayDomain: pulumi.Input<string>;
  /** Path prefixes the gateway answers; every other path is the app's. */
  gatewayPaths: string[];
  /** The built app, uploaded when given; otherwise the bucket is filled by the app's own pipeline. */
  assetsDir?: string;
  /** Viewer certificate (us-east-1) for `aliases`; CloudFront's default certificate and domain without. */
  certificateArn?: string;
  aliases: string[];
  rateLimitPer5Minutes: number;
  priceClass: string;
}

const S3_ORIGIN = "app";
const GATEWAY_ORIGIN = "gateway";
/** CloudFront-scoped web ACLs live in us-east-1 whatever the stack's region. */
const CLOUDFRONT_WAF_REGION = "us-east-1";

/**
 * The web front end in prod: the built app in a private, encrypted, versioned S3 bucket that only
 * this CloudFront distribution can read (origin access control), the gateway's paths forwarded
 * uncached to the gateway over verified TLS, HTTPS only with the managed security headers, and an
 * AWS WAF web ACL (rate limit per address, common exploits incl. XSS, known bad inputs, SQL injection).
 */
export class WebFrontend extends pulumi.ComponentResource {
  readonly url: pulumi.Output<string>;
  readonly bucketName: pulumi.Output<string>;
  readonly distributionId: pulumi.Output<string>;

  constructor(name: string, args: WebFrontendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("platform:aws:WebFrontend", name, {}, opts);
    const child = { parent: this };

    const bucket = new aws.s3.Bucket(`${name}-assets`, { bucketPrefix: `${args.namePrefix}-web-` }, child);
    const ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        // SSE-S3: CloudFront's origin access control reads it without a KMS key grant.
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
      child,
    );
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      child,
    );

    const originAccess = new aws.cloudfront.OriginAccessControl(
      `${name}-oac`,
      {
        name: `${args.namePrefix}-web`,
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      child,
    );
    const spaRewrite = new aws.cloudfront.Function(
      `${name}-spa-rewrite`,
      {
        name: `${args.namePrefix}-spa-rewrite`,
        runtime: "cloudfront-js-2.0",
        code: renderSpaRewrite(),
        publish: true,
      },
      child,
    );
    const firewall = new aws.wafv2.WebAcl(
      `${name}-waf`,
      {
        name: `${args.namePrefix}-web`,
        scope: "CLOUDFRONT",
        region: CLOUDFRONT_WAF_REGION,
        defaultAction: { allow: {} },
        rules: wafRules(args.namePrefix, args.rateLimitPer5Minutes),
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          sampledRequestsEnabled: true,
          metricName: `${args.namePrefix}-web`,
        },
      },
      child,
    );

    const distribution = new aws.cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: `${args.namePrefix} web front end`,
        aliases: args.aliases,
        defaultRootObject: "index.html",
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: args.priceClass,
        webAclId: firewall.arn,
        origins: [
          { originId: S3_ORIGIN, domainName: bucket.bucketRegionalDomainName, originAccessControlId: originAccess.id },
          {
            originId: GATEWAY_ORIGIN,
            domainName: args.gatewayDomain,
            customOriginConfig: {
              httpPort: 80,
              httpsPort: 443,
              originProtocolPolicy: "https-only",
              originSslProtocols: ["TLSv1.2"],
            },
          },
        ],
        defaultCacheBehavior: {
          targetOriginId: S3_ORIGIN,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD", "OPTIONS"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: MANAGED_POLICIES.cachingOptimized,
          responseHeadersPolicyId: MANAGED_POLICIES.securityHeaders,
          functionAssociations: [{ eventType: "viewer-request", functionArn: spaRewrite.arn }],
        },
        orderedCacheBehaviors: gatewayPathPatterns(args.gatewayPaths).map((pathPattern) => ({
          pathPattern,
          targetOriginId: GATEWAY_ORIGIN,
          viewerProtocolPolicy: "https-only",
          allowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
          cachedMethods: ["GET", "HEAD"],
          compress: true,
          cachePolicyId: MANAGED_POLICIES.cachingDisabled,
          originRequestPolicyId: MANAGED_POLICIES.allViewerExceptHostHeader,
          responseHeadersPolicyId: MANAGED_POLICIES.securityHeaders,
        })),
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: args.certificateArn
          ? {
              acmCertificateArn: args.certificateArn,
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1.2_2021",
            }
          : { cloudfrontDefaultCertificate: true },
      },
      child,
    );

    new aws.s3.BucketPolicy(
      `${name}-policy`,
      {
        bucket: bucket.id,
        policy: pulumi.all([bucket.arn, distribution.arn]).apply(([bucketArn, distributionArn]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CloudFrontReadsThroughOriginAccessControl",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: "s3:GetObject",
                Resource: `${bucketArn}/*`,
                Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
              },
              {
                Sid: "TlsOnly",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          }),
        ),
      },
      { parent: this, dependsOn: [publicAccess] },
    );

    // Without assetsDir the app's own pipeline fills the bucket (README: the prod front end).
    for (const file of args.assetsDir ? assetFiles(args.assetsDir) : []) {
      new aws.s3.BucketObjectv2(
        `${name}-asset-${file.key}`,
        {
          bucket: bucket.id,
          key: file.key,
          source: new pulumi.asset.FileAsset(file.source),
          contentType: file.contentType,
          cacheControl: file.cacheControl,
        },
        { parent: this, dependsOn: [ownership] },
      );
    }

    this.url = pulumi.interpolate`https://${args.aliases[0] ?? distribution.domainName}/`;
    this.bucketName = bucket.bucket;
    this.distributionId = distribution.id;
    this.registerOutputs({ url: this.url, bucketName: this.bucketName, distributionId: this.distributionId });
  }
}
