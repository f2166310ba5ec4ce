// Third-party images are pinned by digest in one table (components/engines.ts, IMAGES), the tag kept
// for reading: every entry has the form, no digest is written anywhere else, every catalog version
// runs an exact release, and every image the dev and prod programs declare comes from the table
// (or is a service's own image: the catalog's on dev, the full reference platform:images names on prod).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { AWAITING_DIGEST, DATABASE_ENGINES, IMAGES } from "../components/engines";
import { DATABASE_VERSIONS, PINNED_IMAGE, TAGGED_DIGEST_IMAGE, imageTagOrDigest } from "../services/schema";
import { BUILTIN_CATALOGS, builtinCatalogPath, loadCatalog } from "../services/load";
import { RecordedResource, ofType } from "../tools/mockRun";
import { runStack } from "../tools/stackRun";
import { devConfig, prodLayers } from "./helpers/stackConfigs";

const projectDir = path.join(__dirname, "..");
const TABLE_FILE = "components/engines.ts";
const DIGEST = /sha256:[a-f0-9]{64}/;

const tableImages = new Set<string>(Object.values(IMAGES));
const awaiting = new Set<string>(AWAITING_DIGEST.map((key) => IMAGES[key]));

/** Every .ts file under the folders (node_modules aside), project-relative with "/" separators. */
function sourceFiles(folders: string[]): string[] {
  return folders.flatMap((folder) =>
    fs
      .readdirSync(path.join(projectDir, folder), { recursive: true, encoding: "utf8" })
      .map((file) => `${folder}/${file.split(path.sep).join("/")}`)
      .filter((file) => file.endsWith(".ts") && !file.includes("/node_modules/")),
  );
}

/** A reference from the table: digest-pinned, or one of the few still awaiting a digest. */
function assertFromTable(image: string, where: string): void {
  assert.ok(tableImages.has(image), `${where}: ${image} is not in ${TABLE_FILE} IMAGES`);
  assert.ok(TAGGED_DIGEST_IMAGE.test(image) || awaiting.has(image), `${where}: ${image} is not pinned by digest`);
}

/** Every image a pod spec (Deployment, StatefulSet, DaemonSet, Job, CronJob) of the run names, with its object. */
function podImages(resources: RecordedResource[]): Array<{ image: string; where: string }> {
  const kinds = ["apps/v1:Deployment", "apps/v1:StatefulSet", "apps/v1:DaemonSet", "batch/v1:Job", "batch/v1:CronJob"];
  return kinds.flatMap((kind) =>
    ofType(resources, `kubernetes:${kind}`).flatMap((r) => {
      const template = kind.endsWith("CronJob") ? r.inputs.spec.jobTemplate.spec.template : r.inputs.spec.template;
      const containers = [...(template.spec.initContainers ?? []), ...template.spec.containers];
      return containers.map((c: { image: string; name: string }) => ({
        image: c.image,
        where: `${kind} ${r.inputs.metadata.name}/${c.name}`,
      }));
    }),
  );
}

