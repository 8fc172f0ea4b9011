import { loadConfig } from "../app/config.server";
import prisma from "../app/db.server";
import { rotateSessionKeys } from "../app/services/key-rotation.server";

/** `npm run rotate-keys`: re-encrypt every stored token under the newest key of TOKEN_ENCRYPTION_KEYS. */
const config = loadConfig();
try {
  const result = await rotateSessionKeys(config.TOKEN_ENCRYPTION_KEYS);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (result.undecryptable.length > 0) {
    process.stderr.write(
      `rotate-keys: ${result.undecryptable.length} session(s) use a key missing from TOKEN_ENCRYPTION_KEYS; they were left unchanged\n`,
    );
    process.exitCode = 1;
  }
} finally {
  await prisma.$disconnect();
}
