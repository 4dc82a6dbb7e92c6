"""The owner's WebID profile as the profile page edits it: a name, a photo, a bio and links.

The page's fields are statements about the WebID — ``foaf:name`` (what :mod:`auth.people`
reads first), ``vcard:hasPhoto``, ``vcard:note`` and ``vcard:url``, the vCard terms Solid's
profile editors use. Saving replaces those statements and keeps every other triple of the
document as it was (type indexes, keys, the issuer, anything an app added). The document is
written as a PUT by the owner's WebID (:mod:`pod.access.browsing`), conditional on the version
read, so an edit made meanwhile elsewhere is never overwritten.

A photo is stored in the pod beside the profile (``/profile/photo.EXT``) and made readable by
everyone, as the profile is (WAC, through :mod:`pod.access.sharing`); only PNG, JPEG, GIF and
WebP images are taken, recognised by their first bytes, not by what the browser claims.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyoxigraph as ox

from pod.access.acl_edit import Party
from pod.access.agent import Agent
from pod.access.browsing import PodBrowsing
from pod.access.modes import Mode
from pod.access.sharing import Sharing
from pod.errors import NotFound
from pod.resources import rdf
from pod.resources.conditions import Conditions
from pod.resources.paths import Target
from pod.resources.provision import PROFILE
from pod.store.sealed import PodKeys
from vocab.namespaces import FOAF, VCARD, node_of

NAME, PHOTO, NOTE, URL = (node_of(FOAF.name), node_of(VCARD.hasPhoto), node_of(VCARD.note),
                          node_of(VCARD.url))
MANAGED = (NAME, PHOTO, NOTE, URL)
MAX_NAME, MAX_BIO, MAX_LINKS, MAX_LINK = 200, 1000, 10, 2048
MAX_PHOTO = 2 * 1024 * 1024
PHOTO_DIR = "/profile/"
#: image types taken as a photo: (first bytes, media type, file extension)
IMAGES = ((b"\x89PNG\r\n\x1a\n", "image/png", "png"), (b"\xff\xd8\xff", "image/jpeg", "jpg"),
          (b"GIF87a", "image/gif", "gif"), (b"GIF89a", "image/gif", "gif"))


@dataclass(frozen=True, slots=True)
class ProfileFields:
    """What the profile page shows and edits."""

    name: str = ""
    bio: str = ""
    links: tuple[str, ...] = ()
    photo: str | None = None


@dataclass
class ProfileEdit:
    """What the owner sent: the fields, a new photo's bytes, whether to remove the photo, and
    the version of the profile the form was made from (its ETag)."""

    name: str
    bio: str
    links: str  # one per line
    photo: bytes | None = None
    remove_photo: bool = False
    version: str = ""
    errors: dict[str, str] = field(default_factory=dict)


class ProfileRefused(ValueError):
    """Fields that cannot be saved; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def image_type(data: bytes) -> tuple[str, str] | None:
    """``(media type, extension)`` of a PNG, JPEG, GIF or WebP image, by its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return next(((media, ext) for magic, media, ext in IMAGES if data.startswith(magic)), None)


def _text(value: str) -> str:
    return " ".join(value.split()) if "\n" not in value else value.strip()


def _link(value: str) -> str | None:
    """``value`` if it is an absolute http(s) address usable as an IRI."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(value) > MAX_LINK:
        return None
    try:
        ox.NamedNode(value)
    except ValueError:
        return None
    return value


def checked(edit: ProfileEdit) -> tuple[str, str, tuple[str, ...], tuple[str, str] | None]:
    """The edit's name, bio, links and photo type, or :class:`ProfileRefused` naming each
    field that is wrong."""
    errors: dict[str, str] = {}
    name, bio = " ".join(edit.name.split()), edit.bio.strip().replace("\r\n", "\n")
    if not name:
        errors["name"] = "Write the name people should see."
    elif len(name) > MAX_NAME:
        errors["name"] = f"A name has at most {MAX_NAME} characters."
    if len(bio) > MAX_BIO:
        errors["bio"] = f"The bio has at most {MAX_BIO:,} characters; this one has {len(bio):,}."
    lines = [line.strip() for line in edit.links.splitlines() if line.strip()]
    bad = [line for line in lines if _link(line) is None]
    if bad:
        errors["links"] = (f"Each link is a web address starting with https:// or http://; "
                           f"this is not: {bad[0][:80]}")
    elif len(lines) > MAX_LINKS:
        errors["links"] = f"At most {MAX_LINKS} links."
    kind = None
    if edit.photo:
        kind = image_type(edit.photo)
        if len(edit.photo) > MAX_PHOTO:
            errors["photo"] = f"A photo has at most {MAX_PHOTO // (1024 * 1024)} MB."
        elif kind is None:
            errors["photo"] = "The photo must be a PNG, JPEG, GIF or WebP image."
    if errors:
        raise ProfileRefused(errors)
    return name, bio, tuple(dict.fromkeys(lines)), kind


