"""The DynamoDB backend: one table, one partition per dialogue (RFC 0058 layout), via boto3,
safe for many writers (several machines' daemons, hooks, CI) on the same table.

Modules: ``codec`` (item fields <-> attribute values), ``large`` (items over 400 KB, the
partition's physical layout), ``keys`` (physical and index keys, namespaces), ``client``
(calls, paginated Queries, batch writes, errors), ``control`` (revisions and leases),
``admin`` (create / wait / describe / delete the table), ``store`` (the store itself).

Table layout (created by ``blue-index table create``; on-demand billing):

===========  ===============================  ==========================  ============
index        partition key                    sort key                    projection
===========  ===============================  ==========================  ============
table        ``pk`` = ``dialogue#{id}``       ``sk`` = the item's sk      all
             or ``registry`` (control items)  or ``dialogue#{id}``
by_category  ``_cat`` = ``dialogue`` (meta)   ``_cat_sk`` = ``{id}#{sk}``  all
             or ``open-tension``
by_status    ``_status`` =                    ``_status_sk``              all
             ``{dialogue|tension}#{status}``
by_expert    ``_expert`` = block's expert     ``_expert_sk``              keys + kind,
                                                                          round, id
files        ``_file`` = ``file#{00..15}``    ``_file_sk``                keys + path,
             (a shard of the dialogue id)                                 sha256
===========  ===============================  ==========================  ============

The indexes are sparse (only items carrying the key attribute appear), so no command ever
Scans; every Query is read to its last page (botocore's paginator).

**Revisions (many writers).** A write is: (1) the load (one Query), computed against the
revision R the writer read *before* it (the registry Query of the run, or a GetItem); (2)
*begin*, one conditional UpdateItem on the dialogue's control item (``control``); (3) the
diff in BatchWriteItem chunks of 25; (4) *commit*, one conditional UpdateItem. A failed
begin or commit is Conflict: the caller reloads, re-diffs and retries. Since begin succeeds
only if no write began after R was read, and R was read before the load, the diff is always
against exactly revision R: two writers never interleave their batches, and the partition
always equals one writer's full tree.

**Snapshot rule (readers).** ``load`` reads the control item (GetItem), Queries the partition,
and reads the control item again: it returns only when both reads show the same committed
revision (else it retries, a bounded number of times). A write in progress is waited for
(bounded, ``wait_s``); an unfinished write of a dead writer is an error naming the fix.
Requests per changed dialogue: 1 Query + ceil(items/25) BatchWriteItem + 3 UpdateItem
(begin; the index clock's ADD and the commit: control.py) (+1 BatchWriteItem when a data key
is written: it goes first, alone); per run: 1 registry Query.
A writer gives up before a batch once its own lease is nearly spent, so a taken-over writer
never writes on.

search() has no server-side full-text index to use: it loads the partition of each dialogue
searched and matches in memory exactly like SQLite's FTS5 (see ``memsearch``).
"""

from .codec import decode_item
from .keys import INDEXES, Keys, encode_item
from .large import part_key
from .store import DynamoDBStore

__all__ = ["DynamoDBStore", "INDEXES", "Keys", "decode_item", "encode_item", "part_key"]
