# Run with the pylance release of each step (see README.md and make.sh): writes migrated.lance.
#   make.py OUT write    (pylance 0.7.5) 50 rows in fragments of 20, 12 more appended, ids < 5 deleted
#   make.py OUT delete   (pylance 0.8.0) id 7 deleted: a second deletion on fragment 0
import sys

import lance
import pyarrow as pa

out, step = sys.argv[1], sys.argv[2]


def rows(start: int, n: int) -> pa.Table:
    ids = range(start, start + n)
    return pa.table({"id": pa.array(ids, pa.int64()), "label": pa.array([f"c{i % 3}" for i in ids])})


if step == "write":
    lance.write_dataset(rows(0, 50), out, max_rows_per_file=20)
    lance.write_dataset(rows(50, 12), out, mode="append", max_rows_per_file=8)
    lance.dataset(out).delete("id < 5")
elif step == "delete":
    lance.dataset(out).delete("id = 7")
ds = lance.dataset(out)
print(lance.__version__, ds.version, ds.count_rows(), ds.to_table().num_rows)
