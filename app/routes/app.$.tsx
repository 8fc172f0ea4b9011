import { data, type LoaderFunctionArgs } from "@remix-run/node";
import { AppErrorPage } from "../components/error-page";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** An unknown page under /app: the app's own 404 inside the frame, the menu still there. */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  await authenticate.admin(request);
  parseQuery(request, noQuery);
  return data(null, { status: 404 });
};

export default function AppPageNotFound() {
  return <AppErrorPage kind="not-found" />;
}
