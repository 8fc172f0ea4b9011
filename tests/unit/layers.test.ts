import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layers point one way: routes and worker tasks -> services -> models ->
 * database. These rules read every import of the source tree, so a change
 * that crosses a layer fails here, not in review.
 */

const ROOT = join(import.meta.dirname, "../..");

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx)$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** What a file imports, as paths relative to the project root (packages stay as named). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']/g)].map(
    (match) => match[1]!,
  );
  return specifiers.map((specifier) =>
    specifier.startsWith(".") ? relative(ROOT, join(ROOT, file, "..", specifier)) : specifier,
  );
}

function crossings(files: string[], forbidden: (target: string) => boolean) {
  return files.flatMap((file) =>
    importsOf(file)
      .filter(forbidden)
      .map((target) => `${file} imports ${target}`),
  );
}

const DATABASE = (target: string) => target === "app/db.server";

describe("layers", () => {
  it("models never import services or routes", () => {
    expect(
      crossings(sourceFiles("app/models"), (t) => t.startsWith("app/services/") || t.startsWith("app/routes/")),
    ).toEqual([]);
  });

  it("services never import routes or worker tasks", () => {
    expect(
      crossings(sourceFiles("app/services"), (t) => t.startsWith("app/routes/") || t.startsWith("worker/")),
    ).toEqual([]);
  });

  it("routes, services and worker tasks reach the database only through models", () => {
    const files = [...sourceFiles("app/routes"), ...sourceFiles("app/services"), ...sourceFiles("worker/tasks")];
    expect(crossings(files, DATABASE)).toEqual([]);
  });

  it("jobs are enqueued only through app/models/jobs.server.ts", () => {
    const enqueuers = [...sourceFiles("app"), ...sourceFiles("worker")].filter(
      (file) =>
        file !== "app/models/jobs.server.ts" &&
        /graphile_worker\.add_jobs?\(/.test(readFileSync(join(ROOT, file), "utf8")),
    );
    expect(enqueuers).toEqual([]);
  });

  it("sees the imports it checks", () => {
    expect(importsOf("app/models/pulls.server.ts")).toContain("app/db.server");
    expect(importsOf("worker/tasks/pull-step.ts")).toContain("app/models/pulls.server");
  });
});
