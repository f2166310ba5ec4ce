// A structural check of the Mermaid the tools write, read back into nodes, edges and tasks for the tests.
// @mermaid-js/parser cannot do it: it parses neither flowcharts nor gantt charts (its grammars are info,
// packet, pie, architecture, gitGraph, radar, treemap and a few newer ones). This accepts exactly the
// subset the tools write, with the rules Mermaid's own lexers impose on it
// (packages/mermaid/src/diagrams/flowchart/parser/flow.jison and gantt/parser/gantt.jison).

export interface FlowNode {
  /** The label as read: entity codes decoded, one line per `<br/>`. */
  label: string;
  shape: string;
  subgraph?: string;
}
export interface FlowEdge {
  from: string;
  to: string;
  dashed: boolean;
  label?: string;
}
export interface Flowchart {
  nodes: Map<string, FlowNode>;
  subgraphs: Map<string, { label: string; parent?: string }>;
  edges: FlowEdge[];
}

/** Shapes as opening and closing brackets around a quoted label. */
const SHAPES: Record<string, string> = {
  "(": ")",
  "[": "]",
  "[[": "]]",
  "[(": ")]",
  "([": "])",
  "{{": "}}",
  "[/": "\\]",
};
const ID = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Words the flowchart lexer takes for statements wherever they start a token (`end` as a whole word). */
const KEYWORD = /^(end\b|subgraph|graph|flowchart|style|linkstyle|classdef|class|click|call|href|default|interpolate)/i;
const QUOTED = `"[^"]*"`;
const NODE = new RegExp(
  `^(\\S+?)(\\[\\[|\\[\\(|\\(\\[|\\{\\{|\\[/|\\[|\\()(${QUOTED})(\\]\\]|\\)\\]|\\]\\)|\\}\\}|\\\\\\]|\\]|\\))$`,
);
const EDGE = new RegExp(`^(\\S+) (-->|-\\.->)(?:\\|(${QUOTED})\\|)? (\\S+)$`);
const SUBGRAPH = new RegExp(`^subgraph (\\S+) \\[(${QUOTED})\\]$`);