def fields_of(triples: list[ox.Triple], webid: str) -> ProfileFields:
    """The page's fields as the profile's triples give them."""
    me = ox.NamedNode(webid)

    def values(predicate: ox.NamedNode) -> list[str]:
        return [t.object.value for t in triples if t.subject == me and t.predicate == predicate
                and isinstance(t.object, ox.Literal | ox.NamedNode)]
    photo = [t.object.value for t in triples if t.subject == me and t.predicate == PHOTO
             and isinstance(t.object, ox.NamedNode)]
    return ProfileFields(next(iter(values(NAME)), ""), next(iter(values(NOTE)), ""),
                         tuple(sorted(values(URL))), photo[0] if photo else None)


def edited(triples: list[ox.Triple], webid: str, name: str, bio: str, links: tuple[str, ...],
           photo: str | None) -> list[ox.Triple]:
    """``triples`` with the page's statements about ``webid`` replaced; nothing else changed."""
    me = ox.NamedNode(webid)
    kept = [t for t in triples if not (t.subject == me and t.predicate in MANAGED)]
    kept.append(ox.Triple(me, NAME, ox.Literal(name)))
    if bio:
        kept.append(ox.Triple(me, NOTE, ox.Literal(bio)))
    kept += [ox.Triple(me, URL, ox.NamedNode(link)) for link in links]
    if photo:
        kept.append(ox.Triple(me, PHOTO, ox.NamedNode(photo)))
    return kept


class Profiles:
    """Reads and saves the owner's profile fields."""

    def __init__(self, browsing: PodBrowsing, sharing: Sharing):
        self.browsing, self.sharing = browsing, sharing
        self.resources = browsing.resources

    async def read(self, keys: PodKeys, pod: str, webid: str
                   ) -> tuple[ProfileFields, str, list[ox.Triple]]:
        """The fields, the document's version (ETag) and all its triples."""
        target = Target(pod, PROFILE)
        found = await self.browsing.view(keys, target, Agent(webid=webid))
        if found.resource is None:
            raise NotFound("your profile document is missing")
        res = found.resource
        triples = rdf.parse(res.body, res.content_type, self.resources.url(target))
        return fields_of(triples, webid), res.etag, triples

    async def save(self, keys: PodKeys, pod: str, webid: str, edit: ProfileEdit) -> None:
        """Write the edit (photo first, then the profile, if still the version the form was
        made from); raises :class:`ProfileRefused` before writing anything when a field is
        wrong, or the error of the write."""
        name, bio, links, kind = checked(edit)
        me = Agent(webid=webid)
        current, etag, triples = await self.read(keys, pod, webid)
        if edit.version and edit.version != etag:
            raise ProfileRefused({"form": "Your profile was changed meanwhile (in another tab "
                                          "or by an app). Look at it again and redo your edit."})
        photo = None if edit.remove_photo else current.photo
        old = self._own_photo(pod, current.photo)
        if edit.photo and kind is not None:
            target = Target(pod, f"{PHOTO_DIR}photo.{kind[1]}")
            await self.browsing.put(keys, target, me, edit.photo, kind[0], Conditions())
            await self.sharing.share(keys, target, me, Party.everyone(),
                                     frozenset({Mode.READ}))
            photo = self.resources.url(target)
        body = rdf.serialize(edited(triples, webid, name, bio, links, photo), rdf.TURTLE)
        await self.browsing.put(keys, Target(pod, PROFILE), me, body, rdf.TURTLE,
                                Conditions(if_match=frozenset({etag})))
        if old is not None and self.resources.url(old) != photo:
            with contextlib.suppress(NotFound):  # the photo no longer linked goes, with its ACL
                await self.browsing.delete(keys, old, me, [old.path])

    def _own_photo(self, pod: str, url: str | None) -> Target | None:
        """The stored photo ``url`` names, when it is one this page put in the pod."""
        prefix = self.resources.url(Target(pod, PHOTO_DIR))
        if not url or not url.startswith(prefix):
            return None
        name = url[len(prefix):]
        if not name.startswith("photo.") or "/" in name or name.endswith((".acl", ".meta")):
            return None
        return Target(pod, PHOTO_DIR + name)


__all__ = ["ProfileEdit", "ProfileFields", "ProfileRefused", "Profiles", "image_type"]
