import { buildSchema } from "graphql";
import { API_VERSION } from "../app/api-version";

/** The Admin API version the simulator plays: the app's. */
export const SIMULATED_API_VERSION = API_VERSION;

/** Every currency and country code Shopify has: a shop or an address may use any of them. */
const ISO_CODE_ENUMS = `
  enum CurrencyCode {
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL
    BSD BTN BWP BYN
    BYR @deprecated(reason: "Shopify deprecates it.")
    BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JEP
    JMD JOD JPY KES KGS KHR KID KMF KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LVL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD
    OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP
    SLL SOS SRD SSP
    STD @deprecated(reason: "Shopify deprecates it.")
    STN SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USDC UYU UZS VED
    VEF @deprecated(reason: "Shopify deprecates it.")
    VES VND VUV WST XAF XCD XOF XPF XXX YER ZAR ZMW
  }

  enum CountryCode {
    AC AD AE AF AG AI AL AM AN AO AR AT AU AW AX AZ BA BB BD BE
    BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD
    CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FO FR GA GB GD GE GF GG
    GH GI GL GM GN GP GQ GR GS GT GW GY HK HM HN HR HT HU ID IE
    IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR
    KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG
    MK ML MM MN MO MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG
    NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PS PT PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO
    SR SS ST SV SX SY SZ TA TC TD TF TG TH TJ TK TL TM TN TO TR
    TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VN VU WF WS XK YE
    YT ZA ZM ZW ZZ
  }
`;

/** The fields of HasMetafields, which every type implementing it repeats. */
const HAS_METAFIELDS_FIELDS = `
    metafield(namespace: String, key: String!): Metafield
    metafields(
      first: Int
      after: String
      last: Int
      before: String
      reverse: Boolean = false
      namespace: String
      keys: [String!]
    ): MetafieldConnection!`;

