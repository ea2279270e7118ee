// An independent second opinion on relkit's Sigstore bundles: sigstore-js (@sigstore/verify,
// the verifier npm uses), not sigstore-python. cosign cannot run here; this checks the
// same things it does (chain to the trusted root, SCT, Rekor entry, identity, issuer,
// signature over the artifact) with a separate implementation.
//
//   node verify.mjs --trust-config TC.json --bundle X.sigstore.json --artifact X \
//                   --identity-regexp RE --issuer ISSUER
//
// Prints "verified IDENTITY" and exits 0, or "failed: REASON" and exits 1.
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
  const entity = toSignedEntity(bundle, readFileSync(args.artifact));
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
  // sigstore-js matches the SAN with String.prototype.match: a regexp, like cosign's
  // --certificate-identity-regexp.
  const signer = verifier.verify(entity, {
    subjectAlternativeName: args['identity-regexp'],
    extensions: { issuer: args.issuer },
  });
  process.stdout.write(`verified ${signer.identity.subjectAlternativeName}\n`);
} catch (e) {
  process.stdout.write(`failed: ${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
}
