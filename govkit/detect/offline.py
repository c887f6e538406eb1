"""Keep detection network-free.

Presidio's EmailRecognizer asks ``tldextract`` for the public-suffix list, and tldextract's
default extractor downloads it on first use, printing a traceback when there is no network.
govkit must run offline (air-gapped data rooms are a normal place for it), so the default
extractor is swapped for one that only reads the snapshot bundled with tldextract.
"""

from __future__ import annotations

import logging

_done = False


def make_tldextract_offline() -> None:
    """Point tldextract's module-level extractor at its bundled suffix-list snapshot.

    Idempotent and cheap; call it before any Presidio recognizer runs.
    """
    global _done
    if _done:
        return
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(
        cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True
    )
    # tldextract logs a warning when it falls back to the snapshot; that is the intended path.
    logging.getLogger("tldextract").setLevel(logging.ERROR)
    _done = True
