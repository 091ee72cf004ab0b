// subset.js writes the part of GitHub's OpenAPI description that modelgate
// uses: the operations listed in operations.txt and every component they
// reference, directly or through other components.
//
// Usage (from this folder): npm ci && npm run subset
// Output: ../../testdata/github/openapi.json (path relative to this folder).
//
// The source is the plain (not dereferenced) api.github.com description of
// @octokit/openapi, whose exact version package.json pins; the version is
// recorded in info["x-source"] of the output. Component examples are left out:
// they are large, and the fake GitHub writes its own responses.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const pkgName = "@octokit/openapi";
const sourceFile = "generated/api.github.com.json";
const output = join(here, "..", "..", "testdata", "github", "openapi.json");

function readOperations(file) {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [method, path, extra] = line.split(/\s+/);
      if (!path || extra !== undefined) {
        throw new Error(`operations.txt: want "METHOD /path", got ${JSON.stringify(line)}`);
      }
      return { method: method.toLowerCase(), path };
    });
}

// collectRefs calls visit for every "$ref" string found in value.
function collectRefs(value, visit) {
  if (Array.isArray(value)) {
    value.forEach((v) => collectRefs(v, visit));
  } else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if (key === "$ref" && typeof v === "string") visit(v);
      else collectRefs(v, visit);
    }
  }
}

// stripExamples removes "examples" maps that point at component examples.
function stripExamples(value) {
  if (Array.isArray(value)) return value.map(stripExamples);
  if (!value || typeof value !== "object") return value;
  const out = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === "examples" && v && typeof v === "object" && !Array.isArray(v)) continue;
    out[key] = stripExamples(v);
  }
  return out;
}

function main() {
  const pkgDir = dirname(require.resolve(`${pkgName}/package.json`));
  const version = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
  const full = JSON.parse(readFileSync(join(pkgDir, sourceFile), "utf8"));
  const operations = readOperations(join(here, "operations.txt"));

  const paths = {};
  for (const { method, path } of operations) {
    const item = full.paths[path];
    if (!item || !item[method]) {
      throw new Error(`${method.toUpperCase()} ${path}: no such operation in ${pkgName}@${version}`);
    }
    paths[path] ??= item.parameters ? { parameters: item.parameters } : {};
    paths[path][method] = stripExamples(item[method]);
  }

  const components = {};
  const pending = [];
  const seen = new Set();
  const visit = (ref) => {
    if (seen.has(ref)) return;
    const m = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
    if (!m) throw new Error(`unsupported $ref ${ref}`);
    seen.add(ref);
    pending.push(m);
  };
  collectRefs(paths, visit);
  while (pending.length > 0) {
    const [ref, kind, name] = pending.pop();
    const value = full.components[kind]?.[name];
    if (value === undefined) throw new Error(`${ref}: not found`);
    const kept = stripExamples(value);
    (components[kind] ??= {})[name] = kept;
    collectRefs(kept, visit);
  }
  for (const kind of Object.keys(components)) {
    components[kind] = Object.fromEntries(Object.entries(components[kind]).sort(([a], [b]) => a.localeCompare(b)));
  }

  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  const doc = {
    openapi: full.openapi,
    info: {
      ...full.info,
      "x-source": { package: pkgName, version, file: sourceFile, operations: operations.length },
    },
    servers: full.servers,
    paths: sortedPaths,
    components,
  };
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, JSON.stringify(doc, null, 1) + "\n");
  const counts = Object.entries(components).map(([k, v]) => `${Object.keys(v).length} ${k}`).join(", ");
  console.log(`wrote ${output}: ${operations.length} operations, ${counts} from ${pkgName}@${version}`);
}

main();
