import { IndexTable, Text } from "@shopify/polaris";
import type { ReactNode } from "react";

/** A table cell holding a figure: right-aligned, in tabular digits, so columns of numbers line up. */
export function NumericCell({ children }: { children: ReactNode }) {
  return (
    <IndexTable.Cell>
      <Text as="span" alignment="end" numeric>
        {children}
      </Text>
    </IndexTable.Cell>
  );
}
