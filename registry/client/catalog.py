"""`Catalog`: find, understand and read registered feature tables from scripts and notebooks.

    from registry import Catalog
    cat = Catalog("https://catalog.lab.org")           # a built site ... or a registry URI (gs://, s3://, path)
    cat.search("synapse", datastack="minnie65_phase3_v1", mat_version=1078)
    ds = cat.get("synapse_embeddings")                  # latest published version
    df = ds.to_polars(columns=["pre_pt_root_id", "score"]).collect()

Summaries come from one definition (`registry.model.document_summary`, which the site's index.json
follows) and filters from one function (`registry.source.matches`), so the command line, the site
and this client never disagree about what a query returns.
"""

from __future__ import annotations

import os
from typing import Any, Optional
from urllib.parse import quote

from ..cave import DEFAULT_SERVER, find_token
from ..latest import newest_published
from ..model import DatasetDocument, document_summary
from ..source import RegistrySource, matches
from .errors import DatasetNotFound
from .httpcache import HttpCache
from .. import search_rules
from .search import SearchResult, SearchResults, TextIndex, WordIndex, search
from .signer import SignerClient
from .version import DatasetVersion

SIGNER_ENV = "FEATURE_REGISTRY_SIGNER_URL"

# What `document_summary` has that the site's index.json entries name differently or leave out.
_SUMMARY_DEFAULTS: dict[str, Any] = {"description": None, "file_count": None, "license": None, "aligned_volume": None,
                     "table_version": None, "location": None, "row_count": None, "bytes": None,
                     "owners": [], "superseded_by": None}


def adapt_site_summary(s: dict[str, Any]) -> dict[str, Any]:
    """A site index entry with every key of `document_summary` (site extras such as `latest`,
    `page` and `deprecated_reason` kept). The site calls the short description `summary`."""
    out = dict(s)
    if "description" not in out:
        out["description"] = out.get("summary")
    for k, v in _SUMMARY_DEFAULTS.items():
        out.setdefault(k, v)
    return out


class SiteSource:
    """A built catalog site over HTTP(S): `index.json` and `api/datasets/<name>/<version>.json`."""

    def __init__(self, url: str, http: HttpCache):
        self.url = url if url.endswith("/") else url + "/"
        if self.url.endswith("index.json/"):
            self.url = self.url[: -len("index.json/")]
        self.http = http
        self.problems: list[str] = []
        self._joins: dict[tuple[str, str], list] = {}  # (name, version) -> the site's `join` objects

    def index(self) -> dict[str, Any]:
        """The site's parsed `index.json`."""
        return self.http.get_json(self.url + "index.json")

    def _digest(self) -> dict[str, Any]:
        """What the client needs from `index.json`, derived once per index body and cached on disk
        beside it (see `HttpCache.get_derived`): a new process then skips the JSON parse and the
        tokenising for search."""
        return self.http.get_derived(self.url + "index.json", _DIGEST, _digest_index)

    def all_summaries(self) -> list[dict[str, Any]]:
        return self._digest()["summaries"]

    def searchable(self) -> tuple[list[dict[str, Any]], WordIndex]:
        """`all_summaries()` and the search index built over exactly that list (one revalidation)."""
        digest = self._digest()
        cache = getattr(self, "_words", None)
        if cache is None or cache[0] is not digest:
            cache = self._words = (digest, WordIndex.from_plain(digest["words"]))
        return digest["summaries"], cache[1]

    def text_index(self) -> Optional[TextIndex]:
        """The site's own search index (`catalog/search/`), read like the search page reads it: term
        shards fetched when a query needs them (cached and revalidated). None for a site built before
        it existed (then `WordIndex` over the summaries ranks)."""
        try:
            meta = self.http.get_json(self.url + "catalog/search/meta.json")
        except DatasetNotFound:
            return None
        if not isinstance(meta, dict) or meta.get("format") != search_rules.INDEX_FORMAT:
            return None
        got = getattr(self, "_text", None)
        if got is None or got[0] is not meta:
            refs = self.http.get_json(self.url + "catalog/search/refs.json")
            base = self.url + "catalog/search/terms/"
            index = search_rules.Index(meta["firsts"], lambda j: self.http.get_json(f"{base}{j}.json"),
                                       (lambda: self.http.get_json(f"{base}tail.json")) if meta.get("tail") else None)
            got = self._text = (meta, TextIndex(index, refs))
        return got[1]

    def summaries(self, **filters: Any) -> list[dict[str, Any]]:
        """Same shape, filters and order as `RegistrySource.summaries` (what `list` prints)."""
        rows = [r for r in self.all_summaries() if matches(r, **{k: v for k, v in filters.items() if v is not None})]
        rows.sort(key=lambda r: r["published_at"], reverse=True)
        return sorted(rows, key=lambda r: r["name"])

    def get(self, name: str, version: str = "latest") -> DatasetDocument:
        if version == "latest":
            mine = [s for s in self.all_summaries() if s["name"] == name]
            newest = newest_published(mine, get=dict.get)
            latest = [s for s in mine if s.get("latest")] or ([newest] if newest else [])
            if not latest:
                hint = f"; versions exist but none is published: {', '.join(s['version'] for s in mine)}" if mine else ""
                raise DatasetNotFound(f"no published version of {name!r} in {self.url}{hint}")
            version = latest[0]["version"]
        # The site says where each document is (`document`): names it could not use as a path
        # as they are (reserved, too long) live under an encoded one.
        listed = next((s.get("document") for s in self.all_summaries()
                       if s["name"] == name and s["version"] == version), None)
        rel = listed if isinstance(listed, str) and listed.startswith("api/datasets/") and ".." not in listed \
            else f"api/datasets/{quote(name)}/{quote(version)}.json"
        try:
            raw = self.http.get_json(f"{self.url}{rel}")
        except DatasetNotFound:
            raise DatasetNotFound(f"{name}@{version} is not in {self.url}") from None
        from ..joins import strip_join_facts

        raw, joins = strip_join_facts(raw)  # derived by the site; not part of the document
        doc = DatasetDocument.from_dict(raw)
        if (doc.name, doc.version) != (name, version):
            raise DatasetNotFound(f"{self.url}{rel} claims to be {doc.ref}, not {name}@{version}; refused")
        self._joins[(doc.name, doc.version)] = joins
        return doc

    def join_facts(self, doc: DatasetDocument) -> list[dict[str, Any]]:
        """The `join` objects the site computed for each reference of `doc`."""
        if (doc.name, doc.version) not in self._joins:
            self.get(doc.name, doc.version)
        return [j or {} for j in self._joins[(doc.name, doc.version)]]

    def dataset_json(self, name: str) -> dict[str, Any]:
        """`api/datasets/<name>.json`: the versions of one dataset and `referenced_by`."""
        try:
            return self.http.get_json(f"{self.url}api/datasets/{quote(name)}.json")
        except DatasetNotFound:
            raise DatasetNotFound(f"no dataset {name!r} in {self.url}") from None

    def documents_of(self, name: str) -> list[DatasetDocument]:
        """Every version of `name` (drafts included), oldest first."""
        versions = [s["version"] for s in self.all_summaries() if s["name"] == name]
        return [self.get(name, v) for v in versions]

    def referenced_by(self, name: str) -> list[dict[str, Any]]:
        return list(self.dataset_json(name).get("referenced_by") or [])

    @property
    def signer_url(self) -> Optional[str]:
        return self._digest()["signer_url"]


