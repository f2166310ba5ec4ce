// The deploy plan as Mermaid `gantt` charts, which GitHub renders in Markdown: the critical path of a
// prod deploy, layer after layer, and the order in which the dev containers start. Times are the plan's
// estimates (tools/deployPlan.ts), not measurements.
import { DeployPlan, PlannedStep } from "./deployPlan";

const CONTAINER = "docker:index/container:Container";

/**
 * Times are clock times from midnight (`HH:mm:ss`): Mermaid reads and draws them in the reader's own time
 * zone, so a bar starts at 00:00 everywhere, where a Unix time would shift by the zone's offset.
 */
const clock = (seconds: number) =>
  [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");

/**
 * A task's text as Mermaid's gantt lexer reads it: it ends at the first `:`, a `%` may start a comment,
 * and a line that starts with a keyword (`gantt`, `title`, `section`, `click`...) or a date is that
 * statement, not a task.
 */
function taskText(text: string): string {
  const plain = text.replace(/[:%;#]/g, " ");
  const keyword =
    /^(gantt|title|section|click|call|href|dateformat|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|inclusiveenddates|topaxis|acctitle|accdescr|\d{4}-\d\d-\d\d)/i;
  return keyword.test(plain) ? `- ${plain}` : plain;
}

/** `Cluster` of `aws:eks/cluster:Cluster`: what kind of resource a bar creates. */
const kind = (type: string) => type.split(":").at(-1);

function task(step: PlannedStep, offset: number, critical = false): string {
  const start = offset + step.start;
  return `    ${taskText(step.name)} :${critical ? "crit, " : ""}${clock(start)}, ${clock(start + step.seconds)}`;
}

function header(title: string, totalSeconds: number): string[] {
  return [
    "gantt",
    `  title ${title}`,
    "  dateFormat HH:mm:ss",
    // Minutes and seconds while they suffice (a dev start, a prod layer); hours past one.
    `  axisFormat ${totalSeconds < 3600 ? "%M:%S" : "%H:%M"}`,
  ];
}

const labelled = (step: PlannedStep): PlannedStep => ({ ...step, name: `${step.name} (${kind(step.type)})` });

/**
 * The critical path of each layer, one section a layer, each layer starting when the one before it ends
 * (prod-infra, then prod). Resources created in no time (random values, providers) are left out.
 */
export function criticalPathGantt(title: string, layers: Array<{ name: string; plan: DeployPlan }>): string {
  const lines: string[] = [];
  let offset = 0;
  for (const { name, plan } of layers) {
    lines.push(`  section ${name}`);
    for (const step of plan.criticalPath.filter((s) => s.seconds > 0)) {
      lines.push(task(labelled(step), offset));
    }
    offset += plan.estimatedSeconds;
  }
  return [...header(title, offset), ...lines].join("\n");
}

/**
 * Every container of a dev stack, each from when all it waits for is there (images, healthy databases and
 * broker) to when it is created or, with a healthcheck Pulumi waits on, healthy; earliest first. The
 * critical path is marked, with the steps on it that are no container (an image build), which is what the
 * containers after it wait for.
 */
export function startOrderGantt(title: string, plan: DeployPlan): string | undefined {
  if (!plan.schedule.some((step) => step.type === CONTAINER)) return undefined;
  const onPath = (step: PlannedStep) => plan.criticalPath.some((s) => s.name === step.name && s.type === step.type);
  const shown = plan.schedule
    .filter((step) => step.type === CONTAINER || (onPath(step) && step.seconds > 0))
    .sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  return [
    ...header(title, plan.estimatedSeconds),
    "  section containers",
    ...shown.map((step) => task(step.type === CONTAINER ? step : labelled(step), 0, onPath(step))),
  ].join("\n");
}
