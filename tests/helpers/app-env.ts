/** Fixed settings of the app under test. The secrets are test values, not real ones. */
export const TEST_APP = {
  apiKey: "test-api-key-0001",
  apiSecret: "test-api-secret-do-not-use",
  scopes: "read_customers,write_customers,read_orders,read_all_orders,read_products,write_pixels,read_customer_events",
  encryptionKeys: "k1:MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=",
  get env(): Record<string, string> {
    return {
      NODE_ENV: "test",
      SHOPIFY_API_KEY: this.apiKey,
      SHOPIFY_API_SECRET: this.apiSecret,
      SHOPIFY_APP_URL: "https://microsegment.test",
      SCOPES: this.scopes,
      TOKEN_ENCRYPTION_KEYS: this.encryptionKeys,
      LOG_LEVEL: "warn",
    };
  },
};
