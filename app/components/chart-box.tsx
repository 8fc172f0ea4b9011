import { useEffect, useState, type ReactNode } from "react";

/**
 * A chart's place on the page. polaris-viz measures the DOM, which the server
 * cannot, so charts draw after hydration; the box has its final height from
 * the first paint, so nothing moves when they do (CLS stays 0).
 */
export function ChartBox({ height, label, children }: { height: number; label: string; children: ReactNode }) {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);
  return (
    <div style={{ height, width: "100%", minWidth: 0 }} role="figure" aria-label={label} data-chart={label}>
      {hydrated ? children : null}
    </div>
  );
}
