import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 64;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const paramsFor = (cost: number): ScryptOptions => {
  const N = 2 ** cost;
  return { N, r: 8, p: 1, maxmem: 256 * N * 8 };
};

/**
 * Hashes with scrypt (N = 2^cost, r = 8, p = 1) and a random salt.
 * The parameters are stored in the hash, so raising the cost later keeps old hashes valid.
 */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, paramsFor(cost));
  return ['scrypt', cost, salt.toString('base64'), key.toString('base64')].join('$');
}

/** False for a wrong password or a hash this code does not recognise; never throws on bad input. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, costText, saltText, keyText] = stored.split('$');
  const cost = Number(costText);
  if (scheme !== 'scrypt' || !Number.isInteger(cost) || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, 'base64');
  const actual = await derive(password, Buffer.from(saltText, 'base64'), paramsFor(cost));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
