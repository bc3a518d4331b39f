"""A local NEMWeb look-alike serving a flat folder of real NEMWeb files, for offline tests and
demos: NEMWeb's folder layout and listing pages, files released one at a time as on the live
site, and faults injected on request.

The folder is watched cheaply: a listing (or a file not known yet) rescans it, picking up files
dropped in since the last look and dropping deleted ones; in release mode a new interval report
joins the pending queue in time order, anything else is visible at once. A ``.zip`` is served
byte for byte as it is on disk (an empty or truncated one too, to simulate a bad download);
only plain-CSV reports are zipped in memory.

HTTP interface besides NEMWeb's own paths:

* ``GET /_mirror/status`` - counts of files, released and pending, faults injected;
* ``POST /_mirror/release`` - release the next file now (release mode);
* ``POST /_mirror/faults`` - ``{"path": glob, "status"|"delay"|"truncate"|"drop_after", "count"}``;
* ``DELETE /_mirror/faults`` - clear them.
"""

from nemstream_mirror._app import ZIP_TYPE, MirrorState, create_app
from nemstream_mirror._catalog import EXTRA_FOLDER, Catalog, Change, MirrorFile, build_catalog
from nemstream_mirror._faults import Fault, Faults
from nemstream_mirror._server import RunningMirror, running_mirror, serve

__all__ = [
    "EXTRA_FOLDER",
    "ZIP_TYPE",
    "Catalog",
    "Change",
    "Fault",
    "Faults",
    "MirrorFile",
    "MirrorState",
    "RunningMirror",
    "build_catalog",
    "create_app",
    "running_mirror",
    "serve",
]