/** A quoted label's text, or a problem: only entity codes for `#"<>&`, and `<br/>` as the one tag. */
function readLabel(quoted: string, problems: string[], where: string): string {
  const text = quoted.slice(1, -1);
  const bare = text.replace(/<br\/>/g, "").replace(/#(\w+);/g, "");
  if (/[#<>]/.test(bare)) problems.push(`${where}: label ${quoted} has a bare # < or >`);
  const entities: Record<string, string> = { quot: '"', lt: "<", gt: ">", amp: "&" };
  return text
    .replace(/<br\/>/g, "\n")
    .replace(/#(\w+);/g, (_, code: string) => (/^\d+$/.test(code) ? String.fromCharCode(+code) : entities[code]));
}

function checkId(id: string, problems: string[], where: string): void {
  if (!ID.test(id) || KEYWORD.test(id)) problems.push(`${where}: '${id}' is no safe id`);
}

/** The flowchart, or an error listing every line Mermaid would refuse or read otherwise than meant. */
export function parseFlowchart(text: string): Flowchart {
  const chart: Flowchart = { nodes: new Map(), subgraphs: new Map(), edges: [] };
  const problems: string[] = [];
  const open: string[] = [];
  const [first, ...lines] = text.split("\n");
  if (!/^flowchart (LR|RL|TB|TD|BT)$/.test(first)) problems.push(`line 1: '${first}' is no flowchart header`);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    const where = `line ${i + 2}`;
    const subgraph = SUBGRAPH.exec(line);
    const node = NODE.exec(line);
    const edge = EDGE.exec(line);
    // The lexer reads a line with `direction TB` anywhere in it as that statement.
    if (/direction\s+(TB|BT|RL|LR|TD)/.test(line)) problems.push(`${where}: reads as a direction statement`);
    if (line === "end") {
      if (!open.pop()) problems.push(`${where}: 'end' closes no subgraph`);
    } else if (subgraph) {
      checkId(subgraph[1], problems, where);
      if (chart.subgraphs.has(subgraph[1])) problems.push(`${where}: subgraph ${subgraph[1]} twice`);
      chart.subgraphs.set(subgraph[1], { label: readLabel(subgraph[2], problems, where), parent: open.at(-1) });
      open.push(subgraph[1]);
    } else if (node && SHAPES[node[2]] === node[4]) {
      checkId(node[1], problems, where);
      if (chart.nodes.has(node[1])) problems.push(`${where}: node ${node[1]} declared twice`);
      chart.nodes.set(node[1], { label: readLabel(node[3], problems, where), shape: node[2], subgraph: open.at(-1) });
    } else if (edge) {
      // An endpoint right after an arrow that starts with o or x would turn it into a circle or a cross.
      [edge[1], edge[4]].forEach((id) => checkId(id, problems, where));
      if (/^[ox]/.test(edge[4])) problems.push(`${where}: '${edge[4]}' after an arrow starts with o or x`);
      const label = edge[3] === undefined ? undefined : readLabel(edge[3], problems, where);
      chart.edges.push({ from: edge[1], to: edge[4], dashed: edge[2] === "-.->", label });
    } else problems.push(`${where}: unrecognised '${line}'`);
  });
  if (open.length) problems.push(`subgraph ${open.join(", ")} never closed`);
  for (const { from, to } of chart.edges) {
    for (const id of [from, to])
      if (!chart.nodes.has(id)) problems.push(`edge ${from} -> ${to}: ${id} is not declared`);
  }
  for (const id of chart.subgraphs.keys()) if (chart.nodes.has(id)) problems.push(`${id} is a node and a subgraph`);
  if (problems.length) throw new Error(`not a flowchart Mermaid reads as meant:\n  ${problems.join("\n  ")}`);
  return chart;
}

export interface GanttTask {
  section: string;
  name: string;
  /** Seconds from the chart's start. */
  start: number;
  end: number;
  critical: boolean;
}

const GANTT_KEYWORD =
  /^(gantt|title|section|click|call|href|dateformat|axisformat|tickinterval|includes|excludes|todaymarker|weekday|weekend|inclusiveenddates|topaxis|acctitle|accdescr|\d{4}-\d\d-\d\d)/i;
const CLOCK = /^(\d\d):([0-5]\d):([0-5]\d)$/;
const seconds = (clock: string) => {
  const [, h, m, s] = CLOCK.exec(clock)!;
  return +h * 3600 + +m * 60 + +s;
};

/** The gantt chart's title and tasks, or an error listing what Mermaid would refuse or misread. */
export function parseGantt(text: string): { title: string; tasks: GanttTask[] } {
  const problems: string[] = [];
  const lines = text.split("\n").map((line) => line.trim());
  const [gantt, title, dateFormat, axisFormat, ...body] = lines;
  if (gantt !== "gantt") problems.push(`line 1: '${gantt}' is no gantt header`);
  if (!title?.startsWith("title ")) problems.push(`line 2: '${title}' is no title`);
  if (dateFormat !== "dateFormat HH:mm:ss") problems.push(`line 3: '${dateFormat}': the tools write HH:mm:ss`);
  if (!/^axisFormat (%[HMS][:%HMS]*)$/.test(axisFormat ?? "")) problems.push(`line 4: '${axisFormat}'`);
  const tasks: GanttTask[] = [];
  let section: string | undefined;
  body.forEach((line, i) => {
    const where = `line ${i + 5}`;
    if (line.startsWith("section ")) return void (section = line.slice("section ".length));
    const task = /^([^:]+) :(crit, )?([^,]+), ([^,]+)$/.exec(line);
    if (!task || section === undefined) return void problems.push(`${where}: '${line}' is no task of a section`);
    const name = task[1].trim();
    if (/[%#;]/.test(name) || GANTT_KEYWORD.test(name)) problems.push(`${where}: task text '${name}'`);
    if (!CLOCK.test(task[3]) || !CLOCK.test(task[4]))
      return void problems.push(`${where}: times '${task[3]}, ${task[4]}'`);
    const [start, end] = [seconds(task[3]), seconds(task[4])];
    if (end <= start) problems.push(`${where}: ends before it starts`);
    tasks.push({ section, name, start, end, critical: task[2] !== undefined });
  });
  if (problems.length) throw new Error(`not a gantt chart Mermaid reads as meant:\n  ${problems.join("\n  ")}`);
  return { title: title.slice("title ".length), tasks };
}
