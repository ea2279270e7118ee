// A local Sigstore for relkit's tests: Fulcio (v2 signingCert) and Rekor (API v1, no TSA)
// on one loopback port, built from @sigstore/mock's handlers, which are meant for nock.
//
//   node server.mjs --trust-config OUT.json [--port 0] [--oidc-public-key KEY.pem]
//                   [--exit-with-stdin]
//
// Writes a ClientTrustConfig (trusted root + signing config) for this instance to OUT.json,
// then prints one line: "relkit-sigstore ready http://127.0.0.1:PORT".
//
// What we adapt, and why:
// - sigstore-python sends the OIDC token as "Authorization: Bearer" and the CSR as base64 of
//   its PEM; the mock reads credentials.oidcIdentityToken and a PEM string. We translate.
// - The mock puts claims[subjectClaim] in the certificate's URI SAN. Real Fulcio uses
//   https://github.com/<job_workflow_ref> for GitHub Actions tokens and the email or sub
//   otherwise; we compute that into a claim of our own so certificates look like real ones.
// - The mock logs a Rekor proposal verbatim. Real Rekor stores a `dsse` entry as the hashes
//   of the envelope and payload plus each signature with its verifier (rekor's
//   types/dsse/v0.0.1 Canonicalize); verifiers check that form, so we store it too.
// - The mock does not check the token at all. With --oidc-public-key, tokens must be ES256
//   JWTs signed by that key with audience "sigstore" and not expired, like real Fulcio
//   checking the issuer's keys, so tests can show a forged token is refused.
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const mock = require('@sigstore/mock');
const jose = require('jose');

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    'trust-config': { type: 'string' },
    'oidc-public-key': { type: 'string' },
    // Exit when stdin closes: a test run that dies cannot leave the server behind.
    'exit-with-stdin': { type: 'boolean', default: false },
  },
});
if (!args['trust-config']) {
  process.stderr.write('usage: node server.mjs --trust-config OUT.json [--port N]\n');
  process.exit(2);
}

const SUBJECT_CLAIM = 'relkit_fulcio_subject';
const oidcKey = args['oidc-public-key']
  ? createPublicKey(readFileSync(args['oidc-public-key']))
  : null;

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spki = (keyObject) => keyObject.export({ format: 'der', type: 'spki' });
const b64 = (bytes) => Buffer.from(bytes).toString('base64');

function subjectOf(claims) {
  if (claims.job_workflow_ref) return `https://github.com/${claims.job_workflow_ref}`;
  return claims.email || claims.sub;
}

function b64url(text) {
  return Buffer.from(text).toString('base64url');
}

async function fulcioRequestBody(headers, rawBody) {
  const auth = headers.authorization || '';
  const match = /^Bearer\s+(\S+)$/i.exec(auth);
  if (!match) throw httpError(401, 'missing bearer token');
  const token = match[1];
  let claims;
  if (oidcKey) {
    try {
      ({ payload: claims } = await jose.jwtVerify(token, oidcKey, { audience: 'sigstore' }));
    } catch (e) {
      throw httpError(401, `identity token refused: ${e.code || 'invalid'}`);
    }
  } else {
    claims = jose.decodeJwt(token);
  }
  // Re-encode the (already checked) claims with our subject claim; the mock only decodes it.
  const [header, , signature] = token.split('.');
  const payload = b64url(JSON.stringify({ ...claims, [SUBJECT_CLAIM]: subjectOf(claims) }));
  const request = JSON.parse(rawBody);
  const csr = request.certificateSigningRequest;
  const pem = csr && csr.includes('BEGIN') ? csr : Buffer.from(csr || '', 'base64').toString();
  return JSON.stringify({
    credentials: { oidcIdentityToken: `${header}.${payload}.${signature}` },
    certificateSigningRequest: pem,
  });
}

function rekorRequestBody(rawBody) {
  const entry = JSON.parse(rawBody);
  const proposed = entry && entry.kind === 'dsse' && entry.spec && entry.spec.proposedContent;
  if (!proposed) return rawBody;
  const envelope = JSON.parse(proposed.envelope);
  const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
  const verifier = proposed.verifiers[0];
  return JSON.stringify({
    apiVersion: entry.apiVersion,
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(proposed.envelope) },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
      signatures: envelope.signatures.map((signature) => ({ signature: signature.sig, verifier })),
    },
  });
}

function httpError(status, message) {
  return Object.assign(new Error(message), { status });
}

async function main() {
  const caKeys = p256();
  const ctKeys = p256();
  const rekorKeys = p256();
  const ctlog = await mock.initializeCTLog(ctKeys);
  const ca = await mock.initializeCA(caKeys, ctlog);
  const fulcio = mock.fulcioHandler(ca, { strict: true, subjectClaim: SUBJECT_CLAIM });

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString();
      const path = new URL(req.url, 'http://x').pathname;
      try {
        let result;
        if (req.method === 'POST' && path === fulcio.path) {
          result = await fulcio.fn(await fulcioRequestBody(req.headers, body));
        } else if (req.method === 'POST' && path === rekor.path) {
          result = await rekor.fn(rekorRequestBody(body));
        } else if (req.method === 'GET' && path === '/healthz') {
          result = { statusCode: 200, response: 'ok' };
        } else {
          throw httpError(404, `no route for ${req.method} ${path}`);
        }
        const status = result.statusCode;
        const isJson = result.contentType === 'application/json';
        const response = isJson || status < 400
          ? result.response
          : JSON.stringify({ code: status, message: String(result.response) });
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(response);
      } catch (e) {
        const status = e.status || 500;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: status, message: e.message }));
      }
    });
  });

  let rekor;
  await new Promise((resolve) => server.listen(Number(args.port), args.host, resolve));
  const url = `http://${args.host}:${server.address().port}`;
  // The Rekor checkpoint names the log by host, so the log is made once the port is known.
  rekor = mock.rekorHandler(await mock.initializeTLog(url, rekorKeys));

  writeFileSync(args['trust-config'], JSON.stringify(trustConfig(url, ca, ctlog, rekorKeys), null, 2));
  process.stdout.write(`relkit-sigstore ready ${url}\n`);

  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (args['exit-with-stdin']) {
    process.stdin.on('end', stop).on('error', stop).resume();
  }
}

function trustConfig(url, ca, ctlog, rekorKeys) {
  // Valid from a minute ago: the CA's root certificate is made "now", and a start in the
  // future (clock granularity) would make sigstore-python skip the authority.
  const validFor = { start: new Date(Date.now() - 60_000).toISOString() };
  const rekorKey = spki(rekorKeys.publicKey);
  const service = (majorApiVersion) => ({ url, majorApiVersion, validFor, operator: 'relkit-tests' });
  return {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot: {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(rekorKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
          logId: { keyId: b64(createHash('sha256').update(rekorKey).digest()) },
        },
      ],
      certificateAuthorities: [
        {
          subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
          uri: url,
          certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
          validFor,
        },
      ],
      ctlogs: [
        {
          baseUrl: url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
          logId: { keyId: b64(ctlog.logID) },
        },
      ],
      timestampAuthorities: [],
    },
    signingConfig: {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [service(1)],
      oidcUrls: [],
      rekorTlogUrls: [service(1)],
      tsaUrls: [],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    },
  };
}

main().catch((e) => {
  process.stderr.write(`relkit-sigstore: ${e.stack || e}\n`);
  process.exit(1);
});
