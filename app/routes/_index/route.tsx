import { redirect, type LoaderFunctionArgs } from "@remix-run/node";
import { noQuery, parseQuery } from "../../services/request-input.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  parseQuery(request, noQuery);
  const url = new URL(request.url);
  if (url.searchParams.get("shop")) throw redirect(`/app?${url.searchParams.toString()}`);
  return null;
};

export default function Landing() {
  return (
    <main style={{ fontFamily: "system-ui, sans-serif", maxWidth: 640, margin: "4rem auto", lineHeight: 1.5 }}>
      <h1>MicroSegment</h1>
      <p>
        Customer micro-segments for Shopify merchants: RFM analysis, predicted value and plain-language segment names,
        pushed back to Shopify as tags and segments. Open the app from your Shopify Admin.
      </p>
    </main>
  );
}
