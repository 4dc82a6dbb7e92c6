"""Pod archives: a whole pod as one zip, and back (issue #14, "Export").

An archive holds ``manifest.json`` first, then every resource of the pod as it is stored —
decrypted, byte for byte: Turtle and JSON-LD documents as written (a signed JSON-LD
credential stays verifiable), binaries as they are, each container's own triples (Turtle,
containment left out: the paths say it), ``.acl`` and ``.meta`` resources — under ``pod/``
plus the resource's path, and the owner's access log as one JSON file per day under
``access-log/``. The manifest (:mod:`.manifest`) lists every file with its pod path, kind,
media type, size, SHA-256 and modified time, the format and its version, and the pod's URL.

* :mod:`.export` plans an export (sizes and checksums, one walk of the pod) and streams it
  with a known length, reading one resource at a time.
* :mod:`.unpack` opens an archive as hostile input and checks it whole before anything is
  read from it.
* :mod:`.rebase` moves RDF from the old pod's URL to the new one's.
* :mod:`.restore` writes a checked archive into a pod no name points at yet, and gives it
  its name only once every resource is in (``PodDirectory.stage``).
"""