_DIGEST = "site-index-v1"  # change when `_digest_index` changes: older sidecars are then ignored


def _digest_index(idx: dict[str, Any]) -> dict[str, Any]:
    """Adapted summaries, the signer URL and the search index of one `index.json`, as plain data.
    Equal strings are shared, which halves the pickle and the time to load it."""
    strings: dict[str, str] = {}
    share = strings.setdefault
    rows = []
    for s in idx.get("versions", []):
        row = adapt_site_summary(s)
        for k, v in row.items():  # flat summaries: strings and lists of strings
            if type(v) is str:
                row[k] = share(v, v)
            elif type(v) is list:
                row[k] = [share(x, x) if type(x) is str else x for x in v]
        rows.append(row)
    return {"summaries": rows, "signer_url": idx.get("signer_url"), "words": WordIndex.build(rows).to_plain()}


class _RegistrySource(RegistrySource):
    def all_summaries(self) -> list[dict[str, Any]]:
        return self.summaries()

    def referenced_by(self, name: str) -> list[dict[str, Any]]:
        from ..joins import group_versions, referenced_by

        return referenced_by(name, group_versions(self.registry.documents()))

    def searchable(self) -> tuple[list[dict[str, Any]], TextIndex]:
        """Summaries and the site's index built in memory from the same documents (one read)."""
        docs, problems = self.registry.load_all()
        self.problems = [f"{p.path}: {p.error}" for p in problems]
        return [document_summary(d) for d in docs], TextIndex.from_documents(docs)

    signer_url = None


