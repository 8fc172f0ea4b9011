import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { loadConfig } from "./config.server";

declare global {
  // Reused across Vite HMR reloads so development does not leak pools.
  var prismaGlobal: PrismaClient | undefined;
}

function createClient() {
  const adapter = new PrismaPg({ connectionString: loadConfig().DATABASE_URL, max: 10 });
  return new PrismaClient({ adapter });
}

const prisma = globalThis.prismaGlobal ?? createClient();
if (process.env.NODE_ENV !== "production") globalThis.prismaGlobal = prisma;

export default prisma;
