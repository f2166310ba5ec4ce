import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { contextDigest } from "../components/aws/serviceImages";
import { REFERENCE_SERVICE_DIR } from "../components/docker/localImage";
import { IMAGES } from "../components/engines";
import {
  ECR_TOKEN_PASSWORD,
  RecordedResource,
  isSecretOnWire,
  ofType,
  plaintextOccurrences,
  runUnderMocks,
} from "../tools/mockRun";
import { runProgram } from "../stacks/program";
import { Problem, ValidationError } from "../services/problems";
import { catalogDocument, withCatalogFileLayers, writeCatalog } from "./helpers/catalogFiles";
import { runStack } from "../tools/stackRun";
import { devConfig, prodLayers } from "./helpers/stackConfigs";
import { fixedNameOf, parseEnvList } from "./helpers/envContract";

const projectDir = path.join(__dirname, "..");
const CONTAINER = "docker:index/container:Container";
const BUILT = "docker:index/image:Image";
const PULLED = "docker:index/remoteImage:RemoteImage";
const ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";

const containerOf = (resources: RecordedResource[], name: string) =>
  ofType(resources, CONTAINER).find((c) => c.inputs.name === name)!.inputs;
const envOf = (container: Record<string, any>) => parseEnvList(container.envs);
const deploymentImage = (resources: RecordedResource[], service: string) =>
  ofType(resources, "kubernetes:apps/v1:Deployment").find((d) => d.inputs.metadata.name === service)!.inputs.spec
    .template.spec.containers[0].image;

const program = () => runProgram(projectDir);

/** The problems of the ValidationError a platform layer's config stops with; fails if it declares anything. */
async function refusal(config: Record<string, string>): Promise<Problem[]> {
  let declared = 0;
  try {
    declared = (await runUnderMocks("prod", config, program)).resources.length;
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.problems;
  }
  return assert.fail(`declared ${declared} resources instead of failing`);
}

