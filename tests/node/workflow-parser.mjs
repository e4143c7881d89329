// Runs GitHub's own workflow parser (npm `@actions/workflow-parser`, the one behind the Actions VS Code
// extension) over the workflow files named on the command line, and prints one JSON line per file:
// {"file": "...", "errors": [{"message": "...", "line": 5, "column": 3}]}. Parse errors (schema, YAML,
// expressions) and the errors of the conversion to a workflow template (jobs, needs, matrices) are both
// reported. Exit status 0 when the files could be read, whatever they contain; 2 on bad usage.
//
// Usage: node tests/node/workflow-parser.mjs <file>...   (after scripts/setup-node)
import { readFile } from "node:fs/promises";
import { register } from "node:module";

// The package imports its JSON schemas without an import attribute (it is built for bundlers); Node
// refuses that, so a loader hook serves those files as modules.
register(
  "data:text/javascript," +
    encodeURIComponent(`
import { readFile } from "node:fs/promises";
export async function load(url, context, next) {
  if (url.startsWith("file:") && url.endsWith(".json")) {
    const text = await readFile(new URL(url), "utf8");
    return { format: "module", source: "export default " + text + ";", shortCircuit: true };
  }
  return next(url, context);
}`),
);

const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import(
  "@actions/workflow-parser"
);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tests/node/workflow-parser.mjs <file>...");
  process.exit(2);
}

const trace = new NoOperationTraceWriter();
for (const file of files) {
  const content = await readFile(file, "utf8");
  const result = parseWorkflow({ name: file, content }, trace);
  const errors = result.context.errors.getErrors().map((e) => ({
    message: e.message,
    line: e.range?.start?.line ?? null,
    column: e.range?.start?.column ?? null,
  }));
  if (errors.length === 0 && result.value) {
    const template = await convertWorkflowTemplate(result.context, result.value);
    for (const e of template.errors ?? []) {
      errors.push({ message: e.Message ?? String(e), line: null, column: null });
    }
  }
  console.log(JSON.stringify({ file, errors }));
}
