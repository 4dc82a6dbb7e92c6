// Drives the Inrupt client libraries against a live Commonpod server.
// Usage: node inrupt.mjs ISSUER POD_URL CLIENT_ID CLIENT_SECRET
// Prints one JSON line per step; exits non-zero on the first failure.
import { Session } from "@inrupt/solid-client-authn-node";
import {
  createContainerAt, createSolidDataset, createThing, buildThing, setThing, saveSolidDatasetAt,
  getSolidDataset, getThing, getStringNoLocale, deleteSolidDataset, deleteContainer,
} from "@inrupt/solid-client";

const [issuer, pod, clientId, clientSecret] = process.argv.slice(2);
const NAME = "https://schema.org/name";
const step = (name, extra = {}) => console.log(JSON.stringify({ step: name, ...extra }));

const session = new Session();
await session.login({ clientId, clientSecret, oidcIssuer: issuer });
if (!session.info.isLoggedIn) throw new Error("not logged in");
step("login", { webId: session.info.webId });
const fetch = session.fetch;

const container = `${pod}interop-${Date.now()}/`;
await createContainerAt(container, { fetch });
step("container", { url: container });

const docUrl = `${container}things.ttl`;
let thing = buildThing(createThing({ name: "it" })).addStringNoLocale(NAME, "first").build();
await saveSolidDatasetAt(docUrl, setThing(createSolidDataset(), thing), { fetch });
step("saved");

let dataset = await getSolidDataset(docUrl, { fetch });
thing = getThing(dataset, `${docUrl}#it`);
const first = getStringNoLocale(thing, NAME);
if (first !== "first") throw new Error(`read back ${first}`);
step("read", { value: first });

thing = buildThing(thing).setStringNoLocale(NAME, "second").build();
dataset = await saveSolidDatasetAt(docUrl, setThing(dataset, thing), { fetch }); // a PATCH
dataset = await getSolidDataset(docUrl, { fetch });
const second = getStringNoLocale(getThing(dataset, `${docUrl}#it`), NAME);
if (second !== "second") throw new Error(`after update read ${second}`);
step("updated", { value: second });

const anonymous = await globalThis.fetch(docUrl, {
  method: "PUT", headers: { "Content-Type": "text/turtle" }, body: "<#x> <#y> <#z>.",
});
if (anonymous.status !== 401) throw new Error(`anonymous PUT answered ${anonymous.status}`);
step("anonymous-refused", { status: anonymous.status });

await deleteSolidDataset(docUrl, { fetch });
await deleteContainer(container, { fetch });
const gone = await fetch(docUrl);
if (gone.status !== 404) throw new Error(`after delete GET answered ${gone.status}`);
step("deleted");
await session.logout();