class Catalog:
    """The registry as a reader sees it.

    `url_or_uri`: an http(s) URL of a built catalog site, or a registry URI (`gs://`, `s3://`, a path).
    `signer_url`: the signer for reads (else `$FEATURE_REGISTRY_SIGNER_URL`, else what the site advertises).
    `token`: a CAVE token (else `$CAVE_TOKEN`, else CAVEclient's secret files for `cave_server`).
    `cache`: keep site JSON on disk and revalidate it (`$FEATURE_REGISTRY_CACHE`, `~/.cache/feature-registry`).
    """

    def __init__(self, url_or_uri: str, *, signer_url: Optional[str] = None, token: Optional[str] = None,
                 cave_server: Optional[str] = None, cache: bool = True, expires_in: int = 3600):
        self.uri = url_or_uri
        self.is_site = url_or_uri.startswith(("http://", "https://"))
        self._http = HttpCache(cache=cache)
        self._source = SiteSource(url_or_uri, self._http) if self.is_site else _RegistrySource(url_or_uri)
        self.cave_server = cave_server or os.environ.get("CAVE_SERVER") or DEFAULT_SERVER
        self._explicit_token = token
        self._signer_url = signer_url
        self.expires_in = expires_in
        self._signer_client: Optional[SignerClient] = None
        if self.is_site:
            self._source.all_summaries()  # fail fast on a wrong URL; warms the cache

    def __repr__(self) -> str:
        return f"Catalog({self.uri!r})"

    # ---- finding
    def summaries(self) -> list[dict[str, Any]]:
        """Every version's summary (the `index.json` entries / `list --json` rows)."""
        return self._source.all_summaries()

    def search(self, text: str = "", *, datastack: Optional[str] = None, mat_version: Optional[int] = None,
               format: Optional[str] = None, status: Optional[str] = None, tag: Optional[str] = None,
               owner: Optional[str] = None) -> SearchResults:
        """Versions matching `text` (ranked: name, title, columns, description) and every filter given.
        Deprecated versions are left out unless `status` asks for them."""
        filters = dict(datastack=datastack, mat_version=mat_version, format=format, status=status, tag=tag, owner=owner)
        source = self._source
        if isinstance(source, SiteSource):  # self.is_site
            rows, words = source.searchable()
            return search(rows, text, filters, self, words, source.text_index())
        rows, index = source.searchable()
        return search(rows, text, filters, self, index=index)

    def versions(self, name: str) -> SearchResults:
        """Every version of `name`, oldest first, all statuses."""
        rows = sorted((s for s in self.summaries() if s["name"] == name), key=lambda s: s["published_at"])
        if not rows:
            raise DatasetNotFound(f"no dataset {name!r} in {self.uri}")
        return SearchResults(SearchResult(s, self) for s in rows)

    def get(self, name: str, version: str = "latest") -> DatasetVersion:
        """One version (`latest`: the newest published one). `name` may be `NAME@VERSION`."""
        if "@" in name:
            name, _, version = name.partition("@")
        doc = self._source.get(name, version)
        summary = next((s for s in self.summaries() if s["name"] == doc.name and s["version"] == doc.version), None) \
            if self.is_site else None
        return DatasetVersion.wrap(doc, self, summary)

    @property
    def problems(self) -> list[str]:
        """Documents the last read skipped, each as `path: reason` (a registry read skips
        unreadable, oversized, invalid and misplaced documents instead of failing)."""
        return list(self._source.problems)

    def at(self, mat_version: int):
        """This catalog pinned to materialization version `mat_version`: `get`, `search` and
        `join` answer with the versions valid there (see `registry.client.pinned`)."""
        from .pinned import PinnedCatalog

        return PinnedCatalog(self, mat_version)

    def referenced_by(self, name: str) -> list[dict[str, Any]]:
        """What references dataset `name`: `[{name, version, column, target_column, valid_at,
        target_version, verdict, stability}]` (the site's `api/datasets/<name>.json`)."""
        return self._source.referenced_by(name)

    def join_facts(self, doc: DatasetDocument) -> list[dict[str, Any]]:
        """The `join` object of each reference of `doc` (registry.joins; the site's JSON API)."""
        return self._source.join_facts(doc)

    def refresh(self) -> None:
        """Re-read the index (revalidated against the site)."""
        if self.is_site:
            self._source.all_summaries()

    def as_source(self):
        """What `feature-registry list/show` read: `.summaries(**filters)`, `.get(name, version)`, `.problems`."""
        return self._source

    # ---- reading
    @property
    def signer_url(self) -> Optional[str]:
        return self._signer_url or os.environ.get(SIGNER_ENV) or self._source.signer_url

    def token(self) -> Optional[str]:
        return find_token(self.cave_server, self._explicit_token)

    @property
    def _signer(self) -> SignerClient:
        wanted = self.signer_url.rstrip("/") if self.signer_url else None
        if self._signer_client is None or self._signer_client.url != wanted:
            self._signer_client = SignerClient(self.signer_url, self.token, self.cave_server)
        return self._signer_client

    # ---- other engines (registry/client/sharing.py)
    def delta_sharing_profile(self, path: str, *, expiration_time: Optional[str] = None):
        """Write a Delta Sharing profile file for the signer's `/delta-sharing` endpoint with your
        CAVE token as the bearer token (mode 0600); returns its path. Table URLs are
        `f"{path}#{datastack}.{dataset}.{version or 'latest'}"` (`DatasetVersion.delta_sharing_url`)."""
        from .sharing import write_profile

        return write_profile(path, self.signer_url, self.token(), expiration_time)
