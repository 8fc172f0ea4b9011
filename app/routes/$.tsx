import { data } from "@remix-run/node";
import { PlainErrorPage } from "../components/error-page";

/** Any path no other route claims, outside the app: a plain 404 page rather than a bare "Not Found". */
export const loader = () => data(null, { status: 404 });

export default function NotFound() {
  return <PlainErrorPage kind="not-found" />;
}
