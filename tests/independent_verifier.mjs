// An independent verifier for tests/test_independent_verifier.py: Digital Bazaar's
// @digitalbazaar/vc with @digitalbazaar/data-integrity and @digitalbazaar/eddsa-rdfc-2022-cryptosuite,
// loaded from the directory given as the first argument (.ci/cache/node_modules, where .ci/run
// installs them). Reads one JSON object on stdin:
//   {documents: {url: document}, credentials: [credential, ...]}
// and prints one JSON line per credential: {verified, revoked, error}.
// The document loader serves only the documents given (Commonpod's bundled contexts, the
// issuer's key and controller documents, status list credentials the test fetched before):
// anything else is an error, never a fetch. The status check (Bitstring Status List v1.0) is
// written here with Node's own gunzip: the list credential is verified by the same library,
// must come from the credential's issuer, and the bit (most significant first) is read.
import {readFileSync} from 'node:fs';
import {gunzipSync} from 'node:zlib';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

const modules = process.argv[2];
const load = name => import(pathToFileURL(join(modules, '@digitalbazaar', name, 'lib', 'index.js')).href);
const vc = await load('vc');
const {DataIntegrityProof} = await load('data-integrity');
const {cryptosuite} = await load('eddsa-rdfc-2022-cryptosuite');

const input = JSON.parse(readFileSync(0, 'utf8'));
const documents = input.documents;

async function documentLoader(url) {
  if(!Object.hasOwn(documents, url)) {
    throw new Error(`${url} is not among the documents given to the test`);
  }
  return {contextUrl: null, documentUrl: url, document: structuredClone(documents[url])};
}

const issuerOf = c => typeof c.issuer === 'object' ? c.issuer.id : c.issuer;
const suite = () => new DataIntegrityProof({cryptosuite});

async function checkStatus({credential}) {
  const entry = credential.credentialStatus;
  if(entry?.type !== 'BitstringStatusListEntry') {
    return {verified: false, error: new Error('unknown credentialStatus type')};
  }
  const {document: list} = await documentLoader(entry.statusListCredential);
  const listed = await vc.verifyCredential({credential: list, suite: suite(), documentLoader});
  if(!listed.verified) {
    return {verified: false, error: new Error('the status list credential does not verify')};
  }
  if(issuerOf(list) !== issuerOf(credential) ||
     list.credentialSubject.statusPurpose !== entry.statusPurpose) {
    return {verified: false, error: new Error('the status list is not the issuer\'s, or for another purpose')};
  }
  const encoded = list.credentialSubject.encodedList;
  if(!encoded.startsWith('u')) {
    return {verified: false, error: new Error('encodedList is not base64url multibase')};
  }
  const bits = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'));
  const index = Number.parseInt(entry.statusListIndex, 10);
  const set = (bits[index >> 3] >> (7 - (index % 8))) & 1;
  return set ? {verified: false, revoked: true, error: new Error(`${entry.statusPurpose} bit set`)}
    : {verified: true};
}

function reason(error) {
  const inner = error?.errors?.[0] ?? error;
  return inner ? String(inner?.message ?? inner) : null;
}

for(const credential of input.credentials) {
  let out;
  try {
    const result = await vc.verifyCredential({credential, suite: suite(), documentLoader, checkStatus});
    out = {verified: result.verified === true, revoked: result.statusResult?.revoked === true,
      error: result.verified ? null : reason(result.error ?? result.statusResult?.error ??
        result.results?.[0]?.error)};
  } catch(error) {
    out = {verified: false, revoked: false, error: reason(error)};
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