describe("pinned third-party images", () => {
  it("pins every table entry as name:tag@sha256:<64 hex>, but those awaiting a digest", () => {
    for (const [key, image] of Object.entries(IMAGES)) {
      if (awaiting.has(image)) {
        assert.ok(PINNED_IMAGE.test(image), `${key}: ${image} names no tag`);
        assert.ok(!DIGEST.test(image), `${key} is pinned now: take it off AWAITING_DIGEST`);
      } else assert.match(image, TAGGED_DIGEST_IMAGE, key);
    }
  });

  it("accepts a tag, a digest or both wherever an image is given, and keeps both when prod retargets it to ECR", () => {
    const digest = `sha256:${"0a".repeat(32)}`;
    const accepted = [
      `shop/orders:V1_2@${digest}`,
      `registry.local:5000/x:1.0@${digest}`,
      `x@${digest}`,
      "shop/orders:1.0",
    ];
    const refused = [
      `shop/orders:latest@${digest}`,
      "shop/orders:latest",
      "shop/orders",
      `shop/orders:1.0@${digest.slice(0, -1)}`,
    ];
    assert.deepEqual(
      accepted.filter((image) => !PINNED_IMAGE.test(image)),
      [],
    );
    assert.deepEqual(
      refused.filter((image) => PINNED_IMAGE.test(image)),
      [],
    );
    assert.deepEqual(
      accepted.map((image) => TAGGED_DIGEST_IMAGE.test(image)),
      [true, true, false, false],
      "the table's form: both",
    );
    assert.equal(imageTagOrDigest(`shop/orders:V1_2@${digest}`), `:V1_2@${digest}`);
    assert.equal(imageTagOrDigest(`registry.local:5000/x@${digest}`), `@${digest}`);
  });

  it("names where each digest was read, and each image awaiting one, in docs/image-digests.md", () => {
    const doc = fs.readFileSync(path.join(projectDir, "docs", "image-digests.md"), "utf8");
    const [pinnedPart, awaitingPart] = doc.split("## Awaiting a digest");
    for (const [key, image] of Object.entries(IMAGES)) {
      const row = `| \`${key}\` | \`${image.split("@")[0]}\` |`;
      assert.ok((awaiting.has(image) ? awaitingPart : pinnedPart).includes(row), `no row ${row}`);
    }
  });

  it("writes a digest only in the table: nowhere else in components, stacks, services, tools or policies", () => {
    const files = sourceFiles(["components", "stacks", "services", "tools", "policies"]);
    assert.ok(files.includes(TABLE_FILE));
    const elsewhere = files.filter(
      (file) => file !== TABLE_FILE && DIGEST.test(fs.readFileSync(path.join(projectDir, file), "utf8")),
    );
    assert.deepEqual(elsewhere, []);
  });

  it("runs every catalog version as one exact release of that line, from the table", () => {
    for (const [engine, versions] of Object.entries(DATABASE_VERSIONS)) {
      for (const version of versions) {
        const image = DATABASE_ENGINES[engine as keyof typeof DATABASE_VERSIONS].image(version);
        assertFromTable(image, `${engine} ${version}`);
        const tag = image.split("@")[0].split(":").pop()!;
        // `7.0` runs `7.0.14`, `16` runs `16.4-alpine`: the line, then at least one more number.
        assert.match(tag, new RegExp(`^${version.replace(".", "\\.")}\\.\\d+`), `${engine} ${version}: ${tag}`);
      }
    }
  });

  describe("every image the dev program declares", function () {
    this.timeout(120000);
    const runs = [
      ...BUILTIN_CATALOGS.map((catalog) => ({ catalog, docker: {}, logs: "loki" })),
      { catalog: "reservei" as const, docker: { devTools: { adminer: true, redisCommander: true } }, logs: "elk" },
    ];
    for (const { catalog, docker, logs } of runs) {
      it(`${catalog}, logs ${logs}${"devTools" in docker ? ", developer tools" : ""}: comes from the table or is the catalog's`, async () => {
        const services = loadCatalog(builtinCatalogPath(catalog));
        const own = new Set([...services.services.map((s) => s.image), services.frontend?.image]);
        const config = {
          ...devConfig(catalog, { memoryBudget: "16Gi", ...docker }),
          "platform:observability": JSON.stringify({ logs }),
        };
        const run = await runStack([{ stack: "dev", config }]);
        const pulled = ofType(run.resources, "docker:index/remoteImage:RemoteImage").map((r) => r.inputs.name);
        // Under mocks a pulled image's ID is `sha256:` and its name; a local build's is a bare digest.
        const started = ofType(run.resources, "docker:index/container:Container")
          .map((c) => String(c.inputs.image))
          .filter((image) => !/^sha256:[a-f0-9]{64}$/.test(image))
          .map((image) => image.replace(/^sha256:/, ""));
        assert.ok(pulled.length > 10 && started.length > 10);
        for (const image of [...pulled, ...started]) {
          if (!own.has(image)) assertFromTable(image, catalog);
        }
        assert.ok(pulled.includes(IMAGES.kong) && started.includes(IMAGES.redis), "the platform's images are pulled");
      });
    }
  });

  describe("every image a prod pod spec names", function () {
    this.timeout(120000);
    const stacks = [
      ...BUILTIN_CATALOGS.map((catalog) => ({ label: catalog, layers: prodLayers(catalog) })),
      { label: "bookings with DocumentDB", layers: prodLayers("bookings", { mongodb: { mode: "documentdb" } }) },
      {
        label: "bookings with ELK logs",
        layers: prodLayers("bookings", {}, { "platform:observability": JSON.stringify({ logs: "elk" }) }),
      },
    ];
    for (const { label, layers } of stacks) {
      it(`${label}: is a service's image the stack names or comes from the table`, async () => {
        const run = await runStack(layers);
        const images = podImages(run.resources);
        const own = new Set(Object.values(JSON.parse(layers[1].config["platform:images"])));
        assert.ok(images.length > 0 && own.size > 0);
        for (const { image, where } of images) {
          if (!own.has(image)) assertFromTable(image, `${label}: ${where}`);
        }
      });
    }
  });
});
