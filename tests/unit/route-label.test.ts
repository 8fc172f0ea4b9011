import { describe, expect, it } from "vitest";
import { routeLabel, setKnownRoutes } from "../../app/services/metrics.server";

/** Metrics labels come from the route manifest: a route's pattern, or "other". */

const manifest = {
  root: { path: "" },
  "routes/$": { path: "*", parentId: "root" },
  "routes/_index": { parentId: "root" },
  "routes/app": { path: "app", parentId: "root" },
  "routes/app.$": { path: "*", parentId: "routes/app" },
  "routes/app.segments.$id": { path: "segments/:id", parentId: "routes/app" },
  "routes/app.segments.$id.members[.]csv": { path: "segments/:id/members.csv", parentId: "routes/app" },
  "routes/api.segments.$id": { path: "api/segments/:id", parentId: "root" },
  "routes/api.segments.run": { path: "api/segments/run", parentId: "root" },
};

describe("routeLabel", () => {
  setKnownRoutes(manifest, ["/metrics", "/assets/*"]);

  it.each([
    ["/", "/"],
    ["/app", "/app"],
    ["/app/segments/3f1c2b7a-0000-4000-8000-000000000000", "/app/segments/:id"],
    ["/app/segments/x/members.csv", "/app/segments/:id/members.csv"],
    ["/app/anything/else", "/app/*"],
    ["/api/segments/run", "/api/segments/run"],
    ["/api/segments/abc", "/api/segments/:id"],
    ["/assets/entry-abc.js", "/assets/*"],
    ["/metrics", "/metrics"],
    ["/wp-admin/setup-config", "other"],
    ["/api/nothing", "other"],
    ["/api/segments/a/b", "other"],
  ])("%s is %s", (path, label) => {
    expect(routeLabel(path)).toBe(label);
  });
});
