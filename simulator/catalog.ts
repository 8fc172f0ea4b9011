/** Word lists the store generator draws from. Every email and phone number is fictional. */

export const FIRST_NAMES = [
  "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia", "James", "Charlotte", "Lucas",
  "Ava", "Mateo", "Isabella", "Levi", "Harper", "Ethan", "Evelyn", "Aiden", "Luna", "Hiroshi", "Yuki", "Priya",
  "Arjun", "Fatima", "Omar", "Chloé", "Lukas", "Sofia", "Mei", "Chen", "Aisha", "Kwame", "Ingrid", "Mateus",
  "Zoe", "Gabriel", "Nora", "Ibrahim",
] as const;

export const LAST_NAMES = [
  "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Lee",
  "Walker", "Hall", "Allen", "Young", "King", "Wright", "Lopez", "Hill", "Scott", "Nguyen", "Kim", "Patel",
  "Müller", "Rossi", "Dubois", "Tanaka", "Silva", "Kowalski", "Okafor", "Andersen", "Novak", "Haddad", "Moreau",
] as const;

export const PLACES = [
  { city: "New York", province: "New York", provinceCode: "NY", country: "United States", countryCode: "US", zip: "10001" },
  { city: "Austin", province: "Texas", provinceCode: "TX", country: "United States", countryCode: "US", zip: "73301" },
  { city: "Seattle", province: "Washington", provinceCode: "WA", country: "United States", countryCode: "US", zip: "98101" },
  { city: "Chicago", province: "Illinois", provinceCode: "IL", country: "United States", countryCode: "US", zip: "60601" },
  { city: "Denver", province: "Colorado", provinceCode: "CO", country: "United States", countryCode: "US", zip: "80201" },
  { city: "Toronto", province: "Ontario", provinceCode: "ON", country: "Canada", countryCode: "CA", zip: "M5H 2N2" },
  { city: "Vancouver", province: "British Columbia", provinceCode: "BC", country: "Canada", countryCode: "CA", zip: "V6B 1A1" },
  { city: "London", province: "England", provinceCode: "ENG", country: "United Kingdom", countryCode: "GB", zip: "EC1A 1BB" },
  { city: "Berlin", province: "Berlin", provinceCode: "BE", country: "Germany", countryCode: "DE", zip: "10115" },
  { city: "Sydney", province: "New South Wales", provinceCode: "NSW", country: "Australia", countryCode: "AU", zip: "2000" },
] as const;

export const STREETS = ["Maple Ave", "Oak St", "Cedar Rd", "Elm St", "Pine Ln", "Harbor Way", "Market St", "Station Rd"] as const;

export const CUSTOMER_TAGS = ["newsletter", "vip", "wholesale", "loyalty-member", "instagram", "referral", "gift-buyer"] as const;

export const PRODUCT_TYPES = [
  { type: "Jacket", median: 140, options: ["Size", "Color"] },
  { type: "T-Shirt", median: 28, options: ["Size", "Color"] },
  { type: "Sweater", median: 75, options: ["Size", "Color"] },
  { type: "Backpack", median: 95, options: ["Color"] },
  { type: "Water Bottle", median: 24, options: ["Size"] },
  { type: "Tent", median: 320, options: ["Capacity"] },
  { type: "Sleeping Bag", median: 180, options: ["Temperature"] },
  { type: "Socks", median: 16, options: ["Size"] },
  { type: "Beanie", median: 26, options: ["Color"] },
  { type: "Trail Shoes", median: 135, options: ["Size"] },
  { type: "Headlamp", median: 45, options: ["Color"] },
  { type: "Gift Card", median: 50, options: ["Denomination"] },
] as const;

export const OPTION_VALUES: Record<string, readonly string[]> = {
  Size: ["XS", "S", "M", "L", "XL"],
  Color: ["Black", "Forest", "Sand", "Ocean", "Rust"],
  Capacity: ["1 person", "2 person", "4 person"],
  Temperature: ["-5°C", "0°C", "5°C"],
  Denomination: ["25", "50", "100"],
};

export const VENDORS = ["Northwind Outdoor", "Summit & Co", "Tidewater", "Ridgeline", "Kestrel Goods", "Alder Works"] as const;

export const ADJECTIVES = [
  "Alpine", "Coastal", "Everyday", "Trailhead", "Storm", "Meadow", "Granite", "Cascade", "Nomad", "Harbor", "Canyon",
  "Aurora", "Timber", "Glacier", "Prairie", "Summit",
] as const;

export const PRODUCT_TAGS = ["new", "bestseller", "eco", "limited", "waterproof", "recycled", "gift", "sale"] as const;

export const DISCOUNT_CODES = [
  { code: "WELCOME10", percent: 10 },
  { code: "SPRING15", percent: 15 },
  { code: "BFCM25", percent: 25 },
  { code: "LOYAL20", percent: 20 },
] as const;