describe("service images", () => {
  describe("dev with platform:docker.referenceService", () => {
    for (const name of BUILTIN_CATALOGS) {
      it(`${name}: every service container and the front end run the one reference image, no catalog image is pulled`, async () => {
        const catalog = loadCatalog(builtinCatalogPath(name));
        const run = await runStack([{ stack: "dev", config: devConfig(name, { referenceService: true }) }]);
        const builds = ofType(run.resources, BUILT);
        assert.equal(builds.length, 1, "built once");
        assert.deepEqual(builds[0].inputs.build, {
          context: path.join(projectDir, "reference-service"),
          dockerfile: path.join(projectDir, "reference-service", "Dockerfile"),
        });
        assert.equal(REFERENCE_SERVICE_DIR, path.join(projectDir, "reference-service"));
        assert.equal(builds[0].inputs.skipPush, true);
        const pulled = new Set(ofType(run.resources, PULLED).map((r) => r.inputs.name));
        const catalogImages = [...catalog.services.map((s) => s.image), catalog.frontend?.image].filter(Boolean);
        assert.deepEqual(
          catalogImages.filter((image) => pulled.has(image!)),
          [],
        );
        assert.ok(pulled.has(IMAGES.kong), "the platform's own images are still pulled");

        const runs = [...catalog.services, ...(catalog.frontend ? [catalog.frontend] : [])].map((s) =>
          containerOf(run.resources, `${name}-dev-${s.name}`),
        );
        assert.equal(new Set(runs.map((c) => c.image)).size, 1, "one image for all");
        assert.match(runs[0].image, /^sha256:[a-f0-9]{64}$/, "the build's local image ID");
        for (const service of catalog.services) {
          const container = containerOf(run.resources, `${name}-dev-${service.name}`);
          const env = envOf(container);
          assert.equal(env.PORT, String(service.port), "keeps its port");
          assert.equal(env.HEALTH_PATH, service.health.path);
          // The reference service reads the fixed names whatever envContract says; the service's own stay beside them.
          for (const [key, template] of Object.entries(service.env)) {
            assert.ok(key in env, `${service.name} keeps ${key}`);
            if (!template.includes("${")) assert.equal(env[key], template);
            const fixed = fixedNameOf(template);
            if (fixed && fixed in env) assert.equal(env[key], env[fixed], `${service.name}: ${key} carries ${fixed}`);
          }
          assert.deepEqual(container.ports[0].internal, service.port);
          // busybox's wget (the reference image is alpine) takes exactly these flags.
          assert.equal(
            container.healthcheck.tests[1].split(" || ")[0],
            `wget -q -O /dev/null http://127.0.0.1:${service.port}${service.health.path}`,
          );
        }
        if (catalog.frontend) {
          const web = containerOf(run.resources, `${name}-dev-${catalog.frontend.name}`);
          assert.deepEqual(envOf(web).HEALTH_PATH, "/");
          assert.equal(envOf(web).PORT, String(catalog.frontend.port));
          assert.deepEqual(
            web.networksAdvanced.map((n: any) => n.name),
            [`${name}-dev-edge`, `${name}-dev-monitoring`],
            "on the network of the tracing endpoint it is given",
          );
        }
      });
    }

    it("runs the catalog's images when off, pulled by their names, and builds nothing", async () => {
      const catalog = loadCatalog(builtinCatalogPath("reservei"));
      const run = await runStack([{ stack: "dev", config: devConfig("reservei") }]);
      assert.deepEqual(ofType(run.resources, BUILT), []);
      for (const service of [...catalog.services, catalog.frontend!]) {
        assert.equal(containerOf(run.resources, `reservei-dev-${service.name}`).image, `sha256:${service.image}`);
      }
    });
  });

  describe("a catalog that builds, and one that names other registries", () => {
    let dir: string;
    let catalogFile: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "images-"));
      for (const service of ["orders", "billing"]) {
        fs.mkdirSync(path.join(dir, service));
        fs.writeFileSync(path.join(dir, service, "Dockerfile"), `FROM alpine:3.20\nLABEL service=${service}\n`);
      }
      catalogFile = path.join(dir, "shop.yaml");
      const entry = (name: string, port: number, image: string) =>
        `  - { name: ${name}, port: ${port}, resources: { cpu: 100m, memory: 64Mi }, ${image} }`;
      fs.writeFileSync(
        catalogFile,
        [
          "name: shop",
          "services:",
          entry("orders", 9001, "build: { context: ./orders }"),
          entry("billing", 9002, "image: shop/billing:2.0.0, build: { context: ./billing }"),
          entry("mailer", 9003, "image: ghcr.io/acme/mailer:1.4.0"),
          entry("stock", 9004, "image: shop/stock:3.1.0, routes: [{ paths: [/stock] }]"),
        ].join("\n"),
      );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("dev builds each build locally without pushing, tagged as its image or by the stack, and pulls the others", async () => {
      const config: Record<string, string> = { ...devConfig("bookings"), "platform:catalogFile": catalogFile };
      delete config["platform:catalog"];
      const run = await runStack([{ stack: "dev", config }]);
      const builds: Record<string, any> = Object.fromEntries(
        ofType(run.resources, BUILT).map((r) => [r.inputs.imageName, r.inputs]),
      );
      assert.deepEqual(Object.keys(builds).sort(), ["shop-dev/orders:local", "shop/billing:2.0.0"]);
      for (const build of Object.values(builds)) {
        assert.equal(build.skipPush, true);
        assert.equal(build.registry, undefined, "no registry");
        assert.equal(build.build.platform, undefined, "the machine's own platform");
      }
      assert.deepEqual(builds["shop-dev/orders:local"].build, {
        context: path.join(dir, "orders"),
        dockerfile: path.join(dir, "orders", "Dockerfile"),
      });
      assert.deepEqual(
        ofType(run.resources, PULLED)
          .map((r) => r.inputs.name)
          .filter((n) => /shop|acme/.test(n))
          .sort(),
        ["ghcr.io/acme/mailer:1.4.0", "shop/stock:3.1.0"],
      );
      const images = ["orders", "billing"].map((s) => containerOf(run.resources, `shop-dev-${s}`).image);
      assert.ok(images.every((image) => /^sha256:[a-f0-9]{64}$/.test(image)));
      assert.notEqual(images[0], images[1]);
    });

    it("prod builds for the nodes, pushes to the service's ECR repository and deploys the pushed digest; other registries as named", async () => {
      const run = await runStack(withCatalogFileLayers(prodLayers("bookings"), catalogFile));
      assert.deepEqual(
        ofType(run.all, BUILT).map((r) => r.stack),
        ["prod", "prod"],
        "the platform layer builds",
      );
      const builds = Object.fromEntries(ofType(run.resources, BUILT).map((r) => [r.name, r]));
      const orders = builds["shop-orders-image"];
      const billing = builds["shop-billing-image"];
      assert.equal(billing.inputs.imageName, `${ECR}/shop-billing-repo:2.0.0`);
      assert.equal(
        orders.inputs.imageName,
        `${ECR}/shop-orders-repo:src-${contextDigest(path.join(dir, "orders")).slice(0, 16)}`,
        "without a tag of its own, one per content (the repositories are immutable)",
      );
      for (const build of [orders, billing]) {
        assert.equal(build.inputs.skipPush, false);
        assert.equal(build.inputs.build.platform, "linux/amd64");
        assert.deepEqual(build.inputs.registry, { server: ECR, username: "AWS", password: ECR_TOKEN_PASSWORD });
        assert.ok(isSecretOnWire((build.wire.registry as Record<string, unknown>).password));
      }
      assert.deepEqual(plaintextOccurrences(run.all, [ECR_TOKEN_PASSWORD]), []);
      assert.match(
        deploymentImage(run.resources, "orders"),
        new RegExp(`^${ECR}/shop-orders-repo@sha256:[a-f0-9]{64}$`),
      );
      assert.match(
        deploymentImage(run.resources, "billing"),
        new RegExp(`^${ECR}/shop-billing-repo@sha256:[a-f0-9]{64}$`),
      );
      const runnerPolicy = ofType(run.all, "aws:iam/rolePolicy:RolePolicy").find((r) =>
        r.name.endsWith("runner-policy"),
      )!;
      assert.equal(runnerPolicy.stack, "prod-infra");
      assert.deepEqual(
        JSON.parse(runnerPolicy.inputs.policy).Statement.find((s: any) => s.Sid === "PushServiceImages").Resource,
        ["orders", "billing"].map((s) => `arn:aws:ecr:eu-west-1:123456789012:repository/shop-${s}-repo`),
        "the deploy runner may push to the repositories of the services it builds, and no other",
      );
      assert.equal(deploymentImage(run.resources, "mailer"), "ghcr.io/acme/mailer:1.4.0");
      assert.equal(deploymentImage(run.resources, "stock"), `${ECR}/shop/stock:3.1.0`, "the stack's full reference");
    });

    it("prod runs a full reference from platform:images as given, tag and digest included", async () => {
      const [infrastructure, platform] = withCatalogFileLayers(prodLayers("bookings"), catalogFile);
      const pinned = `registry.example.com:5000/shop/stock:3.1.0@sha256:${"ab".repeat(32)}`;
      const run = await runStack([
        infrastructure,
        { ...platform, config: { ...platform.config, "platform:images": JSON.stringify({ stock: pinned }) } },
      ]);
      assert.equal(deploymentImage(run.resources, "stock"), pinned);
    });

    it("prod refuses the platform layer while a service's image names no registry and nothing builds it", async () => {
      const [infrastructure, platform] = withCatalogFileLayers(prodLayers("bookings"), catalogFile);
      const problems = await refusal({ ...platform.config, "platform:images": "{}" });
      assert.deepEqual(
        problems.map((p) => p.path),
        ["platform:images.stock"],
        "the builds and the other registry's image need nothing",
      );
      assert.match(problems[0].message, /'shop\/stock:3\.1\.0' \(platform:catalogFile \(.*\)\.services\[3\]\.image\)/);
      const bare = await refusal({
        ...platform.config,
        "platform:images": JSON.stringify({ mailer: "acme/mailer:1.4.0" }),
      });
      assert.deepEqual(
        bare.map((p) => [p.path, p.message.split(" names")[0]]),
        [
          ["platform:images.mailer", "'acme/mailer:1.4.0' (set here)"],
          [
            "platform:images.stock",
            "'shop/stock:3.1.0' (platform:catalogFile (" + catalogFile + ").services[3].image)",
          ],
        ],
        "an override without a registry host is refused too",
      );
      // The infrastructure layer makes the repositories the images are pushed to first: it needs none.
      const infra = await runUnderMocks(
        infrastructure.stack,
        { ...infrastructure.config, "platform:images": "{}" },
        program,
      );
      assert.ok(ofType(infra.resources, "aws:ecr/repository:Repository").length === 4);
    });
  });

  describe("prod, every seed catalog", function () {
    this.timeout(60_000);
    for (const name of BUILTIN_CATALOGS) {
      it(`${name}: without platform:images, one error lists every service and the fields to set, before any resource`, async () => {
        const catalog = loadCatalog(builtinCatalogPath(name));
        const platform = prodLayers(name)[1];
        const { [`platform:images`]: _images, ...config } = platform.config;
        const problems = await refusal(config);
        assert.deepEqual(
          problems.map((p) => p.path),
          catalog.services.map((s) => `platform:images.${s.name}`),
        );
        catalog.services.forEach((service, i) => {
          const message = problems[i].message;
          assert.ok(message.startsWith(`'${service.image}' (catalog ${name}.services[${i}].image) names no registry`));
          assert.ok(message.includes(`.amazonaws.com/${name}/${service.name}:`), "names the service's ECR repository");
          assert.ok(message.includes(`catalog ${name}.services[${i}].build`), "or the build to give it");
        });
      });

      it(`${name}: every Deployment runs the digest its build pushed to its ECR repository, or the configured full reference`, async () => {
        // The first service builds from source; the others run what platform:images names.
        const document = catalogDocument(name);
        const context = fs.mkdtempSync(path.join(os.tmpdir(), "seed-build-"));
        fs.writeFileSync(path.join(context, "Dockerfile"), "FROM alpine:3.20\n");
        document.services[0].build = { context };
        const catalogFile = writeCatalog(document);
        try {
          const layers = withCatalogFileLayers(prodLayers(name), catalogFile);
          const configured: Record<string, string> = JSON.parse(layers[1].config["platform:images"]);
          const run = await runStack(layers);
          const built = document.services[0].name;
          assert.deepEqual(
            Object.keys(configured).sort(),
            document.services
              .slice(1)
              .map((s: any) => s.name)
              .sort(),
          );
          const pushes = ofType(run.resources, BUILT);
          assert.deepEqual(
            pushes.map((b) => b.inputs.imageName),
            [`${ECR}/${name}-${built}-repo:${document.services[0].image.split(":").pop()}`],
            "pushed to the service's own repository (the mocks' URL is the resource's name)",
          );
          const deployments = ofType(run.resources, "kubernetes:apps/v1:Deployment").filter(
            (d) => d.inputs.metadata.namespace === name,
          );
          assert.equal(deployments.length, document.services.length);
          for (const deployment of deployments) {
            const service = deployment.inputs.metadata.name;
            const image = deployment.inputs.spec.template.spec.containers[0].image;
            if (service === built)
              assert.match(image, new RegExp(`^${ECR}/${name}-${built}-repo@sha256:[a-f0-9]{64}$`));
            else assert.equal(image, configured[service], service);
          }
        } finally {
          fs.rmSync(context, { recursive: true, force: true });
          fs.rmSync(path.dirname(catalogFile), { recursive: true, force: true });
        }
      });
    }
  });

  it("tags a context by its files' paths and contents, leaving out .git and node_modules", () => {
    const context = fs.mkdtempSync(path.join(os.tmpdir(), "context-"));
    try {
      fs.writeFileSync(path.join(context, "Dockerfile"), "FROM alpine:3.20\n");
      fs.mkdirSync(path.join(context, "src"));
      fs.writeFileSync(path.join(context, "src", "main.ts"), "console.log(1);\n");
      const first = contextDigest(context);
      fs.mkdirSync(path.join(context, "node_modules"));
      fs.writeFileSync(path.join(context, "node_modules", "x.js"), "x");
      assert.equal(contextDigest(context), first, "installed dependencies do not count");
      fs.writeFileSync(path.join(context, "src", "main.ts"), "console.log(2);\n");
      const edited = contextDigest(context);
      assert.notEqual(edited, first);
      fs.renameSync(path.join(context, "src", "main.ts"), path.join(context, "src", "app.ts"));
      assert.notEqual(contextDigest(context), edited, "a renamed file counts");
    } finally {
      fs.rmSync(context, { recursive: true, force: true });
    }
  });
});
