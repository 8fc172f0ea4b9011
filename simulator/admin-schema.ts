import { buildSchema } from "graphql";

/**
 * The part of Shopify's Admin GraphQL API (2026-10) that MicroSegment uses,
 * with Shopify's names and shapes. graphql-js validates every request against
 * it, so an unknown field or operation is an error, as on Shopify.
 */
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

export const adminSchema = buildSchema(/* GraphQL */ `
  scalar DateTime
  scalar Decimal
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
    currencyCode: String!
  }

  type MoneyBag {
    shopMoney: MoneyV2!
    presentmentMoney: MoneyV2!
  }

  type Count {
    count: Int!
    precision: String!
  }

  type ShopPlan {
    displayName: String!
    shopifyPlus: Boolean!
    partnerDevelopment: Boolean!
  }

  type Shop implements Node {
    id: ID!
    name: String!
    email: String!
    myshopifyDomain: String!
    currencyCode: String!
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
    countryCodeV2: String
    zip: String
    phone: String
  }

  type CustomerEmailAddress {
    emailAddress: String!
    marketingState: String!
  }

  type CustomerPhoneNumber {
    phoneNumber: String!
    marketingState: String!
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
    state: String!
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
    price: Decimal!
    compareAtPrice: Decimal
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
    descriptionHtml: String!
    productType: String!
    vendor: String!
    tags: [String!]!
    status: String!
    options: [ProductOption!]!
    featuredImage: Image
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
    discountedTotalSet: MoneyBag!
    variant: ProductVariant
    product: Product
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

  type OrderTransaction implements Node {
    id: ID!
    kind: String!
    status: String!
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
    currencyCode: String!
    customer: Customer
    displayFinancialStatus: String
    discountCodes: [String!]!
    tags: [String!]!
    subtotalPriceSet: MoneyBag
    totalDiscountsSet: MoneyBag
    totalShippingPriceSet: MoneyBag!
    totalTaxSet: MoneyBag
    totalPriceSet: MoneyBag!
    totalRefundedSet: MoneyBag!
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

  type BulkOperationUserError {
    field: [String!]
    message: String!
    code: String
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
    PRODUCT_IMAGE
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

  type ErrorsWebPixelUserError {
    field: [String!]
    message: String!
    code: String
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
    useAsCollectionCondition: Boolean = false
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
    customer(id: ID!): Customer
    product(id: ID!): Product
    order(id: ID!): Order
    customers(
      first: Int
      after: String
      last: Int
      before: String
      query: String
      reverse: Boolean
    ): CustomerConnection!
    products(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean): ProductConnection!
    orders(first: Int, after: String, last: Int, before: String, query: String, reverse: Boolean): OrderConnection!
    customersCount(query: String): Count
    productsCount(query: String): Count
    ordersCount(query: String): Count
    currentBulkOperation(type: BulkOperationType = QUERY): BulkOperation
    bulkOperation(id: ID!): BulkOperation
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
    bulkOperationRunQuery(query: String!, groupObjects: Boolean = false): BulkOperationRunQueryPayload
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
`);
