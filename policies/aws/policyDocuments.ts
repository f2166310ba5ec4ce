/** An IAM or key policy document's statements, whether the input is JSON text or an object. */
export function statements(document: unknown): Array<Record<string, any>> {
  let parsed: any = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch {
      return [];
    }
  }
  const list = parsed?.Statement ?? [];
  return Array.isArray(list) ? list : [list];
}

/** A statement field that takes one value or a list, as a list. */
export function listOf(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Who a statement's Principal names, as one list ("*" for anyone). */
export function principals(statement: Record<string, any>): string[] {
  const principal = statement.Principal;
  if (principal === undefined) return [];
  if (typeof principal === "string") return [principal];
  return Object.values(principal).flatMap(listOf);
}

/** How a statement is named in messages: its Sid, or its position. */
export function statementName(statement: Record<string, any>, index: number): string {
  return statement.Sid ? `statement ${statement.Sid}` : `statement ${index}`;
}
