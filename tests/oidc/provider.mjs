// A real OpenID Provider for Allyloop's single sign-on tests (tests/servers.py starts it).
//
//   node provider.mjs PORT [ISSUER]
//
// Listens on 127.0.0.1:PORT. ISSUER defaults to http://127.0.0.1:PORT; a test that puts a
// relay in front of the provider passes the relay's URL instead. The clients come as JSON in
// OIDC_TEST_CLIENTS: [{"client_id", "client_secret", "redirect_uris": [...]}, ...].
// Sign in at its development login page with any password and one of the logins in
// ACCOUNTS below. Keys are made fresh at every start and the store is in memory: nothing
// outlives the process.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

// Who can sign in, and the claims the provider vouches for.
const ACCOUNTS = {
  ana: { email: 'ana@example.org', email_verified: true, name: 'Ana Example' },
  bea: { email: 'bea@example.org', email_verified: true, name: 'Bea Example' },
  unverified: { email: 'unverified@example.org', email_verified: false, name: 'Una Verified' },
  outsider: { email: 'ana@elsewhere.example', email_verified: true, name: 'Ana Elsewhere' },
};

const [port, issuerArgument] = process.argv.slice(2);
if (!/^\d+$/.test(port ?? '')) {
  console.error('usage: node provider.mjs PORT [ISSUER]');
  process.exit(2);
}
const issuer = issuerArgument ?? `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_TEST_CLIENTS ?? '[]');

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  // Every client must use PKCE, as Allyloop does (S256 is the only method oidc-provider takes).
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  findAccount(ctx, sub) {
    const claims = ACCOUNTS[sub];
    if (claims === undefined) return undefined;
    return { accountId: sub, claims: () => ({ sub, ...claims }) };
  },
  features: {
    devInteractions: { enabled: true }, // its login and consent pages: fine for tests, never for production
  },
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider for tests: issuer ${issuer}, listening on 127.0.0.1:${port}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // keep-alive connections would hold close() open
  });
}
