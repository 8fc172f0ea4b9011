import { BlockStack, Text } from "@shopify/polaris";
import type { ReactNode } from "react";

/** A labelled figure in a card: the label small and subdued above, the value (text or a badge) below. */
export function Figure({ label, value }: { label: string; value: ReactNode }) {
  return (
    <BlockStack gap="050">
      <Text as="h3" variant="bodySm" tone="subdued">
        {label}
      </Text>
      {typeof value === "string" ? (
        <Text as="p" variant="headingMd">
          {value}
        </Text>
      ) : (
        <div>{value}</div>
      )}
    </BlockStack>
  );
}