const ADMIN_SDL = /* GraphQL */ `
  scalar DateTime
  scalar Decimal
  scalar Money
  scalar HTML
  scalar URL
  scalar JSON
  scalar UnsignedInt64

  interface Node {
    id: ID!
  }

  interface HasMetafields {
    ${HAS_METAFIELDS_FIELDS}
  }

  type PageInfo {
    hasNextPage: Boolean!
    hasPreviousPage: Boolean!
    startCursor: String
    endCursor: String
  }

  type MoneyV2 {
    amount: Decimal!
    currencyCode: CurrencyCode!
  }

  type MoneyBag {
    shopMoney: MoneyV2!
    presentmentMoney: MoneyV2!
  }

  enum CountPrecision {
    AT_LEAST
    EXACT
  }

  type Count {
    count: Int!
    precision: CountPrecision!
  }

  type ShopPlan {
    displayName: String! @deprecated(reason: "Use \`publicDisplayName\` instead.")
    publicDisplayName: String!
    shopifyPlus: Boolean!
    partnerDevelopment: Boolean!
  }

  type Shop implements Node {
    id: ID!
    name: String!
    email: String!
    myshopifyDomain: String!
    currencyCode: CurrencyCode!
    ianaTimezone: String!
    plan: ShopPlan!
    createdAt: DateTime!
  }

  type MailingAddress {
    firstName: String
    lastName: String
    address1: String
    city: String
    province: String
    provinceCode: String
    country: String
    countryCodeV2: CountryCode
    zip: String
    phone: String
  }

  enum CustomerEmailAddressMarketingState {
    INVALID
    NOT_SUBSCRIBED
    PENDING
    SUBSCRIBED
    UNSUBSCRIBED
  }

  type CustomerEmailAddress {
    emailAddress: String!
    marketingState: CustomerEmailAddressMarketingState!
  }

  enum CustomerSmsMarketingState {
    NOT_SUBSCRIBED
    PENDING
    REDACTED
    SUBSCRIBED
    UNSUBSCRIBED
  }

  enum CustomerMarketingConsentState {
    NEVER_SUBSCRIBED
    PENDING
    REDACTED
    SUBSCRIBED
    UNSUBSCRIBED
  }

  type CustomerSmsMarketingConsent {
    state: CustomerMarketingConsentState!
    updatedAt: DateTime
  }

  type CustomerPhoneNumber {
    phoneNumber: String!
    marketingState: CustomerSmsMarketingState! @deprecated(reason: "Use \`smsMarketingConsent.state\` instead.")
    smsMarketingConsent: CustomerSmsMarketingConsent!
  }

  enum CustomerState {
    DECLINED
    DISABLED
    ENABLED
    INVITED
  }

  type Customer implements Node & HasMetafields {
    id: ID!
    legacyResourceId: UnsignedInt64!
    firstName: String
    lastName: String
    displayName: String!
    email: String @deprecated(reason: "Use defaultEmailAddress.")
    phone: String @deprecated(reason: "Use defaultPhoneNumber.")
    defaultEmailAddress: CustomerEmailAddress
    defaultPhoneNumber: CustomerPhoneNumber
    defaultAddress: MailingAddress
    locale: String!
    state: CustomerState!
    verifiedEmail: Boolean!
    tags: [String!]!
    numberOfOrders: UnsignedInt64!
    amountSpent: MoneyV2!
    createdAt: DateTime!
    updatedAt: DateTime!
    ${HAS_METAFIELDS_FIELDS}
  }

  type CustomerEdge {
    cursor: String!
    node: Customer!
  }

  type CustomerConnection {
    edges: [CustomerEdge!]!
    nodes: [Customer!]!
    pageInfo: PageInfo!
  }

  type Image {
    url: URL!
    altText: String
  }

  enum MediaPreviewImageStatus {
    FAILED
    PROCESSING
    READY
    UPLOADED
  }

  type MediaPreviewImage {
    image: Image
    status: MediaPreviewImageStatus!
  }

  interface Media {
    id: ID!
    preview: MediaPreviewImage
  }

  type MediaImage implements Media & Node {
    id: ID!
    preview: MediaPreviewImage
    image: Image
  }

  enum ProductStatus {
    ACTIVE
    ARCHIVED
    DRAFT
    UNLISTED
  }

  type ProductOption {
    id: ID!
    name: String!
    values: [String!]!
  }

  type SelectedOption {
    name: String!
    value: String!
  }

  type ProductVariant implements Node {
    id: ID!
    title: String!
    sku: String
    price: Money!
    compareAtPrice: Money
    selectedOptions: [SelectedOption!]!
    product: Product!
  }

  type ProductVariantEdge {
    cursor: String!
    node: ProductVariant!
  }

  type ProductVariantConnection {
    edges: [ProductVariantEdge!]!
    nodes: [ProductVariant!]!
    pageInfo: PageInfo!
  }

  type Product implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    title: String!
    handle: String!
    description: String!
    descriptionHtml: HTML!
    productType: String!
    vendor: String!
    tags: [String!]!
    status: ProductStatus!
    options: [ProductOption!]!
    featuredImage: Image @deprecated(reason: "Use \`featuredMedia\` instead.")
    featuredMedia: Media
    variants(first: Int, after: String, last: Int, before: String): ProductVariantConnection!
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type ProductEdge {
    cursor: String!
    node: Product!
  }

  type ProductConnection {
    edges: [ProductEdge!]!
    nodes: [Product!]!
    pageInfo: PageInfo!
  }

  type LineItem implements Node {
    id: ID!
    title: String!
    variantTitle: String
    sku: String
    quantity: Int!
    originalUnitPriceSet: MoneyBag!
    originalTotalSet: MoneyBag!
    totalDiscountSet: MoneyBag!
    discountedTotalSet(withCodeDiscounts: Boolean = false): MoneyBag!
    discountAllocations: [DiscountAllocation!]!
    variant: ProductVariant
    product: Product
  }

  enum DiscountApplicationAllocationMethod {
    ACROSS
    EACH
    ONE @deprecated(reason: "Use ACROSS instead.")
  }

  enum DiscountApplicationTargetSelection {
    ALL
    ENTITLED
    EXPLICIT
  }

  enum DiscountApplicationTargetType {
    LINE_ITEM
    SHIPPING_LINE
  }

  interface DiscountApplication {
    allocationMethod: DiscountApplicationAllocationMethod!
    index: Int!
    targetSelection: DiscountApplicationTargetSelection!
    targetType: DiscountApplicationTargetType!
  }

  type DiscountCodeApplication implements DiscountApplication {
    allocationMethod: DiscountApplicationAllocationMethod!
    code: String!
    index: Int!
    targetSelection: DiscountApplicationTargetSelection!
    targetType: DiscountApplicationTargetType!
  }

  type AutomaticDiscountApplication implements DiscountApplication {
    allocationMethod: DiscountApplicationAllocationMethod!
    index: Int!
    targetSelection: DiscountApplicationTargetSelection!
    targetType: DiscountApplicationTargetType!
    title: String!
  }

  type DiscountAllocation {
    allocatedAmountSet: MoneyBag!
    discountApplication: DiscountApplication!
  }

  type Refund implements Node {
    id: ID!
    createdAt: DateTime
    processedAt: DateTime!
    note: String
    totalRefundedSet: MoneyBag!
  }

  type LineItemEdge {
    cursor: String!
    node: LineItem!
  }

  type LineItemConnection {
    edges: [LineItemEdge!]!
    nodes: [LineItem!]!
    pageInfo: PageInfo!
  }

  enum OrderTransactionKind {
    AUTHORIZATION
    CAPTURE
    CHANGE
    EMV_AUTHORIZATION
    REFUND
    SALE
    SUGGESTED_REFUND
    VOID
  }

  enum OrderTransactionStatus {
    AWAITING_RESPONSE
    ERROR
    FAILURE
    PENDING
    SUCCESS
    UNKNOWN
  }

  enum OrderDisplayFinancialStatus {
    AUTHORIZED
    EXPIRED
    PAID
    PARTIALLY_PAID
    PARTIALLY_REFUNDED
    PENDING
    REFUNDED
    VOIDED
  }

  type OrderTransaction implements Node {
    id: ID!
    kind: OrderTransactionKind!
    status: OrderTransactionStatus!
    gateway: String
    amountSet: MoneyBag!
    processedAt: DateTime
    createdAt: DateTime!
  }

  type Order implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    name: String!
    email: String
    phone: String
    createdAt: DateTime!
    processedAt: DateTime!
    updatedAt: DateTime!
    cancelledAt: DateTime
    currencyCode: CurrencyCode!
    customer: Customer
    displayFinancialStatus: OrderDisplayFinancialStatus
    discountCodes: [String!]!
    tags: [String!]!
    taxesIncluded: Boolean!
    subtotalPriceSet: MoneyBag
    currentSubtotalPriceSet: MoneyBag!
    totalDiscountsSet: MoneyBag
    totalShippingPriceSet: MoneyBag!
    totalTaxSet: MoneyBag
    currentTotalTaxSet: MoneyBag!
    totalPriceSet: MoneyBag!
    totalRefundedSet: MoneyBag!
    totalRefundedShippingSet: MoneyBag!
    refunds(first: Int): [Refund!]!
    shippingAddress: MailingAddress
    lineItems(first: Int, after: String, last: Int, before: String): LineItemConnection!
    transactions(first: Int): [OrderTransaction!]!
  }

  type OrderEdge {
    cursor: String!
    node: Order!
  }

  type OrderConnection {
    edges: [OrderEdge!]!
    nodes: [Order!]!
    pageInfo: PageInfo!
  }

  enum BulkOperationType {
    QUERY
    MUTATION
  }

  enum BulkOperationStatus {
    CREATED
    RUNNING
    COMPLETED
    CANCELING
    CANCELED
    FAILED
    EXPIRED
  }

  enum BulkOperationErrorCode {
    ACCESS_DENIED
    INTERNAL_SERVER_ERROR
    TIMEOUT
  }

  type BulkOperation implements Node {
    id: ID!
    status: BulkOperationStatus!
    type: BulkOperationType!
    errorCode: BulkOperationErrorCode
    objectCount: UnsignedInt64!
    rootObjectCount: UnsignedInt64!
    fileSize: UnsignedInt64
    url: URL
    partialDataUrl: URL
    query: String!
    createdAt: DateTime!
    completedAt: DateTime
  }

  enum BulkOperationUserErrorCode {
    INVALID
    LIMIT_REACHED
    OPERATION_IN_PROGRESS
  }

  type BulkOperationUserError {
    field: [String!]
    message: String!
    code: BulkOperationUserErrorCode
  }

  type BulkOperationEdge {
    cursor: String!
    node: BulkOperation!
  }

  type BulkOperationConnection {
    edges: [BulkOperationEdge!]!
    nodes: [BulkOperation!]!
    pageInfo: PageInfo!
  }

  enum BulkOperationsSortKeys {
    COMPLETED_AT
    CREATED_AT
  }

  type BulkOperationRunQueryPayload {
    bulkOperation: BulkOperation
    userErrors: [BulkOperationUserError!]!
  }

  enum BulkMutationErrorCode {
    INTERNAL_FILE_SERVER_ERROR
    INVALID_MUTATION
    INVALID_STAGED_UPLOAD_FILE
    LIMIT_REACHED
    NO_SUCH_FILE
    OPERATION_IN_PROGRESS
  }

  type BulkMutationUserError {
    field: [String!]
    message: String!
    code: BulkMutationErrorCode
  }

  type BulkOperationRunMutationPayload {
    bulkOperation: BulkOperation
    userErrors: [BulkMutationUserError!]!
  }

  enum StagedUploadTargetGenerateUploadResource {
    BULK_MUTATION_VARIABLES
    COLLECTION_IMAGE
    DISPUTE_FILE_UPLOAD
    FILE
    IMAGE
    MODEL_3D
    PRODUCT_IMAGE @deprecated(reason: "Use IMAGE instead. This resource type will be removed in a future version.")
    RETURN_LABEL
    SHOP_IMAGE
    URL_REDIRECT_IMPORT
    VIDEO
  }

  enum StagedUploadHttpMethodType {
    POST
    PUT
  }

  input StagedUploadInput {
    resource: StagedUploadTargetGenerateUploadResource!
    filename: String!
    mimeType: String!
    httpMethod: StagedUploadHttpMethodType = PUT
    fileSize: UnsignedInt64
  }

  type StagedUploadParameter {
    name: String!
    value: String!
  }

  type StagedMediaUploadTarget {
    url: URL
    resourceUrl: URL
    parameters: [StagedUploadParameter!]!
  }

  type StagedUploadsCreatePayload {
    stagedTargets: [StagedMediaUploadTarget!]
    userErrors: [UserError!]!
  }

  type BulkOperationCancelPayload {
    bulkOperation: BulkOperation
    userErrors: [UserError!]!
  }

  type UserError {
    field: [String!]
    message: String!
  }

  type TagsAddPayload {
    node: Node
    userErrors: [UserError!]!
  }

  type TagsRemovePayload {
    node: Node
    userErrors: [UserError!]!
  }

  type Segment implements Node {
    id: ID!
    name: String!
    query: String!
    creationDate: DateTime!
    lastEditDate: DateTime!
  }

  type SegmentEdge {
    cursor: String!
    node: Segment!
  }

  type SegmentConnection {
    edges: [SegmentEdge!]!
    nodes: [Segment!]!
    pageInfo: PageInfo!
  }

  type SegmentCreatePayload {
    segment: Segment
    userErrors: [UserError!]!
  }

  type SegmentUpdatePayload {
    segment: Segment
    userErrors: [UserError!]!
  }

  type WebPixel implements Node {
    id: ID!
    settings: JSON!
  }

  input WebPixelInput {
    settings: JSON!
  }

  enum ErrorsWebPixelUserErrorCode {
    BLANK
    INVALID_CONFIGURATION_JSON
    INVALID_RUNTIME_CONTEXT
    INVALID_SETTINGS
    INVALID_SETTINGS_DEFINITION
    NOT_FOUND
    NO_EXTENSION
    TAKEN
    UNEXPECTED_ERROR
  }

  type ErrorsWebPixelUserError {
    field: [String!]
    message: String!
    code: ErrorsWebPixelUserErrorCode
  }

  type WebPixelCreatePayload {
    webPixel: WebPixel
    userErrors: [ErrorsWebPixelUserError!]!
  }

  type WebPixelUpdatePayload {
    webPixel: WebPixel
    userErrors: [ErrorsWebPixelUserError!]!
  }

  type WebPixelDeletePayload {
    deletedWebPixelId: ID
    userErrors: [ErrorsWebPixelUserError!]!
  }

  enum MetafieldOwnerType {
    API_PERMISSION
    ARTICLE
    BLOG
    CARTTRANSFORM
    COLLECTION
    COMPANY
    COMPANY_LOCATION
    CUSTOMER
    DELIVERY_CUSTOMIZATION
    DISCOUNT
    DRAFTORDER
    FULFILLMENT_CONSTRAINT_RULE
    GIFT_CARD_TRANSACTION
    LOCATION
    MARKET
    ORDER
    ORDER_ROUTING_LOCATION_RULE
    PAGE
    PAYMENT_CUSTOMIZATION
    PRODUCT
    PRODUCTVARIANT
    SELLING_PLAN
    SHOP
    TRANSFER
    VALIDATION
  }

  type Metafield implements Node {
    id: ID!
    legacyResourceId: UnsignedInt64!
    namespace: String!
    key: String!
    type: String!
    value: String!
    jsonValue: JSON!
    compareDigest: String!
    ownerType: MetafieldOwnerType!
    owner: HasMetafields!
    definition: MetafieldDefinition
    createdAt: DateTime!
    updatedAt: DateTime!
  }

  type MetafieldEdge {
    cursor: String!
    node: Metafield!
  }

  type MetafieldConnection {
    edges: [MetafieldEdge!]!
    nodes: [Metafield!]!
    pageInfo: PageInfo!
  }

  enum MetafieldAdminAccess {
    MERCHANT_READ
    MERCHANT_READ_WRITE
    PRIVATE
    PUBLIC_READ
    PUBLIC_READ_WRITE
  }

  enum MetafieldAdminAccessInput {
    MERCHANT_READ
    MERCHANT_READ_WRITE
  }

  enum MetafieldCustomerAccountAccess {
    NONE
    READ
    READ_WRITE
  }

  enum MetafieldCustomerAccountAccessInput {
    NONE
    READ
    READ_WRITE
  }

  enum MetafieldStorefrontAccess {
    NONE
    PUBLIC_READ
  }

  enum MetafieldStorefrontAccessInput {
    NONE
    PUBLIC_READ
  }

  type MetafieldAccess {
    admin: MetafieldAdminAccess
    customerAccount: MetafieldCustomerAccountAccess!
    storefront: MetafieldStorefrontAccess
  }

  input MetafieldAccessInput {
    admin: MetafieldAdminAccessInput
    customerAccount: MetafieldCustomerAccountAccessInput
    storefront: MetafieldStorefrontAccessInput
  }

  type MetafieldDefinitionSupportedValidation {
    name: String!
    type: String!
  }

  type MetafieldDefinitionType {
    category: String!
    name: String!
    supportedValidations: [MetafieldDefinitionSupportedValidation!]!
    supportsDefinitionMigrations: Boolean!
  }

  type MetafieldDefinitionValidation {
    name: String!
    type: String!
    value: String
  }

  input MetafieldDefinitionValidationInput {
    name: String!
    value: String!
  }

  enum MetafieldDefinitionValidationStatus {
    ALL_VALID
    IN_PROGRESS
    SOME_INVALID
  }

  enum MetafieldDefinitionPinnedStatus {
    ANY
    PINNED
    UNPINNED
  }

  enum MetafieldDefinitionSortKeys {
    ID
    NAME
    PINNED_POSITION
    RELEVANCE
  }

  type MetafieldDefinition implements Node {
    id: ID!
    namespace: String!
    key: String!
    name: String!
    description: String
    ownerType: MetafieldOwnerType!
    type: MetafieldDefinitionType!
    access: MetafieldAccess!
    validations: [MetafieldDefinitionValidation!]!
    validationStatus: MetafieldDefinitionValidationStatus!
    pinnedPosition: Int
    useAsCollectionCondition: Boolean!
    metafieldsCount: Int!
  }

  type MetafieldDefinitionEdge {
    cursor: String!
    node: MetafieldDefinition!
  }

  type MetafieldDefinitionConnection {
    edges: [MetafieldDefinitionEdge!]!
    nodes: [MetafieldDefinition!]!
    pageInfo: PageInfo!
  }

  input MetafieldDefinitionInput {
    namespace: String
    key: String!
    name: String!
    description: String
    ownerType: MetafieldOwnerType!
    type: String!
    validations: [MetafieldDefinitionValidationInput!]
    access: MetafieldAccessInput
    pin: Boolean = false
  }

  enum MetafieldDefinitionCreateUserErrorCode {
    ADMIN_ACCESS_INPUT_NOT_ALLOWED
    BLANK
    CAPABILITY_REQUIRED_BUT_DISABLED
    DUPLICATE_OPTION
    INCLUSION
    INVALID
    INVALID_CAPABILITY
    INVALID_CHARACTER
    INVALID_CONSTRAINTS
    INVALID_INPUT_COMBINATION
    INVALID_OPTION
    LIMIT_EXCEEDED
    OWNER_TYPE_LIMIT_EXCEEDED_FOR_AUTOMATED_COLLECTIONS
    OWNER_TYPE_LIMIT_EXCEEDED_FOR_USE_AS_ADMIN_FILTERS
    PINNED_LIMIT_REACHED
    PRESENT
    RESERVED_NAMESPACE_KEY
    RESOURCE_TYPE_LIMIT_EXCEEDED
    RESOURCE_TYPE_LIMIT_EXCEEDED_BY_APP
    TAKEN
    TOO_LONG
    TOO_SHORT
    TYPE_NOT_ALLOWED_FOR_CONDITIONS
    UNSTRUCTURED_ALREADY_EXISTS
    UNSUPPORTED_PINNING
  }

  type MetafieldDefinitionCreateUserError {
    field: [String!]
    message: String!
    code: MetafieldDefinitionCreateUserErrorCode
    elementIndex: Int
    elementKey: String
  }

  type MetafieldDefinitionCreatePayload {
    createdDefinition: MetafieldDefinition
    userErrors: [MetafieldDefinitionCreateUserError!]!
  }

  input MetafieldsSetInput {
    ownerId: ID!
    namespace: String
    key: String!
    value: String!
    type: String
    compareDigest: String
  }

  enum MetafieldsSetUserErrorCode {
    APP_NOT_AUTHORIZED
    BLANK
    CAPABILITY_VIOLATION
    INCLUSION
    INTERNAL_ERROR
    INVALID
    INVALID_COMPARE_DIGEST
    INVALID_TYPE
    INVALID_VALUE
    LESS_THAN_OR_EQUAL_TO
    PRESENT
    STALE_OBJECT
    TAKEN
    TOO_LONG
    TOO_SHORT
  }

  type MetafieldsSetUserError {
    field: [String!]
    message: String!
    code: MetafieldsSetUserErrorCode
    elementIndex: Int
  }

  type MetafieldsSetPayload {
    metafields: [Metafield!]
    userErrors: [MetafieldsSetUserError!]!
  }

  input MetafieldIdentifierInput {
    ownerId: ID!
    namespace: String!
    key: String!
  }

  type MetafieldIdentifier {
    ownerId: ID!
    namespace: String!
    key: String!
  }

  type MetafieldsDeletePayload {
    deletedMetafields: [MetafieldIdentifier]
    userErrors: [UserError!]!
  }

  type CustomerSegmentMember implements HasMetafields {
    id: ID!
    firstName: String
    lastName: String
    displayName: String!
    defaultEmailAddress: CustomerEmailAddress
    numberOfOrders: UnsignedInt64
    amountSpent: MoneyV2
    ${HAS_METAFIELDS_FIELDS}
  }

  type CustomerSegmentMemberEdge {
    cursor: String!
    node: CustomerSegmentMember!
  }

  type CustomerSegmentMemberConnection {
    edges: [CustomerSegmentMemberEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type Query {
    shop: Shop!
    node(id: ID!): Node
    nodes(ids: [ID!]!): [Node]!
    customer(id: ID!): Customer
    product(id: ID!): Product
    order(id: ID!): Order
    customers(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      reverse: Boolean = false
    ): CustomerConnection!
    products(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      reverse: Boolean = false
    ): ProductConnection!
    orders(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      reverse: Boolean = false
    ): OrderConnection!
    customersCount(limit: Int = 10000, query: String): Count
    productsCount(limit: Int = 10000, query: String): Count
    ordersCount(limit: Int = 10000, query: String): Count
    currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
      @deprecated(reason: "Use \`bulkOperations\` with status filter instead.")
    bulkOperation(id: ID!): BulkOperation
    bulkOperations(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      reverse: Boolean = false
      sortKey: BulkOperationsSortKeys = CREATED_AT
    ): BulkOperationConnection!
    segments(first: Int, after: String, last: Int, before: String): SegmentConnection!
    segment(id: ID!): Segment
    webPixel(id: ID): WebPixel
    metafieldDefinitions(
      ownerType: MetafieldOwnerType!
      first: Int
      after: String
      last: Int
      before: String
      reverse: Boolean = false
      namespace: String
      key: String
      query: String
      pinnedStatus: MetafieldDefinitionPinnedStatus = ANY
      sortKey: MetafieldDefinitionSortKeys = ID
    ): MetafieldDefinitionConnection!
    customerSegmentMembers(
      first: Int
      after: String
      last: Int
      before: String
      reverse: Boolean = false
      segmentId: ID
      query: String
      queryId: ID
      sortKey: String
      timezone: String
    ): CustomerSegmentMemberConnection!
  }

  type Mutation {
    bulkOperationRunQuery(query: String!, groupObjects: Boolean! = false): BulkOperationRunQueryPayload
    bulkOperationRunMutation(
      mutation: String!
      stagedUploadPath: String!
      clientIdentifier: String
      groupObjects: Boolean = true
    ): BulkOperationRunMutationPayload
    bulkOperationCancel(id: ID!): BulkOperationCancelPayload
    stagedUploadsCreate(input: [StagedUploadInput!]!): StagedUploadsCreatePayload
    tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
    tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
    segmentCreate(name: String!, query: String!): SegmentCreatePayload
    segmentUpdate(id: ID!, name: String, query: String): SegmentUpdatePayload
    webPixelCreate(webPixel: WebPixelInput!): WebPixelCreatePayload
    webPixelUpdate(id: ID!, webPixel: WebPixelInput!): WebPixelUpdatePayload
    webPixelDelete(id: ID!): WebPixelDeletePayload
    metafieldDefinitionCreate(definition: MetafieldDefinitionInput!): MetafieldDefinitionCreatePayload
    metafieldsSet(metafields: [MetafieldsSetInput!]!): MetafieldsSetPayload
    metafieldsDelete(metafields: [MetafieldIdentifierInput!]!): MetafieldsDeletePayload
  }
`;

/**
 * The part of Shopify's Admin GraphQL API that MicroSegment uses, with
 * Shopify's names, types (enums and scalars included) and deprecations;
 * simulator/admin-schema.test.ts holds it to Shopify's published schema of
 * SIMULATED_API_VERSION. graphql-js validates every request against it, so
 * an unknown field or operation is an error, as on Shopify.
 */
export const adminSchema = buildSchema(ISO_CODE_ENUMS + ADMIN_SDL);
