// An independent second opinion on relkit's Sigstore bundles: sigstore-js (@sigstore/verify,
// the verifier npm uses), not sigstore-python. cosign cannot run here; this checks the
// same things it does (chain to the trusted root, SCT, Rekor entry, identity, issuer,
// signature over the artifact) with a separate implementation.
//
//   node verify.mjs --trust-config TC.json --bundle X.sigstore.json --artifact X \
//                   --identity-regexp RE --issuer ISSUER
//
// Without --artifact the bundle must hold a DSSE envelope (an attestation): its signature
// is checked over the envelope's PAE, and the line also carries the payload type and the
// base64 payload, so the caller can compare the statement sigstore-js saw.
//
// Prints "verified IDENTITY" (DSSE: "verified IDENTITY PAYLOADTYPE PAYLOAD_B64") and
// exits 0, or "failed: REASON" and exits 1.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const { values: args } = parseArgs({
  options: {
    'trust-config': { type: 'string' },
    bundle: { type: 'string' },
    artifact: { type: 'string' },
    'identity-regexp': { type: 'string' },
    issuer: { type: 'string' },
  },
});

try {
  const trustConfig = JSON.parse(readFileSync(args['trust-config'], 'utf8'));
  const trust = toTrustMaterial(TrustedRoot.fromJSON(trustConfig.trustedRoot));
  const bundle = bundleFromJSON(JSON.parse(readFileSync(args.bundle, 'utf8')));
  const artifact = args.artifact ? readFileSync(args.artifact) : undefined;
  if (!artifact && bundle.content.$case !== 'dsseEnvelope') {
    throw new Error('no --artifact given and the bundle holds no DSSE envelope');
  }
  const entity = toSignedEntity(bundle, artifact);
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  // sigstore-js matches the SAN with String.prototype.match: a regexp, like cosign's
  // --certificate-identity-regexp.
  const signer = verifier.verify(entity, {
    subjectAlternativeName: args['identity-regexp'],
    extensions: { issuer: args.issuer },
  });
  let line = `verified ${signer.identity.subjectAlternativeName}`;
  if (bundle.content.$case === 'dsseEnvelope') {
    const envelope = bundle.content.dsseEnvelope;
    line += ` ${envelope.payloadType} ${Buffer.from(envelope.payload).toString('base64')}`;
  }
  process.stdout.write(`${line}\n`);
} catch (e) {
  process.stdout.write(`failed: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
}
