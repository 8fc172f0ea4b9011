import type { LoaderFunctionArgs } from "@remix-run/node";
import { customerGidFromParam, getCustomerProfile, type CustomerProfile } from "../models/customers.server";
import { rfmSegmentByKey } from "../models/rfm-segments.server";
import { NO_RUN_YET } from "../models/shop-predictions.server";
import type { z } from "zod";
import { authenticateApi, type customerResponse } from "../services/api.server";
import { badRequest, jsonResponse } from "../services/json.server";

/** GET /api/customers/<numeric id or URL-encoded GID>: the customer, RFM values and scores, segments, prediction. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  const customerId = customerGidFromParam(params.id);
  if (!customerId) return badRequest("id: expected a numeric customer id or gid://shopify/Customer/<id>");
  const profile = await getCustomerProfile(session.shop, customerId);
  if (!profile) return Response.json({ error: "no such customer" }, { status: 404 });
  return jsonResponse(customerJson(profile));
};

function customerJson({ customer, score, run, segments }: CustomerProfile): z.input<typeof customerResponse> {
  const shown = Boolean(run?.predictionsShown);
  return {
    customer: {
      id: customer.id,
      legacyId: customer.legacyId,
      firstName: customer.firstName,
      lastName: customer.lastName,
      email: customer.email,
      phone: customer.phone,
      city: customer.city,
      province: customer.province,
      countryCode: customer.countryCode,
      tags: customer.tags,
      createdAt: customer.shopifyCreatedAt.toISOString(),
    },
    rfm: score && {
      recencyDays: score.recencyDays,
      frequency: score.frequency,
      monetary: score.monetary,
      averageOrderValue: score.averageOrderValue,
      firstOrderAt: score.firstOrderAt.toISOString(),
      lastOrderAt: score.lastOrderAt.toISOString(),
      rScore: score.rScore,
      fScore: score.fScore,
      mScore: score.mScore,
      segment: score.rfmSegment,
      segmentName: rfmSegmentByKey(score.rfmSegment)?.name ?? score.rfmSegment,
    },
    segments: segments.map(({ id, key, kind, name, rule }) => ({ id, key, kind, name, rule })),
    prediction:
      shown && score && score.probabilityAlive !== null
        ? {
            probabilityActive: score.probabilityAlive,
            expectedNextOrderAt: score.expectedNextOrderAt?.toISOString() ?? null,
            churnRisk: score.churnRisk,
            predictedValue365: score.expectedSpend365,
            expectedOrders90: score.expectedOrders90,
            expectedOrders365: score.expectedOrders365,
            averageDaysBetweenOrders: score.averageDaysBetweenOrders,
            historicValue: score.monetary,
          }
        : null,
    predictions: { shown, reason: run?.predictionGate ?? NO_RUN_YET },
    asOf: (run?.asOf ?? run?.finishedAt)?.toISOString() ?? null,
  };
}
