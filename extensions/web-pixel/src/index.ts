import { register } from "@shopify/web-pixels-extension";
import { createCollector, TRACKED_EVENTS } from "./collector";

function isAbsoluteUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

register(({ analytics, init, settings, customerPrivacy }) => {
  const accountId: unknown = settings.accountID;
  const ingestUrl: unknown = settings.ingestUrl;
  if (typeof accountId !== "string" || !accountId || typeof ingestUrl !== "string" || !isAbsoluteUrl(ingestUrl)) return;

  const collector = createCollector({
    accountId,
    ingestUrl,
    analyticsAllowed: init.customerPrivacy?.analyticsProcessingAllowed === true,
    loggedInCustomerId: init.data?.customer?.id,
  });

  customerPrivacy.subscribe("visitorConsentCollected", (event) => {
    collector.setAnalyticsAllowed(event.customerPrivacy?.analyticsProcessingAllowed === true);
  });

  for (const name of TRACKED_EVENTS) {
    analytics.subscribe(name, (event) => collector.track(event));
  }
});
