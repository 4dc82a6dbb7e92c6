// Digital Bazaar's eddsa-rdfc-2022 implementation, offline, for tests/test_interop_vc.py.
// Reads one JSON object on stdin:
//   {documents: {url: document}, key: {id, controller, publicKeyMultibase, secretKeyMultibase},
//    created, jobs: [{op: "canonize" | "issue" | "verify", document}]}
// and prints one JSON line per job, in order:
//   canonize -> {nquads} | {error};  issue -> {signed} | {error};  verify -> {verified, error}
// The document loader serves only the documents given (bundled contexts, key documents):
// anything else is an error, never a fetch.
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {readFileSync} from 'node:fs';

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = input.documents;

async function documentLoader(url) {
  if(!Object.hasOwn(documents, url)) {
    throw new Error(`${url} is not among the documents given to the test`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(documents[url])};
}

// the reason in words: jsonld.js puts the safe mode event in `details`
function reason(error) {
  const inner = error?.errors?.[0] ?? error;
  const event = inner?.details?.event ?? inner?.cause?.details?.event;
  const text = String(inner?.message ?? inner);
  return event ? `${text} ${event.code}: ${JSON.stringify(event.details)}` : text;
}

const keyPair = await Ed25519Multikey.from(input.key);
const date = new Date(input.created);

async function run({op, document}) {
  try {
    if(op === 'canonize') {
      return {nquads: await cryptosuite.canonize(document, {documentLoader})};
    }
    if(op === 'issue') {
      const suite = new DataIntegrityProof({signer: keyPair.signer(), date, cryptosuite});
      return {signed: await vc.issue({credential: document, suite, documentLoader})};
    }
    if(op === 'verify') {
      const suite = new DataIntegrityProof({cryptosuite});
      const result = await vc.verifyCredential({credential: document, suite, documentLoader});
      return {verified: result.verified === true,
        error: result.verified ? null : reason(result.error ?? result.results?.[0]?.error)};
    }
    return {error: `unknown op ${op}`};
  } catch(error) {
    return op === 'verify' ? {verified: false, error: reason(error)} : {error: reason(error)};
  }
}

for(const job of input.jobs) {
  process.stdout.write(JSON.stringify(await run(job)) + '\n');
}
